"""Concurrency claims, on PostgreSQL with real threads and real connections."""

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection

from inventory import services
from inventory.exceptions import InsufficientStock, StockBusy
from inventory.models import Reservation, StockLevel
from inventory.selectors import ledger_mismatches
from tests.conftest import requires_postgres

from .factories import VariantFactory, WarehouseFactory, stocked

BUYERS = 50


def _run_together(pool, functions):
    """Run each function in its own pool thread, all released at the same instant."""
    barrier = threading.Barrier(len(functions))

    def call(func):
        barrier.wait()
        try:
            return func()
        except Exception as exc:  # collected, asserted by the test
            return exc

    return [future.result() for future in [pool.submit(call, f) for f in functions]]


def _close_connections(pool, workers):
    barrier = threading.Barrier(workers)

    def close():
        barrier.wait()
        connection.close()

    for future in [pool.submit(close) for _ in range(workers)]:
        future.result()


@requires_postgres
@pytest.mark.django_db(transaction=True)
def test_fifty_buyers_on_ten_units_exactly_ten_win_twenty_times_over():
    warehouse = WarehouseFactory()
    with ThreadPoolExecutor(max_workers=BUYERS) as pool:
        try:
            for round_no in range(20):
                level = stocked(VariantFactory(), warehouse, on_hand=10)
                results = _run_together(pool, [
                    (lambda n=n, level=level, round_no=round_no: services.stock_reserve(lines=[(level.variant_id, 1)], reference=f"cart:{round_no}-{n}",
                                                        expires_at=None))
                    for n in range(BUYERS)
                ])
                won = [r for r in results if isinstance(r, list)]
                lost = [r for r in results if not isinstance(r, list)]
                assert len(won) == 10, (round_no, lost[:3])
                assert all(isinstance(r, InsufficientStock) for r in lost), lost[:3]
                level.refresh_from_db()
                assert (level.on_hand, level.reserved) == (10, 10)
                assert Reservation.objects.filter(stock_level=level).count() == 10
        finally:
            _close_connections(pool, BUYERS)
    assert not StockLevel.objects.filter(reserved__gt=10).exists()
    assert ledger_mismatches() == []


@requires_postgres
@pytest.mark.django_db(transaction=True)
def test_opposite_order_multi_line_reservations_never_deadlock():
    warehouse = WarehouseFactory()
    a = stocked(VariantFactory(), warehouse, on_hand=1000)
    b = stocked(VariantFactory(), warehouse, on_hand=1000)
    workers = 16
    with ThreadPoolExecutor(max_workers=workers) as pool:
        try:
            for round_no in range(10):
                results = _run_together(pool, [
                    (lambda n=n, round_no=round_no: services.stock_reserve(
                        lines=[(a.variant_id, 1), (b.variant_id, 1)] if n % 2 else [(b.variant_id, 1), (a.variant_id, 1)],
                        reference=f"r{round_no}-{n}", expires_at=None))
                    for n in range(workers)
                ])
                errors = [r for r in results if not isinstance(r, list)]
                assert errors == []  # a deadlock would surface as an OperationalError here
        finally:
            _close_connections(pool, workers)
    a.refresh_from_db()
    b.refresh_from_db()
    assert a.reserved == b.reserved == 160


@requires_postgres
@pytest.mark.django_db(transaction=True)
def test_a_lock_held_past_the_timeout_is_a_clean_stock_busy_and_changes_nothing(settings):
    settings.INVENTORY_LOCK_TIMEOUT_MS = 200
    level = stocked(on_hand=5)
    holding = threading.Event()
    done = threading.Event()

    def hold_lock():
        from django.db import transaction

        with transaction.atomic():
            StockLevel.objects.select_for_update().get(pk=level.pk)
            holding.set()
            done.wait(5)
        connection.close()

    holder = threading.Thread(target=hold_lock)
    holder.start()
    holding.wait(5)
    try:
        with pytest.raises(StockBusy) as excinfo:
            services.stock_reserve(lines=[(level.variant_id, 1)], reference="cart:busy", expires_at=None)
    finally:
        done.set()
        holder.join()
    assert excinfo.value.status == 409 and excinfo.value.code == "stock_busy"
    assert not Reservation.objects.exists()
    level.refresh_from_db()
    assert level.reserved == 0


@requires_postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_sales_across_the_reorder_point_alert_exactly_once():
    from automation.models import Event
    from inventory.models import PurchaseOrder

    from .factories import rule

    level = stocked(on_hand=30)
    rule(level, point=15, quantity=40)
    workers = 20
    with ThreadPoolExecutor(max_workers=workers) as pool:
        try:
            results = _run_together(pool, [
                (lambda n=n: services.stock_reserve(lines=[(level.variant_id, 1)], reference=f"low-{n}", expires_at=None))
                for n in range(workers)
            ])
        finally:
            _close_connections(pool, workers)
    assert all(isinstance(r, list) for r in results)
    [event] = Event.objects.filter(name="stock.low")
    assert event.payload["available"] == 15
    assert PurchaseOrder.objects.count() == 1
    level.refresh_from_db()
    assert level.low_stock_alerted and level.reserved == 20
