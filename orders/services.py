"""Every write of the orders app: carts, checkout, and each order transition.

Each service validates first, then does the whole operation in one transaction: the
order row (locked), its transition (logged by django-fsm-log, emitted as an event by
the spine), and the calls into inventory. Side effects (emails, webhooks) follow from
the events, after commit.
"""

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _
from django_fsm import can_proceed

from automation.services import emit
from catalog import pricing
from catalog.selectors import variant_get_for_customer
from customers.models import Address, Company, CustomerProfile
from customers.selectors import address_list_for_customer
from inventory import services as stock
from shopauto.exceptions import DomainError, InvalidInput, TransitionNotAllowed

from . import delivery
from .exceptions import (
    CartClosed,
    CartEmpty,
    CreditLimitExceeded,
    CurrencyMismatch,
    NotAllowed,
    PaymentMethodNotAllowed,
    ShippingNotAvailable,
)
from .models import Cart, CartLine, Order, OrderLine, Payment, Shipment, ShippingMethod
from .selectors import open_invoices_total, order_payload

CENT = Decimal("0.01")


# --------------------------------------------------------------------------- carts ---
def cart_get_or_create(*, customer: CustomerProfile) -> Cart:
    """The customer's open cart (one at most, enforced by a partial unique index)."""
    cart = Cart.objects.filter(customer=customer, status=Cart.Status.OPEN).first()
    if cart is not None:
        return cart
    currency = customer.company.currency if customer.company_id else settings.DEFAULT_CURRENCY
    cart, _ = Cart.objects.get_or_create(customer=customer, status=Cart.Status.OPEN, defaults={"currency": currency})
    return cart


def _locked_open_cart(*, customer: CustomerProfile, cart_id: int) -> Cart:
    cart = Cart.objects.select_for_update().filter(pk=cart_id, customer=customer).first()
    if cart is None:
        from .exceptions import OrderNotFound

        raise OrderNotFound(_("Cart not found."))
    if cart.status != Cart.Status.OPEN:
        raise CartClosed()
    return cart


def _cart_reserve(cart: Cart, *, region: str | None = None) -> None:
    """(Re)reserve the whole cart for CART_RESERVATION_MINUTES; all or nothing."""
    lines = [(line.variant_id, line.quantity) for line in cart.lines.all()]
    if not lines:
        stock.stock_release(reference=cart.stock_reference)
        cart.reserved_until = None
        return
    until = timezone.now() + timedelta(minutes=settings.CART_RESERVATION_MINUTES)
    stock.stock_reserve(lines=lines, reference=cart.stock_reference, expires_at=until, region=region)
    cart.reserved_until = until


@transaction.atomic
def cart_set_quantity(
    *, customer: CustomerProfile, cart_id: int, quantity: int, variant_id: int | None = None, sku: str | None = None,
    add: bool = False,
) -> Cart:
    """Add to (add=True) or set the quantity of a cart line at the customer's price, and
    reserve the cart's stock. 0 removes the line. A SKU outside the customer's catalog is
    not found; not enough stock raises InsufficientStock and changes nothing."""
    if quantity < 0 or (add and quantity == 0):
        raise InvalidInput(_("Quantity must be at least 1."), fields={"quantity": [_("Must be at least 1.")]})
    if quantity > settings.CART_MAX_LINE_QUANTITY:
        raise InvalidInput(_("Quantity is too large."), fields={"quantity": [_("Too large.")]})
    variant = variant_get_for_customer(customer=customer, variant_id=variant_id, sku=sku)
    cart = _locked_open_cart(customer=customer, cart_id=cart_id)
    line = CartLine.objects.filter(cart=cart, variant=variant).first()
    new_quantity = (line.quantity if line else 0) + quantity if add else quantity
    if new_quantity == 0:
        if line:
            line.delete()
    else:
        price = pricing.price_for(customer=customer, variant=variant, quantity=new_quantity)
        if price.currency != cart.currency:
            if cart.lines.exclude(pk=getattr(line, "pk", None)).exists():
                raise CurrencyMismatch()
            cart.currency = price.currency
        if line is None:
            line = CartLine(cart=cart, variant=variant)
        line.quantity = new_quantity
        line.unit_price = price.unit_price
        line.price_source = _price_source(price)
        line.save()
    _cart_reserve(cart)
    cart.updated_at = timezone.now()
    cart.reminders_sent = 0
    cart.save(update_fields=["currency", "updated_at", "reminders_sent", "reserved_until"])
    return cart


