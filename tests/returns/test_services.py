from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from django_fsm_log.models import StateLog

from automation.models import Event
from catalog.models import Product, Variant
from inventory.models import StockLevel, StockMovement
from orders.exceptions import OrderNotFound
from orders.models import Order, Payment
from returns import services
from returns.exceptions import OrderNotReturnable, ReturnNotAllowed, ReturnNotFound, ReturnQuantityExceeded
from returns.models import CategoryReturnRule, ReturnLine, ReturnRequest, StoreCreditEntry
from returns.policy import amounts
from returns.selectors import return_get_for_customer
from shopauto.exceptions import InvalidInput, TransitionNotAllowed
from tests.orders.conftest import details_for

from .conftest import ask, delivered_order, event_names

Status = ReturnRequest.Status
Rule = ReturnRequest.Rule


def _events(request):
    return event_names(subject_type="returns.returnrequest", subject_id=str(request.pk))


def _states(request):
    return list(StateLog.objects.for_(request).order_by("pk").values_list("state", flat=True))


@pytest.fixture
def order(shop, buyer, policy):
    a, b = shop.variant("A", price="20.00"), shop.variant("B", price="6.65")
    return delivered_order(buyer, [(a, 3), (b, 5)])


# ------------------------------------------------------------------------ policy ---
def test_inside_the_window_the_policy_approves_by_itself_and_records_the_rule(order):
    request = ask(order, ("A", 1))

    assert request.status == Status.APPROVED
    assert (request.decision, request.decision_rule) == ("approve", Rule.WITHIN_POLICY)
    assert request.rma.startswith("RMA-") and len(request.rma) == 12
    assert request.approved_at is not None
    assert _events(request) == ["return.requested", "return.approved"]
    assert _states(request) == ["approved"]
    payload = Event.objects.get(name="return.approved").payload
    assert payload["customer_id"] == order.customer_id and payload["rma"] == request.rma


def test_outside_the_window_it_is_rejected_with_the_reason_shown(order):
    late = order.delivered_at + timedelta(days=30, minutes=1)
    request = ask(order, ("A", 1), now=late)

    assert request.status == Status.REJECTED
    assert request.decision_rule == Rule.RETURN_WINDOW
    assert "return window for A closed" in request.decision_message
    assert _events(request) == ["return.requested", "return.rejected"]
    # the last minute of the window is still inside it
    assert ask(order, ("A", 1), now=order.delivered_at + timedelta(days=30)).status == Status.APPROVED


def test_a_variant_window_overrides_a_category_rule_which_overrides_the_policy(order, shop, policy):
    day_40 = order.delivered_at + timedelta(days=40)
    CategoryReturnRule.objects.create(policy=policy, category=shop.category, window_days=45)
    assert ask(order, ("A", 1), now=day_40).decision_rule == Rule.WITHIN_POLICY
    Variant.objects.filter(sku="A").update(return_window_days=35)
    assert ask(order, ("A", 1), now=day_40).decision_rule == Rule.RETURN_WINDOW


def test_completed_orders_can_still_be_returned_inside_the_window(order, settings):
    from orders.services import order_complete

    order_complete(order_id=order.pk)
    order.refresh_from_db()
    assert order.status == Order.Status.COMPLETED
    assert ask(order, ("A", 1)).status == Status.APPROVED


def test_non_returnable_items_are_rejected(order, shop, policy):
    Variant.objects.filter(sku="B").update(returnable=False)
    request = ask(order, ("A", 1), ("B", 1))
    assert (request.status, request.decision_rule) == (Status.REJECTED, Rule.NOT_RETURNABLE)
    assert "B" in request.decision_message and "A" not in request.decision_message.split(":")[1]

    Variant.objects.filter(sku="B").update(returnable=None)
    policy.non_returnable_products.add(Product.objects.get(variants__sku="A"))
    assert ask(order, ("A", 1)).decision_rule == Rule.NOT_RETURNABLE
    policy.non_returnable_products.clear()
    CategoryReturnRule.objects.create(policy=policy, category=shop.category, returnable=False)
    assert ask(order, ("B", 1)).decision_rule == Rule.NOT_RETURNABLE


