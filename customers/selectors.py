from django.db.models import Q, QuerySet

from .models import Address, CustomerProfile


def customer_for_user(user) -> CustomerProfile | None:
    """The customer profile behind a user, or None for staff and anonymous users."""
    if not getattr(user, "is_authenticated", False):
        return None
    try:
        return user.customer_profile
    except CustomerProfile.DoesNotExist:
        return None


def address_list_for_customer(*, customer: CustomerProfile) -> QuerySet[Address]:
    """Addresses the customer may ship to: their own, and their company's."""
    owned = Q(profile=customer)
    if customer.company_id:
        owned |= Q(company_id=customer.company_id)
    return Address.objects.filter(owned).order_by("-is_default_shipping", "label", "pk")


def approvers_for_company(*, company_id: int) -> QuerySet[CustomerProfile]:
    return CustomerProfile.objects.filter(
        company_id=company_id, role__in=[CustomerProfile.Role.APPROVER, CustomerProfile.Role.ADMIN],
        user__is_active=True,
    ).select_related("user")
