from django.urls import path

from . import views

app_name = "returns"

urlpatterns = [
    path("", views.return_list, name="list"),
    path("new/<str:order_number>/", views.return_new, name="new"),
    path("<str:rma>/", views.return_detail, name="detail"),
    path("<str:rma>/shipped/", views.return_shipped, name="shipped"),
    path("<str:rma>/withdraw/", views.return_withdraw, name="withdraw"),
    path("<str:rma>/label.pdf", views.return_label, name="label"),
]
