from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from django_fsm_log.models import StateLog

from automation.models import Event
from catalog.exceptions import NotInCatalog
from catalog.models import CatalogRule, PriceListEntry
from inventory import services as stock
from notifications.models import OutgoingMessage
from orders import services as order_services
from orders.exceptions import NotAllowed
from orders.models import Order
from quotes import selectors, services
from quotes.exceptions import ApprovalRequired, NothingToSend, QuoteExpired, QuoteNotFound
from quotes.models import Quote
from shopauto.exceptions import InvalidInput, TransitionNotAllowed
from tests.factories import AddressFactory, CustomerFactory

from .conftest import details_for, price, rfq, sent_quote


def _logs(quote):
    return list(StateLog.objects.for_(quote).order_by("pk").values_list("state", flat=True))


def _events(quote):
    return list(Event.objects.filter(subject_type="quotes.quote", subject_id=str(quote.pk)).order_by("pk")
                .values_list("name", flat=True))


def assert_refused(call, error, quote):
    """Refused: the named error, and nothing changed, logged or emitted."""
    quote.refresh_from_db()
    before = (quote.status, _logs(quote), _events(quote), quote.versions.count())
    with pytest.raises(error):
        call()
    quote.refresh_from_db()
    assert (quote.status, _logs(quote), _events(quote), quote.versions.count()) == before


# ------------------------------------------------------------------ request ---
def test_a_buyer_requests_a_quote_from_their_catalog(shop, buyer):
    drill = shop.variant("DRILL", price="80.00")
    saw = shop.variant("SAW", price="40.00")
    quote = rfq(buyer, (drill, 50, Decimal("70.00")), (saw, 20), notes="Site opening in March",
                needed_by=timezone.localdate() + timedelta(days=30))

    assert quote.status == Quote.Status.REQUESTED
    assert quote.number.startswith("Q-") and len(quote.number) == 10
    assert (quote.currency, quote.company_id) == ("EUR", buyer.company_id)
    assert [(line.variant.sku, line.quantity, line.target_price) for line in quote.request_lines.all()] == [
        ("DRILL", 50, Decimal("70.00")), ("SAW", 20, None)]
    event = Event.objects.get(name="quote.requested")
    assert event.payload["customer_id"] == buyer.pk
    assert event.payload["number"] == quote.number
    assert event.payload["requested_lines"][0] == {"sku": "DRILL", "name": drill.display_name, "quantity": 50,
                                                   "target_price": "70.00"}


def test_a_hidden_sku_cannot_be_quoted_and_nothing_is_created(shop, buyer, company):
    visible = shop.variant("OK")
    hidden = shop.variant("SECRET")
    CatalogRule.objects.create(company=company, effect="exclude", product=hidden.product)
    with pytest.raises(NotInCatalog):
        rfq(buyer, (visible, 1), (hidden, 1))
    assert not Quote.objects.exists()
    assert not Event.objects.filter(name__startswith="quote.").exists()


@pytest.mark.parametrize("lines, field", [((), "lines"), ((0,), "quantity")])
def test_bad_request_input_changes_nothing(shop, buyer, lines, field):
    variant = shop.variant("A")
    with pytest.raises(InvalidInput) as error:
        rfq(buyer, *[(variant, quantity) for quantity in lines])
    assert field in error.value.fields
    assert not Quote.objects.exists()


def test_a_past_needed_by_date_is_refused(shop, buyer):
    variant = shop.variant("A")
    with pytest.raises(InvalidInput) as error:
        rfq(buyer, (variant, 1), needed_by=timezone.localdate() - timedelta(days=1))
    assert "needed_by" in error.value.fields


def test_request_a_quote_for_the_cart_copies_its_lines_and_keeps_the_cart(shop, buyer):
    a, b = shop.variant("A"), shop.variant("B")
    cart = order_services.cart_get_or_create(customer=buyer)
    order_services.cart_set_quantity(customer=buyer, cart_id=cart.pk, sku="A", quantity=3)
    order_services.cart_set_quantity(customer=buyer, cart_id=cart.pk, sku="B", quantity=5)

    quote = services.quote_request_from_cart(customer=buyer, cart_id=cart.pk, notes="for the cart")

    assert quote.source == Quote.Source.CART
    assert sorted((line.variant_id, line.quantity) for line in quote.request_lines.all()) == [(a.pk, 3), (b.pk, 5)]
    assert cart.lines.count() == 2