@transaction.atomic
def cart_clear(*, customer: CustomerProfile, cart_id: int) -> Cart:
    cart = _locked_open_cart(customer=customer, cart_id=cart_id)
    cart.lines.all().delete()
    _cart_reserve(cart)
    cart.updated_at = timezone.now()
    cart.save(update_fields=["updated_at", "reserved_until"])
    return cart


@transaction.atomic
def cart_touch(*, customer: CustomerProfile, cart_id: int) -> Cart:
    """A customer came back to their cart (restore link): renew its reservation."""
    cart = _locked_open_cart(customer=customer, cart_id=cart_id)
    _cart_reserve(cart)
    cart.updated_at = timezone.now()
    cart.save(update_fields=["updated_at", "reserved_until"])
    return cart


def cart_add_order_lines(*, customer: CustomerProfile, cart_id: int, order: Order) -> tuple[int, list[str]]:
    """Reorder: add a past order's lines to the cart at today's prices, one line at a
    time so that what is no longer sold or in stock is reported, not fatal."""
    added, problems = 0, []
    for line in order.lines.all():
        try:
            cart_set_quantity(customer=customer, cart_id=cart_id, variant_id=line.variant_id, quantity=line.quantity,
                              add=True)
        except DomainError as error:
            problems.append(f"{line.sku}: {error.message}")
        else:
            added += line.quantity
    return added, problems


def _price_source(price) -> str:
    return f"{price.price_list_name} ({price.source}, ≥{price.tier_min_quantity})"


# ------------------------------------------------------------------------ checkout ---
@dataclass(frozen=True)
class CheckoutDetails:
    shipping_address_id: int
    shipping_method: str
    payment_method: str
    po_number: str = ""


def _validate_checkout(*, customer: CustomerProfile, details: CheckoutDetails) -> tuple[Address, ShippingMethod]:
    """Checks that need no lock: done before the transaction (django-oscar's way)."""
    address = address_list_for_customer(customer=customer).filter(pk=details.shipping_address_id).first()
    if address is None:
        raise InvalidInput(_("Choose one of your addresses."), fields={"shipping_address": [_("Unknown address.")]})
    method = ShippingMethod.objects.filter(code=details.shipping_method, is_active=True).first()
    if method is None:
        raise InvalidInput(_("Choose a shipping method."), fields={"shipping_method": [_("Unknown shipping method.")]})
    allowed = allowed_payment_methods(customer=customer)
    if details.payment_method not in allowed:
        raise PaymentMethodNotAllowed(fields={"payment_method": [_("Not available for your account.")]})
    if len(details.po_number) > 60:
        raise InvalidInput(fields={"po_number": [_("At most 60 characters.")]})
    return address, method


def allowed_payment_methods(*, customer: CustomerProfile) -> list[str]:
    methods = [Order.PaymentMethod.BANK_TRANSFER]
    if customer.company_id and customer.company.credit_limit > 0 and customer.company.payment_terms != "prepaid":
        methods.insert(0, Order.PaymentMethod.INVOICE)
    return methods


