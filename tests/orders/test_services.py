from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from django_fsm_log.models import StateLog

from automation.models import Event
from catalog.exceptions import NotInCatalog
from catalog.models import CatalogRule
from inventory.exceptions import InsufficientStock
from inventory.models import Reservation, StockLevel
from orders import services
from orders.exceptions import CreditLimitExceeded, NotAllowed
from orders.models import Cart, Order, Payment
from shopauto.exceptions import TransitionNotAllowed

from .conftest import details_for, event_names


def _cart_with(customer, *lines):
    cart = services.cart_get_or_create(customer=customer)
    for variant, quantity in lines:
        services.cart_set_quantity(customer=customer, cart_id=cart.pk, sku=variant.sku, quantity=quantity, add=True)
    return cart


def _available(variant):
    level = StockLevel.objects.get(variant=variant)
    return level.on_hand - level.reserved


def _logs(order):
    return list(StateLog.objects.for_(order).order_by("pk").values_list("state", flat=True))


# ------------------------------------------------------------------------ carts ---
def test_adding_to_cart_prices_the_line_and_reserves_stock_for_a_while(shop, buyer, settings):
    settings.CART_RESERVATION_MINUTES = 20
    variant = shop.variant("DRILL", price="80.00", tiers={10: "70.00"})
    cart = _cart_with(buyer, (variant, 3))

    line = cart.lines.get()
    assert (line.quantity, line.unit_price) == (3, Decimal("80.00"))
    reservation = Reservation.objects.get(reference=f"cart:{cart.pk}")
    assert reservation.quantity == 3
    assert timedelta(minutes=19) < reservation.expires_at - timezone.now() <= timedelta(minutes=20)
    assert _available(variant) == 97

    services.cart_set_quantity(customer=buyer, cart_id=cart.pk, sku="DRILL", quantity=10)
    line.refresh_from_db()
    assert (line.quantity, line.unit_price) == (10, Decimal("70.00"))  # crossed into the tier
    assert Reservation.objects.get(reference=f"cart:{cart.pk}").quantity == 10

    services.cart_set_quantity(customer=buyer, cart_id=cart.pk, sku="DRILL", quantity=0)
    assert not cart.lines.exists()
    assert not Reservation.objects.filter(reference=f"cart:{cart.pk}").exists()
    assert _available(variant) == 100


def test_a_product_outside_the_company_catalog_cannot_be_added(shop, buyer, company):
    hidden = shop.variant("SECRET")
    CatalogRule.objects.create(company=company, effect="exclude", product=hidden.product)
    cart = services.cart_get_or_create(customer=buyer)
    with pytest.raises(NotInCatalog):
        services.cart_set_quantity(customer=buyer, cart_id=cart.pk, sku="SECRET", quantity=1, add=True)
    assert not cart.lines.exists()
    assert not Reservation.objects.exists()


def test_adding_more_than_is_in_stock_changes_nothing(shop, buyer):
    variant = shop.variant("RARE", stock_units=2)
    cart = _cart_with(buyer, (variant, 1))
    with pytest.raises(InsufficientStock) as error:
        services.cart_set_quantity(customer=buyer, cart_id=cart.pk, sku="RARE", quantity=5, add=True)
    assert error.value.shortages[0]["sku"] == "RARE"
    assert cart.lines.get().quantity == 1
    assert Reservation.objects.get(reference=f"cart:{cart.pk}").quantity == 1


def test_other_customers_cannot_touch_my_cart(shop, buyer, consumer):
    variant = shop.variant("A")
    cart = _cart_with(buyer, (variant, 1))
    from orders.exceptions import OrderNotFound

    with pytest.raises(OrderNotFound):
        services.cart_set_quantity(customer=consumer, cart_id=cart.pk, sku="A", quantity=9)
    assert cart.lines.get().quantity == 1


