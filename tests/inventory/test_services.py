from datetime import time, timedelta

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone
from django_fsm_log.models import StateLog

from automation.models import Event
from inventory import services
from inventory.exceptions import InsufficientStock, NothingReserved, StockOperationInvalid
from inventory.models import PurchaseOrder, Reservation, StockLevel, StockMovement
from inventory.selectors import (
    availability_for,
    availability_label,
    ledger_balance,
    stock_summary_for,
    transfer_suggestions,
)
from shopauto.exceptions import TransitionNotAllowed

from .factories import SupplierFactory, VariantFactory, WarehouseFactory, rule, stocked

pytestmark = pytest.mark.django_db


def _events(name):
    return list(Event.objects.filter(name=name).order_by("id"))


def test_database_refuses_negative_stock_and_over_reservation():
    level = stocked(on_hand=2)
    with pytest.raises(IntegrityError), transaction.atomic():
        StockLevel.objects.filter(pk=level.pk).update(on_hand=-1, reserved=0)
    with pytest.raises(IntegrityError), transaction.atomic():
        StockLevel.objects.filter(pk=level.pk).update(reserved=3)


def test_reserve_and_release_keep_reserved_equal_to_reservations():
    level = stocked(on_hand=5)
    reservations = services.stock_reserve(lines=[(level.variant_id, 3)], reference="cart:1",
                                          expires_at=timezone.now() + timedelta(minutes=15))
    assert [r.quantity for r in reservations] == [3]
    level.refresh_from_db()
    assert (level.on_hand, level.reserved) == (5, 3)
    assert availability_for(variant_ids=[level.variant_id]) == {level.variant_id: 2}

    assert services.stock_release(reference="cart:1") == 3
    assert services.stock_release(reference="cart:1") == 0  # idempotent
    level.refresh_from_db()
    assert level.reserved == 0 and not Reservation.objects.exists()


def test_reserving_again_under_the_same_reference_replaces_the_reservation():
    level = stocked(on_hand=5)
    services.stock_reserve(lines=[(level.variant_id, 4)], reference="cart:2", expires_at=None)
    services.stock_reserve(lines=[(level.variant_id, 5)], reference="cart:2", expires_at=None)  # would fail if added
    level.refresh_from_db()
    assert level.reserved == 5
    assert list(Reservation.objects.values_list("quantity", flat=True)) == [5]


def test_one_insufficient_stock_error_names_every_short_line_and_reserves_nothing():
    ok = stocked(on_hand=10)
    short_a = stocked(on_hand=1)
    short_b = stocked(on_hand=0)
    with pytest.raises(InsufficientStock) as excinfo:
        services.stock_reserve(lines=[(ok.variant_id, 2), (short_a.variant_id, 3), (short_b.variant_id, 1)],
                               reference="cart:3", expires_at=None)
    error = excinfo.value
    assert error.code == "insufficient_stock" and error.status == 409
    assert {(s["sku"], s["requested"], s["available"]) for s in error.shortages} == {
        (short_a.variant.sku, 3, 1), (short_b.variant.sku, 1, 0)}
    assert set(error.fields) == {short_a.variant.sku, short_b.variant.sku}
    assert not Reservation.objects.exists()
    assert StockLevel.objects.filter(reserved__gt=0).count() == 0


def test_invalid_quantities_change_nothing():
    level = stocked(on_hand=5)
    for bad in (0, -1):
        with pytest.raises(StockOperationInvalid):
            services.stock_reserve(lines=[(level.variant_id, bad)], reference="cart:x", expires_at=None)
    assert not Reservation.objects.exists()