def test_above_the_value_threshold_it_waits_for_review_and_support_is_alerted(order, policy):
    from django.contrib.auth.models import Group

    from automation.services import event_process
    from notifications.models import OutgoingMessage
    from tests.factories import StaffFactory

    support = StaffFactory(email="desk@shop.example")
    support.groups.add(Group.objects.get_or_create(name="Support")[0])
    policy.auto_approve_max_value = Decimal("39.99")
    policy.save()

    assert ask(order, ("A", 1)).status == Status.APPROVED  # 20.00
    request = ask(order, ("A", 2))  # 40.00
    assert (request.status, request.decision, request.decision_rule) == (Status.REQUESTED, "review",
                                                                         Rule.VALUE_THRESHOLD)
    assert _events(request) == ["return.requested", "return.needs_review"]
    event_process(event_id=Event.objects.get(name="return.needs_review").pk)
    alert = OutgoingMessage.objects.get(template_key="return.needs_review")
    assert alert.recipient_email == "desk@shop.example" and request.rma in alert.subject


def test_reasons_that_need_inspection_wait_for_review(order):
    request = ask(order, ("A", 1), reason="damaged")
    assert (request.status, request.decision_rule) == (Status.REQUESTED, Rule.NEEDS_INSPECTION)


def test_limit_per_customer_per_period(order, policy):
    policy.limit_count, policy.limit_period_days = 2, 30
    policy.save()
    first, second = ask(order, ("A", 1)), ask(order, ("B", 1))
    third = ask(order, ("B", 1))
    assert (third.status, third.decision_rule) == (Status.REJECTED, Rule.CUSTOMER_LIMIT)
    assert "limit of 2 returns in 30 days" in third.decision_message
    # an older request no longer counts
    ReturnRequest.objects.filter(pk=first.pk).update(created_at=timezone.now() - timedelta(days=31))
    assert ask(order, ("B", 1)).status == Status.APPROVED
    assert second.status == Status.APPROVED


# -------------------------------------------------------------------- quantities ---
def test_more_than_delivered_is_refused_and_nothing_is_written(order):
    with pytest.raises(ReturnQuantityExceeded) as error:
        ask(order, ("A", 4))
    assert error.value.fields == {"A": ["At most 3 can be returned (delivered 3, already returned 0)."]}
    assert not ReturnRequest.objects.exists() and not Event.objects.filter(name__startswith="return.").exists()


def test_more_than_is_left_after_earlier_returns_is_refused_until_one_is_rejected(order, returns_staff):
    ask(order, ("A", 2))
    pending = ask(order, ("A", 1), reason="damaged")  # waits for review, still counts
    with pytest.raises(ReturnQuantityExceeded):
        ask(order, ("A", 1))
    services.return_reject(return_id=pending.pk, actor=returns_staff, reason="Photos show no damage.")
    assert ask(order, ("A", 1)).status == Status.APPROVED
    assert ReturnLine.objects.filter(order_line__sku="A").count() == 3


def test_undelivered_orders_cannot_be_returned(shop, buyer, policy):
    from orders.services import order_place

    variant = shop.variant("A")
    placed = order_place(customer=buyer, lines=[(variant.pk, 1)], details=details_for(buyer))
    with pytest.raises(OrderNotReturnable):
        ask(placed, ("A", 1))


def test_bad_input_is_refused_before_anything_is_written(order):
    with pytest.raises(InvalidInput) as error:
        ask(order, ("A", 1), reason="bored", resolution="cash")
    assert set(error.value.fields) == {"reason", "resolution"}
    with pytest.raises(InvalidInput):
        ask(order, ("A", 0))
    assert not ReturnRequest.objects.exists()


def test_another_customers_order_or_return_is_not_found(order, consumer):
    with pytest.raises(OrderNotFound) as error:
        ask(order, ("A", 1), customer=consumer)
    assert error.value.status == 404
    request = ask(order, ("A", 1))
    with pytest.raises(ReturnNotFound):
        return_get_for_customer(customer=consumer, rma=request.rma)
    with pytest.raises(ReturnNotFound):
        services.return_mark_shipped(return_id=request.pk, actor=consumer.user)
    request.refresh_from_db()
    assert request.status == Status.APPROVED


# ------------------------------------------------------------------- transitions ---
def test_staff_approve_or_reject_a_request_waiting_for_review(order, returns_staff):
    waiting = ask(order, ("A", 1), reason="damaged")
    approved = services.return_approve(return_id=waiting.pk, actor=returns_staff, note="Photo checked")
    assert approved.status == Status.APPROVED
    assert StateLog.objects.for_(approved).get().by == returns_staff
    assert _events(approved)[-1] == "return.approved"

    other = ask(order, ("B", 1), reason="damaged")
    rejected = services.return_reject(return_id=other.pk, actor=returns_staff, reason="Outside warranty.")
    assert (rejected.status, rejected.decision_message) == (Status.REJECTED, "Outside warranty.")
    assert _events(rejected)[-1] == "return.rejected"