# ---------------------------------------------------------------------- checkout ---
def test_invoice_checkout_places_allocates_and_confirms(shop, buyer):
    a, b = shop.variant("A", price="10.00"), shop.variant("B", price="2.50")
    cart = _cart_with(buyer, (a, 3), (b, 4))

    order = services.order_place_from_cart(customer=buyer, cart_id=cart.pk, details=details_for(buyer, po="PO-77"),
                                           actor=buyer.user)

    assert order.status == Order.Status.CONFIRMED
    assert order.payment_status == Order.PaymentStatus.INVOICED
    assert (order.subtotal, order.shipping_total, order.total) == (Decimal("40.00"), Decimal("5.00"),
                                                                  Decimal("45.00"))
    assert order.po_number == "PO-77"
    assert [(line.sku, line.quantity, line.line_total) for line in order.lines.all()] == [
        ("A", 3, Decimal("30.00")), ("B", 4, Decimal("10.00"))]
    assert order.estimated_delivery is not None
    assert order.allocation_plan == [{"warehouse_id": shop.warehouse.pk, "warehouse": "mad", "lines": [
        {"variant_id": a.pk, "sku": "A", "quantity": 3}, {"variant_id": b.pk, "sku": "B", "quantity": 4}]}]
    cart.refresh_from_db()
    assert cart.status == Cart.Status.ORDERED and cart.order == order
    # the cart's hold became the order's firm allocation
    assert not Reservation.objects.filter(reference=f"cart:{cart.pk}").exists()
    assert set(Reservation.objects.filter(reference=order.stock_reference).values_list("quantity", "expires_at")) \
        == {(3, None), (4, None)}
    assert event_names(subject_type="orders.order", subject_id=str(order.pk)) == ["order.placed", "order.confirmed"]
    assert _logs(order) == ["confirmed"]


def test_checkout_of_an_empty_cart_is_refused(shop, buyer):
    from orders.exceptions import CartEmpty

    cart = services.cart_get_or_create(customer=buyer)
    with pytest.raises(CartEmpty):
        services.order_place_from_cart(customer=buyer, cart_id=cart.pk, details=details_for(buyer))
    assert not Order.objects.exists()


def test_order_above_the_company_threshold_waits_for_an_approver(shop, buyer, approver):
    variant = shop.variant("BIG", price="600.00")
    cart = _cart_with(buyer, (variant, 2))
    order = services.order_place_from_cart(customer=buyer, cart_id=cart.pk, details=details_for(buyer))
    assert order.status == Order.Status.AWAITING_APPROVAL
    assert event_names(subject_type="orders.order", subject_id=str(order.pk)) == ["order.placed", "order.awaiting_approval"]

    events_before = Event.objects.count()
    with pytest.raises(NotAllowed):
        services.order_approve(order_id=order.pk, actor=buyer.user)  # a buyer cannot approve
    order.refresh_from_db()
    assert order.status == Order.Status.AWAITING_APPROVAL
    assert Event.objects.count() == events_before

    order = services.order_approve(order_id=order.pk, actor=approver.user)
    assert order.status == Order.Status.CONFIRMED
    assert order.approved_by == approver.user
    assert _logs(order) == ["awaiting_approval", "placed", "confirmed"]
    assert event_names(subject_id=str(order.pk)) == ["order.placed", "order.awaiting_approval", "order.approved",
                                                     "order.confirmed"]


def test_credit_limit_exceeded_writes_nothing(shop, buyer, company):
    company.credit_limit = Decimal("100.00")
    company.approval_threshold = None
    company.save()
    variant = shop.variant("A", price="60.00")
    cart = _cart_with(buyer, (variant, 2))
    with pytest.raises(CreditLimitExceeded):
        services.order_place_from_cart(customer=buyer, cart_id=cart.pk, details=details_for(buyer))
    assert not Order.objects.exists()
    cart.refresh_from_db()
    assert cart.status == Cart.Status.OPEN
    assert Reservation.objects.get(reference=f"cart:{cart.pk}").quantity == 2
    assert not Event.objects.filter(name__startswith="order.").exists()


def test_checkout_names_every_short_line_and_writes_nothing(shop, consumer):
    a, b = shop.variant("A", stock_units=5), shop.variant("B", stock_units=5)
    with pytest.raises(InsufficientStock) as error:
        services.order_place(customer=consumer, lines=[(a.pk, 6), (b.pk, 9)],
                             details=details_for(consumer, payment="bank_transfer"))
    assert {s["sku"] for s in error.value.shortages} == {"A", "B"}
    assert not Order.objects.exists()
    assert not Reservation.objects.exists()


