"""The outbox: one email per event and recipient, retried when the ESP stumbles,
failed loudly when it refuses, marketing only with consent and under the cap."""

import threading
from datetime import timedelta

import pytest
from django.contrib.auth.models import Group
from django.core import mail
from django.db import connection
from django.utils import timezone

from automation import services as spine
from automation.models import Event, HandlerRun
from notifications import services, templating
from notifications.exceptions import MessageNotResendable
from notifications.models import NotificationSwitch, OutgoingMessage, Suppression
from notifications.routing import template_keys
from notifications.samples import sample_context
from notifications.tasks import send_message
from tests.conftest import requires_postgres
from tests.notifications.factories import NotificationTemplateFactory, customer, staff_in

Status = OutgoingMessage.Status


def order_payload(profile, number="SA-1001", **extra):
    payload = sample_context("order.confirmed")
    payload.update(number=number, customer_id=profile.pk, email=profile.user.email, **extra)
    return payload


def deliver(name, payload):
    """Emit an event and run its handlers, as the worker would."""
    event = spine.emit(name, payload=payload)
    spine.event_process(event_id=event.pk)
    return event


def send_all_queued():
    for message_id in OutgoingMessage.objects.filter(status=Status.QUEUED).order_by("pk").values_list("pk", flat=True):
        services.message_send(message_id=message_id)


@pytest.mark.django_db
def test_staff_groups_exist_after_migrate():
    assert set(Group.objects.values_list("name", flat=True)) >= {"Managers", "Purchasing", "Support", "Sales"}


@pytest.mark.django_db
def test_one_event_delivered_twice_sends_one_email(esp):
    ana = customer(email="ana@example.com")
    event = spine.emit("order.confirmed", payload=order_payload(ana))

    spine.event_process(event_id=event.pk)
    Event.objects.filter(pk=event.pk).update(status=Event.Status.PENDING)  # the broker redelivers it
    HandlerRun.objects.filter(event=event).delete()  # even with the handler log lost, the key holds
    spine.event_process(event_id=event.pk)
    send_all_queued()

    message = OutgoingMessage.objects.get()
    assert message.idempotency_key == f"{event.pk}:order.confirmed:ana@example.com"
    assert message.status == Status.SENT
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["ana@example.com"]
    assert mail.outbox[0].subject == "Order SA-1001 is confirmed"
    assert message.esp_message_id == "0"  # anymail's test backend id


@pytest.mark.django_db
def test_a_redelivered_send_task_never_sends_twice(esp):
    ana = customer(email="ana@example.com")
    deliver("order.shipped", order_payload(ana))
    message = OutgoingMessage.objects.get()

    assert send_message(message.pk) == "sent"
    assert send_message(message.pk) == "not_queued"
    assert len(mail.outbox) == 1
    message.refresh_from_db()
    assert message.attempts == 1


@requires_postgres
@pytest.mark.django_db(transaction=True)
def test_two_workers_sending_the_same_message_at_once_send_it_once(esp):
    ana = customer(email="ana@example.com")
    deliver("order.placed", order_payload(ana))
    message = OutgoingMessage.objects.get()
    barrier = threading.Barrier(4)
    results = []

    def worker():
        try:
            barrier.wait()
            results.append(services.message_send(message_id=message.pk).result)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(results) == ["not_queued"] * 3 + ["sent"]
    assert esp.calls == 1
    assert len(mail.outbox) == 1


@pytest.mark.django_db
def test_transient_esp_errors_are_retried_then_sent(esp):
    ana = customer(email="ana@example.com")
    deliver("order.confirmed", order_payload(ana))
    message = OutgoingMessage.objects.get()
    esp.script = ["transient", "rate_limited"]

    send_message.apply(args=(message.pk,))  # eager: each retry runs at once, countdown aside

    message.refresh_from_db()
    assert message.status == Status.SENT
    assert message.attempts == 3
    assert esp.calls == 3
    assert len(mail.outbox) == 1
    assert not OutgoingMessage.objects.filter(template_key="staff.message_failed").exists()