def test_approve_and_reject_are_refused_when_not_waiting_or_not_allowed(order, returns_staff, staff):
    approved = ask(order, ("A", 1))
    before = Event.objects.count()
    with pytest.raises(TransitionNotAllowed):
        services.return_approve(return_id=approved.pk, actor=returns_staff)
    with pytest.raises(TransitionNotAllowed):
        services.return_reject(return_id=approved.pk, actor=returns_staff, reason="no")
    waiting = ask(order, ("B", 1), reason="damaged")
    before = Event.objects.count()
    with pytest.raises(ReturnNotAllowed):  # staff without the returns permission
        services.return_approve(return_id=waiting.pk, actor=staff)
    with pytest.raises(ReturnNotAllowed):  # the customer cannot approve their own return
        services.return_approve(return_id=waiting.pk, actor=order.customer.user)
    with pytest.raises(InvalidInput):
        services.return_reject(return_id=waiting.pk, actor=returns_staff, reason=" ")
    waiting.refresh_from_db()
    assert waiting.status == Status.REQUESTED and Event.objects.count() == before
    assert _states(waiting) == []


def _stock(variant_sku):
    level = StockLevel.objects.get(variant__sku=variant_sku)
    return level.on_hand, level.quarantined


def test_ship_receive_inspect_books_the_units_back_through_the_ledger(order, returns_staff):
    request = ask(order, ("A", 2), ("B", 1))
    with pytest.raises(TransitionNotAllowed):
        services.return_inspect(return_id=request.pk, actor=returns_staff)
    shipped = services.return_mark_shipped(return_id=request.pk, actor=order.customer.user, tracking_number="RT-1")
    assert (shipped.status, shipped.tracking_number) == (Status.IN_TRANSIT, "RT-1")
    before = Event.objects.count()
    with pytest.raises(TransitionNotAllowed):
        services.return_mark_shipped(return_id=request.pk, actor=order.customer.user)
    with pytest.raises(ReturnNotAllowed):  # staff without the receiving permission
        services.return_receive(return_id=request.pk, actor=order.customer.user)
    assert Event.objects.count() == before and not StockMovement.objects.filter(reference__startswith="return:")

    on_hand_a, _ = _stock("A")
    received = services.return_receive(return_id=request.pk, actor=returns_staff)
    assert received.status == Status.RECEIVED
    assert _stock("A") == (on_hand_a, 2)  # into quarantine, not yet sellable
    movements = StockMovement.objects.filter(reference=f"return:{request.rma}")
    assert sorted(movements.values_list("stock_level__variant__sku", "bucket", "quantity")) == [
        ("A", "quarantine", 2), ("B", "quarantine", 1)]
    with pytest.raises(TransitionNotAllowed):
        services.return_receive(return_id=request.pk, actor=returns_staff)

    line_b = request.lines.get(sku="B")
    inspected = services.return_inspect(return_id=request.pk, actor=returns_staff,
                                        conditions={line_b.pk: ReturnLine.Condition.REFUSED}, notes="B was used")
    assert inspected.status == Status.INSPECTED
    assert _stock("A") == (on_hand_a + 2, 0)  # resellable: back on sale
    assert _stock("B")[1] == 1  # refused: stays in quarantine
    # refused lines are not paid back: only 2 × 20.00, less the 0 % fee
    assert (inspected.items_value, inspected.refund_amount) == (Decimal("40.00"), Decimal("40.00"))
    assert _events(request) == ["return.requested", "return.approved", "return.in_transit", "return.received",
                                "return.inspected"]
    # the ledger still sums to on_hand
    level = StockLevel.objects.get(variant__sku="A")
    sellable = level.movements.filter(bucket="sellable").values_list("quantity", flat=True)
    assert sum(sellable) == level.on_hand


def _inspected(order, staff, *items, **kwargs):
    request = ask(order, *items, **kwargs)
    if request.status == Status.REQUESTED:
        services.return_approve(return_id=request.pk, actor=staff)
    services.return_receive(return_id=request.pk, actor=staff)
    return services.return_inspect(return_id=request.pk, actor=staff)


