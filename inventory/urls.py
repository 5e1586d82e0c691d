from django.urls import path

from . import views

app_name = "inventory"

urlpatterns = [
    path("", views.alerts, name="alerts"),
    path("alerts/<int:pk>/unsubscribe/", views.unsubscribe, name="unsubscribe"),
]
