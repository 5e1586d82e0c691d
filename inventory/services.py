"""Every change to stock goes through here.

Guarantees (tested on PostgreSQL with real concurrent connections):
- never oversells: stock rows are locked with SELECT … FOR UPDATE in primary-key order
  (so two multi-line requests can never deadlock), availability is checked under the
  lock, and the database CHECKs (on_hand ≥ 0, 0 ≤ reserved ≤ on_hand) back it up;
- never loses a unit: every on_hand / quarantine change appends a StockMovement in the
  same transaction, so the ledger sums to the stock level;
- a lock held too long fails fast (SET LOCAL lock_timeout) as StockBusy (409), changing nothing;
- expired reservations never block a sale: every locked row drops its expired
  reservations before availability is checked (and reads subtract them, see selectors);
- crossing a reorder point emits `stock.low` once per crossing and drafts a purchase
  order in the same transaction; 0 → available emits `stock.back_in_stock`.
"""

import logging
from collections import defaultdict
from collections.abc import Iterable
from contextlib import contextmanager
from datetime import datetime, timedelta

import django_fsm
from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist
from django.db import IntegrityError, OperationalError, connection, transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from automation.services import emit
from catalog.models import Variant
from shopauto.exceptions import TransitionNotAllowed

from .allocation import AllocationPlan, PlanLine, plan_lines
from .exceptions import (
    AlreadyInStock,
    InsufficientStock,
    NothingReserved,
    StockBusy,
    StockOperationInvalid,
    SubscriptionNotFound,
    VariantNotFound,
)
from .models import (
    BackInStockSubscription,
    PurchaseOrder,
    PurchaseOrderLine,
    Reservation,
    StockLevel,
    StockMovement,
    StockTransfer,
    StockTransferLine,
    Supplier,
)
from .selectors import availability_for, transfer_donors

logger = logging.getLogger(__name__)

Kind = StockMovement.Kind
Bucket = StockMovement.Bucket


# --- transaction, locking, bookkeeping ------------------------------------------------------


def _lock_timeout_ms() -> int:
    return int(getattr(settings, "INVENTORY_LOCK_TIMEOUT_MS", 2000))


def _is_lock_timeout(exc: OperationalError) -> bool:
    sqlstate = getattr(exc.__cause__, "sqlstate", None)
    if sqlstate == "40P01":  # cannot happen with pk-ordered locks; if it does, still a clean retry
        logger.warning("deadlock in a stock transaction: %s", exc)
    return sqlstate in ("55P03", "40P01") or "database is locked" in str(exc)


@contextmanager
def _stock_transaction():
    """One atomic block with a short lock timeout; a lock timeout becomes StockBusy."""
    try:
        with transaction.atomic():
            if connection.vendor == "postgresql":
                with connection.cursor() as cursor:
                    cursor.execute(f"SET LOCAL lock_timeout = {_lock_timeout_ms():d}")
            yield
    except OperationalError as exc:
        if _is_lock_timeout(exc):
            raise StockBusy() from exc
        raise


class _Locked:
    """Stock levels locked for this transaction plus what changed, saved in one go."""

    def __init__(self, levels: list[StockLevel]):
        self.levels = {level.pk: level for level in levels}
        self.before = {level.pk: level.on_hand - level.reserved for level in levels}
        self.dirty: set[int] = set()

    def __getitem__(self, pk: int) -> StockLevel:
        return self.levels[pk]

    def find(self, *, variant_id: int, warehouse_id: int) -> StockLevel | None:
        return next((lvl for lvl in self.levels.values()
                     if lvl.variant_id == variant_id and lvl.warehouse_id == warehouse_id), None)

    def touch(self, level: StockLevel) -> None:
        self.dirty.add(level.pk)

    def drop_reservations(self, reservations: Iterable[dict]) -> int:
        """Delete reservations (dicts with pk, stock_level_id, quantity) of locked rows."""
        rows = list(reservations)
        if not rows:
            return 0
        for row in rows:
            level = self.levels[row["stock_level_id"]]
            level.reserved -= row["quantity"]
            self.touch(level)
        Reservation.objects.filter(pk__in=[row["pk"] for row in rows]).delete()
        return sum(row["quantity"] for row in rows)

    def save(self, *, actor=None) -> None:
        """Apply the reorder-point check to changed rows, write them, emit back-in-stock."""
        if not self.dirty:
            return
        changed = [self.levels[pk] for pk in sorted(self.dirty)]
        for level in changed:
            _check_reorder_point(level, actor=actor)
        now = timezone.now()
        if len(changed) == 1:  # the hot path: a plain UPDATE compiles far cheaper than bulk_update's CASE
            level = changed[0]
            StockLevel.objects.filter(pk=level.pk).update(
                on_hand=level.on_hand, reserved=level.reserved, quarantined=level.quarantined,
                low_stock_alerted=level.low_stock_alerted, updated_at=now)
        else:  # many rows (a multi-line cart): one statement, so checkout queries do not grow with lines
            for level in changed:
                level.updated_at = now
            StockLevel.objects.bulk_update(
                changed, ["on_hand", "reserved", "quarantined", "low_stock_alerted", "updated_at"])
        _check_back_in_stock(self, changed)
        self.dirty.clear()


