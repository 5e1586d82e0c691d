"""Every write of the returns app: requests (decided by the policy), each transition,
receiving into stock, and the resolution (refund, store credit, exchange).

Each service locks the return (or, on request, the order) row, checks `can_proceed`,
calls the transition (logged by django-fsm-log, emitted as `return.<state>` by the
spine), saves, and calls the other apps' services in the same transaction: a failure
anywhere (no stock for an exchange, a refund above the total) changes nothing.
"""

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django_fsm import can_proceed

from automation.services import emit
from customers.models import CustomerProfile
from inventory import services as stock
from orders import services as orders
from orders.models import Order, OrderLine
from orders.selectors import order_get_for_customer
from shopauto.exceptions import InvalidInput, TransitionNotAllowed

from . import policy as return_policy
from .exceptions import OrderNotReturnable, ReturnNotAllowed, ReturnNotFound, ReturnQuantityExceeded
from .models import Reason, Resolution, ReturnLine, ReturnPhoto, ReturnRequest, StoreCreditEntry
from .selectors import RETURNABLE_ORDER_STATUSES, return_payload, returned_quantities, returns_visible_to

MAX_PHOTOS = 5
MAX_PHOTO_BYTES = 5 * 1024 * 1024
Status = ReturnRequest.Status


@dataclass(frozen=True)
class ReturnLineInput:
    order_line_id: int
    quantity: int
    replacement_variant_id: int | None = None


# ------------------------------------------------------------------------- request ---
def _validate_request_input(*, lines, reason, resolution, comments, photos) -> dict[int, ReturnLineInput]:
    """Checks that need no lock (done before the transaction)."""
    errors = {}
    if reason not in Reason.values:
        errors["reason"] = [_("Choose a reason from the list.")]
    if resolution not in Resolution.values:
        errors["resolution"] = [_("Choose refund, store credit or exchange.")]
    if len(comments) > 2000:
        errors["comments"] = [_("At most 2000 characters.")]
    if len(photos) > MAX_PHOTOS:
        errors["photos"] = [_("At most %(n)s photos.") % {"n": MAX_PHOTOS}]
    elif any(getattr(photo, "size", 0) > MAX_PHOTO_BYTES for photo in photos):
        errors["photos"] = [_("Each photo must be smaller than 5 MB.")]
    merged: dict[int, ReturnLineInput] = {}
    for line in lines:
        if line.quantity < 1:
            errors["lines"] = [_("Quantities must be at least 1.")]
            continue
        previous = merged.get(line.order_line_id)
        merged[line.order_line_id] = ReturnLineInput(
            line.order_line_id, line.quantity + (previous.quantity if previous else 0),
            line.replacement_variant_id or (previous.replacement_variant_id if previous else None))
    if not merged and "lines" not in errors:
        errors["lines"] = [_("Choose at least one item to return.")]
    if errors:
        raise InvalidInput(_("Some fields are not valid."), fields=errors)
    return merged


def _replacements(*, customer, order_lines: dict[int, OrderLine], wanted: dict[int, ReturnLineInput]) -> dict:
    """Exchange: a replacement for every line, a variant of the same product that the
    customer may buy (their catalog)."""
    from catalog.selectors import variants_visible_to

    ids = {line.replacement_variant_id for line in wanted.values() if line.replacement_variant_id}
    visible = {v.pk: v for v in variants_visible_to(customer=customer).filter(pk__in=ids)}
    found, errors = {}, {}
    for line_id, line in wanted.items():
        order_line = order_lines[line_id]
        variant = visible.get(line.replacement_variant_id)
        if variant is None or variant.product_id != order_line.variant.product_id:
            errors[order_line.sku] = [_("Choose another variant of the same product as the replacement.")]
        else:
            found[line_id] = variant
    if errors:
        raise InvalidInput(_("Choose a replacement for each item to exchange."), fields=errors)
    return found


