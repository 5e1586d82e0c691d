"""Shipping methods, holidays, and a few orders in different states (placed through the
services, so their events, emails and timelines are real)."""

from datetime import date
from decimal import Decimal

from django.contrib.auth import get_user_model

from .models import Holiday, Order, ShippingMethod, ShippingRate

RATES = {
    "standard": ("Standard", "DHL", "https://www.dhl.com/track?tracking-id={tracking}",
                 [("EU-SOUTH", "6.90", 2), ("EU-WEST", "8.90", 3), ("", "14.90", 6)]),
    "express": ("Express", "UPS", "https://www.ups.com/track?tracknum={tracking}",
                [("EU-SOUTH", "14.90", 1), ("EU-WEST", "16.90", 1), ("", "29.90", 3)]),
}


def load(out) -> str:
    for code, (name, carrier, tracking, rates) in RATES.items():
        method, _ = ShippingMethod.objects.get_or_create(code=code, defaults={
            "name": name, "carrier": carrier, "tracking_url_template": tracking})
        for region, price, days in rates:
            for currency in ("EUR", "BRL"):
                amount = Decimal(price) * (Decimal("5.5") if currency == "BRL" else 1)
                ShippingRate.objects.get_or_create(method=method, region=region, currency=currency,
                                                   defaults={"price": amount.quantize(Decimal("0.01")),
                                                             "transit_days": days})
    for day, region, name in [(date(2026, 12, 8), "EU-SOUTH", "Inmaculada Concepción"),
                              (date(2026, 12, 25), "", "Christmas Day"), (date(2027, 1, 1), "", "New Year's Day")]:
        Holiday.objects.get_or_create(date=day, region=region, defaults={"name": name})

    if Order.objects.exists():
        return "shipping methods and holidays (orders already there)"
    made = _demo_orders(out)
    return f"2 shipping methods, 3 holidays, {made} orders"


def _above_threshold(customer):
    """The dearest item the company sees, in a quantity just above its approval threshold."""
    from catalog.pricing import price_for, prices_for
    from catalog.selectors import variants_visible_to
    from inventory.selectors import availability_for

    variants = list(variants_visible_to(customer=customer))
    prices = prices_for(customer=customer, items=[(v, 1) for v in variants])
    stock = availability_for(variant_ids=[v.pk for v in variants])
    threshold = customer.company.approval_threshold or Decimal("0")
    for variant in sorted(variants, key=lambda v: prices[v.pk].unit_price if v.pk in prices else 0, reverse=True):
        if variant.pk not in prices:
            continue
        quantity = int(threshold / prices[variant.pk].unit_price) + 1
        for _ in range(3):  # quantity tiers lower the price as the quantity grows
            unit = price_for(customer=customer, variant=variant, quantity=quantity).unit_price
            if unit * quantity > threshold:
                break
            quantity = int(threshold / unit) + 1
        if quantity <= stock.get(variant.pk, 0):
            return [variant], quantity
    return [], 0


def _demo_orders(out) -> int:
    from catalog.selectors import variants_visible_to
    from customers.models import CustomerProfile
    from customers.selectors import address_list_for_customer
    from shopauto.exceptions import DomainError

    from . import services

    User = get_user_model()
    staff = User.objects.filter(is_superuser=True).first()
    made = 0
    plans = [
        ("buyer@acme.example", "invoice", 2, ["ship", "deliver"]),
        ("buyer@acme.example", "invoice", 3, ["ship"]),
        ("buyer@acme.example", "invoice", "above-threshold", []),  # waits for Acme's approver
        ("ana@example.com", "bank_transfer", 1, []),
        ("ana@example.com", "bank_transfer", 2, ["pay"]),
    ]
    for index, (email, payment, quantity, steps) in enumerate(plans, start=1):
        customer = CustomerProfile.objects.filter(user__username=email).first()
        if customer is None:
            continue
        variants = list(variants_visible_to(customer=customer).order_by("sku")[index:index + 2])
        address = address_list_for_customer(customer=customer).first()
        if not variants or address is None:
            continue
        if quantity == "above-threshold":
            variants, quantity = _above_threshold(customer)
            if not variants:
                continue
        out.write(f"      order {index}/{len(plans)} for {email} …")
        try:
            order = services.order_place(
                customer=customer, lines=[(v.pk, quantity) for v in variants],
                details=services.CheckoutDetails(shipping_address_id=address.pk, shipping_method="standard",
                                                 payment_method=payment, po_number=f"PO-2026-{index:03d}"
                                                 if customer.company_id else ""))
            if "pay" in steps:
                services.order_mark_paid(order_id=order.pk, amount=order.total, reference=f"DEMO-{index}",
                                         actor=staff)
            if "ship" in steps:
                services.order_ship(order_id=order.pk, actor=staff, tracking_number=f"DEMO{index:06d}")
            if "deliver" in steps:
                services.shipment_tracking_update(tracking_number=f"DEMO{index:06d}", status="delivered")
        except DomainError as error:
            out.write(f"      skipped: {error.message}")
            continue
        made += 1
    return made
