import io

import pytest

from customers import demo as customers_demo
from inventory import demo
from inventory.models import BackInStockSubscription, PurchaseOrder, StockLevel, StockMovement
from inventory.selectors import availability_for, ledger_mismatches

pytestmark = pytest.mark.django_db


def test_demo_stock_is_idempotent_and_tells_a_story():
    customers_demo.load(io.StringIO())
    summary = demo.load(io.StringIO())
    assert "3 warehouses" in summary
    counts = (StockLevel.objects.count(), StockMovement.objects.count(), PurchaseOrder.objects.count())
    demo.load(io.StringIO())
    assert (StockLevel.objects.count(), StockMovement.objects.count(), PurchaseOrder.objects.count()) == counts

    po = PurchaseOrder.objects.get()
    assert po.status == "draft" and po.lines.count() == 1
    subscription = BackInStockSubscription.objects.get()
    assert subscription.customer.user.username == "ana@example.com"
    assert availability_for(variant_ids=[subscription.variant_id])[subscription.variant_id] == 0
    assert ledger_mismatches() == []
