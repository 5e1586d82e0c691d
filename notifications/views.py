from functools import wraps

from django.conf import settings
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django_ratelimit.decorators import ratelimit

from customers.decorators import customer_required

from . import selectors, services
from .exceptions import MessageNotFound, UnsubscribeLinkInvalid


@customer_required
def message_list(request):
    page = Paginator(selectors.message_list_for_customer(customer=request.customer), 25).get_page(request.GET.get("page"))
    return render(request, "notifications/message_list.html", {"page": page})


@customer_required
def message_detail(request, pk):
    try:
        message = selectors.message_get_for_customer(customer=request.customer, message_id=pk)
    except MessageNotFound:
        raise Http404
    return render(request, "notifications/message_detail.html", {"message": message})


@csrf_exempt  # the signed token is the credential; mail clients POST without a CSRF token (RFC 8058)
@ratelimit(key="ip", rate=lambda group, request: settings.PUBLIC_LOOKUP_RATE_LIMIT, block=True)
def unsubscribe(request, token):
    """GET: a confirmation page (link scanners must not unsubscribe anyone).
    POST: unsubscribe, from the page's button or the mail client's one-click button."""
    try:
        customer = services.customer_for_unsubscribe_token(token)
    except UnsubscribeLinkInvalid as exc:
        return render(request, "notifications/unsubscribe.html", {"error": exc.message}, status=400)
    if request.method == "POST":
        services.customer_unsubscribe(token=token)
        if request.POST.get("List-Unsubscribe") == "One-Click":
            return HttpResponse(_("You are unsubscribed."), content_type="text/plain; charset=utf-8")
        return render(request, "notifications/unsubscribe.html", {"done": True, "email": customer.email})
    return render(request, "notifications/unsubscribe.html", {"email": customer.email, "token": token})


def require_webhook_secret(view):
    """anymail accepts unauthenticated webhooks (with a warning) when no secret is set;
    we refuse them instead: nobody may forge delivery statuses."""

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if not settings.ANYMAIL.get("WEBHOOK_SECRET"):
            raise Http404
        return view(request, *args, **kwargs)

    return csrf_exempt(wrapped)
