"""The shop speaks the customer's language: catalogs complete for every portal string,
placeholders kept, compiled without GNU gettext, profile → portal and email language,
English fallback, switcher saved on the profile, the admin stays English."""

import io
from decimal import Decimal
from gettext import GNUTranslations
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core import mail
from django.core.management import call_command
from django.template import Context, Template
from django.urls import reverse
from django.utils import translation

from automation import services as spine
from customers.models import CustomerProfile
from notifications import services as notification_services
from notifications import templating
from notifications.models import NotificationTemplate, OutgoingMessage
from notifications.samples import sample_context
from shopauto import i18n
from shopauto.templatetags.money import format_money
from tests.factories import CustomerFactory

SHIPPED = ["es", "pt-br", "it", "id", "zh-hans"]


@pytest.fixture(autouse=True, scope="module")
def _compiled_catalogs():
    # `make test` compiles first; a bare `pytest` run must not depend on it.
    i18n.compile_catalogs()
    i18n.reset_translation_cache()
    yield
    i18n.reset_translation_cache()


def test_every_portal_string_is_translated_in_every_shipped_language():
    messages = i18n.collect_messages()
    keys = {key[1] for key in messages}
    # The extraction sees templates, Python code and choice labels, and leaves admin-only text out.
    assert {"Sign out", "Your cart is empty.", "Awaiting approval", "Hello, %(name)s"} <= keys
    assert "credit limit" not in keys  # a model field label: the admin's, English
    missing = i18n.missing_translations(messages)
    assert not missing, (
        "Untranslated portal strings. Run `make messages` (or `python manage.py update_translations "
        "--export gaps.json`, fill it, `--import gaps.json`), then translate:\n" + i18n.format_missing(missing))


def test_the_completeness_check_reports_a_string_added_later():
    messages = i18n.collect_messages()
    extra = i18n.Message(msgid="A sentence added on another branch", context=None, locations=[("x.html", 1)])
    messages[extra.key] = extra
    missing = i18n.missing_translations(messages)
    assert set(missing) == set(SHIPPED)
    assert all([m.key[1] for m in gaps] == ["A sentence added on another branch"] for gaps in missing.values())
    assert "x.html:1" in i18n.format_missing(missing)


def test_a_fuzzy_or_empty_translation_counts_as_missing(tmp_path, settings):
    settings.LOCALE_PATHS = [tmp_path]
    (tmp_path / "es" / "LC_MESSAGES").mkdir(parents=True)
    (tmp_path / "es" / "LC_MESSAGES" / "django.po").write_text(
        'msgid ""\nmsgstr "Content-Type: text/plain; charset=UTF-8\\n"\n\n'
        '#, fuzzy\nmsgid "Sign out"\nmsgstr "Salir"\n\nmsgid "Cart"\nmsgstr ""\n\nmsgid "Save"\nmsgstr "Guardar"\n',
        encoding="utf-8")
    messages = {(None, text): i18n.Message(msgid=text, context=None) for text in ("Sign out", "Cart", "Save")}
    assert [m.msgid for m in i18n.missing_translations(messages)["es"]] == ["Sign out", "Cart"]


def test_every_translation_keeps_the_placeholders_of_its_msgid():
    problems = [problem for language in SHIPPED for problem in i18n.placeholder_mismatches(language)]
    assert not problems, "\n".join(problems)


def test_the_placeholder_check_catches_a_renamed_placeholder(tmp_path, settings):
    settings.LOCALE_PATHS = [tmp_path]
    (tmp_path / "es" / "LC_MESSAGES").mkdir(parents=True)
    (tmp_path / "es" / "LC_MESSAGES" / "django.po").write_text(
        'msgid ""\nmsgstr "Content-Type: text/plain; charset=UTF-8\\n"\n\n'
        'msgid "Order %(number)s"\nmsgstr "Pedido %(numero)s"\n', encoding="utf-8")
    assert i18n.placeholder_mismatches("es") == ["es: 'Order %(number)s' → 'Pedido %(numero)s'"]


def test_translated_email_templates_use_the_same_variables_as_english():
    problems = i18n.email_template_mismatches()
    assert not problems, "\n".join(problems)
    assert i18n.template_variables("{{ total|money:currency }} {% if tracking_url %}") == {
        "total", "currency", "tracking_url"}


def test_every_customer_email_ships_in_every_language():
    keys = i18n.customer_email_keys()
    assert {"order.confirmed", "order.approval_requested", "cart.abandoned"} <= set(keys)
    assert not {"stock.low", "staff.alert"} & set(keys)  # staff mail stays English
    missing = i18n.missing_email_translations()
    assert not missing, ("Default emails without a translation (copy templates/notifications/email/<key>/en/ "
                         "to <key>/<language>/ and translate; keep the {{ variables }}): " + ", ".join(missing))