def return_request_create(
    *, customer: CustomerProfile, order_number: str, lines: list[ReturnLineInput], reason: str, resolution: str,
    comments: str = "", photos=(), actor=None, now=None,
) -> ReturnRequest:
    """A customer asks to return delivered items. The policy approves, rejects (the
    reason is shown to the customer) or leaves it for staff, and the deciding rule is
    recorded. Quantities above what was delivered minus what is already being returned
    are refused (nothing is written); requests of one order are serialised on its row.
    Another customer's order is not found (404)."""
    now = now or timezone.now()
    comments = (comments or "").strip()
    wanted = _validate_request_input(lines=lines, reason=reason, resolution=resolution, comments=comments,
                                     photos=list(photos))
    order = order_get_for_customer(customer=customer, number=order_number)
    with transaction.atomic():
        order = Order.objects.select_for_update().get(pk=order.pk)
        if order.status not in RETURNABLE_ORDER_STATUSES or order.delivered_at is None:
            raise OrderNotReturnable()
        order_lines = {line.pk: line for line in OrderLine.objects.filter(order=order, pk__in=list(wanted))
                       .select_related("variant__product")}
        unknown = [line_id for line_id in wanted if line_id not in order_lines]
        if unknown:
            raise InvalidInput(_("These items are not in the order."), fields={"lines": [str(i) for i in unknown]})
        returned = returned_quantities(order_line_ids=list(wanted))
        too_many = {}
        for line_id, line in wanted.items():
            left = order_lines[line_id].quantity - returned.get(line_id, 0)
            if line.quantity > left:
                too_many[order_lines[line_id].sku] = [
                    _("At most %(left)s can be returned (delivered %(delivered)s, already returned %(returned)s).")
                    % {"left": max(left, 0), "delivered": order_lines[line_id].quantity,
                       "returned": returned.get(line_id, 0)}]
        if too_many:
            raise ReturnQuantityExceeded(fields=too_many)
        replacements = (_replacements(customer=customer, order_lines=order_lines, wanted=wanted)
                        if resolution == Resolution.EXCHANGE else {})

        policy = return_policy.active_policy()
        value = sum((order_lines[i].unit_price * line.quantity for i, line in wanted.items()), Decimal("0"))
        verdict = return_policy.evaluate(policy=policy, order=order, variants=[ol.variant for ol in order_lines.values()],
                                         reason=reason, value=value, customer=customer, now=now)
        money = return_policy.amounts(policy=policy, reason=reason, value=value,
                                      exchange=resolution == Resolution.EXCHANGE)
        request = ReturnRequest.objects.create(
            order=order, customer=customer, reason=reason, resolution=resolution, comments=comments,
            currency=order.currency, items_value=money.items_value, restocking_fee=money.restocking_fee,
            refund_amount=money.refund, policy=policy, decision=verdict.decision, decision_rule=verdict.rule,
            decision_message=verdict.message, created_at=now,
        )
        ReturnLine.objects.bulk_create([
            ReturnLine(request=request, order_line=order_lines[i], variant=order_lines[i].variant,
                       sku=order_lines[i].sku, name=order_lines[i].name, quantity=line.quantity,
                       unit_price=order_lines[i].unit_price, replacement_variant=replacements.get(i))
            for i, line in wanted.items()
        ])
        for photo in photos:
            ReturnPhoto.objects.create(request=request, image=photo)
        emit("return.requested", subject=request, payload=return_payload(request), actor=actor)
        if verdict.decision == ReturnRequest.Decision.APPROVE:
            request.approve(description=verdict.message)
            request.save()
        elif verdict.decision == ReturnRequest.Decision.REJECT:
            request.reject(description=verdict.message)
            request.save()
        else:
            emit("return.needs_review", subject=request,
                 payload={**return_payload(request), "rule_display": str(request.get_decision_rule_display())},
                 actor=actor)
    return request


# --------------------------------------------------------------------- transitions ---
def _locked(return_id: int) -> ReturnRequest:
    found = ReturnRequest.objects.select_for_update().filter(pk=return_id).first()
    if found is None:
        raise ReturnNotFound()
    return found


def _require(request: ReturnRequest, transition_name: str) -> None:
    if not can_proceed(getattr(request, transition_name)):
        raise TransitionNotAllowed(
            _("The return is %(status)s: this is not possible now.") % {"status": request.get_status_display()})


def _staff_can(user, perm: str) -> bool:
    return bool(user and user.is_authenticated and user.is_staff and user.has_perm(perm))


