"""Every write of the quotes app: requests for quote, pricing (versions), approval,
sending, the buyer's answers, conversion to an order, and the expiry jobs.

Each transition service locks the quote row, checks `can_proceed`, calls the pure FSM
transition (logged by django-fsm-log, emitted as `quote.<state>` by the spine) and saves,
all in one transaction. Emails and staff alerts follow from the events after commit.
"""

from dataclasses import asdict, dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django_fsm import can_proceed

from automation.services import emit
from catalog import pricing
from catalog.exceptions import NotInCatalog
from catalog.selectors import variants_visible_to
from customers.models import CustomerProfile
from customers.selectors import customer_for_user
from orders.exceptions import NotAllowed
from orders.services import AgreedPrices, CheckoutDetails, checkout_validate, order_place
from shopauto.exceptions import DomainError, InvalidInput, TransitionNotAllowed

from .exceptions import ApprovalRequired, NothingToSend, QuoteExpired, QuoteNotFound
from .models import Quote, QuoteLine, QuoteRequestLine, QuoteVersion
from .selectors import quote_payload

CENT = Decimal("0.01")
MAX_LINES = 200


@dataclass(frozen=True)
class RequestedLine:
    variant_id: int
    quantity: int
    target_price: Decimal | None = None


@dataclass(frozen=True)
class PricedLine:
    variant_id: int
    quantity: int
    unit_price: Decimal


# ------------------------------------------------------------------------- helpers ---
def _locked(quote_id: int) -> Quote:
    # Locks the quote row only; the customer and company are read along for the event payload.
    quote = (Quote.objects.select_for_update(of=("self",)).select_related("customer__user", "company")
             .filter(pk=quote_id).first())
    if quote is None:
        raise QuoteNotFound()
    return quote


def _require(quote: Quote, transition_name: str) -> None:
    if not can_proceed(getattr(quote, transition_name)):
        raise TransitionNotAllowed(
            _("The quote is %(status)s: this is not possible now.") % {"status": quote.get_status_display()}
        )


def _staff_can(user, perm: str) -> bool:
    return bool(user and user.is_authenticated and user.is_staff and user.has_perm(perm))


def _owns(customer: CustomerProfile, quote: Quote) -> bool:
    return quote.customer_id == customer.pk or bool(
        customer.company_id and customer.company_id == quote.company_id and customer.can_approve)


def _require_buyer(actor, quote: Quote) -> CustomerProfile:
    """The buyer (or an approver of their company). Anyone else's quote does not exist
    for them (404), so its existence does not leak."""
    customer = customer_for_user(actor)
    if customer is None or not _owns(customer, quote):
        raise QuoteNotFound()
    return customer


def _require_staff(actor, perm: str = "quotes.change_quote") -> None:
    if not _staff_can(actor, perm):
        raise NotAllowed()


def _visible_variants(*, customer: CustomerProfile, variant_ids: list[int]) -> dict:
    found = {v.pk: v for v in variants_visible_to(customer=customer).filter(pk__in=variant_ids)
             .select_related("product")}
    if len(found) != len(set(variant_ids)):
        raise NotInCatalog()  # a hidden SKU cannot be quoted: 404 like the catalog
    return found


def _check_quantity(quantity: int, field: str = "quantity") -> None:
    if quantity < 1 or quantity > settings.CART_MAX_LINE_QUANTITY:
        raise InvalidInput(_("Quantities must be between 1 and %(max)s.") % {"max": settings.CART_MAX_LINE_QUANTITY},
                           fields={field: [_("Out of range.")]})


