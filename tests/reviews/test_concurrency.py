"""R-4 / R-2 / R-3 / N-8 on PostgreSQL: real row locks, several people at once — the rules still hold."""

import threading
import time

import pytest
from django.db import connection

from reviews import services
from reviews.models import Appeal, Reply, Review
from reviews.services import reviews as review_services
from reviews.transitions import ReplyStatus
from tests.reviews.factories import ReviewFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _postgres_only(db):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL row locks (export DATABASE_URL=$(scripts/pg.sh start))")


def together(*calls):
    """Run the calls in threads released by one barrier; (ok, value) each."""
    barrier = threading.Barrier(len(calls))
    results: list = [None] * len(calls)

    def run(index, call):
        try:
            barrier.wait(timeout=10)
            results[index] = (True, call())
        except Exception as exc:  # noqa: BLE001  (the outcome is what the test inspects)
            results[index] = (False, exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads), "a thread hung (deadlock?)"
    return results


def slow_slots(monkeypatch, seconds=0.3):
    """Make each pin pause after it counted the taken places: without the product lock, both would see one free."""
    original = review_services.PIN_SLOTS

    class Slow(tuple):
        def __iter__(self):
            time.sleep(seconds)
            return super().__iter__()

    monkeypatch.setattr(review_services, "PIN_SLOTS", Slow(original))


def test_R4_two_concurrent_pins_on_the_last_place_make_one_pin(shop, clerk, monkeypatch):
    first = ReviewFactory(merchant=shop, pinned=True)
    a, b = (ReviewFactory(merchant=shop, product=first.product) for _ in range(2))
    slow_slots(monkeypatch)

    results = together(lambda: services.pin(a, actor=clerk), lambda: services.pin(b, actor=clerk))

    assert sorted(ok for ok, _value in results) == [False, True]
    error = next(value for ok, value in results if not ok)
    assert "已有 2 条置顶评价" in str(error)
    assert Review.objects.filter(product=first.product, pinned_at__isnull=False).count() == 2


def test_R4_three_concurrent_pins_on_a_free_product_make_two(shop, clerk, monkeypatch):
    reviews = [ReviewFactory(merchant=shop) for _ in range(1)]
    reviews += [ReviewFactory(merchant=shop, product=reviews[0].product) for _ in range(2)]
    slow_slots(monkeypatch, seconds=0.2)

    results = together(*[(lambda r=r: services.pin(r, actor=clerk)) for r in reviews])

    assert sorted(ok for ok, _value in results) == [False, True, True]
    pinned = Review.objects.filter(product=reviews[0].product, pinned_at__isnull=False)
    assert sorted(pinned.values_list("pin_slot", flat=True)) == [1, 2]


def test_R4_the_unique_place_holds_even_without_the_product_lock(shop, clerk, monkeypatch):
    first = ReviewFactory(merchant=shop, pinned=True)
    a, b = (ReviewFactory(merchant=shop, product=first.product) for _ in range(2))
    monkeypatch.setattr(review_services.selectors, "product_for_update", lambda pk: None)  # a careless caller
    slow_slots(monkeypatch)

    results = together(lambda: services.pin(a, actor=clerk), lambda: services.pin(b, actor=clerk))

    assert sorted(ok for ok, _value in results) == [False, True]
    assert Review.objects.filter(product=first.product, pinned_at__isnull=False).count() == 2


def test_R2_two_concurrent_replies_leave_one_live_reply(shop, clerk):
    review = ReviewFactory(merchant=shop)

    results = together(
        lambda: services.reply(review, actor=clerk, text="回复甲"),
        lambda: services.reply(review, actor=clerk, text="回复乙"),
    )

    assert sorted(ok for ok, _value in results) == [False, True]
    assert Reply.objects.filter(review=review, status=ReplyStatus.PENDING).count() == 1


def test_R3_R5_an_appeal_and_the_buyers_deletion_at_once_end_consistent(shop, clerk):
    review = ReviewFactory(merchant=shop)

    results = together(
        lambda: services.appeal(review, actor=clerk, reason="恶意差评"), lambda: services.buyer_delete(review)
    )

    review.refresh_from_db()
    assert review.deleted_at is not None
    appeal = Appeal.objects.filter(review=review).first()
    if results[0][0]:  # the appeal came first: the deletion voided it
        assert appeal.status == "void" and review.appeal_status == "void"
    else:  # the deletion came first: the appeal was refused
        assert appeal is None and "买家已删除" in str(results[0][1])


def test_R3_two_concurrent_appeals_make_one(shop, clerk):
    review = ReviewFactory(merchant=shop)

    results = together(
        lambda: services.appeal(review, actor=clerk, reason="甲"),
        lambda: services.appeal(review, actor=clerk, reason="乙"),
    )

    assert sorted(ok for ok, _value in results) == [False, True]
    assert Appeal.objects.filter(review=review).count() == 1