def order_place_from_cart(*, customer: CustomerProfile, cart_id: int, details: CheckoutDetails, actor=None) -> Order:
    """Turn the customer's cart into an order at current prices; never oversells (the
    cart's reservation is renewed, then allocated to the order, in one transaction)."""
    address, method = _validate_checkout(customer=customer, details=details)
    with transaction.atomic():
        cart = _locked_open_cart(customer=customer, cart_id=cart_id)
        items = [(line.variant, line.quantity) for line in cart.lines.select_related("variant__product")]
        if not items:
            raise CartEmpty()
        _cart_reserve(cart, region=address.region)
        order = _order_create(customer=customer, items=items, address=address, method=method, details=details,
                              stock_reference=cart.stock_reference, actor=actor)
        cart.status = Cart.Status.ORDERED
        cart.order = order
        cart.updated_at = timezone.now()
        cart.save(update_fields=["status", "order", "updated_at", "reserved_until"])
    return order


@dataclass(frozen=True)
class AgreedPrices:
    """Prices agreed elsewhere instead of today's price lists: a quote's prices (quotes
    app) or an exchange's replacement at no charge (returns app). `settled` means nothing
    is left to pay (an exchange): the order is paid and needs no approval."""

    unit_prices: dict[int, Decimal]
    currency: str
    source: str
    shipping: Decimal | None = None
    settled: bool = False


def order_place(*, customer: CustomerProfile, lines: list[tuple[int, int]], details: CheckoutDetails,
                actor=None, agreed: AgreedPrices | None = None) -> Order:
    """Place an order directly from (variant id, quantity) lines (API clients, reorder,
    quotes and exchanges), reserving and allocating stock in the same transaction.
    With `agreed`, every line must have an agreed price and those are used."""
    if not lines:
        raise CartEmpty(_("An order needs at least one line."))
    merged: dict[int, int] = {}
    for variant_id, quantity in lines:
        if quantity < 1:
            raise InvalidInput(fields={"lines": [_("Quantities must be at least 1.")]})
        merged[variant_id] = merged.get(variant_id, 0) + quantity
    address, method = _validate_checkout(customer=customer, details=details)
    variants = {v.pk: v for v in _visible_variants(customer=customer, variant_ids=list(merged))}
    with transaction.atomic():
        reference = f"direct:{customer.pk}:{timezone.now().timestamp()}"
        stock.stock_reserve(lines=list(merged.items()), reference=reference, expires_at=None, region=address.region)
        return _order_create(customer=customer, items=[(variants[vid], qty) for vid, qty in merged.items()],
                             address=address, method=method, details=details, stock_reference=reference, actor=actor,
                             agreed=agreed)


def _visible_variants(*, customer, variant_ids):
    from catalog.selectors import variants_visible_to

    found = list(variants_visible_to(customer=customer).filter(pk__in=variant_ids).select_related("product"))
    if len(found) != len(set(variant_ids)):
        from catalog.exceptions import NotInCatalog

        raise NotInCatalog()
    return found


def _agreed_quotes(agreed: AgreedPrices, items) -> dict:
    return {
        variant.pk: pricing.PriceQuote(unit_price=agreed.unit_prices[variant.pk], currency=agreed.currency,
                                       price_list_id=0, price_list_name=agreed.source, source="agreed",
                                       tier_min_quantity=1)
        for variant, _quantity in items if variant.pk in agreed.unit_prices
    }