_RESERVATION_FIELDS = ("pk", "stock_level_id", "quantity")


def _lock(query: Q, *, now: datetime, keep_reference: str | None = None, stale: list[dict] | None = None) -> _Locked:
    """Lock the stock levels matching `query` in pk order and drop their expired
    reservations (all of them, or only `stale` when the caller already looked).
    `keep_reference`: its reservations stay even if expired (they still hold the units)."""
    levels = list(
        StockLevel.objects.select_for_update(of=("self",))
        .filter(query)
        .select_related("warehouse", "reorder_rule")
        .order_by("pk")
    )
    locked = _Locked(levels)
    if stale is None:
        expired = Reservation.objects.filter(stock_level_id__in=locked.levels, expires_at__lte=now)
    else:
        if not stale:
            return locked
        expired = Reservation.objects.filter(pk__in=[row["pk"] for row in stale], stock_level_id__in=locked.levels)
    if keep_reference:
        expired = expired.exclude(reference=keep_reference)
    locked.drop_reservations(expired.values(*_RESERVATION_FIELDS))
    return locked


def _book(level: StockLevel, *, kind: str, quantity: int, reference: str = "", reason: str = "", actor=None,
          bucket: str = Bucket.SELLABLE) -> StockMovement:
    """Change a locked level's bucket and append the matching ledger row."""
    if bucket == Bucket.SELLABLE:
        level.on_hand += quantity
        balance = level.on_hand
    else:
        level.quarantined += quantity
        balance = level.quarantined
    return StockMovement(
        stock_level=level, kind=kind, bucket=bucket, quantity=quantity, balance_after=balance,
        reference=reference[:64], reason=reason[:255], actor=actor if getattr(actor, "pk", None) else None,
    )


def _level_for(*, variant_id: int, warehouse_id: int) -> StockLevel:
    """The stock level row, created empty if missing (safe under concurrency)."""
    try:
        level, _created = StockLevel.objects.get_or_create(variant_id=variant_id, warehouse_id=warehouse_id)
    except IntegrityError:
        # Another transaction created it first, or the variant / warehouse does not exist.
        level = StockLevel.objects.filter(variant_id=variant_id, warehouse_id=warehouse_id).first()
        if level is None:
            raise StockOperationInvalid(_("Unknown item or warehouse."))
    return level


def _merge_lines(lines: Iterable[tuple[int, int]]) -> dict[int, int]:
    wanted: dict[int, int] = defaultdict(int)
    for variant_id, quantity in lines:
        if not isinstance(quantity, int) or quantity <= 0:
            raise StockOperationInvalid(_("Quantities must be whole numbers above zero."))
        wanted[int(variant_id)] += quantity
    if not wanted:
        raise StockOperationInvalid(_("Nothing to reserve."))
    return dict(wanted)


# --- events: reorder point and back in stock ------------------------------------------------


def _check_reorder_point(level: StockLevel, *, actor=None) -> None:
    """Once per crossing: the first change that takes availability to or under the point
    alerts (and drafts a PO); the flag stays until availability is above the point again."""
    try:
        rule = level.reorder_rule
    except ObjectDoesNotExist:
        return
    if rule is None or not rule.is_active:
        return
    available = level.on_hand - level.reserved
    if available <= rule.reorder_point and not level.low_stock_alerted:
        level.low_stock_alerted = True
        purchase_order = _purchase_order_draft_for_rule(rule=rule, level=level, actor=actor)
        emit("stock.low", subject=level, actor=actor, payload={
            "variant_id": level.variant_id, "sku": level.variant.sku, "product": level.variant.display_name,
            "warehouse": level.warehouse.code, "warehouse_id": level.warehouse_id, "available": available,
            "reorder_point": rule.reorder_point,
            "purchase_order": purchase_order.number if purchase_order else None,
        })
        _suggest_transfer(level, available=available, rule=rule, actor=actor)
    elif available > rule.reorder_point and level.low_stock_alerted:
        level.low_stock_alerted = False


def _suggest_transfer(level: StockLevel, *, available: int, rule, actor=None) -> None:
    """At a low-stock crossing: if other warehouses hold surplus of the item, emit
    `stock.transfer_suggested` (one per donor) so staff can move stock instead of waiting for
    the supplier. Nothing is moved automatically: staff request the transfer."""
    need = rule.reorder_point - available + rule.reorder_quantity
    for donor, surplus in transfer_donors(variant_id=level.variant_id, exclude_warehouse_id=level.warehouse_id):
        if need <= 0:
            break
        quantity = min(need, surplus)
        need -= quantity
        emit("stock.transfer_suggested", subject=level, actor=actor, payload={
            "variant_id": level.variant_id, "sku": level.variant.sku, "quantity": quantity,
            "source": donor.warehouse.code, "source_id": donor.warehouse_id,
            "destination": level.warehouse.code, "destination_id": level.warehouse_id,
        })