@pytest.mark.django_db
def test_a_transient_error_puts_the_message_back_in_the_queue_with_a_bounded_jittered_delay(esp, settings):
    settings.EMAIL_RETRY_BASE_SECONDS = 30
    ana = customer(email="ana@example.com")
    deliver("order.confirmed", order_payload(ana))
    message = OutgoingMessage.objects.get()
    esp.script = ["transient"]

    outcome = services.message_send(message_id=message.pk)

    message.refresh_from_db()
    assert outcome.result == "retry" and 15 <= outcome.retry_in <= 30
    assert message.status == Status.QUEUED
    assert "503" in message.last_error
    assert message.next_attempt_at > timezone.now()
    assert mail.outbox == []
    delays = [services.retry_delay(attempt) for attempt in range(1, 30)]
    assert max(delays) <= 1800
    assert len({round(services.retry_delay(4)) for _ in range(20)}) > 1  # jitter


@pytest.mark.django_db
def test_a_permanent_esp_error_fails_the_message_and_alerts_support(esp):
    support = staff_in("Support", email="support@shop.example")
    staff_in("Sales", email="sales@shop.example")
    ana = customer(email="ana@example.com")
    deliver("order.confirmed", order_payload(ana))
    message = OutgoingMessage.objects.get(template_key="order.confirmed")
    esp.script = ["permanent"]

    send_message.apply(args=(message.pk,))

    message.refresh_from_db()
    assert message.status == Status.FAILED
    assert message.attempts == 1  # a 422 is not retried
    assert "422" in message.last_error
    alert = OutgoingMessage.objects.get(template_key="staff.message_failed")
    assert alert.recipient_email == support.email
    assert "ana@example.com" in alert.body_text and "422" in alert.body_text
    assert mail.outbox == []


@pytest.mark.django_db
def test_transient_errors_give_up_after_the_maximum_attempts(esp, settings):
    settings.EMAIL_MAX_ATTEMPTS = 2
    staff_in("Support", email="support@shop.example")
    ana = customer(email="ana@example.com")
    deliver("order.confirmed", order_payload(ana))
    message = OutgoingMessage.objects.get()
    esp.script = ["transient"] * 3

    send_message.apply(args=(message.pk,))

    message.refresh_from_db()
    assert (message.status, message.attempts) == (Status.FAILED, 2)
    assert OutgoingMessage.objects.filter(template_key="staff.message_failed").count() == 1


@pytest.mark.django_db
def test_marketing_without_consent_is_skipped_and_transactional_mail_still_goes(esp):
    bob = customer(email="bob@example.com", consent=False)
    deliver("cart.abandoned", {"customer_id": bob.pk, "email": bob.user.email, "lines": [], "url": "/cart/"})
    deliver("order.confirmed", order_payload(bob))
    send_all_queued()

    skipped = OutgoingMessage.objects.get(template_key="cart.abandoned")
    assert skipped.status == Status.SKIPPED and skipped.last_error == "no marketing consent"
    assert [m.subject for m in mail.outbox] == ["Order SA-1001 is confirmed"]


@pytest.mark.django_db
def test_marketing_over_the_daily_cap_is_skipped(esp, settings):
    settings.MARKETING_MAX_PER_DAY = 1
    ana = customer(email="ana@example.com", consent=True)
    payload = {"customer_id": ana.pk, "email": ana.user.email, "sku": "HOODIE", "product": "Hoodie", "url": "/x/"}

    deliver("customer.back_in_stock", payload)
    deliver("customer.back_in_stock", {**payload, "sku": "SOCKS", "product": "Socks"})
    deliver("order.confirmed", order_payload(ana))  # transactional: not capped
    send_all_queued()

    statuses = dict(OutgoingMessage.objects.values_list("context__sku", "status"))
    assert statuses["HOODIE"] == Status.SENT
    assert statuses["SOCKS"] == Status.SKIPPED
    assert sorted(m.subject for m in mail.outbox) == ["Hoodie is back in stock", "Order SA-1001 is confirmed"]