def _check_staff(actor, perm: str) -> None:
    """actor=None is the system (policy, beat); anyone else needs the permission."""
    if actor is not None and not _staff_can(actor, perm):
        raise ReturnNotAllowed()


@transaction.atomic
def return_approve(*, return_id: int, actor, note: str = "") -> ReturnRequest:
    """Staff approve a request the policy left for review."""
    request = _locked(return_id)
    _check_staff(actor, "returns.review_returnrequest")
    _require(request, "approve")
    request.approve(by=actor, description=note or _("Approved by our team"))
    request.save()
    return request


@transaction.atomic
def return_reject(*, return_id: int, actor, reason: str) -> ReturnRequest:
    """Staff refuse a request; the reason is shown to the customer."""
    request = _locked(return_id)
    _check_staff(actor, "returns.review_returnrequest")
    if not (reason or "").strip():
        raise InvalidInput(_("Tell the customer why."), fields={"reason": [_("This field is required.")]})
    _require(request, "reject")
    request.reject(by=actor, description=reason.strip())
    request.save()
    return request


@transaction.atomic
def return_mark_shipped(*, return_id: int, actor, tracking_number: str = "") -> ReturnRequest:
    """The customer (or staff for them) sent the parcel back."""
    request = _locked(return_id)
    from customers.selectors import customer_for_user

    customer = customer_for_user(actor)
    if customer is not None:
        if not returns_visible_to(customer=customer).filter(pk=request.pk).exists():
            raise ReturnNotFound()
    else:
        _check_staff(actor, "returns.change_returnrequest")
    if len(tracking_number or "") > 100:
        raise InvalidInput(fields={"tracking_number": [_("At most 100 characters.")]})
    _require(request, "ship")
    request.tracking_number = (tracking_number or "").strip()
    request.ship(by=actor, description=_("Shipped back %(tracking)s") % {"tracking": request.tracking_number})
    request.save()
    return request


def _warehouse_for(order: Order, variant_id: int) -> int | None:
    """Where the line shipped from: its shipment, else the order's allocation plan."""
    for shipment in order.shipments.all():
        if any(line.get("variant_id") == variant_id for line in shipment.lines or []) and shipment.warehouse_id:
            return shipment.warehouse_id
    for group in order.allocation_plan or []:
        if any(line.get("variant_id") == variant_id for line in group.get("lines", [])):
            return group.get("warehouse_id")
    return None


@transaction.atomic
def return_receive(*, return_id: int, actor, warehouse_id: int | None = None) -> ReturnRequest:
    """The parcel arrived: every unit is booked back through the inventory ledger into
    the quarantine bucket of the warehouse it shipped from (or `warehouse_id`), with
    reference return:<RMA>; inspection then releases what is resellable."""
    request = _locked(return_id)
    _check_staff(actor, "returns.receive_returnrequest")
    _require(request, "receive")
    lines = list(request.lines.all())
    for line in lines:
        line.warehouse_id = warehouse_id or _warehouse_for(request.order, line.variant_id)
        if line.warehouse_id is None:
            raise InvalidInput(_("Choose the warehouse that received %(sku)s.") % {"sku": line.sku},
                               fields={"warehouse_id": [_("Required for this return.")]})
        stock.stock_restock_return(variant_id=line.variant_id, quantity=line.quantity, warehouse_id=line.warehouse_id,
                                   reference=request.stock_reference, quarantine=True, actor=actor)
    ReturnLine.objects.bulk_update(lines, ["warehouse_id"])
    request.receive(by=actor, description=_("Parcel received"))
    request.save()
    return request