def _check_back_in_stock(locked: _Locked, changed: list[StockLevel]) -> None:
    """Emit `stock.back_in_stock` for each variant whose sellable total went from 0 to more."""
    increase: dict[int, int] = defaultdict(int)
    any_level = {}
    for level in changed:
        if level.warehouse.is_active:
            increase[level.variant_id] += (level.on_hand - level.reserved) - locked.before[level.pk]
            any_level[level.variant_id] = level
    rising = [vid for vid, delta in increase.items() if delta > 0]
    if not rising:
        return
    after = availability_for(variant_ids=rising)
    for variant_id in rising:
        if after[variant_id] > 0 and after[variant_id] - increase[variant_id] <= 0:
            variant = any_level[variant_id].variant
            emit("stock.back_in_stock", subject=variant, payload={
                "variant_id": variant_id, "sku": variant.sku, "product": variant.display_name,
                "available": after[variant_id],
            })
    for level in changed:
        locked.before[level.pk] = level.on_hand - level.reserved


# --- reservations ----------------------------------------------------------------------------


def stock_reserve(*, lines: list[tuple[int, int]], reference: str, expires_at: datetime | None,
                  region: str | None = None, actor=None) -> list[Reservation]:
    """Reserve every line or nothing; reserving again under the same reference replaces
    its reservation. Each line comes from the warehouse that can ship it whole soonest to
    `region`, split over warehouses only when none can. Raises InsufficientStock naming
    every short line, or StockBusy when the rows stay locked past the lock timeout.

    Never oversells: rows are locked in pk order and checked under the lock."""
    if not reference:
        raise StockOperationInvalid(_("A reservation needs a reference."))
    wanted = _merge_lines(lines)
    now = timezone.now()
    try:
        with _stock_transaction():
            # Looked up before locking (one query): our previous reservation, and expired ones
            # on the requested items; both must be dropped under the lock (the locking path).
            stale = list(
                Reservation.objects.filter(Q(reference=reference) | Q(variant_id__in=wanted, expires_at__lte=now))
                .values(*_RESERVATION_FIELDS)
            )
            if not stale:
                reservations = _reserve_conditionally(wanted=wanted, reference=reference, expires_at=expires_at,
                                                      region=region, now=now, actor=actor)
                if reservations is not None:
                    return reservations
            return _reserve_locked(wanted=wanted, reference=reference, expires_at=expires_at, region=region,
                                   now=now, actor=actor, stale=stale)
    except _Raced:
        # Stock moved between our snapshot and the conditional UPDATE: everything above
        # was rolled back (locks included); decide again, this time under the row locks.
        with _stock_transaction():
            stale = list(
                Reservation.objects.filter(Q(reference=reference) | Q(variant_id__in=wanted, expires_at__lte=now))
                .values(*_RESERVATION_FIELDS)
            )
            return _reserve_locked(wanted=wanted, reference=reference, expires_at=expires_at, region=region,
                                   now=now, actor=actor, stale=stale)


class _Raced(Exception):
    """A conditional UPDATE found less stock than the snapshot promised."""


_CONDITIONAL_RESERVE_SQL = (
    'UPDATE "inventory_stocklevel" SET "reserved" = "reserved" + %s, "updated_at" = %s '
    'WHERE "id" = %s AND "on_hand" - "reserved" >= %s RETURNING "on_hand", "reserved", "low_stock_alerted"'
)


def _reserve_conditionally(*, wanted, reference, expires_at, region, now, actor) -> list[Reservation] | None:
    """The hot path: plan on an unlocked snapshot, insert the reservations, then claim the
    units with one conditional `UPDATE … WHERE on_hand - reserved >= n` per row, in pk
    order. The row lock is held only from that UPDATE to COMMIT, which is what keeps one
    hot SKU nearly as fast as many cold ones. Returns None when the snapshot says
    "short" (the locking path confirms and names the lines); raises _Raced when an
    UPDATE matched no row."""
    snapshot = list(StockLevel.objects.filter(variant_id__in=wanted).select_related("warehouse", "reorder_rule"))
    plan, shortages = plan_lines(wanted=wanted, levels=snapshot, region=region, now=now)
    if shortages:
        return None
    plan.sort(key=lambda item: item[0].pk)
    reservations = Reservation.objects.bulk_create([
        Reservation(reference=reference, stock_level=level, variant_id=level.variant_id, quantity=quantity,
                    expires_at=expires_at, created_at=now)
        for level, quantity, _days in plan
    ])
    with connection.cursor() as cursor:
        for level, quantity, _days in plan:
            cursor.execute(_CONDITIONAL_RESERVE_SQL, [quantity, now, level.pk, quantity])
            row = cursor.fetchone()
            if row is None:
                raise _Raced()
            level.on_hand, level.reserved, level.low_stock_alerted = row
            alerted = level.low_stock_alerted
            _check_reorder_point(level, actor=actor)  # rare: the crossing (we hold the row lock now)
            if level.low_stock_alerted != alerted:
                StockLevel.objects.filter(pk=level.pk).update(low_stock_alerted=level.low_stock_alerted)
    return reservations


