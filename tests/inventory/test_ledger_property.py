"""Property: whatever sequence of stock operations runs (including refused ones), every
stock level's ledger sums to its on_hand and quarantine, reserved equals its live
reservations, and nothing goes negative. Runs on the real database of the suite."""

from datetime import timedelta

import pytest
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from inventory import services
from inventory.models import Reservation, StockLevel, StockMovement
from shopauto.exceptions import DomainError

from .factories import VariantFactory, WarehouseFactory, rule, stocked

pytestmark = pytest.mark.django_db

VARIANTS = st.integers(0, 2)
WAREHOUSES = st.integers(0, 1)
QTY = st.integers(1, 8)
REFS = st.sampled_from(["cart:1", "cart:2", "order:3"])

OPERATIONS = st.one_of(
    st.tuples(st.just("receive"), VARIANTS, WAREHOUSES, QTY),
    st.tuples(st.just("adjust"), VARIANTS, WAREHOUSES, st.integers(-6, 6).filter(bool)),
    st.tuples(st.just("reserve"), REFS, st.lists(st.tuples(VARIANTS, QTY), min_size=1, max_size=3), st.booleans()),
    st.tuples(st.just("release"), REFS),
    st.tuples(st.just("allocate"), REFS),
    st.tuples(st.just("ship"), REFS, WAREHOUSES),
    st.tuples(st.just("return"), VARIANTS, WAREHOUSES, QTY, st.booleans()),
    st.tuples(st.just("resolve"), VARIANTS, WAREHOUSES, QTY, st.booleans()),
    st.tuples(st.just("transfer"), VARIANTS, WAREHOUSES, QTY),
    st.tuples(st.just("expire"),),
)


@pytest.fixture
def world():
    warehouses = [WarehouseFactory(code="hx-a", region="EU-SOUTH"), WarehouseFactory(code="hx-b", region="EU-WEST")]
    variants = [VariantFactory() for _ in range(3)]
    rule(stocked(variants[0], warehouses[0], on_hand=0), point=4, quantity=10)
    return variants, warehouses


def _apply(op, variants, warehouses):
    kind, *args = op
    if kind == "receive":
        v, w, q = args
        services.stock_receive(variant_id=variants[v].pk, warehouse_id=warehouses[w].pk, quantity=q)
    elif kind == "adjust":
        v, w, q = args
        services.stock_adjust(variant_id=variants[v].pk, warehouse_id=warehouses[w].pk, quantity=q, reason="count")
    elif kind == "reserve":
        ref, lines, expired = args
        expires = timezone.now() + (timedelta(seconds=-1) if expired else timedelta(minutes=5))
        services.stock_reserve(lines=[(variants[v].pk, q) for v, q in lines], reference=ref, expires_at=expires,
                               region="EU-WEST")
    elif kind == "release":
        services.stock_release(reference=args[0])
    elif kind == "allocate":
        services.stock_allocate(reference=args[0])
    elif kind == "ship":
        ref, w = args
        held = list(Reservation.objects.filter(reference=ref, stock_level__warehouse=warehouses[w])
                    .values("variant_id").annotate(total=Sum("quantity")).values_list("variant_id", "total"))
        if held:
            services.stock_commit_shipment(reference=ref, warehouse_id=warehouses[w].pk, lines=held)
    elif kind == "return":
        v, w, q, quarantine = args
        services.stock_restock_return(variant_id=variants[v].pk, quantity=q, warehouse_id=warehouses[w].pk,
                                      reference="RMA", quarantine=quarantine)
    elif kind == "resolve":
        v, w, q, restock = args
        services.stock_quarantine_resolve(variant_id=variants[v].pk, warehouse_id=warehouses[w].pk, quantity=q,
                                          restock=restock, reason="inspected")
    elif kind == "transfer":
        v, w, q = args
        transfer = services.transfer_request(source_id=warehouses[w].pk, destination_id=warehouses[1 - w].pk,
                                             lines=[(variants[v].pk, q)])
        services.transfer_dispatch(transfer_id=transfer.pk)
        services.transfer_receive(transfer_id=transfer.pk)
    elif kind == "expire":
        services.stock_release_expired(now=timezone.now())


def _assert_invariants():
    for level in StockLevel.objects.all():
        ledger = dict(StockMovement.objects.filter(stock_level=level).values_list("bucket")
                      .annotate(total=Sum("quantity")).values_list("bucket", "total"))
        assert ledger.get("sellable", 0) == level.on_hand, level
        assert ledger.get("quarantine", 0) == level.quarantined, level
        held = Reservation.objects.filter(stock_level=level).aggregate(total=Sum("quantity"))["total"] or 0
        assert held == level.reserved, level
        assert 0 <= level.reserved <= level.on_hand and level.quarantined >= 0


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(operations=st.lists(OPERATIONS, min_size=1, max_size=20))
def test_ledger_always_sums_to_stock_after_any_sequence_of_operations(world, operations):
    variants, warehouses = world
    with transaction.atomic():
        for op in operations:
            try:
                with transaction.atomic():
                    _apply(op, variants, warehouses)
            except DomainError:
                pass  # refused operations must change nothing: checked by the invariants below
            _assert_invariants()
        transaction.set_rollback(True)  # the next example starts from the same world
