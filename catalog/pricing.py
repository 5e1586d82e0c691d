"""Which price a customer pays: price lists with quantity tiers, resolved
company → group → default, always honouring each list's validity window at read time.

    price_for(customer=..., variant=..., quantity=...)  -> PriceQuote (one variant)
    prices_for(customer=..., items=[(variant, qty), ...]) -> {variant_id: PriceQuote}
    tiers_for(customer=..., variant_ids=[...])           -> {variant_id: [Tier, ...]}
    price_explain(customer=..., variant=..., quantity=...) -> every candidate list and why

The bulk forms run a constant number of queries whatever the number of variants.
"""

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from shopauto.exceptions import InvalidInput

from .exceptions import NotInCatalog, PriceNotFound
from .models import PriceList, PriceListEntry, Variant
from .selectors import variants_visible_to

SCOPE_RANK = {PriceList.Scope.COMPANY: 0, PriceList.Scope.GROUP: 1, PriceList.Scope.DEFAULT: 2}


@dataclass(frozen=True)
class PriceQuote:
    unit_price: Decimal
    currency: str
    price_list_id: int
    price_list_name: str
    source: str  # "company" | "group" | "default"
    tier_min_quantity: int

    def as_dict(self) -> dict:
        return {"unit_price": str(self.unit_price), "currency": self.currency, "price_list_id": self.price_list_id,
                "price_list_name": self.price_list_name, "source": self.source,
                "tier_min_quantity": self.tier_min_quantity}


@dataclass(frozen=True)
class Tier:
    """From `min_quantity` units up the customer pays `unit_price` (until the next tier)."""

    min_quantity: int
    unit_price: Decimal
    currency: str
    source: str
    price_list_name: str


@dataclass(frozen=True)
class PricingContext:
    company_id: int | None
    group_id: int | None
    currency: str | None  # company members buy in their company's currency only


def pricing_context(customer) -> PricingContext:
    if customer is None:
        return PricingContext(None, None, None)
    if customer.company_id:
        company = customer.company
        return PricingContext(company.pk, company.group_id, company.currency)
    return PricingContext(None, customer.group_id, None)


def _assigned_q(ctx: PricingContext) -> Q:
    q = Q(scope=PriceList.Scope.DEFAULT)
    if ctx.group_id:
        q |= Q(scope=PriceList.Scope.GROUP, group_id=ctx.group_id)
    if ctx.company_id:
        q |= Q(scope=PriceList.Scope.COMPANY, company_id=ctx.company_id)
    return q


def _usable_q(ctx: PricingContext, at: datetime) -> Q:
    q = _assigned_q(ctx) & Q(is_active=True)
    q &= Q(valid_from__isnull=True) | Q(valid_from__lte=at)
    q &= Q(valid_until__isnull=True) | Q(valid_until__gt=at)
    if ctx.currency:
        q &= Q(currency=ctx.currency)
    return q


def _rank(scope: str, priority: int, valid_from: datetime | None, list_id: int) -> tuple:
    """Lower wins: company before group before default; then higher priority; then the
    later start (a newer version of a list); then the newer list."""
    started = valid_from.timestamp() if valid_from else float("-inf")
    return (SCOPE_RANK[scope], -priority, -started, -list_id)


_ENTRY_FIELDS = ("variant_id", "min_quantity", "unit_price", "price_list_id", "price_list__name",
                 "price_list__currency", "price_list__scope", "price_list__priority", "price_list__valid_from")


def _entry_rows(ctx: PricingContext, variant_ids, at: datetime, max_quantity: int | None = None):
    """One query: every tier of every usable list for these variants."""
    entries = PriceListEntry.objects.filter(
        variant_id__in=variant_ids,
        price_list__in=PriceList.objects.filter(_usable_q(ctx, at)).values("pk"),
    )
    if max_quantity is not None:
        entries = entries.filter(min_quantity__lte=max_quantity)
    return entries.values_list(*_ENTRY_FIELDS)


def _visible_ids(customer, variant_ids) -> set[int]:
    return set(variants_visible_to(customer=customer).filter(pk__in=variant_ids).values_list("pk", flat=True))


def _best(rows, quantity: int):
    """The winning row for `quantity`: the best-ranked list that has a tier at or below
    the quantity, and in it the highest such tier."""
    best_key, best_row = None, None
    for row in rows:
        if row[1] > quantity:
            continue
        key = (_rank(row[6], row[7], row[8], row[3]), -row[1])
        if best_key is None or key < best_key:
            best_key, best_row = key, row
    return best_row


def _quote(row) -> PriceQuote:
    return PriceQuote(unit_price=row[2], currency=row[5], price_list_id=row[3], price_list_name=row[4],
                      source=row[6], tier_min_quantity=row[1])


def prices_for(*, customer, items: list[tuple[Variant, int]], at: datetime | None = None) -> dict[int, PriceQuote]:
    """Quotes for many (variant, quantity) pairs in a constant number of queries (the
    catalog check, the company when not loaded, and one query for all tiers). Variants
    the customer may not see, or that no list prices, are absent from the result."""
    if not items:
        return {}
    at = at or timezone.now()
    quantities: dict[int, int] = {}
    for variant, quantity in items:
        variant_id = getattr(variant, "pk", variant)
        quantities[variant_id] = max(int(quantity), 1)
    visible = _visible_ids(customer, list(quantities))
    if not visible:
        return {}
    ctx = pricing_context(customer)
    by_variant: dict[int, list] = {}
    for row in _entry_rows(ctx, list(visible), at, max_quantity=max(quantities.values())):
        by_variant.setdefault(row[0], []).append(row)
    quotes = {}
    for variant_id, rows in by_variant.items():
        row = _best(rows, quantities[variant_id])
        if row is not None:
            quotes[variant_id] = _quote(row)
    return quotes