# --------------------------------------------------------------- request for quote ---
def quote_request(*, customer: CustomerProfile, lines: list[RequestedLine], notes: str = "",
                  needed_by: date | None = None, source: str = Quote.Source.PORTAL, actor=None,
                  idempotency_key: str = "", request_hash: str = "") -> Quote:
    """A buyer asks for prices: lines from their own catalog (hidden SKUs are 404),
    quantities, optional target prices, notes and a needed-by date. Emits
    quote.requested (the buyer's acknowledgement and the Sales alert follow from it)."""
    if not lines:
        raise InvalidInput(_("Add at least one line."), fields={"lines": [_("Required.")]})
    if len(lines) > MAX_LINES:
        raise InvalidInput(fields={"lines": [_("At most %(max)s lines.") % {"max": MAX_LINES}]})
    merged: dict[int, RequestedLine] = {}
    for line in lines:
        _check_quantity(line.quantity)
        if line.target_price is not None and line.target_price < 0:
            raise InvalidInput(fields={"target_price": [_("Must not be negative.")]})
        if line.variant_id in merged:
            previous = merged[line.variant_id]
            line = RequestedLine(line.variant_id, previous.quantity + line.quantity,
                                 line.target_price if line.target_price is not None else previous.target_price)
        merged[line.variant_id] = line
    if needed_by is not None and needed_by < timezone.localdate():
        raise InvalidInput(fields={"needed_by": [_("This date has passed.")]})
    if len(notes) > 4000:
        raise InvalidInput(fields={"notes": [_("At most 4000 characters.")]})
    variants = _visible_variants(customer=customer, variant_ids=list(merged))
    currency = _currency_for(customer=customer, variants=list(variants.values()))
    with transaction.atomic():
        quote = Quote.objects.create(customer=customer, company_id=customer.company_id, source=source,
                                     currency=currency, notes=notes.strip(), needed_by=needed_by,
                                     idempotency_key=idempotency_key, request_hash=request_hash)
        QuoteRequestLine.objects.bulk_create([
            QuoteRequestLine(quote=quote, variant=variants[line.variant_id], quantity=line.quantity,
                             target_price=line.target_price) for line in merged.values()
        ])
        emit("quote.requested", subject=quote, payload=quote_payload(quote), actor=actor)
    return quote


def _currency_for(*, customer: CustomerProfile, variants) -> str:
    if customer.company_id:
        return customer.company.currency
    quotes = pricing.prices_for(customer=customer, items=[(v, 1) for v in variants])
    currencies = {q.currency for q in quotes.values()}
    return currencies.pop() if len(currencies) == 1 else settings.DEFAULT_CURRENCY


def quote_request_from_cart(*, customer: CustomerProfile, cart_id: int, notes: str = "",
                            needed_by: date | None = None, actor=None, idempotency_key: str = "",
                            request_hash: str = "") -> Quote:
    """"Request a quote for this cart": the cart's lines, target price empty. The cart
    is left as it is (the buyer may still check it out at list prices)."""
    from orders.models import Cart

    cart = Cart.objects.filter(pk=cart_id, customer=customer, status=Cart.Status.OPEN).first()
    if cart is None:
        raise QuoteNotFound(_("Cart not found."))
    lines = [RequestedLine(variant_id, quantity)
             for variant_id, quantity in cart.lines.values_list("variant_id", "quantity")]
    if not lines:
        raise InvalidInput(_("Your cart is empty."))
    return quote_request(customer=customer, lines=lines, notes=notes, needed_by=needed_by,
                         source=Quote.Source.CART, actor=actor, idempotency_key=idempotency_key,
                         request_hash=request_hash)


# ------------------------------------------------------------------ staff: pricing ---
@transaction.atomic
def quote_start_review(*, quote_id: int, actor) -> Quote:
    """Staff take a request (requested → in_review). Pricing does this too."""
    _require_staff(actor)
    quote = _locked(quote_id)
    _require(quote, "start_review")
    quote.start_review(by=actor, description=_("In review"))
    quote.save()
    return quote


def quote_pricing_start(*, quote: Quote) -> list[dict]:
    """What a pricing form starts from: each requested line with the customer's price
    for that quantity (their list and tier), their tier table and the target price."""
    lines = list(quote.request_lines.select_related("variant__product"))
    items = [(line.variant, line.quantity) for line in lines]
    prices = pricing.prices_for(customer=quote.customer, items=items)
    tiers = pricing.tiers_for(customer=quote.customer, variant_ids=[line.variant_id for line in lines])
    return [{"variant": line.variant, "quantity": line.quantity, "target_price": line.target_price,
             "price": prices.get(line.variant_id), "tiers": tiers.get(line.variant_id, [])} for line in lines]


def _discount(list_price: Decimal | None, unit_price: Decimal) -> Decimal | None:
    if list_price is None or list_price <= 0:
        return None
    return ((list_price - unit_price) * 100 / list_price).quantize(CENT)


