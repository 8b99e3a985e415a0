"""The `platform_senior` group (SPEC §1): senior platform staff, to whom late ticket reviews are raised (T-2).

Its members are platform staff too (group `platform`, made by merchants.kernel.signals after every
migrate); this group adds what escalations need: deciding tickets and arbitrations, reading the
platform's notices and the shops' violations. The permissions are created here first (Django makes them
only after the whole migrate), so a fresh database gets the group complete.
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

GROUP = "platform_senior"
PERMISSIONS = [
    ("tickets", "ticket", ("view", "change")),
    ("tickets", "ticketevent", ("view",)),
    ("tickets", "ticketattachment", ("view",)),
    ("tickets", "ticketsettings", ("view",)),
    ("aftersales", "aftersalecase", ("view", "change")),
    ("merchants", "notice", ("view",)),
    ("merchants", "violation", ("view",)),
]


def add_group(apps, schema_editor):
    for config in apps.get_app_configs():
        original = getattr(config, "models_module", None)  # unset on a migration's app stubs
        config.models_module = original or True
        try:
            create_permissions(config, apps=apps, verbosity=0)
        finally:
            config.models_module = original
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group, _created = Group.objects.get_or_create(name=GROUP)
    for app_label, model, actions in PERMISSIONS:
        group.permissions.add(
            *Permission.objects.filter(
                content_type__app_label=app_label,
                content_type__model=model,
                codename__in=[f"{action}_{model}" for action in actions],
            )
        )


def remove_group(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name=GROUP).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("tickets", "0002_urge_reply_templates"),
        ("aftersales", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(add_group, remove_group)]
