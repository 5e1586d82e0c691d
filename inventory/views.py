from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from customers.decorators import customer_required
from shopauto.exceptions import DomainError

from . import services
from .exceptions import VariantNotFound
from .forms import SubscribeForm
from .selectors import stock_summary_for, subscriptions_for_customer


@customer_required
def alerts(request):
    """My back-in-stock alerts, and a form to add one."""
    form = SubscribeForm(request.POST or None, initial={"sku": request.GET.get("sku", "")})
    if request.method == "POST" and form.is_valid():
        raw = form.cleaned_data["sku"].strip()
        try:
            try:
                subscription = services.back_in_stock_subscribe(customer=request.customer, sku=raw)
            except VariantNotFound:
                if not raw.isdigit():
                    raise
                subscription = services.back_in_stock_subscribe(customer=request.customer, variant_id=int(raw))
        except DomainError as exc:
            form.add_error("sku", str(exc.message))
        else:
            messages.success(request, _("We will email you when %(sku)s is back in stock.")
                             % {"sku": subscription.variant.sku})
            return redirect("inventory:alerts")
    subscriptions = list(subscriptions_for_customer(customer=request.customer))
    summary = stock_summary_for(variant_ids=list({s.variant_id for s in subscriptions}))
    rows = [(s, summary[s.variant_id]["label"]) for s in subscriptions]
    return render(request, "inventory/alerts.html", {"form": form, "rows": rows})


@customer_required
@require_POST
def unsubscribe(request, pk: int):
    try:
        services.back_in_stock_unsubscribe(customer=request.customer, subscription_id=pk)
    except DomainError as exc:
        messages.error(request, str(exc.message))
    else:
        messages.success(request, _("The alert was removed."))
    return redirect("inventory:alerts")
