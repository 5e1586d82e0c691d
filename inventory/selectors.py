"""Stock reads. Every figure here ignores expired reservations, even before beat has
released them: sellable = on_hand - reserved + (reserved units whose reservation expired)."""

from collections import defaultdict

from django.db.models import F, IntegerField, OuterRef, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from .models import BackInStockSubscription, Reservation, StockLevel, StockMovement


def _expired_reserved_subquery(now):
    return Coalesce(
        Subquery(
            Reservation.objects.filter(stock_level=OuterRef("pk"), expires_at__lte=now)
            .values("stock_level").annotate(total=Sum("quantity")).values("total"),
            output_field=IntegerField(),
        ),
        Value(0),
    )


def stock_levels_with_availability(*, now=None) -> QuerySet[StockLevel]:
    """Stock levels annotated with `sellable` (expired reservations do not count)."""
    now = now or timezone.now()
    return StockLevel.objects.annotate(
        expired_reserved=_expired_reserved_subquery(now),
        sellable=F("on_hand") - F("reserved") + F("expired_reserved"),
    )


def availability_for(*, variant_ids: list[int], now=None) -> dict[int, int]:
    """Sellable units per variant over active warehouses (one query). Variants without
    stock map to 0."""
    result = dict.fromkeys(variant_ids, 0)
    rows = (
        stock_levels_with_availability(now=now)
        .filter(variant_id__in=variant_ids, warehouse__is_active=True)
        .values_list("variant_id", "sellable")
    )
    for variant_id, sellable in rows:
        result[variant_id] += max(sellable, 0)
    return result


def reorder_points_for(*, variant_ids: list[int]) -> dict[int, int | None]:
    """The variant's total reorder point over its active rules (None: no rule)."""
    points: dict[int, int | None] = dict.fromkeys(variant_ids)
    rows = StockLevel.objects.filter(
        variant_id__in=variant_ids, reorder_rule__is_active=True, warehouse__is_active=True,
    ).values_list("variant_id", "reorder_rule__reorder_point")
    for variant_id, point in rows:
        points[variant_id] = (points[variant_id] or 0) + point
    return points


def availability_label(units: int, reorder_point: int | None) -> str:
    """What a customer sees: "available", "low" (at or under the reorder point) or "out"."""
    if units <= 0:
        return "out"
    if reorder_point is not None and units <= reorder_point:
        return "low"
    return "available"


def stock_summary_for(*, variant_ids: list[int]) -> dict[int, dict]:
    """{variant_id: {"available": units, "label": ...}} in two queries."""
    units = availability_for(variant_ids=variant_ids)
    points = reorder_points_for(variant_ids=variant_ids)
    return {vid: {"available": units[vid], "label": availability_label(units[vid], points[vid])} for vid in variant_ids}


def ledger_balance(*, stock_level_id: int, bucket: str = StockMovement.Bucket.SELLABLE) -> int:
    return StockMovement.objects.filter(stock_level_id=stock_level_id, bucket=bucket).aggregate(
        total=Coalesce(Sum("quantity"), 0))["total"]


def ledger_mismatches() -> list[dict]:
    """Stock levels whose ledger does not sum to on_hand / quarantined (should be none)."""
    sums = defaultdict(lambda: {"sellable": 0, "quarantine": 0})
    for level_id, bucket, total in StockMovement.objects.values_list("stock_level_id", "bucket").annotate(
            total=Sum("quantity")).values_list("stock_level_id", "bucket", "total"):
        sums[level_id][bucket] = total
    out = []
    for level in StockLevel.objects.only("pk", "on_hand", "quarantined"):
        if (sums[level.pk]["sellable"], sums[level.pk]["quarantine"]) != (level.on_hand, level.quarantined):
            out.append({"stock_level_id": level.pk, "on_hand": level.on_hand, "ledger": sums[level.pk]["sellable"],
                        "quarantined": level.quarantined, "quarantine_ledger": sums[level.pk]["quarantine"]})
    return out