def test_expired_reservations_do_not_block_a_sale_before_beat_releases_them():
    level = stocked(on_hand=3)
    services.stock_reserve(lines=[(level.variant_id, 3)], reference="cart:old",
                           expires_at=timezone.now() - timedelta(seconds=1))
    # Reads already ignore the expired hold.
    assert availability_for(variant_ids=[level.variant_id])[level.variant_id] == 3
    # And a buyer gets the units: the expired hold is dropped under the lock.
    services.stock_reserve(lines=[(level.variant_id, 3)], reference="cart:new", expires_at=None)
    level.refresh_from_db()
    assert level.reserved == 3
    assert list(Reservation.objects.values_list("reference", flat=True)) == ["cart:new"]


def test_beat_releases_expired_reservations_only():
    level = stocked(on_hand=10)
    services.stock_reserve(lines=[(level.variant_id, 3)], reference="cart:live",
                           expires_at=timezone.now() + timedelta(minutes=10))
    services.stock_reserve(lines=[(level.variant_id, 2)], reference="cart:expired",
                           expires_at=timezone.now() - timedelta(minutes=1))
    assert services.stock_release_expired() == 2
    level.refresh_from_db()
    assert level.reserved == 3
    assert list(Reservation.objects.values_list("reference", flat=True)) == ["cart:live"]


def test_allocate_makes_reservations_firm_and_renames_them_then_shipment_books_the_sale():
    level = stocked(on_hand=10)
    services.stock_reserve(lines=[(level.variant_id, 4)], reference="cart:9",
                           expires_at=timezone.now() + timedelta(minutes=5))
    plan = services.stock_allocate(reference="cart:9", new_reference="order:SA-1")
    assert [(line.sku, line.warehouse_id, line.quantity) for line in plan.lines] == [
        (level.variant.sku, level.warehouse_id, 4)]
    reservation = Reservation.objects.get()
    assert (reservation.reference, reservation.expires_at) == ("order:SA-1", None)

    with pytest.raises(StockOperationInvalid):
        services.stock_commit_shipment(reference="order:SA-1", warehouse_id=level.warehouse_id,
                                       lines=[(level.variant_id, 5)])
    movements = services.stock_commit_shipment(reference="order:SA-1", warehouse_id=level.warehouse_id,
                                               lines=[(level.variant_id, 4)])
    assert [(m.kind, m.quantity, m.balance_after) for m in movements] == [("sale", -4, 6)]
    level.refresh_from_db()
    assert (level.on_hand, level.reserved) == (6, 0)
    assert not Reservation.objects.exists()
    assert ledger_balance(stock_level_id=level.pk) == 6


def test_allocate_without_reservation_is_refused():
    with pytest.raises(NothingReserved):
        services.stock_allocate(reference="cart:none")


def test_allocation_prefers_the_warehouse_that_ships_the_whole_line_soonest_and_splits_only_when_it_must():
    variant = VariantFactory()
    near = WarehouseFactory(code="near", region="EU-SOUTH", handling_days=1)
    far = WarehouseFactory(code="far", region="SA-EAST", handling_days=1)
    slow_near = WarehouseFactory(code="slow", region="EU-SOUTH", handling_days=4)
    stocked(variant, near, on_hand=3)
    stocked(variant, far, on_hand=50)
    stocked(variant, slow_near, on_hand=10)

    services.stock_reserve(lines=[(variant.pk, 2)], reference="a", expires_at=None, region="EU-SOUTH")
    assert Reservation.objects.get(reference="a").stock_level.warehouse == near

    # Near has 1 left: the whole line comes from the next-soonest warehouse that has it all.
    services.stock_reserve(lines=[(variant.pk, 8)], reference="b", expires_at=None, region="EU-SOUTH")
    assert [r.stock_level.warehouse.code for r in Reservation.objects.filter(reference="b")] == ["slow"]

    # Shipping to SA-EAST: far is local there.
    services.stock_reserve(lines=[(variant.pk, 5)], reference="c", expires_at=None, region="SA-EAST")
    assert Reservation.objects.get(reference="c").stock_level.warehouse == far

    # 1 (near) + 2 (slow) + 45 (far) = 48 available; 47 fits nowhere whole → split, soonest first.
    services.stock_reserve(lines=[(variant.pk, 47)], reference="d", expires_at=None, region="EU-SOUTH")
    split = {r.stock_level.warehouse.code: r.quantity for r in Reservation.objects.filter(reference="d")}
    assert split == {"near": 1, "slow": 2, "far": 44}
    plan = services.stock_allocate(reference="d")
    assert plan.is_split and sum(line.quantity for line in plan.lines) == 47
    assert set(plan.by_warehouse()) == {near.pk, slow_near.pk, far.pk}