def test_someone_elses_cart_is_not_found(shop, buyer, consumer):
    shop.variant("A")
    cart = order_services.cart_get_or_create(customer=consumer)
    order_services.cart_set_quantity(customer=consumer, cart_id=cart.pk, sku="A", quantity=1)
    with pytest.raises(QuoteNotFound):
        services.quote_request_from_cart(customer=buyer, cart_id=cart.pk)


# ------------------------------------------------------------------ pricing ---
def test_pricing_starts_review_and_measures_discounts_against_the_customers_tier(shop, buyer, sales, settings):
    settings.QUOTE_MAX_DISCOUNT_PERCENT = Decimal("15")
    drill = shop.variant("DRILL", price="100.00", tiers={50: "90.00"})
    quote = rfq(buyer, (drill, 60))
    start = services.quote_pricing_start(quote=quote)
    assert start[0]["price"].unit_price == Decimal("90.00")  # the tier for 60 units
    assert [tier.min_quantity for tier in start[0]["tiers"]] == [1, 50]

    version = price(quote, sales, (drill, 60, "81.00"), note="Best we can do")

    quote.refresh_from_db()
    assert quote.status == Quote.Status.IN_REVIEW
    assert _logs(quote) == ["in_review"]
    assert _events(quote) == ["quote.requested", "quote.in_review"]
    line = version.lines.get()
    assert (line.list_price, line.unit_price, line.line_total, line.discount_percent) == (
        Decimal("90.00"), Decimal("81.00"), Decimal("4860.00"), Decimal("10.00"))
    assert (version.number, version.needs_approval, version.is_draft) == (1, False, True)
    assert version.list_subtotal == Decimal("5400.00")


def test_repricing_a_draft_replaces_it_instead_of_adding_versions(shop, buyer, sales):
    variant = shop.variant("A", price="10.00")
    quote = rfq(buyer, (variant, 10))
    price(quote, sales, (variant, 10, "9.50"))
    version = price(quote, sales, (variant, 12, "9.40"))
    assert quote.versions.count() == 1
    assert [(line.quantity, line.unit_price) for line in version.lines.all()] == [(12, Decimal("9.40"))]


def test_only_staff_with_the_permission_price_and_send(shop, buyer, consumer):
    variant = shop.variant("A")
    quote = rfq(buyer, (variant, 1))
    assert_refused(lambda: price(quote, consumer.user, (variant, 1, "1.00")), NotAllowed, quote)
    assert_refused(lambda: services.quote_send(quote_id=quote.pk, actor=buyer.user), NotAllowed, quote)


def test_nothing_to_send_before_pricing(shop, buyer, sales):
    quote = rfq(buyer, (shop.variant("A"), 1))
    assert_refused(lambda: services.quote_send(quote_id=quote.pk, actor=sales), TransitionNotAllowed, quote)
    services.quote_start_review(quote_id=quote.pk, actor=sales)
    quote.refresh_from_db()
    assert quote.status == Quote.Status.IN_REVIEW
    assert_refused(lambda: services.quote_send(quote_id=quote.pk, actor=sales), NothingToSend, quote)


def test_sending_within_the_limit_sends_the_version(shop, buyer, sales):
    quote, _variant = sent_quote(shop, buyer, sales, unit="9.00")
    assert quote.status == Quote.Status.SENT
    assert _logs(quote) == ["in_review", "sent"]
    assert _events(quote)[-1] == "quote.sent"
    version = quote.current_version()
    assert version.sent_at is not None
    assert quote.valid_until == version.valid_until
    payload = Event.objects.filter(name="quote.sent").get().payload
    assert payload["customer_id"] == buyer.pk
    assert payload["version"]["lines"][0]["unit_price"] == "9.00"


