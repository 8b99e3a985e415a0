"""After-sales tasks: the refund (one case) and the beat entry points. Ids in, idempotent, safe twice at once."""

from celery import shared_task
from django.utils import timezone

from aftersales.exceptions import GatewayError
from merchants.kernel.deadlines import requeue_rest

# Celery's own ceiling; the business limit (AftersalesSettings.refund_max_attempts, default 5) flags the
# case first and stops raising, so this only matters if staff raise that setting past it.
REFUND_MAX_RETRIES = 12


@shared_task(
    acks_late=True,
    autoretry_for=(GatewayError,),
    retry_backoff=True,
    retry_backoff_max=600,
    retry_jitter=True,
    max_retries=REFUND_MAX_RETRIES,
)
def refund_task(case_id: int) -> None:
    """Send a refunding case's refund to the gateway (A-6); safe to run twice (idempotency key = the case)."""
    from aftersales import services

    services.pay_refund(case_id)


@shared_task(acks_late=True)
def refund_batch_task(case_ids: list[int]) -> int:
    """Pay the refunds a deadline sweep approved, one message per batch; returns how many went through.

    Publishing one message per case cost the sweep a third of its time. A refund the gateway refuses
    now goes on as its own refund_task, which owns the retries and backoff; each refund stays
    idempotent (pay_refund acts only on a refunding case, once per idempotency key).
    """
    from aftersales import services

    paid = 0
    for case_id in case_ids:
        try:
            services.pay_refund(case_id)
            paid += 1
        except GatewayError:
            refund_task.delay(case_id)
    return paid


@shared_task(acks_late=True)
def run_deadlines(limit: int | None = None, resume: dict | None = None) -> int:
    """A-5 beat entry point: act as the system on the cases whose deadline passed; returns how many changed.

    Called without arguments it handles every due case; the beat passes `limit`, and a run that hit it
    queues itself again for the rest (merchants.kernel.deadlines.requeue_rest).
    """
    from aftersales import services

    run = services.run_deadlines(now=timezone.now(), limit=limit, resume=resume)
    return requeue_rest(run_deadlines, run, limit=limit)


@shared_task(acks_late=True)
def retry_stuck_refunds() -> int:
    """A-6 beat entry point: re-queue refunds that have not finished for a while and are not flagged."""
    from aftersales import services

    ids = services.stuck_refund_case_ids()
    for case_id in ids:
        refund_task.delay(case_id)
    return len(ids)


@shared_task(acks_late=True)
def requeue_refunds() -> int:
    """N-3 beat entry point (every 15 s): publish again the refunds whose queueing failed after commit,
    with backoff; returns how many went."""
    from aftersales import services

    return services.requeue_refunds()
