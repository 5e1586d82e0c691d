import io

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from customers.models import Company, CustomerProfile


@pytest.mark.django_db
def test_demo_data_loads_and_is_idempotent():
    out = io.StringIO()
    call_command("demo_data", stdout=out)
    counts = (get_user_model().objects.count(), Company.objects.count(), CustomerProfile.objects.count())
    call_command("demo_data", stdout=io.StringIO())
    assert (get_user_model().objects.count(), Company.objects.count(), CustomerProfile.objects.count()) == counts
    assert "admin / shopauto-demo" in out.getvalue()
    assert get_user_model().objects.get(username="admin").check_password("shopauto-demo")
    assert CustomerProfile.objects.get(user__username="approver@acme.example").can_approve