def transfer_donors(*, variant_id: int, exclude_warehouse_id: int, now=None) -> list[tuple[StockLevel, int]]:
    """Other active warehouses holding `variant_id` above their own reorder point, with
    their surplus (sellable minus their point), largest first. One query."""
    levels = (stock_levels_with_availability(now=now)
              .filter(variant_id=variant_id, warehouse__is_active=True)
              .exclude(warehouse_id=exclude_warehouse_id)
              .select_related("warehouse", "reorder_rule"))
    donors = []
    for level in levels:
        rule = getattr(level, "reorder_rule", None)
        surplus = level.sellable - (rule.reorder_point if rule and rule.is_active else 0)
        if surplus > 0:
            donors.append((level, surplus))
    return sorted(donors, key=lambda item: (-item[1], item[0].pk))


def transfer_suggestions(*, now=None) -> list[dict]:
    """Where a warehouse is at or under its reorder point while another warehouse holds the
    same variant above its own point (its surplus), suggest moving min(need, surplus).
    Need: enough to get back above the point by the rule's reorder quantity."""
    levels = list(
        stock_levels_with_availability(now=now)
        .filter(warehouse__is_active=True)
        .select_related("warehouse", "variant", "reorder_rule")
    )
    by_variant = defaultdict(list)
    for level in levels:
        by_variant[level.variant_id].append(level)

    def point(level):
        rule = getattr(level, "reorder_rule", None)
        return rule.reorder_point if rule and rule.is_active else None

    suggestions = []
    for variant_levels in by_variant.values():
        for low in variant_levels:
            low_point = point(low)
            if low_point is None or low.sellable > low_point:
                continue
            need = low_point - low.sellable + low.reorder_rule.reorder_quantity
            donors = sorted(
                (lvl for lvl in variant_levels if lvl.pk != low.pk),
                key=lambda lvl: -(lvl.sellable - (point(lvl) or 0)),
            )
            for donor in donors:
                surplus = donor.sellable - (point(donor) or 0)
                if surplus <= 0 or need <= 0:
                    break
                quantity = min(need, surplus)
                suggestions.append({
                    "variant_id": low.variant_id, "sku": low.variant.sku,
                    "source_id": donor.warehouse_id, "source": donor.warehouse.code,
                    "destination_id": low.warehouse_id, "destination": low.warehouse.code,
                    "quantity": quantity, "destination_available": low.sellable,
                    "destination_reorder_point": low_point,
                })
                need -= quantity
    return suggestions


def subscriptions_for_customer(*, customer) -> QuerySet[BackInStockSubscription]:
    return (BackInStockSubscription.objects.filter(customer=customer)
            .select_related("variant__product").order_by("-created_at", "-id"))


def allocation_preview(*, lines: list[tuple[int, int]], region: str | None = None, now=None):
    """Where (variant, quantity) lines would ship from to `region`, and how many days, without
    reserving anything (e.g. to show an estimated delivery before checkout). Returns
    (AllocationPlan, shortages); reads only, ignores expired reservations."""
    from .allocation import AllocationPlan, PlanLine, plan_lines

    now = now or timezone.now()
    wanted: dict[int, int] = defaultdict(int)
    for variant_id, quantity in lines:
        wanted[int(variant_id)] += int(quantity)
    levels = list(stock_levels_with_availability(now=now).filter(variant_id__in=wanted)
                  .select_related("warehouse", "variant"))
    plan, shortages = plan_lines(wanted=dict(wanted), levels=levels, region=region, now=now,
                                 available=lambda level: level.sellable)
    return AllocationPlan(reference="", lines=tuple(
        PlanLine(variant_id=level.variant_id, sku=level.variant.sku, warehouse_id=level.warehouse_id,
                 warehouse_code=level.warehouse.code, quantity=quantity, ship_days=days)
        for level, quantity, days in plan)), shortages


def plan_for_reference(*, reference: str, region: str | None = None, now=None):
    """The current plan of what `reference` holds: lines per warehouse with shipping days."""
    from .allocation import AllocationPlan, PlanLine

    now = now or timezone.now()
    reservations = (Reservation.objects.filter(reference=reference)
                    .select_related("variant", "stock_level__warehouse").order_by("stock_level_id", "pk"))
    return AllocationPlan(reference=reference, lines=tuple(
        PlanLine(variant_id=r.variant_id, sku=r.variant.sku, warehouse_id=r.stock_level.warehouse_id,
                 warehouse_code=r.stock_level.warehouse.code, quantity=r.quantity,
                 ship_days=r.stock_level.warehouse.ship_days(region=region, now=now))
        for r in reservations))
