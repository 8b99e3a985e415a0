"""The simulator's beat entry: its task lives in the demo app, and an older database's row follows it."""

from datetime import timedelta

from django_celery_beat.models import IntervalSchedule, PeriodicTask

from demo import tasks
from merchants.kernel.beat import sync_beat_schedule

ENTRY = "merchants.simulate_demo_tick"


def test_the_beat_entry_names_the_demo_task(settings):
    assert settings.SHOUHOU_BEAT_SCHEDULE[ENTRY]["task"] == tasks.simulate_demo_tick.name


def test_beat_sync_repoints_a_row_left_on_the_old_task_path_and_keeps_its_schedule(db, settings):
    staff_tuned, _ = IntervalSchedule.objects.get_or_create(every=90, period=IntervalSchedule.SECONDS)
    PeriodicTask.objects.filter(name=ENTRY).update(
        task="merchants.tasks.simulate_demo_tick", interval=staff_tuned
    )

    sync_beat_schedule()

    row = PeriodicTask.objects.get(name=ENTRY)
    assert row.task == "demo.tasks.simulate_demo_tick"
    assert row.interval == staff_tuned  # only the path is the code's; the schedule stays the staff's
    assert settings.SHOUHOU_BEAT_SCHEDULE[ENTRY]["schedule"] == timedelta(seconds=30)