def _order_create(*, customer, items, address, method, details, stock_reference, actor,
                  agreed: AgreedPrices | None = None) -> Order:
    """Inside the caller's transaction: price, check credit, write the order and its lines,
    allocate the reserved stock, estimate delivery, then approval or auto-confirmation."""
    quotes = _agreed_quotes(agreed, items) if agreed else pricing.prices_for(customer=customer, items=items)
    missing = [variant.sku for variant, _ in items if variant.pk not in quotes]
    if missing:
        from catalog.exceptions import PriceNotFound

        raise PriceNotFound(fields={"lines": missing})
    currencies = {quotes[variant.pk].currency for variant, _ in items}
    if len(currencies) != 1:
        raise CurrencyMismatch()
    currency = currencies.pop()
    rate = delivery.rate_for(method_id=method.pk, region=address.region, currency=currency)
    if rate is None:
        raise ShippingNotAvailable(fields={"shipping_method": [_("Does not deliver to this address.")]})

    order_lines = []
    for variant, quantity in items:
        quote = quotes[variant.pk]
        order_lines.append(OrderLine(
            variant=variant, sku=variant.sku, name=variant.display_name, quantity=quantity,
            unit_price=quote.unit_price, line_total=(quote.unit_price * quantity).quantize(CENT),
            price_source=_price_source(quote),
        ))
    subtotal = sum((line.line_total for line in order_lines), Decimal("0.00"))
    shipping = agreed.shipping if agreed and agreed.shipping is not None else rate.price
    total = subtotal + shipping
    company = customer.company
    settled = bool(agreed and agreed.settled)
    if details.payment_method == Order.PaymentMethod.INVOICE and not settled:
        _check_credit(company=company, amount=total)

    now = timezone.now()
    order = Order.objects.create(
        customer=customer, company=company, payment_method=details.payment_method,
        payment_status=Order.PaymentStatus.PENDING, currency=currency, subtotal=subtotal,
        shipping_total=shipping, total=total, po_number=details.po_number.strip(), email=customer.user.email,
        shipping_address=_address_snapshot(address), region=address.region, shipping_method=method, placed_at=now,
        payment_due_at=(now + timedelta(hours=settings.UNPAID_ORDER_CANCEL_HOURS)
                        if details.payment_method == Order.PaymentMethod.BANK_TRANSFER and not settled else None),
    )
    for line in order_lines:
        line.order = order
    OrderLine.objects.bulk_create(order_lines)

    plan = stock.stock_allocate(reference=stock_reference, new_reference=order.stock_reference,
                                expected_lines=[(variant.pk, quantity) for variant, quantity in items], actor=actor)
    order.allocation_plan = _plan_as_json(plan)
    order.estimated_delivery = _estimate(order=order, plan=plan, transit_days=rate.transit_days, now=now)
    if settled:
        order.payment_status = Order.PaymentStatus.PAID
    elif details.payment_method == Order.PaymentMethod.INVOICE:
        order.payment_status = Order.PaymentStatus.INVOICED
    order.save(update_fields=["allocation_plan", "estimated_delivery", "payment_status"])

    emit("order.placed", subject=order, payload=order_payload(order), actor=actor)
    needs_approval = company is not None and company.approval_threshold is not None and total > company.approval_threshold
    if needs_approval and not settled:
        order.request_approval(by=actor, description=_("Total above the company's approval threshold"))
        order.save()
    else:
        _auto_confirm(order, actor=actor)
    return order


def _check_credit(*, company, amount: Decimal) -> None:
    if company is None or company.credit_limit <= 0:
        raise PaymentMethodNotAllowed()
    # Serialise invoice checkouts of one company, or two could each fit under the limit.
    Company.objects.select_for_update().filter(pk=company.pk).first()
    open_invoices = open_invoices_total(company_id=company.pk) or Decimal("0")
    if open_invoices + amount > company.credit_limit:
        raise CreditLimitExceeded(fields={"payment_method": [
            _("Open invoices %(open)s + this order %(amount)s exceed the credit limit %(limit)s.")
            % {"open": open_invoices, "amount": amount, "limit": company.credit_limit}
        ]})


def _address_snapshot(address: Address) -> dict:
    return {field: getattr(address, field) for field in
            ("name", "line1", "line2", "city", "postal_code", "region", "country")}


def _plan_as_json(plan) -> list:
    """The allocation plan grouped per warehouse: what each shipment will carry."""
    return [
        {"warehouse_id": warehouse_id, "warehouse": lines[0].warehouse_code,
         "lines": [{"variant_id": line.variant_id, "sku": line.sku, "quantity": line.quantity} for line in lines]}
        for warehouse_id, lines in sorted(plan.by_warehouse().items())
    ]