# ----------------------------------------------------------------- approval ---
def test_a_discount_beyond_the_limit_needs_a_managers_approval(shop, buyer, sales, manager, settings):
    settings.QUOTE_MAX_DISCOUNT_PERCENT = Decimal("15")
    variant = shop.variant("A", price="10.00")
    quote = rfq(buyer, (variant, 100))
    version = price(quote, sales, (variant, 100, "8.00"))  # 20 % off
    assert version.needs_approval and version.max_discount_percent == Decimal("20.00")

    services.quote_send(quote_id=quote.pk, actor=sales)
    quote.refresh_from_db()
    assert quote.status == Quote.Status.PENDING_APPROVAL
    assert _events(quote)[-1] == "quote.pending_approval"
    assert quote.current_version() is None  # the buyer has seen nothing yet

    # Sales may not approve their own discount, nor send around the approval.
    assert_refused(lambda: services.quote_approve(quote_id=quote.pk, actor=sales), ApprovalRequired, quote)
    assert_refused(lambda: services.quote_send(quote_id=quote.pk, actor=sales), TransitionNotAllowed, quote)

    services.quote_approve(quote_id=quote.pk, actor=manager)
    quote.refresh_from_db()
    assert quote.status == Quote.Status.APPROVED
    assert quote.latest_version().approved_by == manager
    assert _events(quote)[-1] == "quote.approved"

    services.quote_send(quote_id=quote.pk, actor=sales)
    quote.refresh_from_db()
    assert quote.status == Quote.Status.SENT
    assert _logs(quote) == ["in_review", "pending_approval", "approved", "sent"]


def test_at_the_limit_no_approval_is_needed(shop, buyer, sales, settings):
    settings.QUOTE_MAX_DISCOUNT_PERCENT = Decimal("15")
    variant = shop.variant("A", price="10.00")
    quote = rfq(buyer, (variant, 1))
    assert not price(quote, sales, (variant, 1, "8.50")).needs_approval


def test_a_line_without_a_customer_price_needs_approval(shop, buyer, sales):
    variant = shop.variant("A", price="10.00")
    PriceListEntry.objects.filter(variant=variant).delete()
    quote = rfq(buyer, (variant, 5))
    version = price(quote, sales, (variant, 5, "7.00"))
    assert version.needs_approval
    assert version.lines.get().list_price is None


def test_a_manager_can_send_the_pricing_back(shop, buyer, sales, manager, settings):
    settings.QUOTE_MAX_DISCOUNT_PERCENT = Decimal("5")
    variant = shop.variant("A", price="10.00")
    quote = rfq(buyer, (variant, 1))
    price(quote, sales, (variant, 1, "5.00"))
    services.quote_send(quote_id=quote.pk, actor=sales)
    assert_refused(lambda: services.quote_reject_approval(quote_id=quote.pk, actor=sales), ApprovalRequired, quote)

    services.quote_reject_approval(quote_id=quote.pk, actor=manager, reason="Too cheap")
    quote.refresh_from_db()
    assert quote.status == Quote.Status.IN_REVIEW
    assert _events(quote)[-1] == "quote.reworked"
    assert_refused(lambda: services.quote_approve(quote_id=quote.pk, actor=manager), TransitionNotAllowed, quote)


def test_repricing_an_approved_version_withdraws_the_approval(shop, buyer, sales, manager, settings):
    settings.QUOTE_MAX_DISCOUNT_PERCENT = Decimal("5")
    variant = shop.variant("A", price="10.00")
    quote = rfq(buyer, (variant, 1))
    price(quote, sales, (variant, 1, "8.00"))
    services.quote_send(quote_id=quote.pk, actor=sales)
    services.quote_approve(quote_id=quote.pk, actor=manager)
    version = price(quote, sales, (variant, 1, "6.00"))
    quote.refresh_from_db()
    assert quote.status == Quote.Status.IN_REVIEW
    assert version.approved_by is None
    services.quote_send(quote_id=quote.pk, actor=sales)
    quote.refresh_from_db()
    assert quote.status == Quote.Status.PENDING_APPROVAL


# ---------------------------------------------------------------- revisions ---
def test_revision_loop_keeps_every_version_comparable(shop, buyer, sales):
    quote, variant = sent_quote(shop, buyer, sales, unit="9.50", quantity=10)
    other = shop.variant("B", price="20.00")

    services.quote_request_changes(quote_id=quote.pk, actor=buyer.user, comment="9.00 and add 5 of B?")
    quote.refresh_from_db()
    assert quote.status == Quote.Status.IN_REVIEW
    assert _events(quote)[-1] == "quote.changes_requested"
    assert Event.objects.get(name="quote.changes_requested").payload["transition"]["reason"] == "9.00 and add 5 of B?"

    price(quote, sales, (variant, 10, "9.00"), (other, 5, "19.00"), note="As asked")
    services.quote_send(quote_id=quote.pk, actor=sales)
    quote.refresh_from_db()

    versions = selectors.quote_versions(quote=quote)
    assert [v.number for v in versions] == [1, 2]
    assert versions[0].changes_requested == "9.00 and add 5 of B?"
    assert [line.unit_price for line in versions[0].lines.all()] == [Decimal("9.50")]  # v1 untouched
    rows = {row["sku"]: row for row in selectors.versions_side_by_side(versions)}
    assert rows["A"]["cells"][0]["unit_price"] == Decimal("9.50")
    assert rows["A"]["cells"][1]["unit_price"] == Decimal("9.00") and rows["A"]["cells"][1]["changed"]
    assert rows["B"]["cells"][0] is None
    assert quote.current_version().number == 2
    assert _logs(quote) == ["in_review", "sent", "in_review", "sent"]


