from django.urls import path
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.decorators import api_view
from rest_framework.response import Response

from shopauto.exceptions import NotFound

from .models import Address, CustomerProfile
from .selectors import address_list_for_customer, customer_for_user


class AddressSerializer(serializers.ModelSerializer):
    class Meta:
        model = Address
        fields = ["id", "label", "name", "line1", "line2", "city", "postal_code", "region", "country",
                  "is_default_shipping", "is_default_billing"]


class MeSerializer(serializers.ModelSerializer):
    email = serializers.EmailField(source="user.email", read_only=True)
    name = serializers.CharField(source="display_name", read_only=True)
    company = serializers.SlugRelatedField(slug_field="code", read_only=True, allow_null=True)
    addresses = serializers.SerializerMethodField()

    class Meta:
        model = CustomerProfile
        fields = ["id", "email", "name", "company", "role", "language", "marketing_consent", "addresses"]

    def get_addresses(self, obj) -> list[dict]:
        return AddressSerializer(address_list_for_customer(customer=obj), many=True).data


@extend_schema(responses=MeSerializer, summary="The signed-in customer, their company and addresses")
@api_view(["GET"])
def me(request):
    customer = customer_for_user(request.user)
    if customer is None:
        raise NotFound()
    return Response(MeSerializer(customer).data)


urlpatterns = [path("me/", me, name="me")]
