import pytest
from django.urls import reverse

from returns.models import ReturnRequest

from .conftest import ask, delivered_order


@pytest.fixture
def order(shop, buyer, policy):
    return delivered_order(buyer, [(shop.variant("A", price="12.50"), 4), (shop.variant("B", price="3.00"), 1)])


def test_the_order_page_offers_returns_once_delivered(client, order, buyer):
    client.force_login(buyer.user)
    page = client.get(reverse("orders:detail", args=[order.number])).content.decode()
    assert reverse("returns:new", args=[order.number]) in page and "Return items" in page


def test_a_customer_returns_items_from_the_portal(client, order, buyer):
    client.force_login(buyer.user)
    line = order.lines.get(sku="A")
    form = client.get(reverse("returns:new", args=[order.number]))
    assert form.status_code == 200 and f'name="qty_{line.pk}"' in form.content.decode()

    response = client.post(reverse("returns:new", args=[order.number]), {
        f"qty_{line.pk}": 2, "reason": "changed_mind", "resolution": "refund", "comments": "Too many"})
    created = ReturnRequest.objects.get()
    assert response["Location"] == reverse("returns:detail", args=[created.rma])
    page = client.get(response["Location"]).content.decode()
    assert created.rma in page and "Approved" in page and "25.00" in page
    assert reverse("returns:label", args=[created.rma]) in page

    label = client.get(reverse("returns:label", args=[created.rma]))
    assert label["Content-Type"] == "application/pdf" and label.content.startswith(b"%PDF")

    client.post(reverse("returns:shipped", args=[created.rma]), {"tracking_number": "RT-5"})
    created.refresh_from_db()
    assert (created.status, created.tracking_number) == (ReturnRequest.Status.IN_TRANSIT, "RT-5")
    listing = client.get(reverse("returns:list")).content.decode()
    assert created.rma in listing and "Shipped back" in listing


def test_a_refused_quantity_is_shown_on_the_form(client, order, buyer):
    client.force_login(buyer.user)
    ask(order, ("A", 3))
    line = order.lines.get(sku="A")
    response = client.post(reverse("returns:new", args=[order.number]), {
        f"qty_{line.pk}": 2, "reason": "changed_mind", "resolution": "refund"})
    assert response.status_code == 200
    assert ReturnRequest.objects.count() == 1


def test_a_rejection_shows_its_reason(client, order, buyer):
    from datetime import timedelta

    rejected = ask(order, ("A", 1), now=order.delivered_at + timedelta(days=31))
    client.force_login(buyer.user)
    page = client.get(reverse("returns:detail", args=[rejected.rma])).content.decode()
    assert "Rejected" in page and "return window for A closed" in page
    assert client.get(reverse("returns:label", args=[rejected.rma])).status_code == 404


def test_other_customers_orders_and_returns_are_404(client, order, consumer):
    request = ask(order, ("A", 1))
    client.force_login(consumer.user)
    assert client.get(reverse("returns:new", args=[order.number])).status_code == 404
    assert client.get(reverse("returns:detail", args=[request.rma])).status_code == 404
    assert client.get(reverse("returns:label", args=[request.rma])).status_code == 404
    assert client.post(reverse("returns:shipped", args=[request.rma])).status_code == 404
    request.refresh_from_db()
    assert request.status == ReturnRequest.Status.APPROVED


def test_staff_inspect_and_refund_with_the_admin_buttons(client, order, django_user_model):
    request = ask(order, ("A", 2), ("B", 1), reason="damaged")
    admin = django_user_model.objects.create_superuser("boss", "boss@shop.example", "pw-123-xyz")
    client.force_login(admin)
    url = reverse("admin:returns_returnrequest_transition", args=[request.pk])
    page = client.get(reverse("admin:returns_returnrequest_change", args=[request.pk])).content.decode()
    assert 'value="approve"' in page and 'value="refund"' not in page
    client.post(url, {"action_name": "approve"})
    client.post(url, {"action_name": "receive"})
    page = client.get(reverse("admin:returns_returnrequest_change", args=[request.pk])).content.decode()
    line_b = request.lines.get(sku="B")
    assert f'name="condition_{line_b.pk}"' in page
    client.post(url, {"action_name": "inspect", f"condition_{line_b.pk}": "refused", "reason": "B opened"})
    client.post(url, {"action_name": "refund"})
    request.refresh_from_db()
    assert request.status == ReturnRequest.Status.REFUNDED
    assert str(request.refund_amount) == "25.00"
    assert client.get(reverse("admin:returns_returnpolicy_changelist")).status_code == 200
    label = client.get(reverse("admin:returns_returnrequest_label", args=[request.pk]))
    assert label.content.startswith(b"%PDF")


def test_the_returns_list_runs_a_fixed_number_of_queries(client, order, buyer, django_assert_max_num_queries):
    for _ in range(3):
        ask(order, ("A", 1))
    client.force_login(buyer.user)
    with django_assert_max_num_queries(12):
        page = client.get(reverse("returns:list"))
    assert page.content.decode().count("RMA-") >= 3


def test_withdraw_from_the_portal(client, order, buyer):
    request = ask(order, ("A", 1))
    client.force_login(buyer.user)
    client.post(reverse("returns:withdraw", args=[request.rma]))
    request.refresh_from_db()
    assert request.status == ReturnRequest.Status.CLOSED


def test_staff_approve_several_waiting_returns_at_once(client, order, django_user_model):
    waiting = [ask(order, ("A", 1), reason="damaged") for _ in range(2)]
    done = ask(order, ("B", 1))
    admin = django_user_model.objects.create_superuser("boss", "boss@shop.example", "pw-123-xyz")
    client.force_login(admin)
    client.post(reverse("admin:returns_returnrequest_changelist"),
                {"action": "bulk_approve", "_selected_action": [r.pk for r in [*waiting, done]]})
    assert set(ReturnRequest.objects.values_list("status", flat=True)) == {"approved"}
