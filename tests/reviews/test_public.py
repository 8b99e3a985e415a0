"""R-8: the public review page of a product — order, visibility, no personal data, images, pages, queries."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from reviews import selectors, services
from reviews.files import image_url
from reviews.models import ReviewImage
from reviews.transitions import AppealStatus, ReplyStatus
from tests.factories import ProductFactory
from tests.reviews.factories import ReviewFactory, make_png


def page_url(product, **params):
    url = reverse("product_reviews", args=[product.merchant.code, product.spu_id])
    return url + ("?" + "&".join(f"{k}={v}" for k, v in params.items()) if params else "")


def shown(response) -> list[int]:
    return [review.pk for review in response.context["page"].reviews]


@pytest.fixture
def product(shop):
    return ProductFactory(merchant=shop, name="纯棉短袖T恤", spu_id="SPU-T1")


def make(product, n, **kwargs):
    now = timezone.now()
    return [
        ReviewFactory(
            merchant=product.merchant, product=product, created_at=now - timedelta(hours=n - i), **kwargs
        )
        for i in range(n)
    ]


def test_R8_pinned_first_then_newest(client, product, clerk):
    old, middle, new = make(product, 3)
    services.pin(old, actor=clerk)

    response = client.get(page_url(product))

    assert response.status_code == 200
    assert shown(response) == [old.pk, new.pk, middle.pk]
    assert 'data-pinned="1"' in response.content.decode()


def test_R8_two_pins_lead_latest_pin_first(client, product, clerk):
    a, b, c, d = make(product, 4)
    services.pin(a, actor=clerk)
    services.pin(c, actor=clerk)

    assert shown(client.get(page_url(product))) == [c.pk, a.pk, d.pk, b.pk]


def test_R8_deleted_and_hidden_reviews_are_absent(client, product, operator):
    visible = ReviewFactory(merchant=product.merchant, product=product)
    ReviewFactory(merchant=product.merchant, product=product, deleted=True)
    ReviewFactory(merchant=product.merchant, product=product, appeal=AppealStatus.UPHELD)
    dismissed = ReviewFactory(merchant=product.merchant, product=product, appeal=AppealStatus.DISMISSED)

    response = client.get(page_url(product))

    assert set(shown(response)) == {visible.pk, dismissed.pk}
    assert response.context["summary"].review_count == 2


def test_R8_only_approved_replies_are_shown(client, product, clerk, operator):
    approved = ReviewFactory(merchant=product.merchant, product=product, reply=ReplyStatus.APPROVED)
    ReviewFactory(merchant=product.merchant, product=product, reply=ReplyStatus.PENDING)
    ReviewFactory(merchant=product.merchant, product=product, reply=ReplyStatus.REJECTED)
    deleted_reply = ReviewFactory(merchant=product.merchant, product=product, reply=ReplyStatus.APPROVED)
    services.delete_reply(deleted_reply.replies.get(), actor=clerk)
    html_replies = []

    response = client.get(page_url(product))

    for review in response.context["page"].reviews:
        html_replies.extend(reply.pk for reply in review.public_replies)
    assert html_replies == [approved.replies.get().pk]
    assert response.content.decode().count('class="reply"') == 1


def test_R8_no_buyer_personal_data_names_masked_no_phone(client, product):
    review = ReviewFactory(merchant=product.merchant, product=product, buyer_name="张三丰")

    html = client.get(page_url(product)).content.decode()

    assert "张**" in html
    assert "张三丰" not in html
    assert review.order.buyer_phone not in html and "138****" not in html
    assert review.buyer_id not in html and review.order_no not in html


def test_R8_the_rating_summary_and_star_histogram(client, product):
    for rating in (5, 5, 4, 2):
        ReviewFactory(merchant=product.merchant, product=product, product_rating=rating)

    response = client.get(page_url(product))
    html = response.content.decode()

    assert response.context["average"] == "4.0"
    assert response.context["good_rate"] == "75%"
    assert response.context["histogram"] == [(5, 2, 50), (4, 1, 25), (3, 0, 0), (2, 1, 25), (1, 0, 0)]
    assert 'data-stars="5" data-count="2"' in html


def test_R8_an_empty_product_says_so(client, product):
    response = client.get(page_url(product))

    assert response.status_code == 200
    assert "暂时还没有评价" in response.content.decode()


def test_R8_pages_continue_after_the_pins_without_gaps_or_repeats(client, product, clerk):
    reviews = make(product, 23)
    services.pin(reviews[0], actor=clerk)  # the oldest, pinned
    newest_first = [r.pk for r in reversed(reviews[1:])]

    pages = [shown(client.get(page_url(product, page=n))) for n in (1, 2, 3)]

    assert pages[0] == [reviews[0].pk, *newest_first[:9]]
    assert pages[1] == newest_first[9:19]
    assert pages[2] == newest_first[19:]
    assert shown(client.get(page_url(product, page=99))) == pages[2]  # past the end: the last page
    assert shown(client.get(page_url(product, page="x"))) == pages[0]


@pytest.mark.parametrize("page", [1, 3])
def test_R8_at_most_6_queries_whatever_the_page(client, product, clerk, django_assert_max_num_queries, page):
    reviews = make(product, 30, reply=ReplyStatus.APPROVED, images=[make_png()])
    services.pin(reviews[3], actor=clerk)
    services.pin(reviews[7], actor=clerk)
    client.get(page_url(product))  # warm caches (content types, translations)

    with django_assert_max_num_queries(6):
        response = client.get(page_url(product, page=page))

    assert len(shown(response)) == 10
    assert all(review.image_urls for review in response.context["page"].reviews)


def test_R8_unknown_shop_product_or_another_shops_product_is_404(client, product, other_shop):
    theirs = ProductFactory(merchant=other_shop, spu_id="SPU-2")

    assert client.get(reverse("product_reviews", args=["nope", product.spu_id])).status_code == 404
    assert client.get(reverse("product_reviews", args=[product.merchant.code, "nope"])).status_code == 404
    assert (
        client.get(reverse("product_reviews", args=[product.merchant.code, theirs.spu_id])).status_code == 404
    )
    assert client.post(page_url(product)).status_code == 405


def test_R8_a_cleared_shops_page_is_gone(client, product):
    product.merchant.status = "cleared"
    product.merchant.save()

    assert client.get(page_url(product)).status_code == 404


def test_R8_chinese_by_default_english_by_the_switch(client, product):
    ReviewFactory(merchant=product.merchant, product=product)

    chinese = client.get(page_url(product)).content.decode()
    switched = client.post(reverse("set_language"), {"language": "en", "next": page_url(product)})
    english = client.get(page_url(product)).content.decode()

    assert "条评价" in chinese and 'id="language-switch"' in chinese
    assert switched.status_code == 302
    assert "1 review" in english and "条评价" not in english


def test_R8_review_images_are_public_exactly_while_the_review_is_shown(client, product):
    review = ReviewFactory(merchant=product.merchant, product=product, images=[make_png()])
    image = review.images.get()

    assert image.is_public()
    assert list(ReviewImage.public_queryset()) == [image]
    assert image_url(image) in client.get(page_url(product)).content.decode()
    services.buyer_delete(review)

    image.refresh_from_db()
    assert not image.is_public()
    assert not ReviewImage.public_queryset().exists()


def test_R8_the_page_reads_through_no_actor(product, monkeypatch):
    ReviewFactory(merchant=product.merchant, product=product)

    def refuse(*args, **kwargs):
        raise AssertionError("the public page must not read through the tenancy layer")

    monkeypatch.setattr(selectors, "scope_to_actor", refuse)
    monkeypatch.setattr(selectors, "get_for_actor", refuse)

    page = selectors.public_page(selectors.public_product(product.merchant.code, product.spu_id))

    assert len(page.reviews) == 1
