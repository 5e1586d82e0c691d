"""Every write to prices: new versions instead of edits in place, each with its record."""

from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from automation.services import emit
from shopauto.exceptions import InvalidInput

from .exceptions import PriceRuleAlreadyApplied
from .models import PriceList, PriceListEntry, PriceRule
from .selectors import category_descendants

CENT = Decimal("0.01")


def _price_list_payload(price_list: PriceList) -> dict:
    return {"price_list_id": price_list.pk, "name": price_list.name, "currency": price_list.currency,
            "scope": price_list.scope, "company_id": price_list.company_id, "group_id": price_list.group_id,
            "valid_from": price_list.valid_from.isoformat() if price_list.valid_from else None,
            "valid_until": price_list.valid_until.isoformat() if price_list.valid_until else None}


def price_rule_apply(*, rule_id: int, actor=None) -> PriceList:
    """Run a bulk price rule once: copy its source list into a new version that starts at
    the rule's date, with the prices of its category (and below) changed by its percent
    (rounded half-up to cents). The source list is left untouched; the new version wins
    from its start because a later start ranks first among lists of the same assignment
    and priority. Emits price_rule.applied. A second run raises PriceRuleAlreadyApplied."""
    with transaction.atomic():
        rule = PriceRule.objects.select_for_update().select_related("source").get(pk=rule_id)
        if rule.applied_at is not None:
            raise PriceRuleAlreadyApplied()
        source = rule.source
        if source.valid_until and rule.valid_from >= source.valid_until:
            raise InvalidInput(_("The rule starts after its source list ends."),
                               fields={"valid_from": [_("Must be before the source list's end.")]})
        version = PriceList.objects.create(
            name=f"{source.name} · {rule.name}"[:150], currency=source.currency, scope=source.scope,
            company_id=source.company_id, group_id=source.group_id, priority=source.priority, is_active=True,
            valid_from=rule.valid_from, valid_until=source.valid_until, derived_from=source,
        )
        factor = (Decimal(100) + rule.percent) / Decimal(100)
        in_scope = None
        if rule.category_id:
            in_scope = category_descendants(category_ids=[rule.category_id])
        copies, changed = [], 0
        for entry in source.entries.select_related("variant__product").order_by("pk"):
            price = entry.unit_price
            if in_scope is None or entry.variant.product.category_id in in_scope:
                price = (price * factor).quantize(CENT, rounding=ROUND_HALF_UP)
                changed += 1
            copies.append(PriceListEntry(price_list=version, variant_id=entry.variant_id,
                                         min_quantity=entry.min_quantity, unit_price=price))
        PriceListEntry.objects.bulk_create(copies, batch_size=1000)
        rule.applied_at = timezone.now()
        rule.applied_by = actor if getattr(actor, "pk", None) else None
        rule.result = version
        rule.entries_changed = changed
        rule.save(update_fields=["applied_at", "applied_by", "result", "entries_changed"])
        emit("price_rule.applied", subject=rule, actor=actor, payload={
            "rule_id": rule.pk, "rule": rule.name, "percent": str(rule.percent), "category_id": rule.category_id,
            "entries_changed": changed, "entries_copied": len(copies), **_price_list_payload(version),
            "derived_from_id": source.pk,
        })
    return version


def _entry_payload(entry: PriceListEntry) -> dict:
    return {"price_list_id": entry.price_list_id, "variant_id": entry.variant_id, "sku": entry.variant.sku,
            "min_quantity": entry.min_quantity, "unit_price": str(entry.unit_price),
            "currency": entry.price_list.currency}


def price_entry_add(*, price_list: PriceList, variant, min_quantity: int, unit_price: Decimal,
                    actor=None) -> PriceListEntry:
    """Add a quantity tier to a list and record it (price_list.entry_added). An existing
    tier is not overwritten: remove it first, or make a new version with a price rule."""
    with transaction.atomic():
        entry = PriceListEntry(price_list=price_list, variant=variant, min_quantity=min_quantity,
                               unit_price=unit_price)
        entry.full_clean()
        entry.save()
        emit("price_list.entry_added", subject=price_list, actor=actor, payload=_entry_payload(entry))
    return entry


def price_entry_remove(*, entry_id: int, actor=None) -> None:
    """Remove a tier, recording what it was (price_list.entry_removed)."""
    with transaction.atomic():
        entry = PriceListEntry.objects.select_related("price_list", "variant").select_for_update(of=("self",)).get(
            pk=entry_id)
        payload = _entry_payload(entry)
        entry.delete()
        emit("price_list.entry_removed", subject=entry.price_list, actor=actor, payload=payload)


def price_lists_sync(*, now: datetime | None = None) -> dict:
    """Flip `is_current` of every list whose state differs from "active and inside its
    window" at `now`, emitting price_list.activated / price_list.deactivated once per flip.
    Idempotent: a second run at the same time changes nothing. Pricing itself never
    depends on this: it checks the window when it reads."""
    now = now or timezone.now()
    in_effect = Q(is_active=True) & (Q(valid_from__isnull=True) | Q(valid_from__lte=now)) & (
        Q(valid_until__isnull=True) | Q(valid_until__gt=now))
    activated = deactivated = 0
    with transaction.atomic():
        for price_list in PriceList.objects.select_for_update().filter(in_effect, is_current=False).order_by("pk"):
            price_list.is_current = True
            price_list.save(update_fields=["is_current"])
            emit("price_list.activated", subject=price_list, payload=_price_list_payload(price_list))
            activated += 1
        for price_list in PriceList.objects.select_for_update().filter(~in_effect, is_current=True).order_by("pk"):
            price_list.is_current = False
            price_list.save(update_fields=["is_current"])
            emit("price_list.deactivated", subject=price_list, payload=_price_list_payload(price_list))
            deactivated += 1
    return {"activated": activated, "deactivated": deactivated}


def catalog_import(*, resource, data: str, file_format: str = "csv", dry_run: bool = False, user=None) -> dict:
    """Import a CSV (or any tablib format) through a django-import-export resource, all or
    nothing: when any row fails, nothing is written and every failing row is reported with
    its line in the file (the header is line 1)."""
    import tablib

    dataset = tablib.Dataset().load(data, format=file_format)
    result = resource.import_data(dataset, dry_run=dry_run, use_transactions=True, raise_errors=False,
                                  rollback_on_validation_errors=True, user=user)
    errors = []
    for invalid in result.invalid_rows:
        messages = {field: [str(m) for m in msgs] for field, msgs in invalid.error_dict.items()}
        errors.append({"line": invalid.number + 1, "errors": messages})
    for number, row_errors in result.row_errors():
        errors.append({"line": number + 1, "errors": {"__all__": [str(error.error) for error in row_errors]}})
    errors.sort(key=lambda item: item["line"])
    totals = {key: value for key, value in result.totals.items()}
    return {"ok": not errors, "written": not errors and not dry_run, "errors": errors, "totals": totals}