@transaction.atomic
def quote_price(*, quote_id: int, actor, lines: list[PricedLine], valid_until: datetime | None = None,
                shipping: Decimal | None = None, note: str = "") -> QuoteVersion:
    """Staff write the prices of the next version (a draft until sent; repricing a draft
    replaces its lines). Each line's discount is measured against the customer's own
    price for that quantity; a line beyond QUOTE_MAX_DISCOUNT_PERCENT, or one the
    customer has no price for, makes the version need a manager's approval. Repricing
    after submission withdraws it from approval (a changed version needs a new one)."""
    _require_staff(actor)
    if not lines:
        raise InvalidInput(_("A version needs at least one line."), fields={"lines": [_("Required.")]})
    now = timezone.now()
    valid_until = valid_until or now + timedelta(days=settings.QUOTE_VALIDITY_DAYS)
    if valid_until <= now:
        raise InvalidInput(fields={"valid_until": [_("Must be in the future.")]})
    if shipping is not None and shipping < 0:
        raise InvalidInput(fields={"shipping": [_("Must not be negative.")]})
    merged: dict[int, PricedLine] = {}
    for line in lines:
        _check_quantity(line.quantity)
        if line.unit_price is None or line.unit_price < 0:
            raise InvalidInput(fields={"unit_price": [_("Must not be negative.")]})
        merged[line.variant_id] = line

    quote = _locked(quote_id)
    if quote.status == Quote.Status.REQUESTED:
        quote.start_review(by=actor, description=_("Pricing started"))
        quote.save()
    elif quote.status in (Quote.Status.PENDING_APPROVAL, Quote.Status.APPROVED):
        quote.rework(by=actor, description=_("Repriced"))
        quote.save()
    elif quote.status != Quote.Status.IN_REVIEW:
        _require(quote, "start_review")
    variants = _visible_variants(customer=quote.customer, variant_ids=list(merged))
    list_prices = pricing.prices_for(customer=quote.customer,
                                     items=[(variants[vid], line.quantity) for vid, line in merged.items()])

    latest = quote.versions.order_by("-number").first()
    if latest is not None and latest.is_draft:
        version = latest
        version.lines.all().delete()
    else:
        version = QuoteVersion(quote=quote, number=(latest.number + 1) if latest else 1)
    version.created_by = actor
    version.created_at = now
    version.note = note.strip()
    version.valid_until = valid_until
    version.shipping = shipping
    version.currency = quote.currency
    version.approved_by, version.approved_at = None, None
    version.save()

    quote_lines, discounts, list_total, unpriced = [], [], Decimal("0.00"), False
    for variant_id, line in merged.items():
        variant = variants[variant_id]
        price = list_prices.get(variant_id)
        list_price = price.unit_price if price is not None and price.currency == quote.currency else None
        discount = _discount(list_price, line.unit_price)
        if list_price is None:
            unpriced = True
        else:
            list_total += (list_price * line.quantity).quantize(CENT)
        if discount is not None:
            discounts.append(discount)
        quote_lines.append(QuoteLine(version=version, variant=variant, sku=variant.sku, name=variant.display_name,
                                     quantity=line.quantity, list_price=list_price, unit_price=line.unit_price,
                                     line_total=(line.unit_price * line.quantity).quantize(CENT),
                                     discount_percent=discount))
    QuoteLine.objects.bulk_create(quote_lines)
    version.subtotal = sum((line.line_total for line in quote_lines), Decimal("0.00"))
    version.list_subtotal = None if unpriced else list_total
    version.max_discount_percent = max(discounts) if discounts else None
    version.needs_approval = unpriced or bool(discounts and max(discounts) > settings.QUOTE_MAX_DISCOUNT_PERCENT)
    version.save(update_fields=["subtotal", "list_subtotal", "max_discount_percent", "needs_approval"])
    return version


def _draft(quote: Quote) -> QuoteVersion:
    latest = quote.versions.order_by("-number").first()
    if latest is None or not latest.is_draft:
        raise NothingToSend()
    return latest


@transaction.atomic
def quote_send(*, quote_id: int, actor) -> Quote:
    """Send the draft version to the buyer. A draft beyond the discount limit goes to
    pending_approval instead (Managers are alerted) and is sent after approval."""
    _require_staff(actor)
    quote = _locked(quote_id)
    _require(quote, "send")
    draft = _draft(quote)
    if draft.needs_approval and not draft.approved:
        _require(quote, "submit_for_approval")
        quote.submit_for_approval(by=actor, description=_approval_reason(draft))
        quote.save()
        return quote
    now = timezone.now()
    if draft.valid_until <= now:
        raise InvalidInput(_("This version's validity has passed; reprice it."),
                           fields={"valid_until": [_("Must be in the future.")]})
    draft.sent_at = now
    draft.save(update_fields=["sent_at"])
    quote.send(by=actor, description=_("Version %(n)s sent") % {"n": draft.number}, valid_until=draft.valid_until)
    quote.save()
    return quote