def test_asking_for_changes_needs_a_comment_and_a_sent_quote(shop, buyer, sales):
    quote, _variant = sent_quote(shop, buyer, sales)
    assert_refused(lambda: services.quote_request_changes(quote_id=quote.pk, actor=buyer.user, comment=" "),
                   InvalidInput, quote)
    services.quote_request_changes(quote_id=quote.pk, actor=buyer.user, comment="cheaper")
    quote.refresh_from_db()
    assert_refused(lambda: services.quote_request_changes(quote_id=quote.pk, actor=buyer.user, comment="again"),
                   TransitionNotAllowed, quote)


# ------------------------------------------------------------ decline/cancel ---
def test_the_buyer_declines_a_sent_quote(shop, buyer, sales):
    quote, _variant = sent_quote(shop, buyer, sales)
    services.quote_decline(quote_id=quote.pk, actor=buyer.user, reason="Found it cheaper")
    quote.refresh_from_db()
    assert (quote.status, quote.close_reason) == (Quote.Status.DECLINED, "Found it cheaper")
    assert _events(quote)[-1] == "quote.declined"
    assert_refused(lambda: services.quote_decline(quote_id=quote.pk, actor=buyer.user), TransitionNotAllowed, quote)


def test_declining_before_it_is_sent_is_refused(shop, buyer):
    quote = rfq(buyer, (shop.variant("A"), 1))
    assert_refused(lambda: services.quote_decline(quote_id=quote.pk, actor=buyer.user), TransitionNotAllowed, quote)


def test_a_buyer_withdraws_a_request_but_not_a_sent_quote(shop, buyer, sales):
    quote = rfq(buyer, (shop.variant("A"), 1))
    services.quote_cancel(quote_id=quote.pk, actor=buyer.user, reason="Not needed")
    quote.refresh_from_db()
    assert quote.status == Quote.Status.CANCELLED
    assert _events(quote)[-1] == "quote.cancelled"

    sent, _variant = sent_quote(shop, buyer, sales, sku="B")
    assert_refused(lambda: services.quote_cancel(quote_id=sent.pk, actor=buyer.user), TransitionNotAllowed, sent)
    services.quote_cancel(quote_id=sent.pk, actor=sales, reason="Price list changed")
    sent.refresh_from_db()
    assert sent.status == Quote.Status.CANCELLED
    assert_refused(lambda: services.quote_cancel(quote_id=sent.pk, actor=sales), TransitionNotAllowed, sent)


# ---------------------------------------------------------- accept/convert ---
def test_accepting_converts_to_an_order_at_the_quoted_prices(shop, buyer, sales):
    quote, variant = sent_quote(shop, buyer, sales, unit="8.75", quantity=10)
    quote = services.quote_accept(quote_id=quote.pk, actor=buyer.user, details=details_for(buyer, po="PO-Q1"))

    assert quote.status == Quote.Status.CONVERTED
    assert _logs(quote) == ["in_review", "sent", "accepted", "converted"]
    assert _events(quote)[-2:] == ["quote.accepted", "quote.converted"]
    order = quote.order
    line = order.lines.get()
    assert (line.unit_price, line.line_total, line.quantity) == (Decimal("8.75"), Decimal("87.50"), 10)
    assert "Quote " + quote.number + " v1" in line.price_source
    assert (order.subtotal, order.po_number, order.customer_id) == (Decimal("87.50"), "PO-Q1", buyer.pk)
    assert order.status == Order.Status.CONFIRMED
    assert Event.objects.get(name="quote.converted").payload["order_number"] == order.number
    assert quote.conversion_error == {}


