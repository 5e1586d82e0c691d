"""The default rules (automation/defaults.py): built-in behaviour staff can tune or switch off."""

from django.db import migrations


def install_defaults(apps, schema_editor):
    from automation.defaults import install

    install(apps.get_model("automation", "Rule"), apps.get_model("automation", "RuleVersion"))


class Migration(migrations.Migration):
    dependencies = [("automation", "0002_rules_and_webhooks")]

    operations = [migrations.RunPython(install_defaults, migrations.RunPython.noop)]