def _approval_reason(version: QuoteVersion) -> str:
    if version.max_discount_percent is not None and version.max_discount_percent > settings.QUOTE_MAX_DISCOUNT_PERCENT:
        return _("Discount of %(d)s%% is above the %(limit)s%% limit") % {
            "d": version.max_discount_percent, "limit": settings.QUOTE_MAX_DISCOUNT_PERCENT}
    return _("A line has no customer price to compare with")


@transaction.atomic
def quote_approve(*, quote_id: int, actor, note: str = "") -> Quote:
    """A manager (quotes.approve_quote) approves the draft; staff then send it."""
    if not _staff_can(actor, "quotes.approve_quote"):
        raise ApprovalRequired()
    quote = _locked(quote_id)
    _require(quote, "approve")
    draft = _draft(quote)
    draft.approved_by, draft.approved_at = actor, timezone.now()
    draft.save(update_fields=["approved_by", "approved_at"])
    quote.approve(by=actor, description=note or _("Version %(n)s approved") % {"n": draft.number})
    quote.save()
    return quote


@transaction.atomic
def quote_reject_approval(*, quote_id: int, actor, reason: str = "") -> Quote:
    """A manager sends the pricing back to staff (pending_approval → in_review)."""
    if not _staff_can(actor, "quotes.approve_quote"):
        raise ApprovalRequired()
    quote = _locked(quote_id)
    if quote.status != Quote.Status.PENDING_APPROVAL:
        raise TransitionNotAllowed(_("The quote is %(status)s: this is not possible now.")
                                   % {"status": quote.get_status_display()})
    quote.rework(by=actor, description=reason or _("Approval refused: reprice"))
    quote.save()
    return quote


# ------------------------------------------------------------------ buyer's answers ---
@transaction.atomic
def quote_request_changes(*, quote_id: int, actor, comment: str) -> Quote:
    """The buyer asks for changes to the version they were sent; staff answer with a
    new version. The comment stays with the version it answers."""
    quote = _locked(quote_id)
    _require_buyer(actor, quote)
    comment = (comment or "").strip()
    if not comment:
        raise InvalidInput(_("Tell us what to change."), fields={"comment": [_("Required.")]})
    if len(comment) > 4000:
        raise InvalidInput(fields={"comment": [_("At most 4000 characters.")]})
    _require(quote, "request_changes")
    version = quote.current_version()
    version.changes_requested, version.changes_requested_at = comment, timezone.now()
    version.save(update_fields=["changes_requested", "changes_requested_at"])
    quote.request_changes(by=actor, description=comment[:300])
    quote.save()
    return quote


@transaction.atomic
def quote_decline(*, quote_id: int, actor, reason: str = "") -> Quote:
    quote = _locked(quote_id)
    _require_buyer(actor, quote)
    _require(quote, "decline")
    quote.decline(by=actor, description=(reason or "").strip()[:300] or _("Declined by the buyer"))
    quote.save()
    return quote


def _accept(*, quote_id: int, actor, details: CheckoutDetails) -> Quote:
    with transaction.atomic():
        quote = _locked(quote_id)
        _require_buyer(actor, quote)
        _require(quote, "accept")
        if quote.valid_until is not None and quote.valid_until <= timezone.now():
            raise QuoteExpired()
        checkout_validate(customer=quote.customer, details=details)  # the order is the quote customer's
        version = quote.current_version()
        quote.accept(by=actor, description=_("Version %(n)s accepted") % {"n": version.number},
                     checkout=asdict(details))
        quote.save()
    return quote


def quote_accept(*, quote_id: int, actor, details: CheckoutDetails) -> Quote:
    """The buyer accepts the version they were sent, choosing address, shipping and
    payment. The acceptance commits first; the order is then placed at the quoted
    prices in a second transaction. If that fails (e.g. InsufficientStock) the quote
    stays `accepted` with `conversion_error` set for the buyer to read, Sales are
    alerted and can retry from the admin (quote_convert)."""
    quote = _accept(quote_id=quote_id, actor=actor, details=details)
    return quote_convert(quote_id=quote.pk, actor=actor)