def test_catalogs_compile_with_babel_and_no_gettext_tools(tmp_path, settings, monkeypatch):
    for po in (Path(settings.BASE_DIR) / "locale").glob("*/LC_MESSAGES/django.po"):
        target = tmp_path / po.relative_to(Path(settings.BASE_DIR) / "locale")
        target.parent.mkdir(parents=True)
        target.write_bytes(po.read_bytes())
    settings.LOCALE_PATHS = [tmp_path]
    monkeypatch.setenv("PATH", "")  # no msgfmt to fall back on
    out = io.StringIO()
    call_command("compile_translations", stdout=out)
    assert "5 catalog(s) compiled" in out.getvalue()
    with (tmp_path / "pt_BR" / "LC_MESSAGES" / "django.mo").open("rb") as handle:
        assert GNUTranslations(handle).gettext("Sign out") == "Sair"
    call_command("compile_translations", stdout=out)
    assert "all up to date" in out.getvalue()


@pytest.mark.django_db
def test_a_brazilian_customer_sees_the_portal_in_portuguese(client):
    customer = CustomerFactory(language="pt-br", user__first_name="Ana", user__last_name="Souza")
    client.force_login(customer.user)
    response = client.get(reverse("portal:home"))
    page = response.content.decode()
    assert response.headers["Content-Language"] == "pt-br"
    assert '<html lang="pt-br">' in page
    assert "Olá, Ana Souza" in page and "Sair" in page and "Pedidos" in page
    assert "Sign out" not in page


@pytest.mark.django_db
@pytest.mark.parametrize(("language", "subject", "phrase", "total"), [
    ("pt-br", "Pedido SA-1001 confirmado", "Boa notícia: seu pedido SA-1001 foi confirmado.", "€ 124,50"),
    ("es", "Pedido SA-1001 confirmado", "Buenas noticias: su pedido SA-1001 está confirmado.", "124,50 €"),
    ("zh-hans", "订单 SA-1001 已确认", "好消息：您的订单 SA-1001 已确认。", "€124.50"),
])
def test_the_order_confirmation_is_mailed_in_the_customers_language(settings, language, subject, phrase, total):
    settings.EMAIL_BACKEND = "anymail.backends.test.EmailBackend"
    customer = CustomerFactory(language=language, user__email="ana@example.com", user__first_name="Ana")
    payload = {**sample_context("order.confirmed"), "customer_id": customer.pk, "email": "ana@example.com"}
    event = spine.emit("order.confirmed", payload=payload)
    spine.event_process(event_id=event.pk)
    message = OutgoingMessage.objects.get(template_key="order.confirmed")
    notification_services.message_send(message_id=message.pk)

    sent = mail.outbox[0]
    assert (message.language, sent.subject) == (language, subject)
    body, html = sent.body.replace("\xa0", " "), sent.alternatives[0][0].replace("\xa0", " ")
    assert phrase in body and total in body
    assert phrase.replace("SA-1001", "<strong>SA-1001</strong>") in html and f'lang="{language}"' in html
    if language == "pt-br":
        assert "Entrega prevista: 1 de Dezembro de 2026" in body  # the payload's ISO date, localized
    if language == "zh-hans":
        assert "总计" in html  # the shared order-lines table is translated too


def test_a_string_missing_from_a_catalog_falls_back_to_english():
    template = Template('{% load i18n %}{% translate "Sign out" %}|{% translate "A sentence no catalog has" %}')
    with translation.override("pt-br"):
        assert template.render(Context()) == "Sair|A sentence no catalog has"


