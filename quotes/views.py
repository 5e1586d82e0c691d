from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from catalog.selectors import variants_visible_to
from customers.decorators import customer_required
from orders.services import CheckoutDetails, cart_get_or_create
from shopauto.exceptions import DomainError

from . import selectors, services
from .forms import AcceptForm, ChangesForm, DeclineForm, RequestDetailsForm, RequestLineFormSet
from .models import Quote
from .pdf import quote_pdf_response


def _form_errors(form, error: DomainError) -> None:
    form.add_error(None, error.message)
    for field, problems in (error.fields or {}).items():
        if field in form.fields:
            for problem in problems if isinstance(problems, list) else [problems]:
                form.add_error(field, str(problem))


@customer_required
def quote_list(request):
    quotes = selectors.quote_list_for_customer(customer=request.customer)
    page = Paginator(quotes, 20).get_page(request.GET.get("page"))
    return render(request, "quotes/quote_list.html", {"page": page})


@customer_required
def quote_new(request):
    customer = request.customer
    details = RequestDetailsForm(request.POST or None)
    initial = [{"sku": request.GET["sku"], "quantity": 1}] if request.GET.get("sku") else None
    lines = RequestLineFormSet(request.POST or None, prefix="lines", initial=initial)
    if request.method == "POST" and details.is_valid() and lines.is_valid():
        wanted = [(form, form.cleaned_data) for form in lines.forms
                  if form.cleaned_data and form.cleaned_data.get("sku")]
        skus = {data["sku"].strip() for _form, data in wanted}
        variants = {v.sku: v for v in variants_visible_to(customer=customer).filter(sku__in=skus)}
        for form, data in wanted:
            if data["sku"].strip() not in variants:
                form.add_error("sku", _("No such item in your catalog."))
        if not wanted:
            details.add_error(None, _("Add at least one line."))
        elif all(not form.errors for form, _data in wanted):
            try:
                quote = services.quote_request(
                    customer=customer, notes=details.cleaned_data["notes"],
                    needed_by=details.cleaned_data["needed_by"], actor=request.user,
                    lines=[services.RequestedLine(variants[data["sku"].strip()].pk, data["quantity"],
                                                  data.get("target_price")) for _form, data in wanted])
            except DomainError as error:
                _form_errors(details, error)
            else:
                messages.success(request, _("Thank you! We received your request %(number)s and will answer soon.")
                                 % {"number": quote.number})
                return redirect("quotes:detail", number=quote.number)
    skus = variants_visible_to(customer=customer).select_related("product").order_by("sku")[:500]
    return render(request, "quotes/quote_new.html", {"details": details, "lines": lines, "skus": skus})


@require_POST
@customer_required
def quote_from_cart(request):
    form = RequestDetailsForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Check the date you need the items by."))
        return redirect("orders:cart")
    cart = cart_get_or_create(customer=request.customer)
    try:
        quote = services.quote_request_from_cart(customer=request.customer, cart_id=cart.pk,
                                                 notes=form.cleaned_data["notes"],
                                                 needed_by=form.cleaned_data["needed_by"], actor=request.user)
    except DomainError as error:
        messages.error(request, error.message)
        return redirect("orders:cart")
    messages.success(request, _("We received your request %(number)s for the items in your cart.")
                     % {"number": quote.number})
    return redirect("quotes:detail", number=quote.number)


def _detail_context(request, quote: Quote, **forms) -> dict:
    versions = selectors.quote_versions(quote=quote)
    current = versions[-1] if versions else None
    return {
        "quote": quote,
        "versions": versions,
        "current": current,
        "rows": selectors.versions_side_by_side(versions),
        "requested": quote.request_lines.select_related("variant__product"),
        "timeline": selectors.quote_timeline(quote=quote, customer_view=True),
        "can_answer": quote.status == Quote.Status.SENT,
        "can_withdraw": quote.status in (Quote.Status.REQUESTED, Quote.Status.IN_REVIEW),
        "accept_form": forms.get("accept_form") or AcceptForm(customer=quote.customer),
        "changes_form": forms.get("changes_form") or ChangesForm(),
        "decline_form": DeclineForm(),
    }


@customer_required
def quote_detail(request, number):
    quote = selectors.quote_get_for_customer(customer=request.customer, number=number)
    return render(request, "quotes/quote_detail.html", _detail_context(request, quote))


@require_POST
@customer_required
def quote_accept(request, number):
    quote = selectors.quote_get_for_customer(customer=request.customer, number=number)
    form = AcceptForm(request.POST, customer=quote.customer)
    if form.is_valid():
        details = CheckoutDetails(shipping_address_id=int(form.cleaned_data["shipping_address"]),
                                  shipping_method=form.cleaned_data["shipping_method"],
                                  payment_method=form.cleaned_data["payment_method"],
                                  po_number=form.cleaned_data.get("po_number", ""))
        try:
            quote = services.quote_accept(quote_id=quote.pk, actor=request.user, details=details)
        except DomainError as error:
            _form_errors(form, error)
        else:
            if quote.order_id:
                messages.success(request, _("Thank you! Your order %(order)s was placed at the quoted prices.")
                                 % {"order": quote.order.number})
                return redirect("orders:detail", number=quote.order.number)
            messages.warning(request, _("Your acceptance is recorded, but the order could not be placed yet: "
                                        "%(reason)s Our sales team has been told and will contact you.")
                             % {"reason": quote.conversion_error.get("message", "")})
            return redirect("quotes:detail", number=quote.number)
    return render(request, "quotes/quote_detail.html", _detail_context(request, quote, accept_form=form), status=400)


def _act(request, number, action, success):
    quote = selectors.quote_get_for_customer(customer=request.customer, number=number)
    try:
        action(quote)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, success)
    return redirect("quotes:detail", number=quote.number)


@require_POST
@customer_required
def quote_decline(request, number):
    form = DeclineForm(request.POST)
    reason = form.cleaned_data["reason"] if form.is_valid() else ""
    return _act(request, number, lambda q: services.quote_decline(quote_id=q.pk, actor=request.user, reason=reason),
                _("You declined this quote."))


@require_POST
@customer_required
def quote_request_changes(request, number):
    quote = selectors.quote_get_for_customer(customer=request.customer, number=number)
    form = ChangesForm(request.POST)
    if form.is_valid():
        try:
            services.quote_request_changes(quote_id=quote.pk, actor=request.user,
                                           comment=form.cleaned_data["comment"])
        except DomainError as error:
            _form_errors(form, error)
        else:
            messages.success(request, _("We received your comments and will send you a new version."))
            return redirect("quotes:detail", number=quote.number)
    return render(request, "quotes/quote_detail.html", _detail_context(request, quote, changes_form=form), status=400)


@require_POST
@customer_required
def quote_withdraw(request, number):
    return _act(request, number, lambda q: services.quote_cancel(quote_id=q.pk, actor=request.user,
                                                                 reason=_("Withdrawn by the buyer")),
                _("Your request was withdrawn."))


@customer_required
def quote_pdf(request, number):
    quote = selectors.quote_get_for_customer(customer=request.customer, number=number)
    versions = selectors.quote_versions(quote=quote)
    if not versions:
        messages.info(request, _("There is no priced version yet."))
        return redirect("quotes:detail", number=quote.number)
    return quote_pdf_response(quote, versions[-1])
