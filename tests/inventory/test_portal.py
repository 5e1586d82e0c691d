import pytest

from inventory import services
from inventory.models import BackInStockSubscription
from tests.factories import CustomerFactory

from .factories import stocked

pytestmark = pytest.mark.django_db


@pytest.fixture
def customer_client(client):
    customer = CustomerFactory()
    client.force_login(customer.user)
    client.customer = customer
    return client


def test_anonymous_users_are_sent_to_login(client):
    response = client.get("/stock/")
    assert response.status_code == 302 and "/account/login/" in response["Location"]


def test_nav_links_to_stock_alerts(customer_client):
    assert b'href="/stock/"' in customer_client.get("/stock/").content


def test_subscribe_by_sku_then_unsubscribe(customer_client):
    out = stocked(on_hand=0)
    response = customer_client.post("/stock/", {"sku": out.variant.sku}, follow=True)
    assert response.status_code == 200
    page = response.content.decode()
    assert out.variant.sku in page and "Out of stock" in page
    subscription = BackInStockSubscription.objects.get(customer=customer_client.customer)
    customer_client.post(f"/stock/alerts/{subscription.pk}/unsubscribe/")
    assert not BackInStockSubscription.objects.exists()


def test_subscribing_to_an_in_stock_item_shows_the_message_and_changes_nothing(customer_client):
    available = stocked(on_hand=5)
    response = customer_client.post("/stock/", {"sku": available.variant.sku})
    assert response.status_code == 200
    assert "in stock: you can order it now" in response.content.decode()
    assert not BackInStockSubscription.objects.exists()


def test_cannot_unsubscribe_someone_elses_alert(customer_client):
    out = stocked(on_hand=0)
    theirs = services.back_in_stock_subscribe(customer=CustomerFactory(), variant_id=out.variant_id)
    customer_client.post(f"/stock/alerts/{theirs.pk}/unsubscribe/")
    assert BackInStockSubscription.objects.filter(pk=theirs.pk).exists()
    assert theirs.variant.sku not in customer_client.get("/stock/").content.decode()


def test_subscribe_by_numeric_sku_or_by_item_number(customer_client):
    from .factories import VariantFactory

    numeric = stocked(VariantFactory(sku="123456"), on_hand=0)
    customer_client.post("/stock/", {"sku": "123456"})
    other = stocked(on_hand=0)
    customer_client.post("/stock/", {"sku": str(other.variant_id)})
    assert set(BackInStockSubscription.objects.values_list("variant_id", flat=True)) == {
        numeric.variant_id, other.variant_id}
