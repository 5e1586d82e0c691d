"""The dashboard on the admin index: charts, counts and links, in constant queries."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from automation import dashboard, rules
from automation.models import Event, Rule, WebhookEndpoint
from automation.services import emit, event_process
from inventory.models import StockLevel
from notifications.models import OutgoingMessage
from orders.models import Order

pytestmark = pytest.mark.django_db


def index_queries(client) -> tuple[int, str]:
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/admin/")
    assert response.status_code == 200
    return len(queries), response.content.decode()


def test_dashboard_counts_and_links_in_constant_queries(admin_client, place_order, temp_transition):
    empty_queries, html = index_queries(admin_client)
    assert "Orders per day" in html and "<svg" in html
    assert "cdn" not in html.lower()

    # A busier shop: orders on several days, a failed rule run, a failed message,
    # low stock, a disabled endpoint.
    orders = [place_order(quantity=n + 1, price="20.00") for n in range(4)]
    for days_ago, order in enumerate(orders):
        Order.objects.filter(pk=order.pk).update(placed_at=timezone.now() - timedelta(days=days_ago))
    temp_transition("test.broken", lambda **kwargs: 1 / 0)
    rules.rule_save(rule=Rule(name="broken", trigger="test.broken", actions=[{"type": "transition",
                                                                               "transition": "test.broken"}]))
    event_process(event_id=emit("test.broken", payload={}).pk)
    Event.objects.create(name="test.failed", status=Event.Status.FAILED)
    OutgoingMessage.objects.create(idempotency_key="x", template_key="order.placed", recipient_email="a@b.example",
                                   language="en", status=OutgoingMessage.Status.FAILED)
    StockLevel.objects.filter(pk=StockLevel.objects.first().pk).update(low_stock_alerted=True)
    WebhookEndpoint.objects.create(name="off", url="http://127.0.0.1:9/", active=False)

    busy_queries, html = index_queries(admin_client)
    assert busy_queries == empty_queries
    assert "/admin/automation/rulerun/?status__exact=failed" in html
    assert "/admin/notifications/outgoingmessage/?status__exact=failed" in html
    assert "/admin/automation/event/?status__exact=failed" in html
    assert "/admin/automation/webhookendpoint/?active__exact=0" in html
    data = dashboard.dashboard_data()
    tiles = {str(tile.label): tile.value for tile in data["tiles"]}
    assert tiles["Failed automation runs"] == 1
    assert tiles["Failed messages"] == 1
    assert tiles["Failed events"] == 1
    assert tiles["Low-stock items"] == 1
    assert tiles["Disabled webhook endpoints"] == 1
    assert tiles["Open quotes"] == 0 and tiles["Open returns"] == 0  # none opened in this shop
    assert data["total_orders"] == 4
    assert data["total_revenue"] == sum(order.total for order in orders)


def test_orders_per_day_covers_30_days_and_skips_cancelled_orders(place_order):
    today = timezone.localdate()
    kept = place_order(quantity=2, price="10.00")
    old = place_order(quantity=1, price="10.00")
    Order.objects.filter(pk=old.pk).update(placed_at=timezone.now() - timedelta(days=40))
    cancelled = place_order(quantity=1, price="10.00")
    Order.objects.filter(pk=cancelled.pk).update(status="cancelled")

    series = dashboard.orders_per_day(today=today)
    assert len(series) == 30 and series[-1]["day"] == today
    assert series[-1]["orders"] == 1 and series[-1]["revenue"] == kept.total
    assert sum(point["orders"] for point in series) == 1


def test_the_chart_is_inline_svg_with_a_tooltip_per_day():
    today = timezone.localdate()
    svg = dashboard.bar_chart([(today - timedelta(days=1), 0), (today, 5)], title="Orders <per> day")
    assert svg.startswith("<svg") and svg.count("<rect") == 2
    assert "Orders &lt;per&gt; day" in svg  # escaped


def test_customers_do_not_see_the_dashboard(client, django_user_model):
    user = django_user_model.objects.create_user("someone", password="x")
    client.force_login(user)
    response = client.get("/admin/")
    assert response.status_code == 302