def _reserve_locked(*, wanted, reference, expires_at, region, now, actor, stale) -> list[Reservation]:
    """The general path: lock every candidate row (pk order), drop stale reservations, plan
    under the lock. Used when a reference re-reserves, expired holds are in the way, the
    snapshot looked short, or the conditional path raced."""
    locked = _lock(Q(variant_id__in=wanted) | Q(pk__in={row["stock_level_id"] for row in stale}),
                   now=now, stale=stale)
    plan, shortages = plan_lines(wanted=wanted, levels=locked.levels.values(), region=region, now=now)
    if shortages:
        raise InsufficientStock(_with_skus(shortages))
    reservations = []
    for level, quantity, _days in plan:
        level.reserved += quantity
        locked.touch(level)
        reservations.append(Reservation(reference=reference, stock_level=level, variant_id=level.variant_id,
                                        quantity=quantity, expires_at=expires_at, created_at=now))
    Reservation.objects.bulk_create(reservations)
    locked.save(actor=actor)
    return reservations


def _with_skus(shortages: list[dict]) -> list[dict]:
    skus = dict(Variant.objects.filter(pk__in=[item["variant_id"] for item in shortages]).values_list("pk", "sku"))
    unknown = [item["variant_id"] for item in shortages if item["variant_id"] not in skus]
    if unknown:
        raise VariantNotFound(fields={"variant_id": [str(pk) for pk in unknown]})
    return [{"sku": skus[item["variant_id"]], **item} for item in shortages]


def stock_release(*, reference: str, actor=None) -> int:
    """Release everything reserved under `reference`. Idempotent; returns units released."""
    now = timezone.now()
    with _stock_transaction():
        level_ids = set(Reservation.objects.filter(reference=reference).values_list("stock_level_id", flat=True))
        if not level_ids:
            return 0
        locked = _lock(Q(pk__in=level_ids), now=now)
        released = locked.drop_reservations(
            Reservation.objects.filter(reference=reference, stock_level_id__in=locked.levels)
            .values(*_RESERVATION_FIELDS))
        locked.save(actor=actor)
    return released


def stock_release_expired(*, now: datetime | None = None, limit: int = 1000) -> int:
    """Beat: release reservations past `expires_at` (reads already ignore them).
    Returns the units released."""
    now = now or timezone.now()
    level_ids = list(
        Reservation.objects.filter(expires_at__lte=now).order_by("stock_level_id")
        .values_list("stock_level_id", flat=True).distinct()[:limit]
    )
    released = 0
    for start in range(0, len(level_ids), 50):
        chunk = level_ids[start:start + 50]
        with _stock_transaction():
            locked = _lock(Q(pk__in=chunk), now=now, stale=None)
            released += sum(locked[pk].on_hand - locked[pk].reserved - locked.before[pk] for pk in locked.levels)
            locked.save()
    return released


def stock_allocate(*, reference: str, new_reference: str | None = None, expected_lines: list[tuple[int, int]] | None = None,
                   actor=None) -> AllocationPlan:
    """Turn the reservations of `reference` into a firm allocation (no expiry), optionally
    renamed (e.g. "cart:12" → "order:SA-1001"). Reservations past their expiry that beat
    has not released still hold their units, so they are allocated too. With
    `expected_lines` ((variant_id, quantity)), anything less than expected (a hold that
    expired and was taken by someone else) raises InsufficientStock and changes nothing."""
    now = timezone.now()
    target = new_reference or reference
    with _stock_transaction():
        level_ids = set(Reservation.objects.filter(reference=reference).values_list("stock_level_id", flat=True))
        if not level_ids and not expected_lines:
            raise NothingReserved()
        locked = _lock(Q(pk__in=level_ids), now=now, keep_reference=reference)
        reservations = list(Reservation.objects.filter(reference=reference, stock_level_id__in=locked.levels)
                            .select_related("variant").order_by("stock_level_id", "pk"))
        if expected_lines:
            held: dict[int, int] = defaultdict(int)
            for r in reservations:
                held[r.variant_id] += r.quantity
            shortages = [{"variant_id": vid, "requested": qty, "available": held[vid]}
                         for vid, qty in _merge_lines(expected_lines).items() if held[vid] < qty]
            if shortages:
                raise InsufficientStock(_with_skus(shortages))
        if not reservations:
            raise NothingReserved()
        Reservation.objects.filter(pk__in=[r.pk for r in reservations]).update(expires_at=None, reference=target)
        locked.save(actor=actor)
    lines = tuple(
        PlanLine(variant_id=r.variant_id, sku=r.variant.sku,
                 warehouse_id=locked[r.stock_level_id].warehouse_id,
                 warehouse_code=locked[r.stock_level_id].warehouse.code, quantity=r.quantity)
        for r in reservations
    )
    return AllocationPlan(reference=target, lines=lines)


