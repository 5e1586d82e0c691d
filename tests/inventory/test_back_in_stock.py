import time

import pytest
from django.db.models.signals import post_save
from django.utils import timezone

from automation.models import Event
from automation.services import event_process
from inventory import services
from inventory.exceptions import AlreadyInStock, SubscriptionNotFound, VariantNotFound
from inventory.models import BackInStockSubscription
from tests.conftest import requires_redis
from tests.factories import CustomerFactory

from .factories import VariantFactory, WarehouseFactory, stocked

pytestmark = pytest.mark.django_db


def _out_of_stock():
    return stocked(on_hand=0)


def test_subscribe_only_when_out_of_stock_and_only_once():
    customer = CustomerFactory()
    level = _out_of_stock()
    first = services.back_in_stock_subscribe(customer=customer, sku=level.variant.sku.lower())
    again = services.back_in_stock_subscribe(customer=customer, variant_id=level.variant_id)
    assert first == again and first.status == "waiting"

    in_stock = stocked(on_hand=3)
    with pytest.raises(AlreadyInStock):
        services.back_in_stock_subscribe(customer=customer, variant_id=in_stock.variant_id)
    with pytest.raises(VariantNotFound):
        services.back_in_stock_subscribe(customer=customer, sku="NOPE")
    assert BackInStockSubscription.objects.count() == 1


def test_unsubscribe_only_your_own():
    level = _out_of_stock()
    mine = services.back_in_stock_subscribe(customer=CustomerFactory(), variant_id=level.variant_id)
    with pytest.raises(SubscriptionNotFound):
        services.back_in_stock_unsubscribe(customer=CustomerFactory(), subscription_id=mine.pk)
    services.back_in_stock_unsubscribe(customer=mine.customer, subscription_id=mine.pk)
    assert not BackInStockSubscription.objects.exists()


def test_zero_to_available_emits_back_in_stock_once_per_crossing():
    level = _out_of_stock()
    other_wh = WarehouseFactory()
    services.stock_receive(variant_id=level.variant_id, warehouse_id=level.warehouse_id, quantity=2)
    services.stock_receive(variant_id=level.variant_id, warehouse_id=other_wh.pk, quantity=5)  # already available
    [event] = Event.objects.filter(name="stock.back_in_stock")
    assert event.payload == {"variant_id": level.variant_id, "sku": level.variant.sku,
                             "product": level.variant.display_name, "available": 2}

    services.stock_reserve(lines=[(level.variant_id, 7)], reference="all", expires_at=None)  # out again
    assert Event.objects.filter(name="stock.back_in_stock").count() == 1
    services.stock_release(reference="all")  # 0 → 7: a new crossing
    assert Event.objects.filter(name="stock.back_in_stock").count() == 2


def test_expired_hold_released_by_beat_counts_as_back_in_stock():
    level = stocked(on_hand=2)
    services.stock_reserve(lines=[(level.variant_id, 2)], reference="c", expires_at=timezone.now())
    Event.objects.all().delete()
    services.stock_release_expired()
    assert Event.objects.filter(name="stock.back_in_stock").count() == 1


def test_subscribers_are_told_once_in_batches():
    level = _out_of_stock()
    subscriptions = [services.back_in_stock_subscribe(customer=CustomerFactory(), variant_id=level.variant_id)
                     for _ in range(5)]
    assert services.back_in_stock_notify(variant_id=level.variant_id, batch_size=2) == 0  # still out: nobody told

    services.stock_receive(variant_id=level.variant_id, warehouse_id=level.warehouse_id, quantity=1)
    assert services.back_in_stock_notify(variant_id=level.variant_id, batch_size=2) == 5
    assert services.back_in_stock_notify(variant_id=level.variant_id, batch_size=2) == 0  # exactly once

    events = list(Event.objects.filter(name="customer.back_in_stock").order_by("id"))
    assert sorted(e.payload["subscription_id"] for e in events) == [s.pk for s in subscriptions]
    first = subscriptions[0]
    assert events[0].payload == {
        "customer_id": first.customer_id, "email": first.customer.user.email, "variant_id": level.variant_id,
        "sku": level.variant.sku, "product": level.variant.display_name,
        "url": events[0].payload["url"], "subscription_id": first.pk,
    }
    assert events[0].payload["url"].endswith("/stock/")
    assert set(BackInStockSubscription.objects.values_list("status", flat=True)) == {"notified"}


def test_walk_stops_when_stock_runs_out_between_batches_and_the_rest_keep_waiting():
    level = _out_of_stock()
    for _ in range(5):
        services.back_in_stock_subscribe(customer=CustomerFactory(), variant_id=level.variant_id)
    services.stock_receive(variant_id=level.variant_id, warehouse_id=level.warehouse_id, quantity=1)

    def sell_out_after_first_batch(sender, instance, created, **kwargs):
        if instance.name == "customer.back_in_stock" and \
                Event.objects.filter(name="customer.back_in_stock").count() == 2:
            services.stock_reserve(lines=[(level.variant_id, 1)], reference="buyer", expires_at=None)

    post_save.connect(sell_out_after_first_batch, sender=Event, dispatch_uid="sell-out")
    try:
        assert services.back_in_stock_notify(variant_id=level.variant_id, batch_size=2) == 2
    finally:
        post_save.disconnect(dispatch_uid="sell-out", sender=Event)
    assert BackInStockSubscription.objects.filter(status="waiting").count() == 3


def test_stock_back_in_stock_handler_queues_the_walk(django_capture_on_commit_callbacks, broker_queue):
    level = _out_of_stock()
    services.back_in_stock_subscribe(customer=CustomerFactory(), variant_id=level.variant_id)
    with django_capture_on_commit_callbacks() as callbacks:
        services.stock_receive(variant_id=level.variant_id, warehouse_id=level.warehouse_id, quantity=1)
    event = Event.objects.get(name="stock.back_in_stock")
    broker_queue.delete("celery")
    with django_capture_on_commit_callbacks(execute=True):
        event_process(event_id=event.pk)
    assert broker_queue.llen("celery") == 1
    assert b"inventory.tasks.notify_back_in_stock" in broker_queue.lindex("celery", 0)
    assert callbacks  # the event itself was dispatched on commit


@requires_redis
@pytest.mark.django_db(transaction=True)
def test_end_to_end_a_receipt_notifies_the_waiting_customer_through_the_real_worker(celery_worker_thread):
    level = _out_of_stock()
    subscription = services.back_in_stock_subscribe(customer=CustomerFactory(), variant_id=level.variant_id)
    services.stock_receive(variant_id=level.variant_id, warehouse_id=level.warehouse_id, quantity=3)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        subscription.refresh_from_db()
        if subscription.status == "notified":
            break
        time.sleep(0.2)
    assert subscription.status == "notified"
    assert Event.objects.filter(name="customer.back_in_stock", payload__subscription_id=subscription.pk).count() == 1


def test_sweep_notifies_waiting_subscribers_of_available_variants():
    level = _out_of_stock()
    services.back_in_stock_subscribe(customer=CustomerFactory(), variant_id=level.variant_id)
    VariantFactory()
    assert services.back_in_stock_sweep() == 0
    services.stock_receive(variant_id=level.variant_id, warehouse_id=level.warehouse_id, quantity=1)
    assert services.back_in_stock_sweep() == 1