def test_ship_days_count_the_cutoff_and_cross_region_transit():
    warehouse = WarehouseFactory(region="EU-WEST", cutoff_time=time(15, 0), handling_days=1)
    morning = timezone.now().replace(hour=9, minute=0)
    evening = timezone.now().replace(hour=18, minute=0)
    assert warehouse.ship_days(region="EU-WEST", now=morning) == 2
    assert warehouse.ship_days(region="EU-WEST", now=evening) == 3
    assert warehouse.ship_days(region="SA-EAST", now=morning) == 6


def test_low_stock_alert_fires_once_per_crossing_and_drafts_one_purchase_order():
    level = stocked(on_hand=10)
    supplier = SupplierFactory()
    rule(level, point=5, quantity=20, supplier=supplier)

    services.stock_reserve(lines=[(level.variant_id, 4)], reference="s1", expires_at=None)  # 6 left: above
    assert _events("stock.low") == []
    services.stock_reserve(lines=[(level.variant_id, 1)], reference="s2", expires_at=None)  # 5: crosses
    services.stock_reserve(lines=[(level.variant_id, 1)], reference="s3", expires_at=None)  # 4: still low
    services.stock_reserve(lines=[(level.variant_id, 2)], reference="s4", expires_at=None)  # 2: still low
    [event] = _events("stock.low")
    po = PurchaseOrder.objects.get()
    assert event.payload == {
        "variant_id": level.variant_id, "sku": level.variant.sku, "product": level.variant.display_name,
        "warehouse": level.warehouse.code, "warehouse_id": level.warehouse_id, "available": 5, "reorder_point": 5,
        "purchase_order": po.number,
    }
    assert (po.status, po.supplier, po.warehouse_id) == ("draft", supplier, level.warehouse_id)
    assert list(po.lines.values_list("variant_id", "quantity_ordered")) == [(level.variant_id, 20)]

    # Back above the point, then down again: a second crossing, a second alert; the open PO is reused.
    services.stock_release(reference="s4")
    services.stock_release(reference="s3")  # 5 available: at the point, still low
    assert StockLevel.objects.get(pk=level.pk).low_stock_alerted
    services.stock_release(reference="s2")  # 6 available: above the point again
    assert not StockLevel.objects.get(pk=level.pk).low_stock_alerted
    assert _events("stock.low") == [event]
    services.stock_reserve(lines=[(level.variant_id, 3)], reference="s5", expires_at=None)
    events = _events("stock.low")
    assert len(events) == 2 and events[1].payload["purchase_order"] == po.number
    assert PurchaseOrder.objects.count() == 1


def test_stock_low_is_not_emitted_when_the_change_rolls_back():
    level = stocked(on_hand=4)
    rule(level, point=3)
    with pytest.raises(InsufficientStock):
        services.stock_reserve(lines=[(level.variant_id, 2), (VariantFactory().pk, 1)], reference="x", expires_at=None)
    assert _events("stock.low") == []
    assert not PurchaseOrder.objects.exists()