def stock_commit_shipment(*, reference: str, warehouse_id: int, lines: list[tuple[int, int]], actor=None) -> list[StockMovement]:
    """A shipment left `warehouse_id`: book the sale (on_hand and reserved both go down)
    out of the allocation of `reference`. Refuses to ship more than was allocated there."""
    wanted = _merge_lines(lines)
    now = timezone.now()
    with _stock_transaction():
        locked = _lock(Q(warehouse_id=warehouse_id, variant_id__in=wanted), now=now, keep_reference=reference)
        by_level = defaultdict(list)
        for r in Reservation.objects.filter(reference=reference, stock_level_id__in=locked.levels).order_by("pk"):
            by_level[r.stock_level_id].append(r)
        movements = []
        for variant_id, quantity in wanted.items():
            level = locked.find(variant_id=variant_id, warehouse_id=warehouse_id)
            held = by_level[level.pk] if level else []
            if sum(r.quantity for r in held) < quantity:
                raise StockOperationInvalid(
                    _("The shipment is larger than what %(reference)s holds in this warehouse.") % {"reference": reference},
                    fields={"lines": [str(variant_id)]})
            remaining = quantity
            for r in held:
                take = min(r.quantity, remaining)
                r.quantity -= take
                remaining -= take
                if r.quantity:
                    Reservation.objects.filter(pk=r.pk).update(quantity=r.quantity)
                else:
                    Reservation.objects.filter(pk=r.pk).delete()
                if not remaining:
                    break
            level.reserved -= quantity
            movements.append(_book(level, kind=Kind.SALE, quantity=-quantity, reference=reference,
                                   reason=_("Shipped"), actor=actor))
            locked.touch(level)
        StockMovement.objects.bulk_create(movements)
        locked.save(actor=actor)
    return movements


# --- receipts, adjustments, returns ------------------------------------------------------------


def _change_one(*, variant_id: int, warehouse_id: int, quantity: int, kind: str, reference: str, reason: str,
                actor, bucket: str = Bucket.SELLABLE) -> StockMovement:
    level_id = _level_for(variant_id=variant_id, warehouse_id=warehouse_id).pk
    with _stock_transaction():
        locked = _lock(Q(pk=level_id), now=timezone.now())
        level = locked[level_id]
        if bucket == Bucket.SELLABLE and level.on_hand + quantity < level.reserved:
            raise StockOperationInvalid(
                _("Only %(free)d units are not reserved; release reservations first.")
                % {"free": level.on_hand - level.reserved}, fields={"quantity": [str(quantity)]})
        if bucket == Bucket.QUARANTINE and level.quarantined + quantity < 0:
            raise StockOperationInvalid(_("Not that many units in quarantine."), fields={"quantity": [str(quantity)]})
        movement = _book(level, kind=kind, quantity=quantity, reference=reference, reason=reason, actor=actor,
                         bucket=bucket)
        movement.save()
        locked.touch(level)
        locked.save(actor=actor)
    return movement


def stock_receive(*, variant_id: int, warehouse_id: int, quantity: int, reference: str = "", reason: str = "",
                  actor=None) -> StockMovement:
    """Goods arrived (a delivery, an opening balance): on_hand up, receipt in the ledger."""
    if quantity <= 0:
        raise StockOperationInvalid(_("Received quantity must be above zero."))
    return _change_one(variant_id=variant_id, warehouse_id=warehouse_id, quantity=quantity, kind=Kind.RECEIPT,
                       reference=reference, reason=reason or _("Goods received"), actor=actor)


def stock_adjust(*, variant_id: int, warehouse_id: int, quantity: int, reason: str, actor=None) -> StockMovement:
    """A stock count correction (signed). A reason is required; never below what is reserved."""
    if not reason.strip():
        raise StockOperationInvalid(_("Say why stock is adjusted."), fields={"reason": [_("This field is required.")]})
    if quantity == 0:
        raise StockOperationInvalid(_("An adjustment must change the quantity."))
    return _change_one(variant_id=variant_id, warehouse_id=warehouse_id, quantity=quantity, kind=Kind.ADJUSTMENT,
                       reference="", reason=reason, actor=actor)


def stock_restock_return(*, variant_id: int, quantity: int, warehouse_id: int, reference: str, quarantine: bool,
                         actor=None) -> StockMovement:
    """Returned units come back: sellable at once, or into quarantine until inspected."""
    if quantity <= 0:
        raise StockOperationInvalid(_("Returned quantity must be above zero."))
    return _change_one(variant_id=variant_id, warehouse_id=warehouse_id, quantity=quantity, kind=Kind.RETURN,
                       reference=reference, reason=_("Returned (quarantine)") if quarantine else _("Returned"),
                       actor=actor, bucket=Bucket.QUARANTINE if quarantine else Bucket.SELLABLE)


