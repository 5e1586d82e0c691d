"""Load the demo shop: every app may ship a `demo.py` with `load(out)`; they run in
INSTALLED_APPS order, each idempotent, so running the command twice changes nothing."""

from importlib import import_module
from importlib.util import find_spec

from django.apps import apps
from django.core.management.base import BaseCommand
from django.db import transaction


class Command(BaseCommand):
    help = "Load (or top up) the demo shop: company, customers, staff, catalog, stock, orders."

    def handle(self, *args, **options):
        loaders = [
            (config.label, import_module(f"{config.name}.demo"))
            for config in apps.get_app_configs()
            if config.name.split(".")[0] in _PROJECT_APPS and find_spec(f"{config.name}.demo") is not None
        ]
        for step, (label, module) in enumerate(loaders, start=1):
            self.stdout.write(f"[{step}/{len(loaders)}] {label}: loading demo data …")
            with transaction.atomic():
                summary = module.load(self.stdout)
            if summary:
                self.stdout.write(f"      {summary}")
        self.stdout.write(self.style.SUCCESS("Demo data ready."))
        for _label, module in loaders:
            for line in getattr(module, "credentials", lambda: [])():
                self.stdout.write(f"  {line}")


_PROJECT_APPS = {"customers", "catalog", "inventory", "notifications", "orders", "quotes", "returns", "automation"}