def test_refund_is_recorded_on_the_order_exactly_once(order, returns_staff):
    request = _inspected(order, returns_staff, ("B", 5))
    refunded = services.return_resolve(return_id=request.pk, actor=returns_staff)
    assert refunded.status == Status.REFUNDED
    payment = Payment.objects.get(order=order, kind=Payment.Kind.REFUND)
    assert (payment.amount, payment.reference) == (Decimal("33.25"), f"return:{request.rma}")
    assert Event.objects.filter(name="order.refunded", subject_id=str(order.pk)).get().payload["refund"] == "33.25"
    with pytest.raises(TransitionNotAllowed):
        services.return_resolve(return_id=request.pk, actor=returns_staff)
    assert Payment.objects.filter(kind=Payment.Kind.REFUND).count() == 1
    closed = services.return_close(return_id=request.pk, actor=returns_staff)
    assert closed.status == Status.CLOSED and _events(request)[-2:] == ["return.refunded", "return.closed"]


def test_store_credit_goes_to_the_customer_ledger(order, returns_staff):
    early = ask(order, ("B", 1), resolution="store_credit")
    before = Event.objects.count()
    with pytest.raises(TransitionNotAllowed):  # not received and inspected yet
        services.return_resolve(return_id=early.pk, actor=returns_staff)
    assert Event.objects.count() == before and not StoreCreditEntry.objects.exists()

    request = _inspected(order, returns_staff, ("A", 1), resolution="store_credit")
    credited = services.return_resolve(return_id=request.pk, actor=returns_staff)
    assert credited.status == Status.STORE_CREDIT
    assert StateLog.objects.for_(credited).order_by("pk").last().by == returns_staff
    entry = StoreCreditEntry.objects.get()
    assert (entry.customer, entry.amount, entry.currency) == (order.customer, Decimal("20.00"), "EUR")
    assert _events(request)[-1] == "return.store_credit"
    assert not Payment.objects.filter(kind=Payment.Kind.REFUND).exists()


def test_exchange_places_a_settled_replacement_order_through_orders(order, shop, returns_staff):
    other = Variant.objects.create(product=Product.objects.get(variants__sku="A"), sku="A-XL", name="XL")
    from catalog.models import PriceListEntry
    from inventory import services as stock

    PriceListEntry.objects.create(price_list=shop.price_list, variant=other, min_quantity=1,
                                  unit_price=Decimal("20.00"))
    stock.stock_receive(variant_id=other.pk, warehouse_id=shop.warehouse.pk, quantity=5, reason="opening")
    request = _inspected(order, returns_staff, ("A", 2, other), resolution="exchange")
    exchanged = services.return_resolve(return_id=request.pk, actor=returns_staff)

    assert exchanged.status == Status.EXCHANGED and exchanged.refund_amount == Decimal("0.00")
    replacement = exchanged.exchange_order
    assert replacement.customer == order.customer and replacement.status == Order.Status.CONFIRMED
    assert replacement.payment_status == Order.PaymentStatus.PAID
    assert replacement.total == Decimal("0.00")
    assert [(line.sku, line.quantity, line.unit_price) for line in replacement.lines.all()] == [
        ("A-XL", 2, Decimal("0.00"))]
    assert replacement.shipping_address == order.shipping_address
    level = StockLevel.objects.get(variant=other)
    assert level.on_hand - level.reserved == 3


def test_exchange_without_stock_changes_nothing(order, shop, returns_staff):
    other = Variant.objects.create(product=Product.objects.get(variants__sku="A"), sku="A-XL", name="XL")
    request = _inspected(order, returns_staff, ("A", 1, other), resolution="exchange")
    from inventory.exceptions import InsufficientStock

    with pytest.raises(InsufficientStock):
        services.return_resolve(return_id=request.pk, actor=returns_staff)
    request.refresh_from_db()
    assert request.status == Status.INSPECTED and Order.objects.count() == 1


def test_exchange_needs_a_variant_of_the_same_product(order, shop):
    foreign = shop.variant("Z")
    with pytest.raises(InvalidInput):
        ask(order, ("A", 1, foreign), resolution="exchange")
    with pytest.raises(InvalidInput):
        ask(order, ("A", 1), resolution="exchange")


def test_close_from_approved_or_resolved_only(order, returns_staff):
    waiting = ask(order, ("A", 1), reason="damaged")
    with pytest.raises(TransitionNotAllowed):
        services.return_close(return_id=waiting.pk, actor=returns_staff)
    approved = ask(order, ("B", 1))
    closed = services.return_close(return_id=approved.pk, actor=returns_staff, reason="Customer changed plans")
    assert closed.status == Status.CLOSED and closed.closed_at is not None
    # a return closed before anything came back frees its quantity again
    assert ask(order, ("B", 5)).status == Status.APPROVED