def test_consumers_cannot_pay_by_invoice(shop, consumer):
    from orders.exceptions import PaymentMethodNotAllowed

    variant = shop.variant("A")
    with pytest.raises(PaymentMethodNotAllowed):
        services.order_place(customer=consumer, lines=[(variant.pk, 1)], details=details_for(consumer))
    assert not Order.objects.exists()


# ------------------------------------------------------------------- transitions ---
def _bank_order(shop, consumer, quantity=2):
    variant = shop.variants[0] if shop.variants else shop.variant("A")
    return services.order_place(customer=consumer, lines=[(variant.pk, quantity)],
                                details=details_for(consumer, payment="bank_transfer"))


def test_bank_transfer_order_waits_for_payment_then_confirms(shop, consumer, staff):
    order = _bank_order(shop, consumer)
    assert order.status == Order.Status.PLACED
    assert order.payment_status == Order.PaymentStatus.PENDING
    assert order.payment_due_at is not None

    services.order_mark_paid(order_id=order.pk, amount=order.total, reference="BANK-1", actor=staff)
    services.order_mark_paid(order_id=order.pk, amount=order.total, reference="BANK-1", actor=staff)  # repeated
    order.refresh_from_db()
    assert order.status == Order.Status.CONFIRMED
    assert order.payment_status == Order.PaymentStatus.PAID
    assert Payment.objects.filter(order=order).count() == 1
    assert "order.paid" in event_names(subject_id=str(order.pk))


def test_cancel_releases_stock_and_refunds_what_was_paid(shop, consumer, staff):
    order = _bank_order(shop, consumer, quantity=4)
    variant = shop.variants[0]
    assert _available(variant) == 96
    services.order_mark_paid(order_id=order.pk, amount=order.total, reference="BANK-2", actor=staff)

    order = services.order_cancel(order_id=order.pk, actor=consumer.user, reason="changed my mind")

    assert order.status == Order.Status.CANCELLED
    assert order.cancel_reason == "changed my mind"
    assert _available(variant) == 100
    assert order.payment_status == Order.PaymentStatus.REFUNDED
    assert Payment.objects.get(order=order, kind="refund").amount == order.total
    assert event_names(subject_id=str(order.pk))[-2:] == ["order.cancelled", "order.refunded"]
    assert _logs(order)[-1] == "cancelled"


def test_shipped_order_cannot_be_cancelled_and_nothing_changes(shop, consumer, staff):
    order = _bank_order(shop, consumer)
    services.order_mark_paid(order_id=order.pk, amount=order.total, actor=staff)
    services.order_ship(order_id=order.pk, actor=staff, tracking_number="TRK1")
    events_before, level_before = Event.objects.count(), StockLevel.objects.get(variant=shop.variants[0])

    with pytest.raises(TransitionNotAllowed):
        services.order_cancel(order_id=order.pk, actor=staff)
    with pytest.raises(TransitionNotAllowed):
        services.order_cancel(order_id=order.pk, actor=consumer.user)
    order.refresh_from_db()
    assert order.status == Order.Status.SHIPPED
    assert Event.objects.count() == events_before
    level = StockLevel.objects.get(variant=shop.variants[0])
    assert (level.on_hand, level.reserved) == (level_before.on_hand, level_before.reserved)


def test_shipping_books_the_sale_and_tracking_delivers(shop, consumer, staff):
    order = _bank_order(shop, consumer, quantity=3)
    services.order_mark_paid(order_id=order.pk, amount=order.total, actor=staff)
    services.order_start_processing(order_id=order.pk, actor=staff)
    shipment = services.order_ship(order_id=order.pk, actor=staff, tracking_number="TRK9")

    order.refresh_from_db()
    assert order.status == Order.Status.SHIPPED
    assert shipment.tracking_url == "https://track.example/TRK9"
    level = StockLevel.objects.get(variant=shop.variants[0])
    assert (level.on_hand, level.reserved) == (97, 0)
    assert event_names(subject_id=str(order.pk))[-1] == "order.shipped"

    services.shipment_tracking_update(tracking_number="TRK9", status="delivered")
    services.shipment_tracking_update(tracking_number="TRK9", status="in_transit")  # late, out of order
    order.refresh_from_db()
    shipment.refresh_from_db()
    assert order.status == Order.Status.DELIVERED and order.delivered_at is not None
    assert shipment.status == "delivered"
    assert _logs(order) == ["confirmed", "processing", "shipped", "delivered"]