def price_for(*, customer, variant: Variant, quantity: int, at: datetime | None = None) -> PriceQuote:
    """The unit price the customer pays for `quantity` units of `variant`, and where it
    comes from. NotInCatalog (404) when their catalog hides the variant; PriceNotFound
    when no usable list prices it at this quantity."""
    if int(quantity) < 1:
        raise InvalidInput(_("The quantity must be at least 1."), fields={"quantity": [_("At least 1.")]})
    if variant.pk not in _visible_ids(customer, [variant.pk]):
        raise NotInCatalog()
    at = at or timezone.now()
    row = _best(list(_entry_rows(pricing_context(customer), [variant.pk], at, max_quantity=int(quantity))), int(quantity))
    if row is None:
        raise PriceNotFound(fields={"sku": [str(PriceNotFound.default_message)]})
    return _quote(row)


def tiers_for(*, customer, variant_ids: list[int], at: datetime | None = None) -> dict[int, list[Tier]]:
    """The tier table each variant has for this customer: at every quantity where any
    usable list changes price, what the customer actually pays (fallback applied).
    Constant number of queries; hidden or unpriced variants are absent."""
    return price_tables_for(customer=customer, variant_ids=variant_ids, at=at)[1]


def price_tables_for(*, customer, variant_ids: list[int], at: datetime | None = None
                     ) -> tuple[dict[int, PriceQuote], dict[int, list[Tier]]]:
    """For a catalog page: each variant's quote for one unit and its tier table, from one
    read of the tiers (constant queries)."""
    if not variant_ids:
        return {}, {}
    at = at or timezone.now()
    visible = _visible_ids(customer, variant_ids)
    if not visible:
        return {}, {}
    by_variant: dict[int, list] = {}
    for row in _entry_rows(pricing_context(customer), list(visible), at):
        by_variant.setdefault(row[0], []).append(row)
    quotes, tables = {}, {}
    for variant_id, rows in by_variant.items():
        table: list[Tier] = []
        for quantity in sorted({row[1] for row in rows}):
            row = _best(rows, quantity)
            if row is None:
                continue
            if table and table[-1].unit_price == row[2] and table[-1].price_list_name == row[4]:
                continue
            table.append(Tier(min_quantity=quantity, unit_price=row[2], currency=row[5], source=row[6],
                              price_list_name=row[4]))
        if table:
            tables[variant_id] = table
        first = _best(rows, 1)
        if first is not None:
            quotes[variant_id] = _quote(first)
    return quotes, tables


@dataclass
class Candidate:
    price_list: PriceList
    tiers: list[tuple[int, Decimal]]
    usable: bool
    reason: str
    tier_min_quantity: int | None = None
    unit_price: Decimal | None = None
    won: bool = False


def price_explain(*, customer, variant: Variant, quantity: int, at: datetime | None = None) -> dict:
    """Why this price: every list assigned to the customer (or everybody) that has an
    entry for the variant, in the order they are tried, with the reason each one was
    used or skipped. For staff ("price calculation details")."""
    at = at or timezone.now()
    ctx = pricing_context(customer)
    visible = variant.pk in _visible_ids(customer, [variant.pk])
    lists = list(PriceList.objects.filter(_assigned_q(ctx), entries__variant=variant).distinct()
                 .select_related("company", "group"))
    entries = {}
    for entry in PriceListEntry.objects.filter(variant=variant, price_list__in=lists).order_by("min_quantity"):
        entries.setdefault(entry.price_list_id, []).append((entry.min_quantity, entry.unit_price))
    lists.sort(key=lambda pl: _rank(pl.scope, pl.priority, pl.valid_from, pl.pk))
    candidates, winner = [], None
    for price_list in lists:
        tiers = entries.get(price_list.pk, [])
        candidate = Candidate(price_list=price_list, tiers=tiers, usable=False, reason="")
        if not price_list.is_active:
            candidate.reason = _("switched off (not active)")
        elif price_list.valid_from and price_list.valid_from > at:
            candidate.reason = _("scheduled: starts %(when)s") % {"when": timezone.localtime(price_list.valid_from)}
        elif price_list.valid_until and price_list.valid_until <= at:
            candidate.reason = _("expired %(when)s") % {"when": timezone.localtime(price_list.valid_until)}
        elif ctx.currency and price_list.currency != ctx.currency:
            candidate.reason = _("currency %(list)s, the company buys in %(company)s") % {
                "list": price_list.currency, "company": ctx.currency}
        else:
            matching = [tier for tier in tiers if tier[0] <= quantity]
            if not matching:
                candidate.reason = _("no tier for %(quantity)s units (first tier from %(first)s)") % {
                    "quantity": quantity, "first": tiers[0][0] if tiers else "-"}
            else:
                candidate.usable = True
                candidate.tier_min_quantity, candidate.unit_price = matching[-1]
                if winner is None:
                    winner = candidate
                    candidate.won = True
                    candidate.reason = _("used: first usable list in order, tier from %(min)s units") % {
                        "min": candidate.tier_min_quantity}
                else:
                    candidate.reason = _("usable, but a list earlier in the order wins")
        candidates.append(candidate)
    quote = None
    if visible and winner is not None:
        quote = PriceQuote(unit_price=winner.unit_price, currency=winner.price_list.currency,
                           price_list_id=winner.price_list.pk, price_list_name=winner.price_list.name,
                           source=winner.price_list.scope, tier_min_quantity=winner.tier_min_quantity)
    return {"customer": customer, "variant": variant, "quantity": quantity, "at": at, "visible": visible,
            "context": ctx, "candidates": candidates, "quote": quote}
