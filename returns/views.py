from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from customers.decorators import customer_required
from orders.selectors import order_get_for_customer, orders_visible_to
from shopauto.exceptions import DomainError

from . import selectors, services
from .exceptions import ReturnNotFound
from .forms import ReturnRequestForm, ShippedBackForm
from .models import ReturnRequest
from .pdf import return_label_pdf
from .policy import active_policy

LABEL_STATES = [ReturnRequest.Status.APPROVED, ReturnRequest.Status.IN_TRANSIT]


@customer_required
def return_list(request):
    returns = selectors.return_list_for_customer(customer=request.customer)
    page = Paginator(returns, 20).get_page(request.GET.get("page"))
    returnable = (orders_visible_to(customer=request.customer)
                  .filter(status__in=selectors.RETURNABLE_ORDER_STATUSES).order_by("-delivered_at")[:10])
    return render(request, "returns/return_list.html", {
        "page": page, "returnable_orders": returnable,
        "store_credit": selectors.store_credit_balance(customer=request.customer),
    })


def _replacements_for(customer, rows):
    from catalog.selectors import variants_visible_to

    product_ids = {row["line"].variant.product_id for row in rows}
    found: dict[int, list] = {}
    for variant in variants_visible_to(customer=customer).filter(product_id__in=product_ids).select_related("product"):
        found.setdefault(variant.product_id, []).append(variant)
    return found


@customer_required
def return_new(request, order_number):
    order = order_get_for_customer(customer=request.customer, number=order_number)
    if order.status not in selectors.RETURNABLE_ORDER_STATUSES:
        messages.info(request, _("Only delivered orders can be returned."))
        return redirect("orders:detail", number=order.number)
    rows = selectors.returnable_lines(order=order)
    form = ReturnRequestForm(request.POST or None, request.FILES or None, rows=rows,
                             replacements=_replacements_for(request.customer, rows))
    if request.method == "POST" and form.is_valid():
        try:
            created = services.return_request_create(
                customer=request.customer, order_number=order.number, lines=form.selected_lines(),
                reason=form.cleaned_data["reason"], resolution=form.cleaned_data["resolution"],
                comments=form.cleaned_data["comments"], photos=form.photos(), actor=request.user)
        except DomainError as error:
            form.add_error(None, error.message)
            for field, problems in error.fields.items():
                for problem in problems if isinstance(problems, list) else [problems]:
                    form.add_error(field if field in form.fields else None,
                                   problem if field in form.fields else f"{field}: {problem}")
        else:
            messages.success(request, _("Your return %(rma)s was registered.") % {"rma": created.rma})
            return redirect("returns:detail", rma=created.rma)
    return render(request, "returns/return_new.html", {"order": order, "form": form, "rows": form.rows,
                                                        "policy": active_policy()})


@customer_required
def return_detail(request, rma):
    found = selectors.return_get_for_customer(customer=request.customer, rma=rma)
    return render(request, "returns/return_detail.html", {
        "ret": found, "lines": found.lines.select_related("replacement_variant__product"),
        "timeline": selectors.return_timeline(request=found, customer_view=True),
        "can_ship": found.status == ReturnRequest.Status.APPROVED,
        "can_withdraw": found.status in (ReturnRequest.Status.REQUESTED, ReturnRequest.Status.APPROVED),
        "has_label": found.status in LABEL_STATES, "ship_form": ShippedBackForm(),
        "policy": found.policy or active_policy(),
    })


@require_POST
@customer_required
def return_shipped(request, rma):
    found = selectors.return_get_for_customer(customer=request.customer, rma=rma)
    form = ShippedBackForm(request.POST)
    tracking = form.cleaned_data["tracking_number"] if form.is_valid() else ""
    try:
        services.return_mark_shipped(return_id=found.pk, actor=request.user, tracking_number=tracking)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("Thank you: we will let you know when your parcel arrives."))
    return redirect("returns:detail", rma=found.rma)


@require_POST
@customer_required
def return_withdraw(request, rma):
    found = selectors.return_get_for_customer(customer=request.customer, rma=rma)
    try:
        services.return_withdraw(return_id=found.pk, actor=request.user)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("Your return was withdrawn."))
    return redirect("returns:detail", rma=found.rma)


@customer_required
def return_label(request, rma):
    found = selectors.return_get_for_customer(customer=request.customer, rma=rma)
    if found.status not in LABEL_STATES:
        raise ReturnNotFound(_("The label is available once your return is approved."))
    return return_label_pdf(found, policy=found.policy or active_policy())
