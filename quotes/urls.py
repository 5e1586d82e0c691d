from django.urls import path

from . import views

app_name = "quotes"

urlpatterns = [
    path("", views.quote_list, name="list"),
    path("new/", views.quote_new, name="new"),
    path("from-cart/", views.quote_from_cart, name="from_cart"),
    path("<str:number>/", views.quote_detail, name="detail"),
    path("<str:number>/accept/", views.quote_accept, name="accept"),
    path("<str:number>/decline/", views.quote_decline, name="decline"),
    path("<str:number>/changes/", views.quote_request_changes, name="request_changes"),
    path("<str:number>/withdraw/", views.quote_withdraw, name="withdraw"),
    path("<str:number>/quote.pdf", views.quote_pdf, name="pdf"),
]