def _estimate(*, order: Order, plan, transit_days: int, now):
    from inventory.models import Warehouse

    warehouses = list(Warehouse.objects.filter(pk__in={g["warehouse_id"] for g in order.allocation_plan}))
    if not warehouses:
        return None
    holidays = delivery.holidays_between(now.date(), now.date() + timedelta(days=90),
                                         regions=[order.region, *(w.region for w in warehouses)])
    return max(
        delivery.estimate_delivery(now=now, cutoff=w.cutoff_time, handling_days=w.handling_days,
                                   transit_days=transit_days, holidays=holidays)
        for w in warehouses
    )


def _auto_confirm(order: Order, *, actor=None) -> None:
    """Stock is allocated at placement; confirm when payment is settled or on terms."""
    if order.status != Order.Status.PLACED:
        return
    if order.payment_status in (Order.PaymentStatus.INVOICED, Order.PaymentStatus.PAID):
        order.confirm(by=actor, description=_("Stock allocated and payment terms accepted"))
        order.save()


# --------------------------------------------------------------------- transitions ---
def _locked(order_id: int) -> Order:
    return Order.objects.select_for_update().get(pk=order_id)


def _require(order: Order, transition_name: str) -> None:
    if not can_proceed(getattr(order, transition_name)):
        raise TransitionNotAllowed(
            _("The order is %(status)s: this is not possible now.") % {"status": order.get_status_display()}
        )


def _staff_can(user, perm: str) -> bool:
    return bool(user and user.is_authenticated and user.is_staff and user.has_perm(perm))


def _customer_of(user) -> CustomerProfile | None:
    from customers.selectors import customer_for_user

    return customer_for_user(user)


@transaction.atomic
def order_approve(*, order_id: int, actor) -> Order:
    """A company approver (or staff with orders.approve_order) releases an order held
    for approval; it is then confirmed if payment allows."""
    order = _locked(order_id)
    approver = _customer_of(actor)
    allowed = _staff_can(actor, "orders.approve_order") or (
        approver is not None and approver.can_approve and approver.company_id == order.company_id
    )
    if not allowed:
        raise NotAllowed(_("Only an approver of your company can approve this order."))
    _require(order, "approve")
    order.approve(by=actor, description=_("Approved"))
    order.save()
    _auto_confirm(order, actor=actor)
    return order


def _staff_transition(*, order_id: int, actor, perm: str, transition: str, description, staff_only=True) -> Order:
    """Lock, check the permission and the state, transition, save: the shape of every
    staff-driven order transition."""
    order = _locked(order_id)
    if (staff_only or actor is not None) and not _staff_can(actor, perm):
        raise NotAllowed()
    _require(order, transition)
    getattr(order, transition)(by=actor, description=description)
    order.save()
    return order


@transaction.atomic
def order_hold(*, order_id: int, actor, reason: str) -> Order:
    """Put a placed order on hold (staff, or an automation rule with actor=None)."""
    return _staff_transition(order_id=order_id, actor=actor, perm="orders.hold_order", transition="hold",
                             description=reason or _("On hold"), staff_only=False)


@transaction.atomic
def order_release(*, order_id: int, actor) -> Order:
    order = _staff_transition(order_id=order_id, actor=actor, perm="orders.hold_order", transition="release",
                              description=_("Released from hold"))
    _auto_confirm(order, actor=actor)
    return order


@transaction.atomic
def order_confirm(*, order_id: int, actor) -> Order:
    return _staff_transition(order_id=order_id, actor=actor, perm="orders.change_order", transition="confirm",
                             description=_("Confirmed by staff"), staff_only=False)


