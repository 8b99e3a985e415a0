"""The kernel's violation writer: a breach once per episode (T-3, A-3), single and batch forms alike."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from merchants.kernel.violations import exclude_violations, record_violation, record_violations
from merchants.models import Violation
from tests.factories import OrderFactory

SHANGHAI = ZoneInfo("Asia/Shanghai")
DUE = datetime(2026, 3, 20, 10, 0, tzinfo=SHANGHAI)
RULE = "ticket_overdue"


def test_T3_the_same_episode_twice_records_one_violation(shop):
    source = OrderFactory(merchant=shop)

    first = record_violation(source, rule=RULE, points=1, episode=DUE)
    again = record_violation(source, rule=RULE, points=1, episode=DUE)
    record_violations([source], rule=RULE, points=1, episode=lambda s: DUE)

    assert (first, again) == (True, False)
    violation = Violation.objects.get()
    assert (violation.merchant_id, violation.source_type, violation.source_id) == (
        shop.pk,
        "merchants.order",
        source.pk,
    )
    assert violation.episode == "2026-03-20T02:00:00+00:00"  # the missed deadline, as a UTC instant


def test_T3_a_second_overdue_episode_records_a_second_violation(shop):
    # Overdue, answered, rejected, due again 24 h later (T-2) and overdue again: two breaches.
    source = OrderFactory(merchant=shop)

    record_violation(source, rule=RULE, points=1, episode=DUE)
    record_violation(source, rule=RULE, points=1, episode=DUE + timedelta(days=2))

    assert Violation.objects.filter(source_id=source.pk).count() == 2


def test_batch_form_writes_the_rows_the_single_form_writes_and_ignores_known_ones(shop, other_shop):
    mine, theirs, known = (
        OrderFactory(merchant=shop),
        OrderFactory(merchant=other_shop),
        OrderFactory(merchant=shop),
    )
    record_violation(known, rule=RULE, points=3, episode=DUE, note="已记录")

    record_violations(
        [mine, theirs, known],
        rule=RULE,
        points=3,
        episode=lambda s: DUE,
        note="工单超时",
        excluded=lambda s: s.pk == theirs.pk,
        at=DUE,
    )

    rows = {
        v.source_id: (v.merchant_id, v.points, v.episode, v.note, v.excluded) for v in Violation.objects.all()
    }
    episode = "2026-03-20T02:00:00+00:00"
    assert rows == {
        mine.pk: (shop.pk, 3, episode, "工单超时", False),
        theirs.pk: (other_shop.pk, 3, episode, "工单超时", True),
        known.pk: (shop.pk, 3, episode, "已记录", False),  # the earlier row stays as it was
    }


def test_L7_excluding_a_source_excludes_every_episode_of_it(shop):
    source, other = OrderFactory(merchant=shop), OrderFactory(merchant=shop)
    for episode in (DUE, DUE + timedelta(days=2)):
        record_violation(source, rule=RULE, points=1, episode=episode)
    record_violation(other, rule=RULE, points=1, episode=DUE)

    assert exclude_violations(source) == 2

    assert dict(Violation.objects.values_list("source_id", "excluded").distinct()) == {
        source.pk: True,
        other.pk: False,
    }