def test_quoted_shipping_is_used_when_set(shop, buyer, sales):
    variant = shop.variant("A", price="10.00")
    quote = rfq(buyer, (variant, 2))
    price(quote, sales, (variant, 2, "10.00"), shipping=Decimal("0.00"))
    services.quote_send(quote_id=quote.pk, actor=sales)
    quote = services.quote_accept(quote_id=quote.pk, actor=buyer.user, details=details_for(buyer))
    assert (quote.order.shipping_total, quote.order.total) == (Decimal("0.00"), Decimal("20.00"))


def test_insufficient_stock_keeps_the_quote_accepted_explains_and_alerts_sales(shop, buyer, sales):
    quote, variant = sent_quote(shop, buyer, sales, quantity=150)  # 100 in stock

    quote = services.quote_accept(quote_id=quote.pk, actor=buyer.user, details=details_for(buyer))

    assert quote.status == Quote.Status.ACCEPTED
    assert quote.order is None and not Order.objects.exists()
    assert quote.conversion_error["code"] == "insufficient_stock"
    assert quote.conversion_error["message"]
    assert "quote.conversion_failed" in _events(quote)
    alert = OutgoingMessage.objects.get(template_key="staff.alert", recipient_email="sales@shop.example")
    assert quote.number in alert.context["subject"]

    # Staff restock and retry from the admin: now it converts, once.
    stock.stock_receive(variant_id=variant.pk, warehouse_id=shop.warehouse.pk, quantity=100, reason="delivery")
    quote = services.quote_convert(quote_id=quote.pk, actor=sales)
    assert quote.status == Quote.Status.CONVERTED
    assert quote.order.lines.get().unit_price == Decimal("9.00")
    assert quote.conversion_error == {}
    again = services.quote_convert(quote_id=quote.pk, actor=sales)
    assert again.order_id == quote.order_id and Order.objects.count() == 1


def test_accepting_after_valid_until_is_refused_even_before_beat_expires_it(shop, buyer, sales):
    quote, _variant = sent_quote(shop, buyer, sales)
    Quote.objects.filter(pk=quote.pk).update(valid_until=timezone.now() - timedelta(minutes=1))
    quote.refresh_from_db()
    assert_refused(lambda: services.quote_accept(quote_id=quote.pk, actor=buyer.user, details=details_for(buyer)),
                   QuoteExpired, quote)


def test_accepting_with_a_bad_address_changes_nothing(shop, buyer, sales, consumer):
    quote, _variant = sent_quote(shop, buyer, sales)
    foreign = details_for(consumer)
    assert_refused(lambda: services.quote_accept(quote_id=quote.pk, actor=buyer.user, details=foreign),
                   InvalidInput, quote)


def test_accepting_an_unsent_quote_is_refused(shop, buyer):
    quote = rfq(buyer, (shop.variant("A"), 1))
    assert_refused(lambda: services.quote_accept(quote_id=quote.pk, actor=buyer.user, details=details_for(buyer)),
                   TransitionNotAllowed, quote)


def test_converting_a_quote_not_accepted_is_refused(shop, buyer, sales):
    quote, _variant = sent_quote(shop, buyer, sales)
    assert_refused(lambda: services.quote_convert(quote_id=quote.pk, actor=sales), TransitionNotAllowed, quote)


# --------------------------------------------------------------- visibility ---
def test_other_customers_quotes_do_not_exist_for_them(shop, buyer, sales, consumer, approver):
    quote, _variant = sent_quote(shop, buyer, sales)
    with pytest.raises(QuoteNotFound):
        selectors.quote_get_for_customer(customer=consumer, number=quote.number)
    for call in (lambda: services.quote_decline(quote_id=quote.pk, actor=consumer.user),
                 lambda: services.quote_request_changes(quote_id=quote.pk, actor=consumer.user, comment="x"),
                 lambda: services.quote_accept(quote_id=quote.pk, actor=consumer.user,
                                               details=details_for(consumer))):
        assert_refused(call, QuoteNotFound, quote)
    # A colleague who is not an approver does not see it either; the company's approver does.
    colleague = CustomerFactory(company=buyer.company)
    AddressFactory(profile=colleague)
    with pytest.raises(QuoteNotFound):
        selectors.quote_get_for_customer(customer=colleague, number=quote.number)
    assert selectors.quote_get_for_customer(customer=approver, number=quote.number) == quote