def test_staff_hold_and_release_need_the_permission(shop, consumer, staff, django_user_model):
    order = _bank_order(shop, consumer)
    clerk = django_user_model.objects.create_user("clerk", is_staff=True)
    with pytest.raises(NotAllowed):
        services.order_hold(order_id=order.pk, actor=clerk, reason="fraud check")
    order = services.order_hold(order_id=order.pk, actor=staff, reason="fraud check")
    assert order.status == Order.Status.ON_HOLD
    with pytest.raises(TransitionNotAllowed):
        services.order_hold(order_id=order.pk, actor=staff, reason="again")
    order = services.order_release(order_id=order.pk, actor=staff)
    assert order.status == Order.Status.PLACED  # still unpaid: not confirmed
    assert event_names(subject_id=str(order.pk))[-2:] == ["order.on_hold", "order.released"]


def test_refused_transitions_leave_no_trace(shop, consumer, staff):
    order = _bank_order(shop, consumer)
    before = (Event.objects.count(), StateLog.objects.count())
    for call in (
        lambda: services.order_start_processing(order_id=order.pk, actor=staff),  # not confirmed yet
        lambda: services.order_release(order_id=order.pk, actor=staff),  # not on hold
        lambda: services.order_approve(order_id=order.pk, actor=staff),  # not awaiting approval
    ):
        with pytest.raises(TransitionNotAllowed):
            call()
    order.refresh_from_db()
    assert order.status == Order.Status.PLACED
    assert (Event.objects.count(), StateLog.objects.count()) == before


# -------------------------------------------------------------------- scheduled ---
def test_unpaid_orders_are_cancelled_after_the_deadline(shop, consumer, staff):
    late = _bank_order(shop, consumer)
    paid = _bank_order(shop, consumer)
    services.order_mark_paid(order_id=paid.pk, amount=paid.total, actor=staff)
    Order.objects.filter(pk__in=[late.pk, paid.pk]).update(payment_due_at=timezone.now() - timedelta(minutes=1))

    assert services.orders_cancel_unpaid() == 1
    assert services.orders_cancel_unpaid() == 0
    late.refresh_from_db()
    paid.refresh_from_db()
    assert late.status == Order.Status.CANCELLED
    assert paid.status == Order.Status.CONFIRMED
    assert not Reservation.objects.filter(reference=late.stock_reference).exists()


def test_abandoned_cart_reminders_twice_then_never(shop, consumer, settings):
    settings.CART_REMINDER_FIRST_HOURS, settings.CART_REMINDER_SECOND_HOURS = 4, 24
    variant = shop.variant("A")
    cart = _cart_with(consumer, (variant, 1))
    now = timezone.now()

    assert services.carts_remind_abandoned(now=now + timedelta(hours=3)) == 0
    assert services.carts_remind_abandoned(now=now + timedelta(hours=5)) == 1
    assert services.carts_remind_abandoned(now=now + timedelta(hours=6)) == 0
    assert services.carts_remind_abandoned(now=now + timedelta(hours=25)) == 1
    assert services.carts_remind_abandoned(now=now + timedelta(hours=90)) == 0
    reminders = Event.objects.filter(name="cart.abandoned").order_by("pk")
    assert [e.payload["reminder"] for e in reminders] == [1, 2]
    assert reminders[0].payload["customer_id"] == consumer.pk
    assert cart.token in reminders[0].payload["url"]