# ------------------------------------------------------------------------- money ---
def test_refund_arithmetic_is_exact_and_rounds_the_fee_half_up(policy):
    policy.restocking_fee_percent, policy.restocking_fee_fixed = Decimal("10"), Decimal("1.50")
    # 10 % of 33.25 = 3.325 → 3.33 (half up; banker's rounding would give 3.32)
    result = amounts(policy=policy, reason="changed_mind", value=Decimal("6.65") * 5)
    assert (result.items_value, result.restocking_fee, result.refund) == (
        Decimal("33.25"), Decimal("4.83"), Decimal("28.42"))
    # the shop's fault: no fee; an exchange: no fee; the fee never exceeds the value
    assert amounts(policy=policy, reason="damaged", value=Decimal("33.25")).refund == Decimal("33.25")
    assert amounts(policy=policy, reason="changed_mind", value=Decimal("33.25"), exchange=True).restocking_fee == 0
    assert amounts(policy=policy, reason="changed_mind", value=Decimal("1.00")).refund == Decimal("0.00")


def test_the_refund_paid_is_the_lines_paid_less_the_fee(order, policy, returns_staff):
    policy.restocking_fee_percent, policy.restocking_fee_fixed = Decimal("10"), Decimal("1.50")
    policy.save()
    request = _inspected(order, returns_staff, ("B", 5))
    assert (request.items_value, request.restocking_fee, request.refund_amount) == (
        Decimal("33.25"), Decimal("4.83"), Decimal("28.42"))
    services.return_resolve(return_id=request.pk, actor=returns_staff)
    assert Payment.objects.get(kind=Payment.Kind.REFUND).amount == Decimal("28.42")


# ------------------------------------------------------------------ scheduled job ---
def test_reminder_then_automatic_close_when_nothing_is_shipped_back(order, policy):
    from returns.tasks import _remind_and_close

    request = ask(order, ("A", 1))
    now = timezone.now()
    assert services.returns_remind_and_close(now=now) == {"reminded": 0, "closed": 0}
    day_8 = now + timedelta(days=8)
    assert _remind_and_close(now=day_8) == {"reminded": 1, "closed": 0}
    assert _remind_and_close(now=day_8) is None  # same slot: nothing done twice
    assert services.returns_remind_and_close(now=day_8 + timedelta(hours=2)) == {"reminded": 0, "closed": 0}
    reminder = Event.objects.get(name="return.reminder")
    assert reminder.payload["customer_id"] == order.customer_id
    assert services.returns_remind_and_close(now=now + timedelta(days=31)) == {"reminded": 0, "closed": 1}
    request.refresh_from_db()
    assert request.status == Status.CLOSED
    assert "Nothing was shipped back" in StateLog.objects.for_(request).last().description


def test_the_customer_may_withdraw_before_shipping_only(order, consumer):
    waiting = ask(order, ("A", 1), reason="damaged")
    withdrawn = services.return_withdraw(return_id=waiting.pk, actor=order.customer.user)
    assert withdrawn.status == Status.CLOSED and _events(withdrawn)[-1] == "return.closed"
    shipped = ask(order, ("A", 1))
    with pytest.raises(ReturnNotFound):
        services.return_withdraw(return_id=shipped.pk, actor=consumer.user)
    services.return_mark_shipped(return_id=shipped.pk, actor=order.customer.user)
    before = Event.objects.count()
    with pytest.raises(TransitionNotAllowed):
        services.return_withdraw(return_id=shipped.pk, actor=order.customer.user)
    shipped.refresh_from_db()
    assert shipped.status == Status.IN_TRANSIT and Event.objects.count() == before


def test_nothing_accepted_at_inspection_pays_nothing_and_can_be_closed(order, returns_staff):
    request = ask(order, ("A", 1))
    services.return_receive(return_id=request.pk, actor=returns_staff)
    line = request.lines.get()
    with pytest.raises(InvalidInput):  # unknown condition: nothing changes
        services.return_inspect(return_id=request.pk, actor=returns_staff, conditions={line.pk: "shiny"})
    request.refresh_from_db()
    assert request.status == Status.RECEIVED and _stock("A")[1] == 1
    inspected = services.return_inspect(return_id=request.pk, actor=returns_staff,
                                        conditions={line.pk: ReturnLine.Condition.REFUSED}, notes="Worn")
    assert (inspected.items_value, inspected.refund_amount) == (Decimal("0.00"), Decimal("0.00"))
    closed = services.return_close(return_id=request.pk, actor=returns_staff, reason="Nothing accepted")
    assert closed.status == Status.CLOSED and not Payment.objects.filter(kind=Payment.Kind.REFUND).exists()