def stock_quarantine_resolve(*, variant_id: int, warehouse_id: int, quantity: int, restock: bool, reason: str,
                             actor=None) -> list[StockMovement]:
    """Inspected quarantine units: back to sellable stock, or written off."""
    if quantity <= 0:
        raise StockOperationInvalid(_("Quantity must be above zero."))
    level_id = _level_for(variant_id=variant_id, warehouse_id=warehouse_id).pk
    with _stock_transaction():
        locked = _lock(Q(pk=level_id), now=timezone.now())
        level = locked[level_id]
        if level.quarantined < quantity:
            raise StockOperationInvalid(_("Not that many units in quarantine."))
        movements = [_book(level, kind=Kind.ADJUSTMENT, quantity=-quantity, reason=reason, actor=actor,
                           bucket=Bucket.QUARANTINE)]
        if restock:
            movements.append(_book(level, kind=Kind.RETURN, quantity=quantity, reason=reason, actor=actor))
        StockMovement.objects.bulk_create(movements)
        locked.touch(level)
        locked.save(actor=actor)
    return movements


# --- purchase orders --------------------------------------------------------------------------


def _purchase_order_draft_for_rule(*, rule, level: StockLevel, actor=None) -> PurchaseOrder | None:
    """Called under the stock row lock at a low-stock crossing. Reuses an open PO that
    already orders this item; otherwise adds a line to the supplier's draft for this
    warehouse, or starts one. The supplier row is locked so two crossings at once share
    one draft (lock order is always stock rows → supplier → PO)."""
    Supplier.objects.select_for_update().filter(pk=rule.supplier_id).first()
    open_po = (PurchaseOrder.objects.filter(
        supplier_id=rule.supplier_id, warehouse_id=level.warehouse_id, lines__variant_id=level.variant_id,
        status__in=[PurchaseOrder.Status.DRAFT, PurchaseOrder.Status.SENT, PurchaseOrder.Status.PARTIALLY_RECEIVED],
    ).order_by("pk").first())
    if open_po is not None:
        return open_po
    draft = PurchaseOrder.objects.filter(supplier_id=rule.supplier_id, warehouse_id=level.warehouse_id,
                                         status=PurchaseOrder.Status.DRAFT).order_by("pk").first()
    if draft is None:
        draft = purchase_order_create(supplier_id=rule.supplier_id, warehouse_id=level.warehouse_id, lines=[],
                                      notes=_("Drafted automatically: reorder point reached."), actor=actor)
    PurchaseOrderLine.objects.create(purchase_order=draft, variant_id=level.variant_id,
                                     quantity_ordered=rule.reorder_quantity,
                                     lead_time_days=rule.effective_lead_time_days)
    return draft


def purchase_order_create(*, supplier_id: int, warehouse_id: int, lines: list[tuple[int, int]], notes: str = "",
                          actor=None) -> PurchaseOrder:
    """A draft purchase order (lines: (variant_id, quantity))."""
    supplier = Supplier.objects.get(pk=supplier_id)
    with transaction.atomic():
        po = PurchaseOrder.objects.create(supplier=supplier, warehouse_id=warehouse_id, notes=notes,
                                          created_by=actor if getattr(actor, "pk", None) else None)
        if lines:
            PurchaseOrderLine.objects.bulk_create([
                PurchaseOrderLine(purchase_order=po, variant_id=vid, quantity_ordered=qty,
                                  lead_time_days=supplier.lead_time_days)
                for vid, qty in _merge_lines(lines).items()
            ])
    return po


def _locked_po(purchase_order_id: int) -> PurchaseOrder:
    return PurchaseOrder.objects.select_for_update(of=("self",)).select_related("supplier", "warehouse").get(
        pk=purchase_order_id)


def _transition(obj, method_name: str, *, actor=None, reason: str = "", **kwargs) -> None:
    method = getattr(obj, method_name)
    if not django_fsm.can_proceed(method):
        raise TransitionNotAllowed(
            _("Cannot %(action)s %(object)s while it is %(status)s.")
            % {"action": method_name.replace("_", " "), "object": obj, "status": obj.get_status_display()})
    method(by=actor if getattr(actor, "pk", None) else None, description=reason or None, **kwargs)
    obj.save()


def purchase_order_send(*, purchase_order_id: int, actor=None) -> PurchaseOrder:
    """draft → sent; sets the expected date from the longest line lead time."""
    with transaction.atomic():
        po = _locked_po(purchase_order_id)
        if po.status == PurchaseOrder.Status.DRAFT and not po.lines.exists():
            raise StockOperationInvalid(_("A purchase order needs at least one line before it is sent."))
        lead = max(po.lines.values_list("lead_time_days", flat=True), default=po.supplier.lead_time_days)
        _transition(po, "send", actor=actor, expected_on=timezone.localdate() + timedelta(days=lead))
    return po


def purchase_order_cancel(*, purchase_order_id: int, reason: str = "", actor=None) -> PurchaseOrder:
    with transaction.atomic():
        po = _locked_po(purchase_order_id)
        _transition(po, "cancel", actor=actor, reason=reason)
    return po


