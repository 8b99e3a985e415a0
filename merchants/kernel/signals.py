"""post_migrate: what a fresh install must have — the platform group and the beat schedule."""

from django.db.models.signals import post_migrate
from django.dispatch import receiver

from merchants.kernel.scoping import PLATFORM_GROUP


def platform_app_labels(using_apps=None) -> list[str]:
    """Apps whose models platform staff may view: each declares `platform_app = True` on its AppConfig."""
    from django.apps import apps

    return [
        config.label
        for config in (using_apps or apps).get_app_configs()
        if getattr(config, "platform_app", False)
    ]


@receiver(post_migrate)
def ensure_platform_group(sender, using="default", **kwargs):
    """The `platform` group can view every shop's data; writes go through service-backed actions."""
    from django.contrib.auth.models import Group, Permission

    group, _ = Group.objects.using(using).get_or_create(name=PLATFORM_GROUP)
    perms = (
        Permission.objects.using(using)
        .filter(content_type__app_label__in=platform_app_labels())
        .exclude(codename__startswith="delete_")
    )
    group.permissions.add(*perms)


@receiver(post_migrate)
def ensure_beat_schedule(sender, using="default", **kwargs):
    if sender.name != "merchants":
        return
    from merchants.kernel.beat import sync_beat_schedule  # noqa: PLC0415  (django_celery_beat loads late)

    sync_beat_schedule(using=using)
