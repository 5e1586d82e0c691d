"""The one-click unsubscribe link: a confirm page on GET, unsubscribe on POST."""

import pytest

from automation.models import Event
from notifications import services
from tests.notifications.factories import customer


@pytest.mark.django_db
def test_get_shows_a_confirmation_and_changes_nothing(client):
    ana = customer(email="ana@example.com", consent=True)
    url = services.unsubscribe_url(ana).removeprefix("http://127.0.0.1:8000")

    response = client.get(url)

    assert response.status_code == 200
    assert b"ana@example.com" in response.content and b"<form method=\"post\"" in response.content
    ana.refresh_from_db()
    assert ana.marketing_consent is True


@pytest.mark.django_db
def test_post_from_the_page_unsubscribes_and_is_idempotent(client):
    ana = customer(email="ana@example.com", consent=True)
    url = services.unsubscribe_url(ana).removeprefix("http://127.0.0.1:8000")

    assert client.post(url).status_code == 200
    assert client.post(url).status_code == 200

    ana.refresh_from_db()
    assert ana.marketing_consent is False and ana.marketing_consent_at is None
    assert Event.objects.filter(name="customer.consent_changed").count() == 1


@pytest.mark.django_db
def test_a_forged_token_is_refused_and_changes_nothing(client):
    ana = customer(email="ana@example.com", consent=True)
    token = services.unsubscribe_token(ana)

    response = client.post(f"/notifications/unsubscribe/{token[:-2]}xx/")

    assert response.status_code == 400
    ana.refresh_from_db()
    assert ana.marketing_consent is True


@pytest.mark.django_db
def test_the_unsubscribe_page_is_rate_limited(client, settings):
    settings.PUBLIC_LOOKUP_RATE_LIMIT = "2/m"
    from django.core.cache import cache

    cache.clear()
    ana = customer(email="ana@example.com", consent=True)
    url = services.unsubscribe_url(ana).removeprefix("http://127.0.0.1:8000")
    codes = [client.get(url).status_code for _ in range(3)]
    cache.clear()
    assert codes == [200, 200, 429]


@pytest.mark.django_db
def test_my_messages_lists_only_my_own_and_hides_others_as_404(client, esp):
    from notifications.models import OutgoingMessage
    from tests.factories import PASSWORD

    ana = customer(email="ana@example.com")
    bob = customer(email="bob@example.com")
    mine = services.message_queue(template_key="order.placed", recipient_email="ana@example.com", language="en",
                                  context={"number": "SA-1"}, idempotency_key="a", customer=ana)
    theirs = services.message_queue(template_key="order.placed", recipient_email="bob@example.com", language="en",
                                    context={"number": "SA-2"}, idempotency_key="b", customer=bob)
    assert client.login(username=ana.user.username, password=PASSWORD)

    listing = client.get("/notifications/")
    assert listing.status_code == 200
    assert b"SA-1" in listing.content and b"SA-2" not in listing.content
    assert client.get(f"/notifications/{mine.pk}/").status_code == 200
    assert client.get(f"/notifications/{theirs.pk}/").status_code == 404
    assert OutgoingMessage.objects.count() == 2