def purchase_order_receive(*, purchase_order_id: int, lines: list[tuple[int, int]] | None = None,
                           actor=None) -> PurchaseOrder:
    """Book received goods into the PO's warehouse through the ledger. `lines`:
    (variant_id, quantity); None receives everything outstanding. Over-receipt is refused.
    sent/partially_received → partially_received, or → received when nothing is outstanding."""
    with transaction.atomic():
        po = _locked_po(purchase_order_id)
        if po.status not in (PurchaseOrder.Status.SENT, PurchaseOrder.Status.PARTIALLY_RECEIVED):
            raise TransitionNotAllowed(_("Only a sent purchase order can be received (this one is %(status)s).")
                                       % {"status": po.get_status_display()})
        po_lines = {line.variant_id: line for line in po.lines.select_for_update()}
        wanted = ({vid: line.outstanding for vid, line in po_lines.items() if line.outstanding}
                  if lines is None else _merge_lines(lines))
        errors = {}
        for vid, qty in wanted.items():
            line = po_lines.get(vid)
            if line is None or qty > line.outstanding:
                errors[str(vid)] = [_("Only %(n)d outstanding.") % {"n": line.outstanding if line else 0}]
        if errors or not wanted:
            raise StockOperationInvalid(_("These quantities were not ordered or are already received."), fields=errors)
        level_ids = [_level_for(variant_id=vid, warehouse_id=po.warehouse_id).pk for vid in wanted]
        with _stock_transaction():
            locked = _lock(Q(pk__in=level_ids), now=timezone.now())
            movements = []
            for vid, qty in wanted.items():
                level = locked.find(variant_id=vid, warehouse_id=po.warehouse_id)
                movements.append(_book(level, kind=Kind.RECEIPT, quantity=qty, reference=po.number,
                                       reason=_("Purchase order received"), actor=actor))
                locked.touch(level)
                po_lines[vid].quantity_received += qty
            StockMovement.objects.bulk_create(movements)
            PurchaseOrderLine.objects.bulk_update([po_lines[vid] for vid in wanted], ["quantity_received"])
            locked.save(actor=actor)
        complete = all(line.outstanding == 0 for line in po_lines.values())
        _transition(po, "receive_fully" if complete else "receive_partially", actor=actor)
    return po


# --- transfers ----------------------------------------------------------------------------------


def transfer_request(*, source_id: int, destination_id: int, lines: list[tuple[int, int]], reason: str = "",
                     actor=None) -> StockTransfer:
    if source_id == destination_id:
        raise StockOperationInvalid(_("A transfer needs two different warehouses."))
    wanted = _merge_lines(lines)
    with transaction.atomic():
        transfer = StockTransfer.objects.create(source_id=source_id, destination_id=destination_id, reason=reason,
                                                requested_by=actor if getattr(actor, "pk", None) else None)
        StockTransferLine.objects.bulk_create(
            [StockTransferLine(transfer=transfer, variant_id=vid, quantity=qty) for vid, qty in wanted.items()])
        emit("stock_transfer.requested", subject=transfer, payload=transfer.event_payload(), actor=actor)
    return transfer


def _locked_transfer(transfer_id: int) -> StockTransfer:
    return StockTransfer.objects.select_for_update(of=("self",)).select_related("source", "destination").get(
        pk=transfer_id)


def transfer_dispatch(*, transfer_id: int, actor=None) -> StockTransfer:
    """requested → in_transit: the units leave the source (ledger: transfer out).
    All lines or none; InsufficientStock names every short line."""
    with transaction.atomic():
        transfer = _locked_transfer(transfer_id)
        if not django_fsm.can_proceed(transfer.dispatch):
            _transition(transfer, "dispatch", actor=actor)  # raises the clear error
        wanted = dict(transfer.lines.values_list("variant_id", "quantity"))
        with _stock_transaction():
            locked = _lock(Q(warehouse_id=transfer.source_id, variant_id__in=wanted), now=timezone.now())
            shortages, movements = [], []
            for vid, qty in wanted.items():
                level = locked.find(variant_id=vid, warehouse_id=transfer.source_id)
                free = level.on_hand - level.reserved if level else 0
                if free < qty:
                    shortages.append({"variant_id": vid, "requested": qty, "available": free})
                    continue
                movements.append(_book(level, kind=Kind.TRANSFER, quantity=-qty, reference=transfer.number,
                                       reason=_("Sent to %(to)s") % {"to": transfer.destination.code}, actor=actor))
                locked.touch(level)
            if shortages:
                raise InsufficientStock(_with_skus(shortages))
            StockMovement.objects.bulk_create(movements)
            locked.save(actor=actor)
        _transition(transfer, "dispatch", actor=actor)
    return transfer