@transaction.atomic
def return_inspect(*, return_id: int, actor, conditions: dict[int, str] | None = None,
                   notes: str = "") -> ReturnRequest:
    """Staff inspect each line (default: resellable). Resellable units leave quarantine
    for sellable stock; damaged and refused ones stay in quarantine. The amount to
    refund or credit is recomputed over the accepted lines (refused ones are not paid)."""
    request = _locked(return_id)
    _check_staff(actor, "returns.receive_returnrequest")
    _require(request, "inspect")
    conditions = {int(k): v for k, v in (conditions or {}).items()}
    lines = list(request.lines.all())
    unknown = set(conditions) - {line.pk for line in lines}
    bad = [v for v in conditions.values() if v not in ReturnLine.Condition.values]
    if unknown or bad:
        raise InvalidInput(_("Give a known condition for lines of this return."),
                           fields={"conditions": [str(x) for x in (*unknown, *bad)]})
    for line in lines:
        line.condition = conditions.get(line.pk, ReturnLine.Condition.RESELLABLE)
        if line.condition == ReturnLine.Condition.RESELLABLE:
            stock.stock_quarantine_resolve(
                variant_id=line.variant_id, warehouse_id=line.warehouse_id, quantity=line.quantity, restock=True,
                reason=_("Return %(rma)s inspected: resellable") % {"rma": request.rma}, actor=actor)
    ReturnLine.objects.bulk_update(lines, ["condition"])
    accepted = sum((line.value for line in lines if line.condition in ReturnLine.ACCEPTED), Decimal("0"))
    money = return_policy.amounts(policy=request.policy or return_policy.active_policy(), reason=request.reason,
                                  value=accepted, exchange=request.resolution == Resolution.EXCHANGE)
    request.items_value, request.restocking_fee, request.refund_amount = (money.items_value, money.restocking_fee,
                                                                          money.refund)
    request.inspect(by=actor, description=(notes or "").strip() or _("Inspected"))
    request.save()
    return request


def _exchange_address_id(*, customer: CustomerProfile, order: Order) -> int:
    """The order keeps a snapshot of its address, not a row: use the customer's address
    with the same fields if it still exists, else their default shipping address."""
    from customers.selectors import address_list_for_customer

    addresses = list(address_list_for_customer(customer=customer))
    snapshot = order.shipping_address or {}
    fields = ("name", "line1", "line2", "city", "postal_code", "region", "country")
    for address in addresses:
        if all((getattr(address, f) or "") == (snapshot.get(f) or "") for f in fields):
            return address.pk
    if not addresses:
        raise InvalidInput(_("The customer has no shipping address for the replacement."))
    return addresses[0].pk  # ordered default-first


def _place_exchange(request: ReturnRequest, lines: list[ReturnLine], actor) -> Order:
    order = request.order
    customer = request.customer
    wanted: dict[int, int] = {}
    for line in lines:
        wanted[line.replacement_variant_id] = wanted.get(line.replacement_variant_id, 0) + line.quantity
    allowed = orders.allowed_payment_methods(customer=customer)
    method = order.shipping_method.code if order.shipping_method_id and order.shipping_method.is_active else None
    if method is None:
        from orders.models import ShippingMethod

        first = ShippingMethod.objects.filter(is_active=True).first()
        method = first.code if first else ""
    details = orders.CheckoutDetails(
        shipping_address_id=_exchange_address_id(customer=customer, order=order), shipping_method=method,
        payment_method=order.payment_method if order.payment_method in allowed else Order.PaymentMethod.BANK_TRANSFER,
        po_number=order.po_number)
    agreed = orders.AgreedPrices(unit_prices={vid: Decimal("0.00") for vid in wanted}, currency=order.currency,
                                 source=f"Exchange for {request.rma}", shipping=Decimal("0.00"), settled=True)
    return orders.order_place(customer=customer, lines=list(wanted.items()), details=details, actor=actor,
                              agreed=agreed)


