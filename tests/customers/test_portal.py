import pytest
from django.core import mail
from django.core.cache import cache
from django.urls import reverse

from automation.models import Event
from tests.factories import PASSWORD, CompanyFactory, CustomerFactory, StaffFactory


@pytest.fixture(autouse=True)
def _clear_rate_limits():
    cache.clear()
    yield
    cache.clear()


@pytest.mark.django_db
def test_customer_signs_in_and_sees_their_portal_home(client):
    customer = CustomerFactory(company=CompanyFactory(name="Acme"), user__first_name="Bruno")
    response = client.post(reverse("customers:login"), {"username": customer.user.username, "password": PASSWORD})
    assert response.status_code == 302
    home = client.get(reverse("portal:home"))
    assert "Hello, Bruno" in home.content.decode()
    assert "Acme" in home.content.decode()


@pytest.mark.django_db
def test_wrong_password_shows_a_message_on_the_form(client):
    customer = CustomerFactory()
    response = client.post(reverse("customers:login"), {"username": customer.user.username, "password": "nope"})
    assert response.status_code == 200
    assert "Please enter a correct" in response.content.decode()


@pytest.mark.django_db
def test_staff_cannot_sign_in_to_the_portal_as_a_customer(client):
    staff = StaffFactory()
    response = client.post(reverse("customers:login"), {"username": staff.username, "password": PASSWORD})
    assert response.status_code == 200
    assert "staff account" in response.content.decode()
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_customer_cannot_open_the_admin(client):
    customer = CustomerFactory()
    client.force_login(customer.user)
    response = client.get("/admin/")
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


@pytest.mark.django_db
def test_portal_pages_need_a_customer(client):
    assert client.get(reverse("customers:account"))["Location"].startswith(reverse("customers:login"))
    client.force_login(StaffFactory())
    assert client.get(reverse("customers:account"))["Location"] == reverse("admin:index")


@pytest.mark.django_db
def test_login_is_rate_limited_per_username(client):
    customer = CustomerFactory()
    url = reverse("customers:login")
    codes = [client.post(url, {"username": customer.user.username, "password": "wrong"}).status_code
             for _ in range(11)]
    assert codes[:10] == [200] * 10
    assert codes[10] == 429
    # even the right password is refused until the window passes
    assert client.post(url, {"username": customer.user.username, "password": PASSWORD}).status_code == 429


@pytest.mark.django_db
def test_preferences_change_language_and_consent_and_emit_an_event(client):
    customer = CustomerFactory(language="en", marketing_consent=False)
    client.force_login(customer.user)
    response = client.post(reverse("customers:account"), {"language": "pt-br", "marketing_consent": "on"}, follow=True)
    assert response.redirect_chain == [(reverse("customers:account"), 302)]
    customer.refresh_from_db()
    assert customer.language == "pt-br"
    assert customer.marketing_consent is True
    assert customer.marketing_consent_at is not None
    assert Event.objects.filter(name="customer.consent_changed", subject_id=str(customer.pk)).exists()


@pytest.mark.django_db
def test_invalid_preferences_change_nothing(client):
    customer = CustomerFactory(language="en")
    client.force_login(customer.user)
    response = client.post(reverse("customers:account"), {"language": "klingon"})
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    customer.refresh_from_db()
    assert customer.language == "en"


@pytest.mark.django_db
def test_password_reset_sends_a_link_through_anymail(client):
    customer = CustomerFactory(user__email="ana@example.com")
    response = client.post(reverse("customers:password_reset"), {"email": "ana@example.com"})
    assert response.status_code == 302
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["ana@example.com"]
    assert "/account/password-reset/" in mail.outbox[0].body
    assert hasattr(mail.outbox[0], "anymail_test_params")  # went through anymail's test backend
    assert customer.user.email == "ana@example.com"


@pytest.mark.django_db
def test_profile_language_drives_the_portal_language(client):
    customer = CustomerFactory(language="es")
    client.force_login(customer.user)
    response = client.get(reverse("customers:account"))
    assert response.headers["Content-Language"] == "es"