def test_purchase_order_lifecycle_books_receipts_through_the_ledger(django_user_model):
    staff = django_user_model.objects.create_user("buyer-staff", is_staff=True)
    level = stocked(on_hand=0)
    other = VariantFactory()
    po = services.purchase_order_create(supplier_id=SupplierFactory().pk, warehouse_id=level.warehouse_id,
                                        lines=[(level.variant_id, 10), (other.pk, 5)], actor=staff)
    assert po.number.startswith("PO-") and po.status == "draft"

    with pytest.raises(TransitionNotAllowed):
        services.purchase_order_receive(purchase_order_id=po.pk, lines=[(level.variant_id, 1)])

    po = services.purchase_order_send(purchase_order_id=po.pk, actor=staff)
    assert po.status == "sent" and po.expected_on == timezone.localdate() + timedelta(days=5)
    assert _events("purchase_order.sent")[0].payload["number"] == po.number
    log = StateLog.objects.for_(po).get()
    assert (log.source_state, log.state, log.by) == ("draft", "sent", staff)

    with pytest.raises(StockOperationInvalid):  # over-receipt
        services.purchase_order_receive(purchase_order_id=po.pk, lines=[(level.variant_id, 11)])
    po = services.purchase_order_receive(purchase_order_id=po.pk, lines=[(level.variant_id, 6)], actor=staff)
    assert po.status == "partially_received"
    po = services.purchase_order_receive(purchase_order_id=po.pk, actor=staff)  # everything outstanding
    assert po.status == "received"
    level.refresh_from_db()
    assert level.on_hand == 10 and ledger_balance(stock_level_id=level.pk) == 10
    assert StockMovement.objects.filter(reference=po.number, kind="receipt").count() == 3

    with pytest.raises(TransitionNotAllowed):
        services.purchase_order_cancel(purchase_order_id=po.pk)
    po.refresh_from_db()
    assert po.status == "received"
    assert _events("purchase_order.cancelled") == []


def test_purchase_order_cancel_from_draft_and_empty_draft_cannot_be_sent():
    warehouse = WarehouseFactory()
    po = services.purchase_order_create(supplier_id=SupplierFactory().pk, warehouse_id=warehouse.pk, lines=[])
    with pytest.raises(StockOperationInvalid):
        services.purchase_order_send(purchase_order_id=po.pk)
    po = services.purchase_order_cancel(purchase_order_id=po.pk, reason="not needed")
    assert po.status == "cancelled"
    assert StateLog.objects.for_(po).get().description == "not needed"
    assert len(_events("purchase_order.cancelled")) == 1


def test_transfer_moves_units_between_warehouses_through_the_ledger():
    variant = VariantFactory()
    source = stocked(variant, WarehouseFactory(code="src"), on_hand=10)
    destination_wh = WarehouseFactory(code="dst")
    transfer = services.transfer_request(source_id=source.warehouse_id, destination_id=destination_wh.pk,
                                         lines=[(variant.pk, 4)], reason="rebalance")
    assert transfer.status == "requested"
    with pytest.raises(TransitionNotAllowed):
        services.transfer_receive(transfer_id=transfer.pk)

    services.stock_reserve(lines=[(variant.pk, 7)], reference="hold", expires_at=None)
    with pytest.raises(InsufficientStock):  # only 3 unreserved at the source
        services.transfer_dispatch(transfer_id=transfer.pk)
    transfer.refresh_from_db()
    assert transfer.status == "requested"
    services.stock_release(reference="hold")

    transfer = services.transfer_dispatch(transfer_id=transfer.pk)
    assert transfer.status == "in_transit"
    source.refresh_from_db()
    assert source.on_hand == 6
    transfer = services.transfer_receive(transfer_id=transfer.pk)
    assert transfer.status == "received"
    destination = StockLevel.objects.get(variant=variant, warehouse=destination_wh)
    assert destination.on_hand == 4
    assert ledger_balance(stock_level_id=source.pk) == 6 and ledger_balance(stock_level_id=destination.pk) == 4
    assert [e.payload["transition"]["to"] for e in Event.objects.filter(name__startswith="stock_transfer.")
            .exclude(name="stock_transfer.requested").order_by("id")] == ["in_transit", "received"]


