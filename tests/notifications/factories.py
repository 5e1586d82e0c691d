import factory
from django.contrib.auth.models import Group

from notifications.models import NotificationTemplate
from tests.factories import CustomerFactory, StaffFactory


def staff_in(group_name: str, **kwargs):
    user = StaffFactory(**kwargs)
    user.groups.add(Group.objects.get_or_create(name=group_name)[0])
    return user


def customer(*, language="en", consent=False, email=None):
    kwargs = {"user__username": email, "user__email": email} if email else {}
    return CustomerFactory(language=language, marketing_consent=consent, **kwargs)


class NotificationTemplateFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = NotificationTemplate

    key = "order.confirmed"
    language = "es"
    subject = "Pedido {{ number }} confirmado"
    body_text = "Hola {{ recipient_name }}, tu pedido {{ number }} está confirmado."
    body_html = ""