@transaction.atomic
def order_mark_paid(*, order_id: int, amount: Decimal, reference: str = "", method: str | None = None,
                    actor=None) -> Order:
    """Record a payment (staff, the signed payment webhook, or a card provider). Paying
    the full amount confirms a placed order. The same reference twice records once."""
    order = _locked(order_id)
    if actor is not None and not _staff_can(actor, "orders.mark_order_paid"):
        raise NotAllowed()
    method = method or order.payment_method
    if reference and Payment.objects.filter(method=method, reference=reference).exists():
        return order
    if order.status == Order.Status.CANCELLED:
        raise TransitionNotAllowed(_("The order is cancelled."))
    if amount <= 0:
        raise InvalidInput(fields={"amount": [_("Must be positive.")]})
    Payment.objects.create(order=order, method=method, amount=amount, currency=order.currency, reference=reference,
                           recorded_by=actor if getattr(actor, "pk", None) else None)
    if _paid_balance(order) >= order.total:
        order.payment_status = Order.PaymentStatus.PAID
        order.payment_due_at = None
        order.save(update_fields=["payment_status", "payment_due_at"])
        emit("order.paid", subject=order, payload=order_payload(order), actor=actor)
        _auto_confirm(order, actor=actor)
    return order


@transaction.atomic
def order_start_processing(*, order_id: int, actor) -> Order:
    return _staff_transition(order_id=order_id, actor=actor, perm="orders.ship_order", transition="start_processing",
                             description=_("Picking started"))


@transaction.atomic
def order_ship(*, order_id: int, actor, carrier: str = "", tracking_number: str = "",
               warehouse_id: int | None = None) -> Shipment:
    """Ship what was allocated from one warehouse (all of it when warehouse_id is None).
    The order is `shipped` when nothing allocated is left to ship."""
    order = _locked(order_id)
    if actor is not None and not _staff_can(actor, "orders.ship_order"):
        raise NotAllowed()
    if order.status not in (Order.Status.CONFIRMED, Order.Status.PROCESSING):
        _require(order, "ship")
    shipped = {(s["warehouse_id"]) for s in order.shipments.values("warehouse_id")}
    groups = [g for g in order.allocation_plan if g.get("warehouse_id") not in shipped]
    if warehouse_id is not None:
        groups = [g for g in groups if g.get("warehouse_id") == warehouse_id]
    if not groups:
        raise InvalidInput(_("Nothing left to ship from this warehouse."))
    method = order.shipping_method
    carrier = carrier or (method.carrier if method else "")
    shipment = None
    for group in groups:
        stock.stock_commit_shipment(reference=order.stock_reference, warehouse_id=group["warehouse_id"],
                                    lines=[(line["variant_id"], line["quantity"]) for line in group["lines"]],
                                    actor=actor)
        tracking_url = ""
        if method and method.tracking_url_template and tracking_number:
            tracking_url = method.tracking_url_template.format(tracking=tracking_number)
        shipment = Shipment.objects.create(
            order=order, warehouse_id=group["warehouse_id"], warehouse_name=group.get("warehouse", ""),
            carrier=carrier, tracking_number=tracking_number, tracking_url=tracking_url, lines=group["lines"],
        )
    shipped |= {group["warehouse_id"] for group in groups}
    remaining = [g for g in order.allocation_plan if g.get("warehouse_id") not in shipped]
    if remaining:
        if order.status == Order.Status.CONFIRMED:
            order.start_processing(by=actor, description=_("Partially shipped"))
            order.save()
        emit("order.partially_shipped", subject=order, payload=order_payload(order), actor=actor)
    else:
        order.ship(by=actor, description=_("Shipped with %(carrier)s %(tracking)s")
                   % {"carrier": carrier, "tracking": tracking_number})
        order.save()
    return shipment


TRACKING_STATUSES = {
    "in_transit": Shipment.Status.IN_TRANSIT,
    "out_for_delivery": Shipment.Status.OUT_FOR_DELIVERY,
    "delivered": Shipment.Status.DELIVERED,
    "exception": Shipment.Status.EXCEPTION,
}


