"""Load SHOUHOU_BEAT_SCHEDULE into django-celery-beat's tables (created once, then staff's to tune)."""

import json
from datetime import timedelta

from django.conf import settings


def sync_beat_schedule(*, using: str = "default", overwrite: bool = False) -> int:
    """Create the periodic tasks that are missing; with `overwrite`, also reset their schedules.

    Entries that set "enabled" explicitly are switched on or off to match it at every sync. The task path
    is the code's, not the staff's: an entry whose task moved is repointed (the row, its schedule kept).
    An entry's "kwargs" (a sweep's `limit`) are written on creation, and into a task that has none yet.
    """
    from celery.schedules import crontab
    from django_celery_beat.models import CrontabSchedule, IntervalSchedule, PeriodicTask

    created = 0
    for name, entry in settings.SHOUHOU_BEAT_SCHEDULE.items():
        schedule = entry["schedule"]
        kwargs = json.dumps(entry.get("kwargs", {}))
        defaults = {
            "task": entry["task"],
            "enabled": entry.get("enabled", True),
            "kwargs": kwargs,
            "interval": None,
            "crontab": None,
        }
        if isinstance(schedule, timedelta):
            defaults["interval"], _ = IntervalSchedule.objects.using(using).get_or_create(
                every=int(schedule.total_seconds()), period=IntervalSchedule.SECONDS
            )
        elif isinstance(schedule, crontab):
            defaults["crontab"], _ = CrontabSchedule.objects.using(using).get_or_create(
                minute=schedule._orig_minute,
                hour=schedule._orig_hour,
                day_of_week=schedule._orig_day_of_week,
                day_of_month=schedule._orig_day_of_month,
                month_of_year=schedule._orig_month_of_year,
                timezone=settings.TIME_ZONE,
            )
        else:
            raise TypeError(f"{name}: unsupported schedule {schedule!r}")
        if overwrite:
            PeriodicTask.objects.using(using).update_or_create(name=name, defaults=defaults)
        else:
            task, was_created = PeriodicTask.objects.using(using).get_or_create(name=name, defaults=defaults)
            created += was_created
            # A task that moved (the simulator went to the demo app): the old path would call nothing.
            changed = task.task != entry["task"]
            task.task = entry["task"]
            if "enabled" in entry and task.enabled != entry["enabled"]:
                # An entry that names "enabled" follows its setting (the demo simulator), not the staff's
                # toggle.
                task.enabled, changed = entry["enabled"], True
            if entry.get("kwargs") and task.kwargs in ("", "{}"):  # a task made before it had kwargs
                task.kwargs, changed = kwargs, True
            if changed:
                task.save()  # save() rather than update() so beat's change tracker notices
    return created