def test_transfer_suggestion_when_one_warehouse_is_low_and_another_has_surplus():
    variant = VariantFactory()
    low = stocked(variant, WarehouseFactory(code="low"), on_hand=2)
    rule(low, point=5, quantity=10)
    stocked(variant, WarehouseFactory(code="rich"), on_hand=30)
    [suggestion] = transfer_suggestions()
    assert (suggestion["source"], suggestion["destination"], suggestion["quantity"]) == ("rich", "low", 13)


def test_adjust_needs_a_reason_and_never_goes_below_reserved():
    level = stocked(on_hand=5)
    with pytest.raises(StockOperationInvalid):
        services.stock_adjust(variant_id=level.variant_id, warehouse_id=level.warehouse_id, quantity=-1, reason=" ")
    services.stock_reserve(lines=[(level.variant_id, 4)], reference="r", expires_at=None)
    with pytest.raises(StockOperationInvalid):
        services.stock_adjust(variant_id=level.variant_id, warehouse_id=level.warehouse_id, quantity=-2,
                              reason="broken")
    movement = services.stock_adjust(variant_id=level.variant_id, warehouse_id=level.warehouse_id, quantity=-1,
                                     reason="broken")
    assert (movement.kind, movement.quantity, movement.reason, movement.balance_after) == ("adjustment", -1, "broken", 4)


def test_restock_return_to_quarantine_is_not_sellable_until_resolved():
    level = stocked(on_hand=0)
    services.stock_restock_return(variant_id=level.variant_id, quantity=2, warehouse_id=level.warehouse_id,
                                  reference="RMA-1", quarantine=True)
    assert availability_for(variant_ids=[level.variant_id])[level.variant_id] == 0
    services.stock_quarantine_resolve(variant_id=level.variant_id, warehouse_id=level.warehouse_id, quantity=1,
                                      restock=True, reason="inspected OK")
    services.stock_restock_return(variant_id=level.variant_id, quantity=1, warehouse_id=level.warehouse_id,
                                  reference="RMA-2", quarantine=False)
    level.refresh_from_db()
    assert (level.on_hand, level.quarantined) == (2, 1)
    assert ledger_balance(stock_level_id=level.pk) == 2
    assert ledger_balance(stock_level_id=level.pk, bucket="quarantine") == 1


def test_availability_labels():
    assert availability_label(0, 5) == "out"
    assert availability_label(3, 5) == "low"
    assert availability_label(6, 5) == "available"
    assert availability_label(1, None) == "available"


def test_stock_summary_uses_constant_queries(django_assert_num_queries):
    variants = [stocked(on_hand=n).variant_id for n in (0, 2, 9)]
    with django_assert_num_queries(2):
        summary = stock_summary_for(variant_ids=variants)
    assert [summary[v]["label"] for v in variants] == ["out", "available", "available"]


def test_release_queries_stay_bounded_one_update_per_row(django_assert_max_num_queries):
    level = stocked(on_hand=20)
    for _ in range(3):  # re-reserving replaces: 2 stay reserved
        services.stock_reserve(lines=[(level.variant_id, 2)], reference="multi", expires_at=None)
    other = stocked(on_hand=5)
    services.stock_reserve(lines=[(level.variant_id, 1), (other.variant_id, 1)], reference="two", expires_at=None)
    with django_assert_max_num_queries(11):  # 2 rows: lock, expired, drop, 2 updates, back-in-stock check
        assert services.stock_release(reference="two") == 2


def test_reserve_hot_path_query_count(django_assert_max_num_queries):
    level = stocked(on_hand=20)
    with django_assert_max_num_queries(7):  # savepoint, lock timeout, stale, snapshot, insert, update, release
        services.stock_reserve(lines=[(level.variant_id, 1)], reference="q", expires_at=None)


