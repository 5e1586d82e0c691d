import io

from celery import current_app

from orders import services as orders
from returns import demo
from returns.models import ReturnRequest
from shopauto.schedule import BEAT_SCHEDULE
from tests.factories import AddressFactory, CustomerFactory

from .conftest import ask, delivered_order, details_for


def test_the_reminder_job_is_scheduled_and_registered():
    entry = BEAT_SCHEDULE["returns.remind_and_close_returns"]
    assert entry["task"] in current_app.tasks and entry["schedule"] <= 3600


def test_the_task_runs_the_job_once_per_slot(shop, buyer, policy):
    from returns.tasks import remind_and_close_returns

    ask(delivered_order(buyer, [(shop.variant("R"), 1)]), ("R", 1))

    remind_and_close_returns()
    remind_and_close_returns()
    from automation.models import JobRun

    assert JobRun.objects.filter(job="returns.remind_and_close").count() == 1


def test_demo_makes_an_approved_a_waiting_and_a_rejected_return_once(shop, company):
    buyer = CustomerFactory(company=company, user__username="buyer@acme.example", user__email="buyer@acme.example")
    AddressFactory(company=company)
    a, b = shop.variant("A"), shop.variant("B")
    delivered_order(buyer, [(a, 2), (b, 2)])
    shipped = orders.order_place(customer=buyer, lines=[(a.pk, 1)], details=details_for(buyer))
    orders.order_ship(order_id=shipped.pk, actor=None, tracking_number="DEMO-2")

    summary = demo.load(io.StringIO())
    assert summary.endswith("3 returns")
    assert sorted(ReturnRequest.objects.values_list("status", "decision_rule")) == [
        ("approved", "within_policy"), ("rejected", "return_window"), ("requested", "needs_inspection")]
    assert "already there" in demo.load(io.StringIO())
    assert ReturnRequest.objects.count() == 3