@transaction.atomic
def return_resolve(*, return_id: int, actor, resolution: str | None = None) -> ReturnRequest:
    """Pay back what was accepted: a refund recorded on the order (orders.order_refund),
    store credit (the ledger here), or a replacement order at no charge through
    orders.order_place (stock reserved and allocated; not enough stock changes nothing).
    Staff may choose another resolution than the customer asked for."""
    request = _locked(return_id)
    _check_staff(actor, "returns.resolve_returnrequest")
    resolution = resolution or request.resolution
    if resolution not in Resolution.values:
        raise InvalidInput(fields={"resolution": [_("Choose refund, store credit or exchange.")]})
    transition_name = {Resolution.REFUND: "refund", Resolution.STORE_CREDIT: "credit",
                       Resolution.EXCHANGE: "exchange"}[resolution]
    _require(request, transition_name)
    accepted = [line for line in request.lines.all() if line.condition in ReturnLine.ACCEPTED]
    if resolution != request.resolution:
        money = return_policy.amounts(policy=request.policy or return_policy.active_policy(), reason=request.reason,
                                      value=sum((line.value for line in accepted), Decimal("0")),
                                      exchange=resolution == Resolution.EXCHANGE)
        request.items_value, request.restocking_fee, request.refund_amount = (money.items_value,
                                                                              money.restocking_fee, money.refund)
        request.resolution = resolution
    if resolution == Resolution.REFUND:
        if request.refund_amount > 0:
            orders.order_refund(order_id=request.order_id, amount=request.refund_amount,
                                reason=_("Return %(rma)s") % {"rma": request.rma}, reference=request.stock_reference,
                                actor=actor)
        request.refund(by=actor, description=_("Refunded %(amount)s %(currency)s")
                       % {"amount": request.refund_amount, "currency": request.currency})
    elif resolution == Resolution.STORE_CREDIT:
        if request.refund_amount > 0:
            StoreCreditEntry.objects.create(customer=request.customer, amount=request.refund_amount,
                                            currency=request.currency, return_request=request,
                                            note=_("Return %(rma)s") % {"rma": request.rma},
                                            created_by=actor if getattr(actor, "pk", None) else None)
        request.credit(by=actor, description=_("Store credit %(amount)s %(currency)s")
                       % {"amount": request.refund_amount, "currency": request.currency})
    else:
        if not accepted or any(line.replacement_variant_id is None for line in accepted):
            raise InvalidInput(_("An exchange needs a replacement for every accepted item."))
        request.exchange_order = _place_exchange(request, accepted, actor)
        request.refund_amount = Decimal("0.00")
        request.exchange(by=actor, description=_("Replacement order %(number)s")
                         % {"number": request.exchange_order.number})
    request.save()
    return request


@transaction.atomic
def return_withdraw(*, return_id: int, actor) -> ReturnRequest:
    """The customer changes their mind before sending anything back."""
    request = _locked(return_id)
    from customers.selectors import customer_for_user

    customer = customer_for_user(actor)
    if customer is None or not returns_visible_to(customer=customer).filter(pk=request.pk).exists():
        raise ReturnNotFound()
    _require(request, "withdraw")
    request.withdraw(by=actor, description=_("Withdrawn by the customer"))
    request.save()
    return request


@transaction.atomic
def return_close(*, return_id: int, actor, reason: str = "") -> ReturnRequest:
    request = _locked(return_id)
    _check_staff(actor, "returns.change_returnrequest")
    _require(request, "close")
    request.close(by=actor, description=reason or _("Closed"))
    request.save()
    return request


# ----------------------------------------------------------------- scheduled jobs ---
def returns_remind_and_close(*, now=None) -> dict:
    """Approved returns with nothing shipped back: one reminder `reminder_after_days`
    after approval (return.reminder), closed after `close_after_days`. Idempotent:
    reminded_at and the status guard each step; one transaction per return."""
    now = now or timezone.now()
    policy = return_policy.active_policy()
    waiting = ReturnRequest.objects.filter(status=Status.APPROVED)
    reminded = closed = 0
    due_close = waiting.filter(approved_at__lte=now - timedelta(days=policy.close_after_days))
    for return_id in due_close.values_list("pk", flat=True)[:1000]:
        with transaction.atomic():
            request = _locked(return_id)
            if request.status != Status.APPROVED:
                continue
            request.close(description=_("Nothing was shipped back within %(days)s days")
                          % {"days": policy.close_after_days})
            request.save()
            closed += 1
    due_reminder = waiting.filter(approved_at__lte=now - timedelta(days=policy.reminder_after_days),
                                  reminded_at__isnull=True)
    for return_id in due_reminder.values_list("pk", flat=True)[:1000]:
        with transaction.atomic():
            updated = ReturnRequest.objects.filter(pk=return_id, status=Status.APPROVED,
                                                   reminded_at__isnull=True).update(reminded_at=now)
            if updated:
                request = ReturnRequest.objects.select_related("order").get(pk=return_id)
                emit("return.reminder", subject=request, payload=return_payload(request))
                reminded += 1
    return {"reminded": reminded, "closed": closed}
