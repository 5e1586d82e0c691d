from anymail import urls as anymail_urls
from django.urls import path

from . import views

app_name = "notifications"

# anymail's tracking webhooks, one per ESP (e.g. /notifications/anymail/postmark/tracking/),
# each behind ANYMAIL_WEBHOOK_SECRET basic auth.
tracking_webhooks = [
    path(f"anymail/{pattern.pattern}", views.require_webhook_secret(pattern.callback), name=pattern.name)
    for pattern in anymail_urls.urlpatterns
    if "tracking" in pattern.name or pattern.name == "mandrill_webhook"
]

urlpatterns = [
    path("", views.message_list, name="messages"),
    path("<int:pk>/", views.message_detail, name="message"),
    path("unsubscribe/<str:token>/", views.unsubscribe, name="unsubscribe"),
    *tracking_webhooks,
]
