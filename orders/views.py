from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django_ratelimit.decorators import ratelimit

from customers.decorators import customer_required
from shopauto.exceptions import DomainError

from . import selectors, services
from .forms import AddToCartForm, CancelForm, CartLineQuantityForm, CheckoutForm, TrackOrderForm
from .models import Cart, Order


def _safe_next(request, default: str) -> str:
    from django.utils.http import url_has_allowed_host_and_scheme

    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return target
    return default


@customer_required
def cart_detail(request):
    cart = services.cart_get_or_create(customer=request.customer)
    lines = list(cart.lines.select_related("variant__product"))
    total = sum((line.line_total for line in lines), 0)
    return render(request, "orders/cart.html", {"cart": cart, "lines": lines, "total": total})


@require_POST
@customer_required
def cart_add(request):
    form = AddToCartForm(request.POST)
    target = _safe_next(request, "orders:cart")
    if not form.is_valid():
        messages.error(request, _("Enter a quantity of at least 1."))
        return redirect(target)
    cart = services.cart_get_or_create(customer=request.customer)
    try:
        services.cart_set_quantity(customer=request.customer, cart_id=cart.pk, sku=form.cleaned_data["sku"],
                                   quantity=form.cleaned_data["quantity"], add=True)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("Added to your cart."))
    return redirect(target)


@require_POST
@customer_required
def cart_update(request):
    form = CartLineQuantityForm(request.POST)
    cart = services.cart_get_or_create(customer=request.customer)
    if not form.is_valid():
        messages.error(request, _("Enter a quantity of 0 or more."))
        return redirect("orders:cart")
    try:
        services.cart_set_quantity(customer=request.customer, cart_id=cart.pk, sku=form.cleaned_data["sku"],
                                   quantity=form.cleaned_data["quantity"])
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("Your cart was updated."))
    return redirect("orders:cart")


@customer_required
def cart_restore(request, token):
    cart = Cart.objects.filter(token=token, customer=request.customer).first()
    if cart is None or cart.status != Cart.Status.OPEN:
        messages.info(request, _("That cart is no longer open. Here is your current cart."))
        return redirect("orders:cart")
    try:
        services.cart_touch(customer=request.customer, cart_id=cart.pk)
    except DomainError as error:
        messages.warning(request, error.message)
    return redirect("orders:cart")


@customer_required
def checkout(request):
    customer = request.customer
    cart = services.cart_get_or_create(customer=customer)
    lines = list(cart.lines.select_related("variant__product"))
    if not lines:
        messages.info(request, _("Your cart is empty."))
        return redirect("orders:cart")
    from customers.selectors import address_list_for_customer

    default_address = address_list_for_customer(customer=customer).first()
    options = selectors.shipping_options(region=default_address.region if default_address else "",
                                         currency=cart.currency)
    form = CheckoutForm(request.POST or None, customer=customer, options=options)
    if request.method == "POST" and form.is_valid():
        details = services.CheckoutDetails(
            shipping_address_id=int(form.cleaned_data["shipping_address"]),
            shipping_method=form.cleaned_data["shipping_method"],
            payment_method=form.cleaned_data["payment_method"],
            po_number=form.cleaned_data.get("po_number", ""),
        )
        try:
            order = services.order_place_from_cart(customer=customer, cart_id=cart.pk, details=details,
                                                   actor=request.user)
        except DomainError as error:
            form.add_error(None, error.message)
            for field, problems in error.fields.items():
                if field in form.fields:
                    for problem in problems if isinstance(problems, list) else [problems]:
                        form.add_error(field, str(problem))
        else:
            messages.success(request, _("Thank you! Your order %(number)s was placed.") % {"number": order.number})
            return redirect("orders:detail", number=order.number)
    total = sum((line.line_total for line in lines), 0)
    return render(request, "orders/checkout.html", {"form": form, "cart": cart, "lines": lines, "total": total})


@customer_required
def order_list(request):
    orders = selectors.order_list_for_customer(customer=request.customer)
    page = Paginator(orders, 20).get_page(request.GET.get("page"))
    return render(request, "orders/order_list.html", {
        "page": page, "awaiting": selectors.orders_awaiting_approval(customer=request.customer).count(),
    })


@customer_required
def order_detail(request, number):
    order = selectors.order_get_for_customer(customer=request.customer, number=number)
    return render(request, "orders/order_detail.html", {
        "order": order,
        "lines": order.lines.all(),
        "shipments": order.shipments.all(),
        "timeline": selectors.order_timeline(order=order, customer_view=True),
        "can_cancel": order.status in (Order.Status.PLACED, Order.Status.AWAITING_APPROVAL, Order.Status.ON_HOLD,
                                       Order.Status.CONFIRMED),
        "can_approve": order.status == Order.Status.AWAITING_APPROVAL and request.customer.can_approve
        and request.customer.company_id == order.company_id,
        "cancel_form": CancelForm(),
    })


def _act(request, number, action, success):
    order = selectors.order_get_for_customer(customer=request.customer, number=number)
    try:
        action(order)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, success)
    return redirect("orders:detail", number=order.number)


@require_POST
@customer_required
def order_cancel(request, number):
    form = CancelForm(request.POST)
    reason = form.cleaned_data["reason"] if form.is_valid() else ""
    return _act(request, number, lambda order: services.order_cancel(order_id=order.pk, actor=request.user,
                                                                      reason=reason or _("Cancelled by the customer")),
                _("Your order was cancelled."))


@require_POST
@customer_required
def order_approve(request, number):
    return _act(request, number, lambda order: services.order_approve(order_id=order.pk, actor=request.user),
                _("Order approved."))


@require_POST
@customer_required
def order_reorder(request, number):
    order = selectors.order_get_for_customer(customer=request.customer, number=number)
    cart = services.cart_get_or_create(customer=request.customer)
    added, problems = services.cart_add_order_lines(customer=request.customer, cart_id=cart.pk, order=order)
    if added:
        messages.success(request, _("%(count)s items were added to your cart.") % {"count": added})
    for problem in problems:
        messages.warning(request, problem)
    return redirect("orders:cart")


@customer_required
def approvals(request):
    orders = selectors.orders_awaiting_approval(customer=request.customer).select_related("customer__user")
    return render(request, "orders/approvals.html", {"orders": orders})


@ratelimit(key="ip", rate=lambda group, request: settings.PUBLIC_LOOKUP_RATE_LIMIT, method="POST", block=True)
def track(request):
    """Public "where is my order": order number + the email it was placed with."""
    form = TrackOrderForm(request.POST or None)
    order = None
    if request.method == "POST" and form.is_valid():
        order = Order.objects.filter(number__iexact=form.cleaned_data["number"].strip(),
                                     email__iexact=form.cleaned_data["email"].strip()).first()
        if order is None:
            form.add_error(None, _("We found no order with this number and email."))
    return render(request, "orders/track.html", {
        "form": form, "order": order,
        "shipments": order.shipments.all() if order else [],
        "timeline": selectors.order_timeline(order=order, customer_view=True) if order else [],
    })


def packing_slip(request, number):
    """Staff only (admin); kept here so the URL is stable."""
    from django.contrib.admin.views.decorators import staff_member_required

    @staff_member_required
    def view(request):
        from .pdf import packing_slips_pdf

        order = get_object_or_404(Order, number=number)
        return packing_slips_pdf([order], filename=f"packing-slip-{order.number}.pdf")

    return view(request)
