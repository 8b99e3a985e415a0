"""The demo simulator's beat entry point (SHOUHOU_BEAT_SCHEDULE's `merchants.simulate_demo_tick`)."""

from celery import shared_task


@shared_task(acks_late=True)
def simulate_demo_tick() -> int:
    """Demo only: one tick of buyer activity in the demo shops; a no-op unless SHOUHOU_DEMO_SIMULATOR is on."""
    from django.conf import settings

    from demo import registry

    if not settings.SHOUHOU_DEMO_SIMULATOR:  # never invent orders outside the demo, whatever beat says
        return 0
    return registry.simulate_tick().changed
