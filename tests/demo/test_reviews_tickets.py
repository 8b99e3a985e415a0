"""The reviews and tickets demo data (seeded through the services, every state) and the simulator's moves."""

import random

import pytest
from django.contrib.auth import get_user_model

from demo import registry
from merchants.kernel.models import Notice, Violation
from merchants.kernel.scoping import SENIOR_GROUP
from reviews.models import Appeal, Reply, Review
from reviews.transitions import AppealStatus, ReplyStatus
from tickets.models import Ticket
from tickets.services import effects
from tickets.transitions import Liability, TicketCategory, TicketStatus

SIZE = 400


@pytest.fixture(autouse=True)
def fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def seeded(db):
    return dict(registry.seed(size=SIZE, log=lambda message: None))


def test_R1_R8_T1_T7_demo_reviews_and_tickets_cover_every_state_and_the_senior_login(seeded, client):
    _reviews_cover_every_rating_reply_and_appeal_state()
    _tickets_cover_every_state_and_category_with_violations()
    _the_senior_staff_login_exists(client)


def _reviews_cover_every_rating_reply_and_appeal_state():
    reviews = Review.objects.all()

    assert reviews.count() >= 60
    assert set(reviews.values_list("product_rating", flat=True)) == {1, 2, 3, 4, 5}
    assert reviews.filter(image_count__gt=0).exists()
    assert reviews.filter(deleted_at__isnull=False).exists()
    assert reviews.filter(pinned_at__isnull=False).exists()
    assert reviews.filter(hidden_at__isnull=False).exists()
    replies = set(Reply.objects.values_list("status", flat=True))
    assert {ReplyStatus.PENDING, ReplyStatus.APPROVED, ReplyStatus.REJECTED} <= replies
    appeals = set(Appeal.objects.values_list("status", flat=True))
    assert {AppealStatus.PENDING, AppealStatus.UPHELD, AppealStatus.DISMISSED} <= appeals
    for review in reviews.filter(pinned_at__isnull=False):
        assert review.appeal_status == ""  # never a review with an appeal
    for product_id in reviews.filter(pinned_at__isnull=False).values_list("product_id", flat=True):
        assert reviews.filter(product_id=product_id, pinned_at__isnull=False).count() <= 2
    assert all(review.events.exists() for review in reviews[:50])  # walked through the services


def _tickets_cover_every_state_and_category_with_violations():
    tickets = Ticket.objects.all()

    assert set(tickets.values_list("status", flat=True)) == set(TicketStatus.values)
    assert set(tickets.values_list("category", flat=True)) == set(TicketCategory.values)
    assert tickets.filter(status=TicketStatus.PENDING, overdue=True).exists()
    assert tickets.filter(reject_count__gte=2).exists()
    assert tickets.filter(review_late=True).exists()
    assert tickets.filter(ship_commit_due_at__isnull=False).exists()
    assert tickets.filter(order__isnull=True).exists() and tickets.filter(order__isnull=False).exists()
    assert tickets.filter(liability=Liability.MALICIOUS).exists()
    assert Violation.objects.filter(rule=effects.OVERDUE_RULE).exists()
    assert Notice.objects.filter(audience=Notice.Audience.PLATFORM, kind=effects.REVIEW_LATE_NOTICE).exists()
    for ticket in tickets.filter(overdue=True):
        assert ticket.events.filter(kind="overdue").exists()


def _the_senior_staff_login_exists(client):
    senior = get_user_model().objects.get(username="senior")

    assert senior.groups.filter(name=SENIOR_GROUP).exists() and senior.is_staff
    assert senior.check_password("senior")
    client.force_login(senior)
    assert client.get("/admin/tickets/ticket/").status_code == 200


def test_demo_reviews_and_tickets_seed_is_idempotent_and_the_simulator_adds_to_them(seeded):
    counts = (Review.objects.count(), Ticket.objects.count(), Violation.objects.count())

    results = dict(registry.seed(size=SIZE, log=lambda message: None))

    assert (Review.objects.count(), Ticket.objects.count(), Violation.objects.count()) == counts
    assert results["reviews.reviews"]["reviews"] == 0 and results["tickets.tickets"]["tickets"] == 0

    reviews, tickets = Review.objects.count(), Ticket.objects.count()

    for seed in range(30):
        registry.simulate_tick(rng=random.Random(seed))

    assert Review.objects.count() > reviews
    assert Ticket.objects.count() > tickets
