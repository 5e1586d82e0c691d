from functools import wraps

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.shortcuts import redirect
from django.utils.translation import gettext as _

from .selectors import customer_for_user


def customer_required(view):
    """Portal pages are for customers: anonymous users go to the login page, staff
    users (no customer profile) to the admin. The view gets `request.customer`."""

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        customer = customer_for_user(request.user)
        if customer is None:
            messages.info(request, _("Staff accounts use the back-office."))
            return redirect("admin:index")
        request.customer = customer
        return view(request, *args, **kwargs)

    return wrapped
