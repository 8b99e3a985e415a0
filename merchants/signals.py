"""post_migrate: what a fresh install must have — the platform group and the beat schedule."""

from django.db.models.signals import post_migrate
from django.dispatch import receiver

from merchants.scoping import PLATFORM_GROUP

# Apps whose models platform staff may view (and act on through admin actions that call services).
PLATFORM_APPS = ("merchants", "aftersales", "reviews", "tickets")


@receiver(post_migrate)
def ensure_platform_group(sender, using="default", **kwargs):
    """The `platform` group can view every shop's data; writes go through service-backed actions."""
    from django.contrib.auth.models import Group, Permission

    group, _ = Group.objects.using(using).get_or_create(name=PLATFORM_GROUP)
    perms = (
        Permission.objects.using(using)
        .filter(content_type__app_label__in=PLATFORM_APPS)
        .exclude(codename__startswith="delete_")
    )
    group.permissions.add(*perms)


@receiver(post_migrate)
def ensure_beat_schedule(sender, using="default", **kwargs):
    if sender.name != "merchants":
        return
    from merchants.beat import sync_beat_schedule

    sync_beat_schedule(using=using)