@transaction.atomic
def shipment_tracking_update(*, tracking_number: str, status: str, occurred_at=None) -> Shipment:
    """A carrier's tracking event. Out-of-order or repeated events are harmless: a
    delivered parcel stays delivered. The order is delivered when all its parcels are."""
    if status not in TRACKING_STATUSES:
        raise InvalidInput(fields={"status": [_("Unknown tracking status.")]})
    shipment = Shipment.objects.select_for_update().filter(tracking_number=tracking_number).first()
    if shipment is None:
        from .exceptions import OrderNotFound

        raise OrderNotFound(_("Unknown tracking number."))
    occurred_at = occurred_at or timezone.now()
    if shipment.status == Shipment.Status.DELIVERED:
        return shipment
    if shipment.last_tracking_event_at and occurred_at < shipment.last_tracking_event_at and status != "delivered":
        return shipment  # an older event arriving late
    shipment.status = TRACKING_STATUSES[status]
    shipment.last_tracking_event_at = occurred_at
    if status == "delivered":
        shipment.delivered_at = occurred_at
    shipment.save()
    order = _locked(shipment.order_id)
    payload = {**order_payload(order), "tracking_status": status, "tracking_number": tracking_number}
    if status == "exception":
        emit("order.delivery_exception", subject=order, payload=payload)
    elif status in ("in_transit", "out_for_delivery"):
        emit(f"order.{status}", subject=order, payload=payload)
    undelivered = order.shipments.exclude(status=Shipment.Status.DELIVERED).exists()
    if status == "delivered" and not undelivered and can_proceed(order.deliver):
        order.deliver(description=_("Delivered (carrier)"))
        order.save()
    return shipment


@transaction.atomic
def order_cancel(*, order_id: int, actor, reason: str = "") -> Order:
    """Cancel before shipping: releases the stock and refunds what was paid. Customers
    may cancel their own orders until processing starts."""
    order = _locked(order_id)
    customer = _customer_of(actor)
    if customer is not None:
        own = order.customer_id == customer.pk or (customer.company_id and customer.company_id == order.company_id
                                                     and customer.can_approve)
        if not own:
            raise NotAllowed()
        if order.status not in (Order.Status.PLACED, Order.Status.AWAITING_APPROVAL, Order.Status.ON_HOLD,
                                Order.Status.CONFIRMED):
            raise TransitionNotAllowed(_("This order is already being prepared; contact us to change it."))
    elif actor is not None and not _staff_can(actor, "orders.cancel_order"):
        raise NotAllowed()
    _require(order, "cancel")
    stock.stock_release(reference=order.stock_reference, actor=actor)
    order.cancel(by=actor, description=reason or _("Cancelled"))
    order.save()
    _refund_payments(order, actor=actor)
    return order


def _paid_balance(order: Order) -> Decimal:
    """Payments received minus refunds already made."""
    totals = order.payments.aggregate(
        paid=Sum("amount", filter=Q(kind=Payment.Kind.PAYMENT)), refunded=Sum("amount", filter=Q(kind=Payment.Kind.REFUND))
    )
    return (totals["paid"] or Decimal("0")) - (totals["refunded"] or Decimal("0"))


def _refund_payments(order: Order, *, actor=None) -> None:
    due = _paid_balance(order)
    if due > 0:
        Payment.objects.create(order=order, kind=Payment.Kind.REFUND, method=order.payment_method, amount=due,
                               currency=order.currency, recorded_by=actor if getattr(actor, "pk", None) else None)
        Order.objects.filter(pk=order.pk).update(payment_status=Order.PaymentStatus.REFUNDED)
        order.payment_status = Order.PaymentStatus.REFUNDED
        emit("order.refunded", subject=order, payload={**order_payload(order), "refund": str(due)}, actor=actor)
    elif order.payment_status == Order.PaymentStatus.INVOICED:
        Order.objects.filter(pk=order.pk).update(payment_status=Order.PaymentStatus.PENDING)


