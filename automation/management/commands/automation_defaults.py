from django.core.management.base import BaseCommand

from automation import defaults
from automation.models import Rule, RuleVersion


class Command(BaseCommand):
    help = "Create the default automation rules that are missing (never changes existing ones)."

    def handle(self, *args, **options):
        created = defaults.install(Rule, RuleVersion)
        self.stdout.write(f"{created} default rule(s) created.")
