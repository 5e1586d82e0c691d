from django.db import migrations

STAFF_GROUPS = ("Managers", "Purchasing", "Support", "Sales")


def create_groups(apps, schema_editor):
    # Notifications address these groups (alerts, digest): they must exist in production.
    Group = apps.get_model("auth", "Group")
    for name in STAFF_GROUPS:
        Group.objects.get_or_create(name=name)


class Migration(migrations.Migration):

    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("notifications", "0001_initial"),
    ]

    operations = [migrations.RunPython(create_groups, migrations.RunPython.noop)]