def quote_convert(*, quote_id: int, actor=None) -> Quote:
    """Place the order of an accepted quote at its quoted prices (orders.order_place
    with AgreedPrices: stock is reserved and allocated then). Idempotent: a converted
    quote is returned as it is. Never raises a DomainError from the order: it is kept
    in `conversion_error` and Sales get a staff alert."""
    with transaction.atomic():
        quote = _locked(quote_id)
        if actor is not None and customer_for_user(actor) is not None:
            _require_buyer(actor, quote)
        elif actor is not None:
            _require_staff(actor)
        if quote.status == Quote.Status.CONVERTED:
            return quote
        _require(quote, "convert")
        version = quote.current_version()
        lines = list(version.lines.all())
        checkout = quote.checkout or {}
        agreed = AgreedPrices(unit_prices={line.variant_id: line.unit_price for line in lines},
                              currency=version.currency, source=f"Quote {quote.number} v{version.number}",
                              shipping=version.shipping)
        try:
            details = CheckoutDetails(**checkout)
        except TypeError:
            details = None
        try:
            if details is None:
                raise InvalidInput(_("The checkout choices are incomplete."))
            with transaction.atomic():  # a savepoint: a failed order leaves nothing behind
                order = order_place(customer=quote.customer, lines=[(line.variant_id, line.quantity) for line in lines],
                                    details=details, actor=actor, agreed=agreed)
        except DomainError as error:
            _conversion_failed(quote, error)
            return quote
        quote.convert(by=actor, description=_("Order %(number)s placed") % {"number": order.number}, order=order)
        quote.save()
        return quote


def _conversion_failed(quote: Quote, error: DomainError) -> None:
    from notifications.services import staff_alert

    detail = {**error.as_dict(), "at": timezone.now().isoformat()}
    quote.conversion_error = detail
    quote.conversion_attempts += 1
    quote.save(update_fields=["conversion_error", "conversion_attempts"])
    payload = quote_payload(quote)
    emit("quote.conversion_failed", subject=quote, payload={**payload, "error": detail})
    staff_alert(
        group="Sales",
        subject=_("Quote %(number)s was accepted but could not become an order") % {"number": quote.number},
        body=_("%(message)s\nFix it (stock, credit, address) and retry the conversion in the admin:\n%(admin_url)s")
        % {"message": detail["message"], "admin_url": payload["admin_url"]},
        idempotency_key=f"quote-conversion-failed:{quote.number}:{quote.conversion_attempts}",
        context=payload,
    )


@transaction.atomic
def quote_cancel(*, quote_id: int, actor, reason: str = "") -> Quote:
    """Staff cancel any open quote, or an accepted one that cannot become an order; a
    buyer may withdraw their request until a quote is sent (after that they decline it)."""
    quote = _locked(quote_id)
    if customer_for_user(actor) is not None:
        _require_buyer(actor, quote)
        if quote.status not in (Quote.Status.REQUESTED, Quote.Status.IN_REVIEW):
            raise TransitionNotAllowed(_("This quote was already sent to you: decline it instead."))
    else:
        _require_staff(actor)
    _require(quote, "cancel")
    quote.cancel(by=actor, description=(reason or "").strip()[:300] or _("Cancelled"))
    quote.save()
    return quote


# ------------------------------------------------------------------ scheduled jobs ---
def quotes_expire(*, now: datetime | None = None) -> int:
    """Sent quotes past `valid_until` become `expired`. Each commits on its own and is
    re-checked under the lock, so a second or concurrent run expires nothing twice."""
    now = now or timezone.now()
    count = 0
    due = Quote.objects.filter(status=Quote.Status.SENT, valid_until__lte=now).values_list("pk", flat=True)
    for quote_id in list(due[:1000]):
        with transaction.atomic():
            quote = _locked(quote_id)
            if quote.status != Quote.Status.SENT or quote.valid_until is None or quote.valid_until > now:
                continue
            quote.expire(description=_("Validity ended"))
            quote.save()
            count += 1
    return count


def quotes_remind_expiring(*, now: datetime | None = None) -> int:
    """quote.expiring once per sent version, QUOTE_EXPIRY_REMINDER_HOURS before its end
    (a conditional update claims the reminder: two runs never send it twice)."""
    now = now or timezone.now()
    horizon = now + timedelta(hours=settings.QUOTE_EXPIRY_REMINDER_HOURS)
    candidates = Quote.objects.filter(status=Quote.Status.SENT, expiry_reminded_at__isnull=True,
                                      valid_until__gt=now, valid_until__lte=horizon)
    count = 0
    for quote_id in list(candidates.values_list("pk", flat=True)[:1000]):
        with transaction.atomic():
            claimed = Quote.objects.filter(pk=quote_id, status=Quote.Status.SENT,
                                           expiry_reminded_at__isnull=True).update(expiry_reminded_at=now)
            if claimed:
                quote = Quote.objects.select_related("customer__user", "company").get(pk=quote_id)
                emit("quote.expiring", subject=quote, payload=quote_payload(quote))
                count += 1
    return count