def transfer_receive(*, transfer_id: int, actor=None) -> StockTransfer:
    """in_transit → received: the units arrive at the destination (ledger: transfer in)."""
    with transaction.atomic():
        transfer = _locked_transfer(transfer_id)
        if not django_fsm.can_proceed(transfer.receive):
            _transition(transfer, "receive", actor=actor)
        wanted = dict(transfer.lines.values_list("variant_id", "quantity"))
        level_ids = [_level_for(variant_id=vid, warehouse_id=transfer.destination_id).pk for vid in wanted]
        with _stock_transaction():
            locked = _lock(Q(pk__in=level_ids), now=timezone.now())
            movements = []
            for vid, qty in wanted.items():
                level = locked.find(variant_id=vid, warehouse_id=transfer.destination_id)
                movements.append(_book(level, kind=Kind.TRANSFER, quantity=qty, reference=transfer.number,
                                       reason=_("Received from %(src)s") % {"src": transfer.source.code}, actor=actor))
                locked.touch(level)
            StockMovement.objects.bulk_create(movements)
            locked.save(actor=actor)
        _transition(transfer, "receive", actor=actor)
    return transfer


def transfer_cancel(*, transfer_id: int, reason: str = "", actor=None) -> StockTransfer:
    with transaction.atomic():
        transfer = _locked_transfer(transfer_id)
        _transition(transfer, "cancel", actor=actor, reason=reason)
    return transfer


# --- back in stock --------------------------------------------------------------------------------


def back_in_stock_subscribe(*, customer, variant_id: int | None = None, sku: str | None = None) -> BackInStockSubscription:
    """Ask to be told once when an out-of-stock item is available again (idempotent).
    Only for items the customer's catalog shows them (others are not found)."""
    from catalog.selectors import variants_visible_to

    visible = variants_visible_to(customer=customer)
    variant = visible.filter(Q(pk=variant_id) if variant_id else Q(sku__iexact=(sku or "").strip())).first()
    if variant is None:
        raise VariantNotFound()  # hidden or unknown: the same 404, existence does not leak
    if availability_for(variant_ids=[variant.pk])[variant.pk] > 0:
        raise AlreadyInStock()
    try:
        with transaction.atomic():
            subscription, _created = BackInStockSubscription.objects.get_or_create(
                customer=customer, variant=variant, status=BackInStockSubscription.Status.WAITING)
    except IntegrityError:  # the same customer subscribed twice at once
        subscription = BackInStockSubscription.objects.get(customer=customer, variant=variant,
                                                           status=BackInStockSubscription.Status.WAITING)
    return subscription


def back_in_stock_unsubscribe(*, customer, subscription_id: int) -> None:
    deleted, _ = BackInStockSubscription.objects.filter(
        pk=subscription_id, customer=customer, status=BackInStockSubscription.Status.WAITING).delete()
    if not deleted:
        raise SubscriptionNotFound()


def _alerts_url() -> str:
    return f"{settings.SITE_URL}{reverse('inventory:alerts')}"


def back_in_stock_notify(*, variant_id: int, batch_size: int | None = None) -> int:
    """Tell waiting subscribers that `variant_id` is available, in batches: availability is
    rechecked before each batch (stop when it ran out again: the rest keep waiting for the
    next crossing). Each subscription is marked notified and its `customer.back_in_stock`
    event written in one transaction, so each subscriber is told exactly once, even when
    two workers walk the same list (rows are claimed with SKIP LOCKED)."""
    batch_size = batch_size or int(getattr(settings, "BACK_IN_STOCK_BATCH_SIZE", 100))
    notified = 0
    variant = Variant.objects.select_related("product").get(pk=variant_id)
    url = _alerts_url()
    while availability_for(variant_ids=[variant_id])[variant_id] > 0:
        with transaction.atomic():
            batch = list(
                BackInStockSubscription.objects.select_for_update(skip_locked=True, of=("self",))
                .filter(variant_id=variant_id, status=BackInStockSubscription.Status.WAITING)
                .select_related("customer__user").order_by("pk")[:batch_size]
            )
            if not batch:
                break
            now = timezone.now()
            for subscription in batch:
                subscription.status = BackInStockSubscription.Status.NOTIFIED
                subscription.notified_at = now
                emit("customer.back_in_stock", subject=subscription, payload={
                    "customer_id": subscription.customer_id, "email": subscription.customer.user.email,
                    "variant_id": variant_id, "sku": variant.sku, "product": variant.display_name,
                    "url": url, "subscription_id": subscription.pk,
                })
            BackInStockSubscription.objects.bulk_update(batch, ["status", "notified_at"])
            notified += len(batch)
        if len(batch) < batch_size:
            break
    return notified


def back_in_stock_sweep() -> int:
    """Beat safety net: variants with waiting subscribers that are available (the task
    after a crossing was lost, or a subscription raced the crossing) get notified."""
    waiting = list(BackInStockSubscription.objects.filter(status=BackInStockSubscription.Status.WAITING)
                   .values_list("variant_id", flat=True).distinct())
    available = availability_for(variant_ids=waiting) if waiting else {}
    return sum(back_in_stock_notify(variant_id=vid) for vid, units in available.items() if units > 0)
