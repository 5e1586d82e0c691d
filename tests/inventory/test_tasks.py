from datetime import timedelta

import pytest
from django.utils import timezone

from automation.models import JobRun
from inventory import services, tasks
from inventory.models import BackInStockSubscription, StockLevel
from tests.factories import CustomerFactory

from .factories import stocked

pytestmark = pytest.mark.django_db


def test_release_expired_runs_once_per_slot():
    level = stocked(on_hand=10)
    services.stock_reserve(lines=[(level.variant_id, 2)], reference="c", expires_at=timezone.now() - timedelta(seconds=1))
    now = timezone.now()
    assert tasks._release_expired(now=now) == {"released": 2}
    assert tasks._release_expired(now=now) is None  # a second beat in the same minute does nothing
    assert StockLevel.objects.get(pk=level.pk).reserved == 0
    assert JobRun.objects.filter(job="inventory.release_expired_reservations").count() == 1


def test_release_expired_task_entry_point():
    level = stocked(on_hand=4)
    services.stock_reserve(lines=[(level.variant_id, 4)], reference="c", expires_at=timezone.now() - timedelta(seconds=1))
    tasks.release_expired_reservations()
    assert StockLevel.objects.get(pk=level.pk).reserved == 0


def test_notify_task_and_sweep_tell_each_subscriber_once():
    level = stocked(on_hand=0)
    subscription = services.back_in_stock_subscribe(customer=CustomerFactory(), variant_id=level.variant_id)
    services.stock_receive(variant_id=level.variant_id, warehouse_id=level.warehouse_id, quantity=2)
    assert tasks.notify_back_in_stock(level.variant_id) == 1
    assert tasks.notify_back_in_stock(level.variant_id) == 0  # redelivered task: nothing twice
    assert tasks._sweep_back_in_stock(now=timezone.now()) == {"notified": 0}
    subscription.refresh_from_db()
    assert subscription.status == BackInStockSubscription.Status.NOTIFIED
