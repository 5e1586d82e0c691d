import pytest
from django.contrib.auth.models import Permission
from rest_framework.test import APIClient

from notifications import services
from notifications.models import OutgoingMessage
from tests.factories import StaffFactory
from tests.notifications.factories import customer


@pytest.fixture
def outbox(esp):
    ana = customer(email="ana@example.com")
    bob = customer(email="bob@example.com")
    mine = services.message_queue(template_key="order.placed", recipient_email="ana@example.com", language="en",
                                  context={"number": "SA-1"}, idempotency_key="a", customer=ana)
    theirs = services.message_queue(template_key="order.placed", recipient_email="bob@example.com", language="en",
                                    context={"number": "SA-2"}, idempotency_key="b", customer=bob)
    esp.script = ["permanent"]
    services.message_send(message_id=theirs.pk)
    return ana, mine, theirs


@pytest.mark.django_db
def test_a_customer_lists_only_their_own_messages(outbox, django_assert_max_num_queries):
    ana, mine, theirs = outbox
    api = APIClient()
    api.force_authenticate(ana.user)
    with django_assert_max_num_queries(4):
        listing = api.get("/api/v1/messages/")
    assert [row["id"] for row in listing.json()["results"]] == [mine.pk]
    assert api.get(f"/api/v1/messages/{theirs.pk}/").status_code == 404
    assert api.post(f"/api/v1/messages/{theirs.pk}/resend/").status_code == 404


@pytest.mark.django_db
def test_staff_filter_the_outbox_and_resend_with_the_change_permission(outbox):
    _, mine, theirs = outbox
    staff = StaffFactory()
    staff.user_permissions.add(Permission.objects.get(codename="view_outgoingmessage"))
    api = APIClient()
    api.force_authenticate(staff)

    failed = api.get("/api/v1/messages/?status=failed").json()["results"]
    assert [row["id"] for row in failed] == [theirs.pk]
    refused = api.post(f"/api/v1/messages/{theirs.pk}/resend/")
    assert refused.status_code == 403 and not OutgoingMessage.objects.filter(resend_of=theirs).exists()

    staff.user_permissions.add(Permission.objects.get(codename="change_outgoingmessage"))
    staff = type(staff).objects.get(pk=staff.pk)  # fresh permission cache
    api.force_authenticate(staff)
    resent = api.post(f"/api/v1/messages/{theirs.pk}/resend/")
    assert resent.status_code == 201 and resent.json()["status"] == "queued"
    not_failed = api.post(f"/api/v1/messages/{mine.pk}/resend/")
    assert not_failed.status_code == 409 and not_failed.json()["error"]["code"] == "message_not_resendable"


@pytest.mark.django_db
def test_a_user_without_permission_sees_nothing(outbox):
    api = APIClient()
    api.force_authenticate(StaffFactory())
    assert api.get("/api/v1/messages/").json()["results"] == []
