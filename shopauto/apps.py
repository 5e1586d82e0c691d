from django.apps import AppConfig


class ShopautoConfig(AppConfig):
    name = "shopauto"
    verbose_name = "ShopAuto"
