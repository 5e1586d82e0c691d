import pytest

from inventory import services
from inventory.models import PurchaseOrder, StockLevel, StockMovement
from tests.factories import StaffFactory

from .factories import SupplierFactory, VariantFactory, WarehouseFactory, stocked

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client_(client):
    client.force_login(StaffFactory(is_superuser=True))
    return client


def test_admin_pages_render(admin_client_):
    level = stocked(on_hand=3)
    po = services.purchase_order_create(supplier_id=SupplierFactory().pk, warehouse_id=level.warehouse_id,
                                        lines=[(level.variant_id, 2)])
    transfer = services.transfer_request(source_id=level.warehouse_id, destination_id=WarehouseFactory().pk,
                                         lines=[(level.variant_id, 1)])
    for url in ["/admin/inventory/stocklevel/", f"/admin/inventory/stocklevel/{level.pk}/change/",
                "/admin/inventory/stockmovement/", "/admin/inventory/purchaseorder/",
                f"/admin/inventory/purchaseorder/{po.pk}/change/", f"/admin/inventory/stocktransfer/{transfer.pk}/change/",
                "/admin/inventory/reservation/", "/admin/inventory/backinstocksubscription/",
                f"/admin/inventory/stocklevel/{level.pk}/adjust/", "/admin/inventory/warehouse/",
                f"/admin/inventory/stocklevel/{level.pk}/receive/", "/admin/inventory/purchaseorder/add/",
                "/admin/inventory/stocktransfer/add/", "/admin/inventory/reorderrule/", "/admin/inventory/supplier/"]:
        assert admin_client_.get(url).status_code == 200, url
    page = admin_client_.get(f"/admin/inventory/purchaseorder/{po.pk}/change/").content.decode()
    assert "Send to supplier" in page and "Receive everything outstanding" not in page


def test_admin_adjust_goes_through_the_service_with_reason(admin_client_):
    level = stocked(on_hand=3)
    response = admin_client_.post(f"/admin/inventory/stocklevel/{level.pk}/adjust/", {"quantity": -1, "reason": ""})
    assert response.status_code == 200  # form error: reason required
    response = admin_client_.post(f"/admin/inventory/stocklevel/{level.pk}/adjust/",
                                  {"quantity": -1, "reason": "damaged"})
    assert response.status_code == 302
    assert StockLevel.objects.get(pk=level.pk).on_hand == 2
    assert StockMovement.objects.filter(kind="adjustment", reason="damaged").count() == 1


def test_admin_transition_buttons_run_the_services(admin_client_):
    warehouse = WarehouseFactory()
    variant = VariantFactory()
    po = services.purchase_order_create(supplier_id=SupplierFactory().pk, warehouse_id=warehouse.pk,
                                        lines=[(variant.pk, 5)])
    refused = admin_client_.post(f"/admin/inventory/purchaseorder/{po.pk}/transition/receive_fully/", follow=True)
    assert b"Only a sent purchase order" in refused.content
    admin_client_.post(f"/admin/inventory/purchaseorder/{po.pk}/transition/send/")
    admin_client_.post(f"/admin/inventory/purchaseorder/{po.pk}/transition/receive_fully/")
    po.refresh_from_db()
    assert po.status == PurchaseOrder.Status.RECEIVED
    assert StockLevel.objects.get(variant=variant, warehouse=warehouse).on_hand == 5


def test_staff_without_change_permission_sees_no_buttons_and_cannot_post(client):
    from django.contrib.auth.models import Permission

    viewer = StaffFactory()
    viewer.user_permissions.add(Permission.objects.get(codename="view_purchaseorder"))
    client.force_login(viewer)
    po = services.purchase_order_create(supplier_id=SupplierFactory().pk, warehouse_id=WarehouseFactory().pk,
                                        lines=[(VariantFactory().pk, 1)])
    page = client.get(f"/admin/inventory/purchaseorder/{po.pk}/change/")
    assert page.status_code == 200 and b"Send to supplier" not in page.content
    assert client.post(f"/admin/inventory/purchaseorder/{po.pk}/transition/send/").status_code == 403
    po.refresh_from_db()
    assert po.status == "draft"


def test_admin_add_purchase_order_numbers_it_and_starts_as_draft(admin_client_):
    supplier, warehouse, variant = SupplierFactory(), WarehouseFactory(), VariantFactory()
    page = admin_client_.get("/admin/inventory/purchaseorder/add/")
    data = {"supplier": supplier.pk, "warehouse": warehouse.pk, "notes": "manual"}
    for inline in page.context["inline_admin_formsets"]:
        prefix = inline.formset.prefix
        data |= {f"{prefix}-TOTAL_FORMS": "0", f"{prefix}-INITIAL_FORMS": "0"}
        if inline.formset.model.__name__ == "PurchaseOrderLine":
            data |= {f"{prefix}-TOTAL_FORMS": "1", f"{prefix}-0-variant": variant.pk,
                     f"{prefix}-0-quantity_ordered": "7", f"{prefix}-0-lead_time_days": "3"}
    response = admin_client_.post("/admin/inventory/purchaseorder/add/", data)
    assert response.status_code == 302, response.context["errors"] if response.context else response
    po = PurchaseOrder.objects.get()
    assert po.number == f"PO-{po.pk:05d}" and po.status == "draft"
    assert list(po.lines.values_list("quantity_ordered", flat=True)) == [7]


def test_saving_a_stock_level_in_admin_only_saves_the_reorder_rule_never_the_figures(admin_client_):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from inventory.models import ReorderRule

    level = stocked(on_hand=8)
    supplier = SupplierFactory()
    page = admin_client_.get(f"/admin/inventory/stocklevel/{level.pk}/change/")
    [inline] = page.context["inline_admin_formsets"]
    prefix = inline.formset.prefix
    data = {f"{prefix}-TOTAL_FORMS": "1", f"{prefix}-INITIAL_FORMS": "0", f"{prefix}-0-supplier": supplier.pk,
            f"{prefix}-0-reorder_point": "4", f"{prefix}-0-reorder_quantity": "30", f"{prefix}-0-is_active": "on",
            f"{prefix}-0-stock_level": level.pk}
    with CaptureQueriesContext(connection) as queries:
        response = admin_client_.post(f"/admin/inventory/stocklevel/{level.pk}/change/", data)
    assert response.status_code == 302
    assert not [q for q in queries if q["sql"].startswith('UPDATE "inventory_stocklevel"')]
    assert ReorderRule.objects.get(stock_level=level).reorder_point == 4