# ------------------------------------------------------------------- expiry ---
def test_expiry_is_idempotent(shop, buyer, sales):
    quote, _variant = sent_quote(shop, buyer, sales)
    later = quote.valid_until + timedelta(seconds=1)
    assert services.quotes_expire(now=quote.valid_until - timedelta(seconds=1)) == 0
    assert services.quotes_expire(now=later) == 1
    assert services.quotes_expire(now=later) == 0
    quote.refresh_from_db()
    assert quote.status == Quote.Status.EXPIRED
    assert _events(quote).count("quote.expired") == 1
    assert _logs(quote).count("expired") == 1


def test_expiry_leaves_accepted_and_open_requests_alone(shop, buyer, sales):
    quote, _variant = sent_quote(shop, buyer, sales, quantity=500)  # accepted, not convertible
    services.quote_accept(quote_id=quote.pk, actor=buyer.user, details=details_for(buyer))
    rfq(buyer, (shop.variant("B"), 1))
    assert services.quotes_expire(now=timezone.now() + timedelta(days=365)) == 0
    quote.refresh_from_db()
    assert quote.status == Quote.Status.ACCEPTED


def test_the_buyer_is_reminded_once_before_expiry(shop, buyer, sales, settings):
    settings.QUOTE_EXPIRY_REMINDER_HOURS = 48
    quote, _variant = sent_quote(shop, buyer, sales)
    assert services.quotes_remind_expiring(now=quote.valid_until - timedelta(hours=49)) == 0
    assert services.quotes_remind_expiring(now=quote.valid_until - timedelta(hours=47)) == 1
    assert services.quotes_remind_expiring(now=quote.valid_until - timedelta(hours=46)) == 0
    assert _events(quote).count("quote.expiring") == 1
    # A new version sent after changes gets its own reminder.
    services.quote_request_changes(quote_id=quote.pk, actor=buyer.user, comment="more time")
    price(quote, sales, (_variant, 10, "9.00"), valid_until=timezone.now() + timedelta(days=1))
    services.quote_send(quote_id=quote.pk, actor=sales)
    assert services.quotes_remind_expiring() == 1


def test_the_managers_digest_counts_new_and_open_quotes(shop, buyer, sales):
    sent_quote(shop, buyer, sales)
    rfq(buyer, (shop.variant("B"), 1))
    now = timezone.now()
    summary = selectors.digest_summary(start=now - timedelta(days=1), end=now + timedelta(minutes=1))
    assert summary["lines"] == ["2 new requests for quote", "Requested: 1", "Sent: 1"]


def test_review_and_repricing_are_refused_once_the_quote_is_with_the_buyer(shop, buyer, sales):
    quote, variant = sent_quote(shop, buyer, sales)
    assert_refused(lambda: services.quote_start_review(quote_id=quote.pk, actor=sales), TransitionNotAllowed, quote)
    # A sent version is never changed behind the buyer's back: they ask for changes first.
    assert_refused(lambda: price(quote, sales, (variant, 10, "1.00")), TransitionNotAllowed, quote)
    assert [line.unit_price for line in quote.current_version().lines.all()] == [Decimal("9.00")]


def test_staff_take_a_request_into_review(shop, buyer, sales, consumer):
    quote = rfq(buyer, (shop.variant("A"), 1))
    assert_refused(lambda: services.quote_start_review(quote_id=quote.pk, actor=consumer.user), NotAllowed, quote)
    services.quote_start_review(quote_id=quote.pk, actor=sales)
    quote.refresh_from_db()
    assert (quote.status, _logs(quote), _events(quote)[-1]) == ("in_review", ["in_review"], "quote.in_review")


def test_staff_cancel_an_accepted_quote_that_cannot_be_ordered(shop, buyer, sales):
    quote, _variant = sent_quote(shop, buyer, sales, quantity=999)
    services.quote_accept(quote_id=quote.pk, actor=buyer.user, details=details_for(buyer))
    assert_refused(lambda: services.quote_cancel(quote_id=quote.pk, actor=buyer.user), TransitionNotAllowed, quote)
    services.quote_cancel(quote_id=quote.pk, actor=sales, reason="No stock before the buyer's deadline")
    quote.refresh_from_db()
    assert quote.status == Quote.Status.CANCELLED
    assert_refused(lambda: services.quote_convert(quote_id=quote.pk, actor=sales), TransitionNotAllowed, quote)
