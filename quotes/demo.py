"""Demo quotes for buyer@acme.example, made through the services (real events, emails
and timelines): a request in review, a sent quote with two versions after the buyer
asked for changes, and an accepted quote converted into an order."""

from datetime import timedelta

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.utils import timezone


def load(out) -> str:
    _managers_alone_approve()
    from .models import Quote

    if Quote.objects.exists():
        return "quotes already there"
    from customers.models import CustomerProfile

    buyer = CustomerProfile.objects.filter(user__username="buyer@acme.example").select_related("user").first()
    staff = get_user_model().objects.filter(username="manager").first() or \
        get_user_model().objects.filter(is_superuser=True).first()
    if buyer is None or staff is None:
        return "no demo buyer or staff: skipped"
    from catalog.selectors import variants_visible_to

    variants = list(variants_visible_to(customer=buyer).order_by("sku")[:6])
    if len(variants) < 6:
        return "not enough catalog: skipped"
    _review(buyer, staff, variants[0:2], out)
    _revised(buyer, staff, variants[2:4], out)
    _converted(buyer, staff, variants[4:6], out)
    statuses = ", ".join(Quote.objects.order_by("pk").values_list("status", flat=True))
    return f"3 quotes ({statuses}; an accepted one without stock waits for staff to retry the conversion)"


def _managers_alone_approve() -> None:
    """customers/demo.py gives Sales every quotes permission; approving a discount beyond
    the limit is the Managers' alone."""
    approve = Permission.objects.filter(content_type__app_label="quotes", codename="approve_quote").first()
    sales = Group.objects.filter(name="Sales").first()
    if approve and sales:
        sales.permissions.remove(approve)


def _list_price(buyer, variant, quantity):
    from catalog import pricing

    quote = pricing.prices_for(customer=buyer, items=[(variant, quantity)]).get(variant.pk)
    return quote.unit_price if quote else None


def _priced(buyer, variants, quantity, off):
    from decimal import Decimal

    from .services import PricedLine

    lines = []
    for variant in variants:
        base = _list_price(buyer, variant, quantity) or Decimal("10.00")
        lines.append(PricedLine(variant.pk, quantity, (base * (1 - Decimal(off) / 100)).quantize(Decimal("0.01"))))
    return lines


def _review(buyer, staff, variants, out) -> int:
    from . import services

    out.write("      quote 1/3: a request in review …")
    quote = services.quote_request(customer=buyer, actor=buyer.user, notes="New site opening: 40 of each.",
                                   needed_by=timezone.localdate() + timedelta(days=45),
                                   lines=[services.RequestedLine(v.pk, 40) for v in variants])
    services.quote_start_review(quote_id=quote.pk, actor=staff)
    return 1


def _revised(buyer, staff, variants, out) -> int:
    from . import services

    out.write("      quote 2/3: sent, changes asked, version 2 sent …")
    quote = services.quote_request(customer=buyer, actor=buyer.user, notes="Yearly need, delivered quarterly.",
                                   lines=[services.RequestedLine(v.pk, 25) for v in variants])
    services.quote_price(quote_id=quote.pk, actor=staff, lines=_priced(buyer, variants, 25, 5), note="5% off.")
    services.quote_send(quote_id=quote.pk, actor=staff)
    services.quote_request_changes(quote_id=quote.pk, actor=buyer.user,
                                   comment="Could you do 8% if we take 30 of each?")
    services.quote_price(quote_id=quote.pk, actor=staff, lines=_priced(buyer, variants, 30, 8),
                         note="8% off for 30 of each.")
    services.quote_send(quote_id=quote.pk, actor=staff)
    return 1


def _converted(buyer, staff, variants, out) -> int:
    from customers.selectors import address_list_for_customer
    from orders.services import CheckoutDetails

    from . import services

    out.write("      quote 3/3: accepted and converted into an order …")
    quote = services.quote_request(customer=buyer, actor=buyer.user,
                                   lines=[services.RequestedLine(v.pk, 3) for v in variants])
    services.quote_price(quote_id=quote.pk, actor=staff, lines=_priced(buyer, variants, 3, 3))
    services.quote_send(quote_id=quote.pk, actor=staff)
    address = address_list_for_customer(customer=buyer).first()
    if address is None:
        return 1
    services.quote_accept(quote_id=quote.pk, actor=buyer.user, details=CheckoutDetails(
        shipping_address_id=address.pk, shipping_method="standard", payment_method="invoice", po_number="PO-Q-DEMO"))
    return 1
