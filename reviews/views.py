"""The public review page of a product (R-8): `/shop/<code>/products/<spu>/reviews/`.

The first page outside the admin. It reads through the public selectors only — never through an actor,
not even the system — so it shows exactly what anyone may see: visible reviews (pinned first, then
newest), approved replies, masked buyer names, images public with their review; no phone anywhere.
Five queries whatever the page number (product + summary, pinned, one page, replies, images).
"""

from __future__ import annotations

from django.http import Http404
from django.template.response import TemplateResponse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_safe

from reviews import selectors
from reviews.files import image_url

MAX_PAGE = 100_000


def _page_number(value) -> int:
    try:
        return min(max(int(value), 1), MAX_PAGE)
    except (TypeError, ValueError):
        return 1


@require_safe
def product_reviews(request, code: str, spu: str):
    product = selectors.public_product(code, spu)
    if product is None:
        raise Http404(_("没有找到这个商品。"))
    summary = selectors.summary_of(product)
    page = selectors.public_page(product, page=_page_number(request.GET.get("page")))
    for review in page.reviews:
        review.image_urls = [image_url(image) for image in review.public_images]
    average = summary.average()
    context = {
        "shop": product.merchant,
        "product": product,
        "summary": summary,
        "average": f"{average:.1f}" if average is not None else "",
        "average_stars": round(average) if average is not None else 0,
        "service_average": f"{summary.average('service'):.1f}" if summary.review_count else "",
        "logistics_average": f"{summary.average('logistics'):.1f}" if summary.review_count else "",
        "good_rate": f"{100 * summary.good_rate:.0f}%" if summary.good_rate is not None else "",
        "histogram": summary.histogram(),
        "page": page,
        "star_range": range(1, 6),
    }
    return TemplateResponse(request, "reviews/product_reviews.html", context)