def test_allocation_preview_and_plan_for_reference_report_warehouses_and_days(django_assert_num_queries):
    from inventory.selectors import allocation_preview, plan_for_reference

    variant = VariantFactory()
    near = WarehouseFactory(code="pv-near", region="EU-WEST", handling_days=1, cutoff_time=time(23, 59, 59))
    far = WarehouseFactory(code="pv-far", region="SA-EAST", handling_days=1, cutoff_time=time(23, 59, 59))
    stocked(variant, near, on_hand=2)
    stocked(variant, far, on_hand=10)
    with django_assert_num_queries(1):
        plan, shortages = allocation_preview(lines=[(variant.pk, 5)], region="EU-WEST")
    assert shortages == []
    assert [(line.warehouse_code, line.quantity, line.ship_days) for line in plan.lines] == [("pv-far", 5, 6)]
    _plan, shortages = allocation_preview(lines=[(variant.pk, 13)], region="EU-WEST")
    assert shortages == [{"variant_id": variant.pk, "requested": 13, "available": 12}]

    services.stock_reserve(lines=[(variant.pk, 12)], reference="cart:p", expires_at=None, region="EU-WEST")
    plan = plan_for_reference(reference="cart:p", region="EU-WEST")
    assert {(line.warehouse_code, line.quantity, line.ship_days) for line in plan.lines} == {
        ("pv-near", 2, 2), ("pv-far", 10, 6)}
    assert plan.is_split and plan.ship_days == 6
    assert plan.as_dict()["split"] is True


def test_low_stock_crossing_suggests_a_transfer_from_a_warehouse_with_surplus():
    variant = VariantFactory()
    low = stocked(variant, WarehouseFactory(code="sg-low"), on_hand=7)
    rule(low, point=5, quantity=10)
    donor = stocked(variant, WarehouseFactory(code="sg-rich"), on_hand=12)
    rule(donor, point=4, quantity=10)  # surplus 8
    services.stock_adjust(variant_id=variant.pk, warehouse_id=low.warehouse_id, quantity=-1, reason="broken")
    assert not Event.objects.filter(name="stock.transfer_suggested").exists()  # 6 left: above the point
    services.stock_adjust(variant_id=variant.pk, warehouse_id=low.warehouse_id, quantity=-3, reason="broken")
    [suggestion] = Event.objects.filter(name="stock.transfer_suggested")
    assert suggestion.payload == {
        "variant_id": variant.pk, "sku": variant.sku, "quantity": 8, "source": "sg-rich",
        "source_id": donor.warehouse_id, "destination": "sg-low", "destination_id": low.warehouse_id}
    assert len(_events("stock.low")) == 1


def test_allocate_with_expected_lines_refuses_a_partial_allocation():
    level = stocked(on_hand=3)
    services.stock_reserve(lines=[(level.variant_id, 3)], reference="cart:late",
                           expires_at=timezone.now() - timedelta(seconds=1))
    services.stock_reserve(lines=[(level.variant_id, 2)], reference="cart:other", expires_at=None)  # takes the units
    with pytest.raises(InsufficientStock) as excinfo:
        services.stock_allocate(reference="cart:late", new_reference="order:1",
                                expected_lines=[(level.variant_id, 3)])
    assert excinfo.value.shortages == [{"sku": level.variant.sku, "variant_id": level.variant_id, "requested": 3,
                                        "available": 0}]
    assert not Reservation.objects.filter(reference="order:1").exists()


def test_allocate_an_expired_hold_nobody_took_still_works():
    level = stocked(on_hand=3)
    services.stock_reserve(lines=[(level.variant_id, 3)], reference="cart:slow",
                           expires_at=timezone.now() - timedelta(seconds=1))
    plan = services.stock_allocate(reference="cart:slow", new_reference="order:2",
                                   expected_lines=[(level.variant_id, 3)])
    assert [line.quantity for line in plan.lines] == [3]
    assert Reservation.objects.get().expires_at is None