def test_no_reminder_for_emptied_or_ordered_carts(shop, consumer):
    variant = shop.variant("A")
    emptied = _cart_with(consumer, (variant, 1))
    services.cart_clear(customer=consumer, cart_id=emptied.pk)
    later = timezone.now() + timedelta(days=2)
    assert services.carts_remind_abandoned(now=later) == 0
    cart = services.cart_get_or_create(customer=consumer)
    services.cart_set_quantity(customer=consumer, cart_id=cart.pk, sku="A", quantity=1, add=True)
    services.order_place_from_cart(customer=consumer, cart_id=cart.pk,
                                   details=details_for(consumer, payment="bank_transfer"))
    assert services.carts_remind_abandoned(now=later) == 0


def test_delivered_orders_complete_after_the_return_window(shop, consumer, staff, settings):
    settings.ORDER_COMPLETE_AFTER_DAYS = 30
    order = _bank_order(shop, consumer)
    services.order_mark_paid(order_id=order.pk, amount=order.total, actor=staff)
    services.order_ship(order_id=order.pk, actor=staff, tracking_number="T-1")
    services.shipment_tracking_update(tracking_number="T-1", status="delivered")
    assert services.orders_complete_after_return_window(now=timezone.now() + timedelta(days=29)) == 0
    assert services.orders_complete_after_return_window(now=timezone.now() + timedelta(days=31)) == 1
    order.refresh_from_db()
    assert order.status == Order.Status.COMPLETED


def test_approvers_are_reminded_once_a_day(shop, buyer, approver, settings):
    settings.APPROVAL_REMINDER_HOURS = 24
    variant = shop.variant("BIG", price="2000.00")
    order = services.order_place(customer=buyer, lines=[(variant.pk, 1)], details=details_for(buyer))
    assert order.status == Order.Status.AWAITING_APPROVAL
    now = timezone.now()
    assert services.orders_remind_approvers(now=now + timedelta(hours=1)) == 0
    assert services.orders_remind_approvers(now=now + timedelta(hours=25)) == 1
    assert services.orders_remind_approvers(now=now + timedelta(hours=30)) == 0
    assert services.orders_remind_approvers(now=now + timedelta(hours=50)) == 1


def test_agreed_prices_from_a_quote_replace_the_price_lists(shop, buyer):
    variant = shop.variant("Q", price="100.00")
    agreed = services.AgreedPrices(unit_prices={variant.pk: Decimal("80.50")}, currency="EUR", source="Quote Q-7 v2",
                                   shipping=Decimal("0.00"))
    order = services.order_place(customer=buyer, lines=[(variant.pk, 10)], details=details_for(buyer),
                                 agreed=agreed)
    line = order.lines.get()
    assert (line.unit_price, line.line_total, order.total) == (Decimal("80.50"), Decimal("805.00"), Decimal("805.00"))
    assert "Quote Q-7 v2" in line.price_source


def test_agreed_prices_must_cover_every_line(shop, buyer):
    from catalog.exceptions import PriceNotFound

    a, b = shop.variant("A"), shop.variant("B")
    agreed = services.AgreedPrices(unit_prices={a.pk: Decimal("1.00")}, currency="EUR", source="Quote Q-8")
    with pytest.raises(PriceNotFound):
        services.order_place(customer=buyer, lines=[(a.pk, 1), (b.pk, 1)], details=details_for(buyer), agreed=agreed)
    assert not Order.objects.exists()
    assert not Reservation.objects.exists()


def test_a_settled_exchange_order_is_paid_and_confirmed_without_approval(shop, buyer):
    variant = shop.variant("SWAP", price="5000.00")  # far above Acme's approval threshold
    agreed = services.AgreedPrices(unit_prices={variant.pk: Decimal("0.00")}, currency="EUR",
                                   source="Exchange for RMA-1", shipping=Decimal("0.00"), settled=True)
    order = services.order_place(customer=buyer, lines=[(variant.pk, 1)],
                                 details=details_for(buyer, payment="bank_transfer"), agreed=agreed)
    assert order.status == Order.Status.CONFIRMED
    assert order.payment_status == Order.PaymentStatus.PAID
    assert order.total == Decimal("0.00")
    assert order.payment_due_at is None