@transaction.atomic
def order_complete(*, order_id: int) -> Order | None:
    order = _locked(order_id)
    if not can_proceed(order.complete):
        return None
    order.complete(description=_("Return window closed"))
    order.save()
    return order


def order_tag(*, order_id: int, tag: str) -> None:
    with transaction.atomic():
        order = _locked(order_id)
        if tag not in order.tags:
            Order.objects.filter(pk=order.pk).update(tags=[*order.tags, tag])


# ----------------------------------------------------------------- scheduled jobs ---
def orders_cancel_unpaid(*, now=None) -> int:
    """Bank-transfer orders not paid by their due time are cancelled, releasing stock."""
    now = now or timezone.now()
    due = Order.objects.filter(status__in=[Order.Status.PLACED, Order.Status.ON_HOLD,
                                           Order.Status.AWAITING_APPROVAL],
                               payment_status=Order.PaymentStatus.PENDING, payment_due_at__lte=now)
    count = 0
    for order_id in due.values_list("pk", flat=True):
        with transaction.atomic():
            order = _locked(order_id)
            if order.payment_status != Order.PaymentStatus.PENDING or not can_proceed(order.cancel):
                continue
            stock.stock_release(reference=order.stock_reference)
            order.cancel(description=_("Not paid in time"))
            order.save()
            count += 1
    return count


def carts_remind_abandoned(*, now=None) -> int:
    """First reminder CART_REMINDER_FIRST_HOURS after the last change, a second one
    CART_REMINDER_SECOND_HOURS after it; never for ordered or emptied carts. Consent and
    frequency caps are the notifications app's (cart.abandoned is marketing mail)."""
    now = now or timezone.now()
    stages = [(0, settings.CART_REMINDER_FIRST_HOURS), (1, settings.CART_REMINDER_SECOND_HOURS)]
    sent = 0
    for already_sent, hours in stages:
        candidates = Cart.objects.filter(status=Cart.Status.OPEN, reminders_sent=already_sent,
                                         updated_at__lte=now - timedelta(hours=hours), lines__isnull=False).distinct()
        for cart_id in candidates.values_list("pk", flat=True)[:1000]:
            with transaction.atomic():
                cart = Cart.objects.select_for_update().select_related("customer__user").get(pk=cart_id)
                if cart.status != Cart.Status.OPEN or cart.reminders_sent != already_sent or not cart.lines.exists():
                    continue
                Cart.objects.filter(pk=cart.pk).update(reminders_sent=F("reminders_sent") + 1)
                from .selectors import cart_payload

                emit("cart.abandoned", subject=cart, payload={**cart_payload(cart), "reminder": already_sent + 1})
                sent += 1
    return sent


def orders_remind_approvers(*, now=None) -> int:
    now = now or timezone.now()
    waiting = Order.objects.filter(status=Order.Status.AWAITING_APPROVAL,
                                   placed_at__lte=now - timedelta(hours=settings.APPROVAL_REMINDER_HOURS))
    waiting = waiting.exclude(approval_reminded_at__gt=now - timedelta(hours=settings.APPROVAL_REMINDER_HOURS))
    count = 0
    for order in waiting.select_related("company")[:500]:
        with transaction.atomic():
            updated = Order.objects.filter(pk=order.pk, status=Order.Status.AWAITING_APPROVAL).update(
                approval_reminded_at=now)
            if updated:
                emit("order.approval_reminder", subject=order, payload=order_payload(order))
                count += 1
    return count


def orders_complete_after_return_window(*, now=None) -> int:
    now = now or timezone.now()
    cutoff = now - timedelta(days=settings.ORDER_COMPLETE_AFTER_DAYS)
    count = 0
    for order_id in Order.objects.filter(status=Order.Status.DELIVERED, delivered_at__lte=cutoff).values_list(
            "pk", flat=True)[:1000]:
        if order_complete(order_id=order_id):
            count += 1
    return count
