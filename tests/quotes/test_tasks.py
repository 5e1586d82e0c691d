from datetime import timedelta

from automation import services as spine
from automation.models import Event, JobRun
from notifications.models import OutgoingMessage
from notifications.samples import sample_context
from notifications.templating import render
from quotes import services, tasks
from quotes.models import Quote
from shopauto.schedule import BEAT_SCHEDULE

from .conftest import details_for, price, rfq, sent_quote


def _process_events():
    for event_id in Event.objects.filter(status=Event.Status.PENDING).order_by("pk").values_list("pk", flat=True):
        spine.event_process(event_id=event_id)


def _mails():
    return sorted(OutgoingMessage.objects.values_list("template_key", "recipient_email"))


def test_beat_runs_expiry_and_reminders_once_per_slot(shop, buyer, sales):
    assert BEAT_SCHEDULE["quotes.expire_quotes"]["task"] == "quotes.tasks.expire_quotes"
    quote, _variant = sent_quote(shop, buyer, sales)
    after = quote.valid_until + timedelta(minutes=1)

    first = tasks._expire_and_remind(now=after)
    second = tasks._expire_and_remind(now=after)  # the same slot: a second beat or a late run

    assert first == {"reminded": 0, "expired": 1}
    assert second is None
    assert JobRun.objects.filter(job="quotes.expire_and_remind").count() == 1
    quote.refresh_from_db()
    assert quote.status == Quote.Status.EXPIRED
    assert Event.objects.filter(name="quote.expired").count() == 1
    assert tasks._expire_and_remind(now=after + timedelta(hours=1)) == {"reminded": 0, "expired": 0}


def test_emails_and_staff_alerts_follow_each_step(shop, buyer, sales, manager, settings):
    settings.QUOTE_MAX_DISCOUNT_PERCENT = 10
    variant = shop.variant("A", price="10.00")
    quote = rfq(buyer, (variant, 20))
    _process_events()
    assert _mails() == [("quote.requested", "buyer@acme.example"), ("quote.rfq_received", "sales@shop.example")]

    OutgoingMessage.objects.all().delete()
    price(quote, sales, (variant, 20, "8.00"))
    services.quote_send(quote_id=quote.pk, actor=sales)
    _process_events()
    assert _mails() == [("quote.approval_needed", "manager@shop.example")]

    OutgoingMessage.objects.all().delete()
    services.quote_approve(quote_id=quote.pk, actor=manager)
    services.quote_send(quote_id=quote.pk, actor=sales)
    _process_events()
    assert _mails() == [("quote.sent", "buyer@acme.example")]
    assert "8.00" in OutgoingMessage.objects.get().body_text

    OutgoingMessage.objects.all().delete()
    services.quote_request_changes(quote_id=quote.pk, actor=buyer.user, comment="7.50 please")
    _process_events()
    assert _mails() == [("quote.changes_requested", "sales@shop.example")]
    assert "7.50 please" in OutgoingMessage.objects.get().body_text

    OutgoingMessage.objects.all().delete()
    price(quote, sales, (variant, 20, "9.00"))
    services.quote_send(quote_id=quote.pk, actor=sales)
    services.quote_accept(quote_id=quote.pk, actor=buyer.user, details=details_for(buyer))
    _process_events()
    mails = set(_mails())
    assert {("quote.sent", "buyer@acme.example"), ("quote.accepted", "sales@shop.example"),
            ("quote.converted", "buyer@acme.example"), ("order.placed", "buyer@acme.example")} <= mails
    assert ("quote.accepted", "buyer@acme.example") not in mails  # the order's mails follow at once


def test_expiring_and_expired_mails_go_to_the_buyer(shop, buyer, sales):
    quote, _variant = sent_quote(shop, buyer, sales)
    services.quotes_remind_expiring(now=quote.valid_until - timedelta(hours=1))
    services.quotes_expire(now=quote.valid_until + timedelta(hours=1))
    OutgoingMessage.objects.all().delete()
    for event in Event.objects.filter(name__in=["quote.expiring", "quote.expired"]):
        spine.event_process(event_id=event.pk)
    assert _mails() == [("quote.expired", "buyer@acme.example"), ("quote.expiring", "buyer@acme.example")]


def test_a_failed_conversion_is_mailed_to_the_buyer(shop, buyer, sales):
    quote, _variant = sent_quote(shop, buyer, sales, quantity=1000)
    services.quote_accept(quote_id=quote.pk, actor=buyer.user, details=details_for(buyer))
    OutgoingMessage.objects.all().delete()
    spine.event_process(event_id=Event.objects.get(name="quote.conversion_failed").pk)
    message = OutgoingMessage.objects.get()
    assert (message.template_key, message.recipient_email) == ("quote.conversion_failed", "buyer@acme.example")
    assert "stock" in message.body_text.lower()


def test_every_quote_template_renders_its_sample(db):
    for key in ("quote.requested", "quote.rfq_received", "quote.approval_needed", "quote.sent", "quote.expiring",
                "quote.expired", "quote.accepted", "quote.converted", "quote.conversion_failed",
                "quote.changes_requested", "quote.declined"):
        rendered = render(key=key, language="en", context=sample_context(key))
        assert "Q-7K3M9P2D" in rendered.subject, key
        assert "Q-7K3M9P2D" in rendered.body_text and rendered.body_html, key
        assert "{{" not in rendered.body_text, key
