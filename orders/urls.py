from django.urls import path

from . import views

app_name = "orders"

urlpatterns = [
    path("", views.order_list, name="list"),
    path("cart/", views.cart_detail, name="cart"),
    path("cart/add/", views.cart_add, name="cart_add"),
    path("cart/update/", views.cart_update, name="cart_update"),
    path("cart/restore/<str:token>/", views.cart_restore, name="cart_restore"),
    path("checkout/", views.checkout, name="checkout"),
    path("approvals/", views.approvals, name="approvals"),
    path("track/", views.track, name="track"),
    path("<str:number>/", views.order_detail, name="detail"),
    path("<str:number>/cancel/", views.order_cancel, name="cancel"),
    path("<str:number>/approve/", views.order_approve, name="approve"),
    path("<str:number>/reorder/", views.order_reorder, name="reorder"),
    path("<str:number>/packing-slip.pdf", views.packing_slip, name="packing_slip"),
]