@pytest.mark.django_db
def test_a_portal_page_in_a_language_the_shop_does_not_ship_is_english(client):
    customer = CustomerFactory(language="fr")  # e.g. an old profile; not in LANGUAGES
    client.force_login(customer.user)
    page = client.get(reverse("portal:home"), HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert "Sign out" in page and '<html lang="en">' in page


@pytest.mark.django_db
def test_an_email_without_a_translation_falls_back_to_english(tmp_path, settings):
    # A template added on another branch, before its translations: only en/ exists.
    folder = tmp_path / "notifications" / "email" / "test.untranslated" / "en"
    folder.mkdir(parents=True)
    (folder / "subject.txt").write_text("Your quote {{ number }}")
    (folder / "body.txt").write_text("Total: {% money total currency %}")
    settings.TEMPLATES = [{**settings.TEMPLATES[0], "DIRS": [tmp_path, *settings.TEMPLATES[0]["DIRS"]]}]
    rendered = templating.render(key="test.untranslated", language="pt-br",
                                 context={"number": "Q-7", "total": "10.5", "currency": "BRL"})
    assert (rendered.language, rendered.subject) == ("en", "Your quote Q-7")
    assert rendered.body_text.strip() == "Total: R$10.50"


@pytest.mark.django_db
def test_the_switcher_saves_a_signed_in_customers_language_for_every_device(client):
    customer = CustomerFactory(language="es")
    client.force_login(customer.user)
    response = client.post(reverse("set_language"), {"language": "it", "next": "/orders/"})
    assert response.status_code == 302 and response.headers["Location"] == "/orders/"
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "it"
    customer.refresh_from_db()
    assert customer.language == "it"

    other_device = client.__class__()
    other_device.force_login(customer.user)
    other_device.cookies[settings.LANGUAGE_COOKIE_NAME] = "es"  # a stale choice on that device
    assert other_device.get(reverse("portal:home")).headers["Content-Language"] == "it"


@pytest.mark.django_db
def test_the_switcher_refuses_an_unknown_language_and_works_for_visitors(client):
    customer = CustomerFactory(language="es")
    client.force_login(customer.user)
    client.post(reverse("set_language"), {"language": "xx", "next": "/"})
    customer.refresh_from_db()
    assert customer.language == "es"

    visitor = client.__class__()
    response = visitor.post(reverse("set_language"), {"language": "id", "next": "/"})
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "id"
    assert visitor.get(reverse("customers:login")).headers["Content-Language"] == "id"


@pytest.mark.django_db
def test_a_visitor_gets_the_browsers_language_until_they_choose(client):
    page = client.get(reverse("customers:login"), HTTP_ACCEPT_LANGUAGE="pt-BR,pt;q=0.9,en;q=0.5")
    assert page.headers["Content-Language"] == "pt-br"
    assert client.get(reverse("customers:login"), HTTP_ACCEPT_LANGUAGE="zh-CN").headers["Content-Language"] == "zh-hans"
    client.post(reverse("set_language"), {"language": "it", "next": "/"})
    assert client.get(reverse("customers:login"), HTTP_ACCEPT_LANGUAGE="pt-BR").headers["Content-Language"] == "it"


@pytest.mark.django_db
def test_the_admin_stays_english_whatever_the_cookie_browser_or_profile(client, admin_client):
    admin_client.cookies[settings.LANGUAGE_COOKIE_NAME] = "es"
    response = admin_client.get("/admin/", HTTP_ACCEPT_LANGUAGE="pt-br")
    assert response.headers["Content-Language"] == "en"
    assert "Site administration" in response.content.decode()
    # A staff member who is also a (test) customer with a Portuguese profile.
    staff = get_user_model().objects.create_user("staffbr", password="x", is_staff=True, is_superuser=True)
    CustomerProfile.objects.create(user=staff, language="pt-br")
    client.force_login(staff)
    assert client.get("/admin/").headers["Content-Language"] == "en"
    assert client.get(reverse("portal:home")).headers["Content-Language"] == "pt-br"


@pytest.mark.django_db
def test_staff_edit_a_template_with_every_language_side_by_side(admin_client):
    row = NotificationTemplate.objects.create(key="order.confirmed", language="es", subject="Pedido {{ number }} ok",
                                              body_text="Hola")
    page = admin_client.get(reverse("admin:notifications_notificationtemplate_change", args=[row.pk])).content.decode()
    for code, _name in settings.LANGUAGES:
        assert f'data-language="{code}"' in page
    assert "Pedido {{ number }} ok" in page  # this row
    assert "Pedido {{ number }} confirmado" in page and "Order {{ number }} is confirmed" in page  # shipped files
    assert "?key=order.confirmed&amp;language=pt-br" in page  # customize the Brazilian one from here

    staff_only = NotificationTemplate.objects.create(key="staff.alert", language="en", subject="S", body_text="B")
    page = admin_client.get(reverse("admin:notifications_notificationtemplate_change",
                                    args=[staff_only.pk])).content.decode()
    assert "missing: falls back to en" in page


@pytest.mark.parametrize(("language", "expected"), [
    ("en", "€1,234.50"), ("es", "1.234,50 €"), ("pt-br", "€ 1.234,50"), ("it", "1.234,50 €"),
    ("id", "€1.234,50"), ("zh-hans", "€1,234.50"),
])
def test_money_is_formatted_for_the_active_language(language, expected):
    with translation.override(language):
        assert format_money(Decimal("1234.50"), "EUR").replace("\xa0", " ") == expected
        assert Template("{{ a|money:c }}").render(Context({"a": "1234.5", "c": "EUR"})).replace(
            "\xa0", " ") == expected
    assert format_money(None, "EUR") == "" and format_money("", "EUR") == ""


@pytest.mark.django_db
def test_the_demo_customers_see_the_portal_in_their_languages(client):
    call_command("demo_data", stdout=io.StringIO())
    for email, sign_out in [("ana@example.com", "Sair"), ("buyer@acme.example", "Cerrar sesión")]:
        client.force_login(get_user_model().objects.get(username=email))
        assert sign_out in client.get(reverse("portal:home")).content.decode()