@pytest.mark.django_db
def test_marketing_to_a_suppressed_address_is_skipped(esp):
    ana = customer(email="ana@example.com", consent=True)
    Suppression.objects.create(email="ana@example.com", reason=Suppression.Reason.BOUNCED)
    deliver("cart.abandoned", {"customer_id": ana.pk, "lines": [], "url": "/cart/"})
    assert OutgoingMessage.objects.get().status == Status.SKIPPED
    assert services.message_queue(template_key="order.confirmed", recipient_email="ana@example.com", language="en",
                                  context=order_payload(ana), idempotency_key="k1") is not None


@pytest.mark.django_db
def test_marketing_mail_carries_a_one_click_unsubscribe_link_and_headers(esp, client):
    ana = customer(email="ana@example.com", consent=True)
    deliver("customer.back_in_stock", {"customer_id": ana.pk, "sku": "H", "product": "Hoodie", "url": "/x/"})
    send_all_queued()

    sent = mail.outbox[0]
    headers = sent.anymail_test_params["extra_headers"]
    assert headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    link = headers["List-Unsubscribe"].strip("<>")
    assert link in sent.body
    response = client.post(link.removeprefix("http://127.0.0.1:8000"), {"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200
    ana.refresh_from_db()
    assert ana.marketing_consent is False
    assert Event.objects.filter(name="customer.consent_changed").exists()


@pytest.mark.django_db
def test_language_fallback_to_the_shop_language_when_a_translation_is_missing(esp):
    italian = customer(email="it@example.com", language="it")  # no Italian template shipped
    brazilian = customer(email="br@example.com", language="pt-br")
    deliver("order.confirmed", order_payload(italian, number="SA-1"))
    deliver("order.confirmed", order_payload(brazilian, number="SA-2"))

    by_email = {m.recipient_email: m for m in OutgoingMessage.objects.all()}
    assert (by_email["it@example.com"].language, by_email["it@example.com"].subject) == ("en", "Order SA-1 is confirmed")
    assert (by_email["br@example.com"].language, by_email["br@example.com"].subject) == (
        "pt-br", "Pedido SA-2 confirmado")
    assert "Boa notícia" in by_email["br@example.com"].body_text


@pytest.mark.django_db
def test_a_staff_edited_template_overrides_the_file_and_an_inactive_one_does_not():
    NotificationTemplateFactory(language="es")
    NotificationTemplateFactory(language="it", subject="IGNORED", is_active=False)
    context = {"number": "SA-9", "recipient_name": "Bruno"}

    assert templating.render(key="order.confirmed", language="es", context=context).subject == "Pedido SA-9 confirmado"
    rendered = templating.render(key="order.confirmed", language="it", context=context)
    assert (rendered.language, rendered.subject) == ("en", "Order SA-9 is confirmed")


@pytest.mark.django_db
def test_html_body_escapes_the_payload_and_the_text_body_does_not():
    rendered = templating.render(key="order.confirmed", language="en",
                                 context={**sample_context("order.confirmed"), "recipient_name": "<b>Ana & Co</b>"})
    assert "&lt;b&gt;Ana &amp; Co&lt;/b&gt;" in rendered.body_html
    assert "<b>Ana & Co</b>" in rendered.body_text


@pytest.mark.django_db
def test_a_switched_off_template_sends_nothing(esp):
    NotificationSwitch.objects.update_or_create(template_key="order.shipped", defaults={"enabled": False})
    ana = customer(email="ana@example.com")
    deliver("order.shipped", order_payload(ana))
    deliver("order.delivered", order_payload(ana))
    assert list(OutgoingMessage.objects.values_list("template_key", flat=True)) == ["order.delivered"]


@pytest.mark.django_db
def test_stock_low_alerts_every_purchasing_member_once(esp):
    staff_in("Purchasing", email="p1@shop.example")
    staff_in("Purchasing", email="p2@shop.example")
    staff_in("Sales", email="sales@shop.example")
    payload = sample_context("stock.low")

    event = deliver("stock.low", payload)
    spine.event_process(event_id=event.pk)
    send_all_queued()

    assert sorted(m.to[0] for m in mail.outbox) == ["p1@shop.example", "p2@shop.example"]
    assert mail.outbox[0].subject == "Low stock: HOODIE-L-GREY at Madrid"
    assert "PO-0042" in mail.outbox[0].body


@pytest.mark.django_db
def test_order_awaiting_approval_goes_to_the_buyer_and_the_company_approvers(esp):
    from customers.models import CustomerProfile
    from tests.factories import CompanyFactory, CustomerFactory

    company = CompanyFactory()
    buyer = CustomerFactory(company=company, user__email="buyer@acme.example", user__username="buyer@acme.example")
    CustomerFactory(company=company, role=CustomerProfile.Role.APPROVER, language="es",
                    user__email="approver@acme.example", user__username="approver@acme.example")
    deliver("order.awaiting_approval", order_payload(buyer))

    assert dict(OutgoingMessage.objects.values_list("recipient_email", "template_key")) == {
        "buyer@acme.example": "order.awaiting_approval", "approver@acme.example": "order.approval_requested"}


@pytest.mark.django_db
def test_staff_alert_mails_each_group_member_once_per_key(esp):
    staff_in("Support", email="s1@shop.example")
    staff_in("Support", email="s2@shop.example", is_active=False)

    first = services.staff_alert(group="Support", subject="Carrier down", body="Queued.", idempotency_key="carrier:1")
    again = services.staff_alert(group="Support", subject="Carrier down", body="Queued.", idempotency_key="carrier:1")

    assert [m.recipient_email for m in first] == ["s1@shop.example"]
    assert again == []
    assert first[0].subject == "[ShopAuto] Carrier down"


@pytest.mark.django_db
def test_resend_creates_a_new_message_and_keeps_the_failed_one(esp):
    ana = customer(email="ana@example.com")
    deliver("order.confirmed", order_payload(ana))
    original = OutgoingMessage.objects.get()
    esp.script = ["permanent"]
    services.message_send(message_id=original.pk)

    again = services.message_resend(message=original)
    services.message_send(message_id=again.pk)

    original.refresh_from_db()
    again.refresh_from_db()
    assert (original.status, again.status) == (Status.FAILED, Status.SENT)
    assert again.resend_of == original
    assert len(mail.outbox) == 1
    with pytest.raises(MessageNotResendable):
        services.message_resend(message=again)


@pytest.mark.django_db
def test_sweeper_fails_a_message_stuck_while_handing_it_to_the_esp_and_never_resends_it(esp):
    staff_in("Support", email="support@shop.example")
    ana = customer(email="ana@example.com")
    deliver("order.confirmed", order_payload(ana))
    message = OutgoingMessage.objects.get()
    # The worker claimed it and died before recording the outcome.
    OutgoingMessage.objects.filter(pk=message.pk).update(status=Status.SENDING, attempts=1,
                                                         last_attempt_at=timezone.now() - timedelta(hours=1))

    result = services.messages_sweep()
    assert send_message(message.pk) == "not_queued"

    message.refresh_from_db()
    assert result["stuck_failed"] == 1
    assert message.status == Status.FAILED and "Outcome unknown" in message.last_error
    assert mail.outbox == []
    assert OutgoingMessage.objects.filter(template_key="staff.message_failed").exists()


@pytest.mark.django_db(transaction=True)
def test_sweeper_redispatches_messages_left_queued_when_the_broker_was_down(broker_queue, esp):
    ana = customer(email="ana@example.com")
    message = services.message_queue(template_key="order.placed", recipient_email=ana.user.email, language="en",
                                      context=order_payload(ana), idempotency_key="sweep:1")
    broker_queue.delete("celery")  # pretend the on-commit publish never reached the broker
    OutgoingMessage.objects.filter(pk=message.pk).update(next_attempt_at=timezone.now() - timedelta(hours=1))

    assert services.messages_sweep()["dispatched"] == 1
    assert broker_queue.llen("celery") == 1
    assert services.messages_sweep()["dispatched"] == 0  # not again within the grace period


@pytest.mark.django_db
def test_template_syntax_error_fails_the_message_visibly(esp):
    staff_in("Support", email="support@shop.example")
    NotificationTemplateFactory(language="en", subject="{% if %}")
    ana = customer(email="ana@example.com")
    deliver("order.confirmed", order_payload(ana))
    message = OutgoingMessage.objects.get(template_key="order.confirmed")
    assert message.status == Status.FAILED and "template_invalid" in message.last_error
    assert OutgoingMessage.objects.filter(template_key="staff.message_failed").exists()


@pytest.mark.django_db
def test_promotion_events_are_marketing_mail(esp):
    ana = customer(email="ana@example.com", consent=True)
    bob = customer(email="bob@example.com", consent=False)
    for profile in (ana, bob):
        deliver("promotion.weekend", {"customer_id": profile.pk, "title": "20% off", "body": "Code WARM20", "url": "/"})
    send_all_queued()
    assert [(m.to, m.subject) for m in mail.outbox] == [(["ana@example.com"], "20% off")]
    assert "List-Unsubscribe" in mail.outbox[0].anymail_test_params["extra_headers"]


@pytest.mark.django_db
@pytest.mark.parametrize("key", template_keys())
def test_every_shipped_template_renders_its_sample_payload(key):
    rendered = templating.render(key=key, language="en", context=sample_context(key))
    assert rendered.subject and "{" not in rendered.subject
    assert rendered.body_text.strip() and rendered.body_html.startswith("<!doctype html>")


def _in_threads(count, target):
    barrier = threading.Barrier(count)
    results, errors = [], []

    def run(index):
        try:
            barrier.wait()
            results.append(target(index))
        except Exception as exc:  # pragma: no cover - reported by the assertion
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(index,)) for index in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    return results


@requires_postgres
@pytest.mark.django_db(transaction=True)
def test_the_same_key_queued_concurrently_makes_one_message():
    ana = customer(email="ana@example.com")
    results = _in_threads(4, lambda index: services.message_queue(
        template_key="order.placed", recipient_email="ana@example.com", language="en",
        context=order_payload(ana), idempotency_key="same-key"))
    assert sum(result is not None for result in results) == 1
    assert OutgoingMessage.objects.count() == 1


@requires_postgres
@pytest.mark.django_db(transaction=True)
def test_the_marketing_cap_holds_under_concurrent_queueing(settings):
    settings.MARKETING_MAX_PER_DAY = 1
    ana = customer(email="ana@example.com", consent=True)
    results = _in_threads(4, lambda index: services.message_queue(
        template_key="customer.back_in_stock", recipient_email="ana@example.com", language="en",
        context={"product": f"P{index}", "sku": f"S{index}", "url": "/"}, idempotency_key=f"bis:{index}",
        marketing=True, customer=ana))
    assert sum(result is not None for result in results) == 1
    assert OutgoingMessage.objects.filter(status=Status.QUEUED).count() == 1
    assert OutgoingMessage.objects.filter(status=Status.SKIPPED).count() == 3


def test_error_classification_transient_versus_permanent():
    import smtplib

    import requests
    from anymail.exceptions import AnymailAPIError, AnymailRecipientsRefused

    def api_error(status):
        response = requests.Response()
        response.status_code, response.reason = status, "x"
        return AnymailAPIError("no", status_code=status, response=response)

    try:
        raise AnymailAPIError("connect failed") from requests.ConnectionError("refused")
    except AnymailAPIError as exc:
        connection_error = exc
    assert [services.is_transient(api_error(code)) for code in (500, 503, 429, 408)] == [True] * 4
    assert [services.is_transient(api_error(code)) for code in (400, 401, 422)] == [False] * 3
    assert services.is_transient(connection_error)
    assert not services.is_transient(AnymailRecipientsRefused())
    assert services.is_transient(TimeoutError())
    assert services.is_transient(smtplib.SMTPDataError(451, b"try later"))
    assert not services.is_transient(smtplib.SMTPDataError(550, b"no such user"))
    assert not services.is_transient(smtplib.SMTPRecipientsRefused({"a@b.c": (550, b"no")}))
    assert not services.is_transient(ValueError("bug"))
