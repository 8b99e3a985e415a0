"""Review benchmarks (issue 9): a shop's DSR, the public product page, the merchant review list.

    .venv/bin/python -m bench.reviews                 # everything
    .venv/bin/python -m bench.reviews dsr             # or: public, changelist

PostgreSQL, 2,000,000 reviews (BENCH_REVIEWS) over 200 shops, one product with 50,000 of them
(BENCH_REVIEWS_BIG). The data set lives in a database of its own in the same cluster
(BENCH_REVIEWS_DB, default `bench_reviews`): two million received orders and their items come with
the reviews, and the other modules' figures (the 1M-order lists) must not move because of them.
Every figure is measured with its anchor in the same run:

- dsr: `reviews.selectors.dsr()` of the busiest shop and of `bench_shop` (the shop closest to 10,000
  reviews) against the same aggregate over the raw table without the design (the planner's index
  scans off: what the query costs without review_dsr_idx, a table scan of every review).
- public: `/shop/<code>/products/<spu>/reviews/` of the 50,000-review product at page 1, 10, 2,500 and
  the last page, anonymously through the whole stack, with its SQL count; anchor: the textbook page
  rendering the same template — Django's Paginator (COUNT(*) + OFFSET over a pinned-first ORDER BY),
  the summary and histogram aggregated per request, replies and images fetched per review.
- changelist: `/workbench/reviews/review/` as `bench_shop`: plain, the product-rating filter, the
  待回复 tab, a search by order number; 25 and 100 rows a page; anchor: the same list with Django's
  admin defaults (bench/anchor.py: full COUNT(*), `icontains` search, no tuning).
"""

from __future__ import annotations

import argparse
import os
import random
import re
import statistics
import sys
import time
from bisect import bisect
from datetime import datetime, timedelta
from functools import partial
from itertools import accumulate
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import (
    Report,
    Stopwatch,
    explain,
    log,
    report_changelist_page,
    report_query_counts,
    scalar,
    sql,
)

N_REVIEWS = int(os.environ.get("BENCH_REVIEWS", "2000000"))
N_BIG = int(os.environ.get("BENCH_REVIEWS_BIG", "50000"))
N_SHOPS = int(os.environ.get("BENCH_SHOPS", "200"))
PRODUCTS_PER_SHOP = 20
DB_NAME = os.environ.get("BENCH_REVIEWS_DB", "bench_reviews")
SEED = 20261201
CHUNK = 50_000
DAYS = 365  # reviews are spread over the last year; the DSR reads the last 90 days
BENCH_SHOP_TARGET = 10_000
BENCH_SHOP_USER = "bench_shop"
BENCH_STAFF_USER = "bench_staff"
DSR_TARGET_MS = 50
PUBLIC_TARGET_MS = 50
PUBLIC_MAX_QUERIES = 6
CHANGELIST_TARGET_MS = 100
REQUESTS = 30
BUDGET_S = float(os.environ.get("BENCH_REVIEWS_BUDGET_S", "8"))
PAGE_SIZES = (25, 100)

RATING_WEIGHTS = (0.07, 0.05, 0.08, 0.20, 0.60)  # 1..5 stars, as marketplaces see them
CONTENTS = {
    5: (
        "质量很好，面料舒服，尺码标准，物流也很快，会回购。",
        "包装很用心，和图片一模一样，家人都说好看。",
        "第二次买了，一如既往的好，客服也很耐心。",
        "性价比很高，用了一周没有任何问题，推荐。",
    ),
    4: ("整体不错，就是快递慢了两天。", "东西挺好，颜色比图片稍深一点。", "做工还可以，价格实惠。"),
    3: ("一般般吧，洗了一次有点缩水。", "还行，没有想象中那么好。", "中规中矩，对得起这个价格。"),
    2: ("有点色差，线头比较多。", "尺码偏小，换货很麻烦。"),
    1: ("包装破损，商品有划痕，很失望。", "和描述不符，申请退货了。", "质量太差，用了两天就坏了。"),
}
REPLIES = (
    "感谢亲的支持，我们会继续努力！",
    "谢谢您的评价，期待您再次光临。",
    "非常抱歉给您带来不好的体验，已安排客服联系您处理。",
)
NICKS = ("快乐的小猫", "安静的柚子", "勇敢的星星", "爱吃土豆", "小麦兜", "大云朵", "阿橘子", "甜甜的熊猫")


# ------------------------------------------------------------------------------------------------
# A database of its own, in the same cluster


def _own_database_url(url: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{DB_NAME}"))


def use_own_database() -> None:
    """Point DATABASE_URL at BENCH_REVIEWS_DB (created when missing) before Django reads its settings."""
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        raise SystemExit("bench.reviews: DATABASE_URL must be PostgreSQL (bench/run.sh starts one)")
    import psycopg

    own = _own_database_url(url)
    admin_url = _own_database_url(url).rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [DB_NAME]).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{DB_NAME}"')
    os.environ["DATABASE_URL"] = own


# ------------------------------------------------------------------------------------------------
# The data set


def _shop_weights(n: int) -> list[float]:
    return [1 / (k + 20) for k in range(n)]  # skewed like the orders data set (largest/smallest ≈ 11×)


def generate(now: datetime) -> int:
    """Truncate and COPY shops, products, 2M received orders, their items, reviews, replies, images."""
    from django.db import connection, transaction

    from bench.generate import Copier, _drop_secondary_indexes
    from merchants.models import Merchant, Order, OrderItem, Product
    from reviews.models import Appeal, Reply, Review, ReviewImage

    rng = random.Random(SEED)
    models = (Merchant, Product, Order, OrderItem, Review, Reply, ReviewImage, Appeal)
    tables = [m._meta.db_table for m in models]
    with transaction.atomic(), connection.cursor() as cur:
        cur.execute(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE")
        cur.execute("SET LOCAL session_replication_role = replica")
        dropped = _drop_secondary_indexes(cur, tables[2:])
        Copier(
            cur,
            Merchant,
            [
                "id",
                "name",
                "code",
                "status",
                "return_contact",
                "return_phone",
                "return_address",
                "created_at",
            ],
        ).write(
            (i, f"评价基准店铺{i:03d}", f"rbench-{i:03d}", "active", "", "", "", now - timedelta(days=800))
            for i in range(1, N_SHOPS + 1)
        )
        Copier(cur, Product, ["id", "merchant_id", "spu_id", "name", "on_shelf", "created_at"]).write(
            (
                (shop - 1) * PRODUCTS_PER_SHOP + p + 1,
                shop,
                f"RSPU{shop:03d}{p:04d}",
                f"评价基准商品 {shop}-{p + 1}",
                True,
                now - timedelta(days=700),
            )
            for shop in range(1, N_SHOPS + 1)
            for p in range(PRODUCTS_PER_SHOP)
        )
        orders = Copier(
            cur,
            Order,
            ["id", "merchant_id", "order_no", "buyer_id", "buyer_name", "buyer_phone", "paid_amount", "placed_at",
             "paid_at", "status", "shipped_at", "received_at", "cancel_reason", "updated_at"],
        )  # fmt: skip
        items = Copier(
            cur, OrderItem, ["id", "order_id", "merchant_id", "product_id", "quantity", "paid_amount"]
        )
        reviews = Copier(
            cur,
            Review,
            ["id", "merchant_id", "product_id", "order_id", "item_id", "order_no", "buyer_id", "buyer_name",
             "product_rating", "service_rating", "logistics_rating", "content", "image_count", "created_at",
             "deleted_at", "hidden_at", "pinned_at", "pin_slot", "reply_status", "appeal_status", "updated_at"],
        )  # fmt: skip
        replies = Copier(
            cur,
            Reply,
            ["id", "merchant_id", "review_id", "text", "status", "flag", "flag_kind", "flag_text", "reject_reason",
             "moderated_at", "created_at"],
        )  # fmt: skip
        images = Copier(
            cur, ReviewImage, ["id", "review_id", "file", "original_name", "position", "created_at"]
        )
        appeals = Copier(
            cur,
            Appeal,
            ["id", "merchant_id", "review_id", "reason", "status", "decision_code", "decision_note", "decided_at",
             "created_at"],
        )  # fmt: skip
        shop_cum = list(accumulate(_shop_weights(N_SHOPS)))
        star_cum = list(accumulate(RATING_WEIGHTS))
        buffers: dict = {c: [] for c in (orders, items, reviews, replies, images, appeals)}
        reply_id = image_id = appeal_id = 0
        random_, uniform = rng.random, rng.uniform

        def flush():
            for copier in (orders, items, reviews, replies, images, appeals):
                copier.write(buffers[copier])
                buffers[copier].clear()

        with Stopwatch() as sw:
            for rid in range(1, N_REVIEWS + 1):
                if rid <= N_BIG:
                    shop, product = 1, 1  # the one product with 50,000 reviews
                else:
                    shop = bisect(shop_cum, random_() * shop_cum[-1]) + 1
                    product = (shop - 1) * PRODUCTS_PER_SHOP + 1 + int(random_() * PRODUCTS_PER_SHOP)
                stars = bisect(star_cum, random_() * star_cum[-1]) + 1
                service = min(5, max(1, stars + rng.choice((-1, 0, 0, 0, 1))))
                logistics = min(5, max(1, stars + rng.choice((-1, 0, 0, 1))))
                created = now - timedelta(seconds=uniform(60, DAYS * 86400))
                placed = created - timedelta(days=uniform(3, 15))
                received = created - timedelta(hours=uniform(1, 72))
                buyer = int(random_() * 500_000)
                nick = f"{NICKS[buyer % len(NICKS)]}{buyer % 997}"
                order_no = f"R{rid:014d}"
                price = rng.choice(("29.90", "59.00", "99.00", "199.00"))
                roll = random_()
                deleted = created + timedelta(days=1) if roll < 0.02 else None
                hidden = created + timedelta(days=5) if 0.02 <= roll < 0.025 else None
                reply_status = ""
                r = random_()
                if r < 0.30:
                    reply_status = "approved"
                elif r < 0.33:
                    reply_status = "pending"
                elif r < 0.35:
                    reply_status = "rejected"
                n_images = rng.choice((1, 2, 3)) if random_() < 0.08 else 0
                buffers[orders].append(
                    (rid, shop, order_no, f"B{buyer:08d}", nick, f"1{3 + buyer % 7}{buyer:09d}", price, placed,
                     placed, "received", placed + timedelta(days=1), received, "", received)
                )  # fmt: skip
                buffers[items].append((rid, rid, shop, product, 1, price))
                buffers[reviews].append(
                    (rid, shop, product, rid, rid, order_no, f"B{buyer:08d}", nick, stars, service, logistics,
                     rng.choice(CONTENTS[stars]), n_images, created, deleted, hidden, None, None, reply_status,
                     "upheld" if hidden else "", created)
                )  # fmt: skip
                if reply_status:
                    reply_id += 1
                    at = created + timedelta(hours=uniform(1, 48))
                    buffers[replies].append(
                        (reply_id, shop, rid, rng.choice(REPLIES), reply_status, "", "", "",
                         "措辞不当" if reply_status == "rejected" else "", None if reply_status == "pending" else at, at)
                    )  # fmt: skip
                for position in range(n_images):
                    image_id += 1
                    buffers[images].append(
                        (image_id, rid, f"reviews/bench/{rid}-{position}.jpg", "photo.jpg", position, created)
                    )
                if hidden:
                    appeal_id += 1
                    buffers[appeals].append(
                        (
                            appeal_id,
                            shop,
                            rid,
                            "恶意差评",
                            "upheld",
                            "malicious",
                            "",
                            hidden,
                            created + timedelta(days=2),
                        )
                    )
                if rid % CHUNK == 0:
                    flush()
                    log(f"reviews: {rid:,} of {N_REVIEWS:,} ({rid / sw_elapsed(sw):,.0f}/s)")
            flush()
        log(f"recreating {len(dropped)} indexes")
        for _name, definition in dropped:
            cur.execute(definition)
        for table in tables:
            cur.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), GREATEST((SELECT max(id) FROM {table}), 1))"
            )
        # two pinned reviews on the big product, the latest visible ones.
        cur.execute(
            f"""UPDATE {Review._meta.db_table} SET pinned_at = %s - interval '1 hour' * slot, pin_slot = slot
                FROM (SELECT id, row_number() OVER (ORDER BY created_at DESC) AS slot FROM {Review._meta.db_table}
                      WHERE product_id = 1 AND deleted_at IS NULL AND hidden_at IS NULL
                      ORDER BY created_at DESC LIMIT 2) AS pick
                WHERE {Review._meta.db_table}.id = pick.id""",
            [now],
        )
    log("ANALYZE")
    for table in tables:
        sql(f"VACUUM (ANALYZE) {table}")
    from reviews.services import rebuild_summaries

    with Stopwatch() as sw:
        summaries = rebuild_summaries()
    log(f"product summaries: {summaries} rows in {sw.seconds:.1f} s")
    return N_REVIEWS


def sw_elapsed(sw: Stopwatch) -> float:
    return max(time.perf_counter() - sw.start, 1e-6)


def ensure_reviews(*, force: bool = False) -> None:
    from django.core.management import call_command
    from django.utils import timezone

    from bench.generate import _mark, marker
    from reviews.models import Review

    call_command("migrate", verbosity=0, interactive=False)
    params = {"reviews": N_REVIEWS, "big": N_BIG, "shops": N_SHOPS, "seed": SEED, "version": 1}
    mark = marker("reviews")
    if not force and mark and all(mark["params"].get(k) == v for k, v in params.items()):
        if scalar(f"SELECT count(*) FROM {Review._meta.db_table}") == mark["rows"]:
            log(f"reviews data set present ({mark['rows']:,} rows, {mark['generated_at']:%Y-%m-%d %H:%M})")
            _ensure_users()
            return
    now = timezone.now()
    log(f"generating {N_REVIEWS:,} reviews in database {DB_NAME}")
    with Stopwatch() as sw:
        rows = generate(now)
    log(f"reviews data set: {rows:,} rows in {sw.seconds:.0f} s")
    _mark("reviews", params, rows, now)
    _ensure_users()


def bench_shop_id() -> int:
    """The shop whose review count is closest to BENCH_SHOP_TARGET."""
    from reviews.models import Review

    return scalar(
        f"""SELECT merchant_id FROM {Review._meta.db_table} GROUP BY merchant_id
            ORDER BY abs(count(*) - %s), merchant_id LIMIT 1""",
        [BENCH_SHOP_TARGET],
    )


def _ensure_users() -> None:
    from django.contrib.auth import get_user_model

    from merchants.models import Membership

    User = get_user_model()
    staff, _ = User.objects.get_or_create(username=BENCH_STAFF_USER)
    staff.is_staff = staff.is_superuser = staff.is_active = True
    staff.set_unusable_password()
    staff.save()
    owner, _ = User.objects.get_or_create(username=BENCH_SHOP_USER)
    owner.set_unusable_password()
    owner.save()
    shop = bench_shop_id()
    Membership.objects.filter(user=owner).exclude(merchant_id=shop).delete()
    Membership.objects.update_or_create(user=owner, merchant_id=shop, defaults={"role": "owner"})


# ------------------------------------------------------------------------------------------------
# Measuring


def _interleaved(ours, anchor, *, n: int = REQUESTS, budget_s: float = BUDGET_S, warmup: int = 2):
    """Time `ours` and `anchor` alternately (both see the same drift of the machine's load)."""
    for _ in range(warmup):
        ours(), anchor()
    start = time.perf_counter()
    ours(), anchor()
    per_round = time.perf_counter() - start
    rounds = max(5, min(n, int(budget_s / max(per_round, 1e-3))))
    a, b = [], []
    for _ in range(rounds):
        for fn, samples in ((ours, a), (anchor, b)):
            t0 = time.perf_counter()
            fn()
            samples.append((time.perf_counter() - t0) * 1000)
    return a, b


def _raw_dsr(merchant_id: int, start, end) -> tuple:
    """The DSR aggregate over the raw table with the design switched off (no index: a scan of every review)."""
    from django.db import connection, transaction

    from reviews.models import Review

    with transaction.atomic(), connection.cursor() as cur:
        for knob in ("enable_indexscan", "enable_indexonlyscan", "enable_bitmapscan"):
            cur.execute(f"SET LOCAL {knob} = off")
        cur.execute(
            f"""SELECT count(*), avg(product_rating), avg(service_rating), avg(logistics_rating),
                       count(*) FILTER (WHERE product_rating >= 4), count(*) FILTER (WHERE service_rating >= 4)
                FROM {Review._meta.db_table}
                WHERE merchant_id = %s AND created_at >= %s AND created_at < %s
                  AND deleted_at IS NULL AND hidden_at IS NULL""",
            [merchant_id, start, end],
        )
        return cur.fetchone()


def run_dsr(report: Report) -> None:
    from django.db import connection
    from django.utils import timezone

    from reviews import selectors
    from reviews.models import Review

    busiest = scalar(
        f"SELECT merchant_id FROM {Review._meta.db_table} GROUP BY merchant_id ORDER BY count(*) DESC LIMIT 1"
    )
    for label, shop in (("busiest", busiest), ("bench_shop", bench_shop_id())):
        now = timezone.now()
        figures = selectors.dsr(shop, now=now)
        raw = _raw_dsr(shop, figures.start, figures.end)
        if raw[0] != figures.count or abs(float(raw[1]) - figures.product_avg) > 1e-9:
            raise SystemExit(f"bench.reviews: DSR {figures} disagrees with the raw aggregate {raw}")
        ours, anchor = _interleaved(
            partial(selectors.dsr, shop, now=now, days=90),
            partial(_raw_dsr, shop, figures.start, figures.end),
        )
        total = Review.objects.filter(merchant_id=shop).count()
        plan = explain(
            f"""SELECT count(*), avg(product_rating) FROM {Review._meta.db_table}
                WHERE merchant_id = %s AND created_at >= %s AND created_at < %s
                  AND deleted_at IS NULL AND hidden_at IS NULL""",
            [shop, figures.start, figures.end],
        )
        report.add(
            f"reviews.dsr.{label}",
            statistics.median(ours),
            "ms",
            anchor=statistics.median(anchor),
            anchor_name="same aggregate, no index (table scan)",
            target=DSR_TARGET_MS,
            note=f"shop {shop}: {total:,} reviews, {figures.count:,} in the 90-day window; "
            f"plan: {plan.splitlines()[1].strip() if len(plan.splitlines()) > 1 else plan}",
            samples=[round(x, 2) for x in ours],
            anchor_samples=[round(x, 2) for x in anchor],
            plan=plan,
            vendor=connection.vendor,
        )


def _naive_context(product, number: int, per_page: int = 10) -> dict:
    """The public page as shop software usually builds it: what the anchor renders."""
    from django.core.paginator import Paginator
    from django.db.models import Avg, Count, F

    from reviews.models import Review

    visible = Review.objects.filter(product=product, deleted_at__isnull=True, hidden_at__isnull=True)
    stats = visible.aggregate(
        n=Count("pk"),
        avg=Avg("product_rating"),
        service=Avg("service_rating"),
        logistics=Avg("logistics_rating"),
    )
    by_star = dict(visible.values_list("product_rating").annotate(c=Count("pk")))
    ordered = visible.select_related("sku").order_by(
        F("pinned_at").desc(nulls_last=True), "-created_at", "-id"
    )
    page = Paginator(ordered, per_page).get_page(number)
    rows = list(page.object_list)
    for review in rows:
        review.public_replies = list(review.replies.filter(status="approved", deleted_at__isnull=True))
        review.image_urls = [image.file.url for image in review.images.all()]
    total = stats["n"] or 0

    class Summary:
        review_count = total

    histogram = [
        (s, by_star.get(s, 0), round(100 * by_star.get(s, 0) / total) if total else 0)
        for s in (5, 4, 3, 2, 1)
    ]
    page.reviews, page.pages, page.total = rows, page.paginator.num_pages, total
    return {
        "shop": product.merchant,
        "product": product,
        "summary": Summary,
        "average": f"{stats['avg']:.1f}" if stats["avg"] is not None else "",
        "average_stars": round(stats["avg"] or 0),
        "service_average": f"{stats['service'] or 0:.1f}",
        "logistics_average": f"{stats['logistics'] or 0:.1f}",
        "good_rate": f"{100 * (by_star.get(4, 0) + by_star.get(5, 0)) / total:.0f}%" if total else "",
        "histogram": histogram,
        "page": page,
        "star_range": range(1, 6),
    }


def run_public(report: Report) -> None:
    from django.db import connection, reset_queries
    from django.template.loader import render_to_string
    from django.test import Client, RequestFactory
    from django.test.utils import CaptureQueriesContext

    from merchants.models import Product
    from reviews import selectors

    product = Product.objects.select_related("merchant").get(pk=1)
    url = f"/shop/{product.merchant.code}/products/{product.spu_id}/reviews/"
    total = selectors.summary_of(product).review_count
    last = max(1, -(-total // selectors.PUBLIC_PAGE_SIZE))
    client, factory = Client(), RequestFactory()

    def ours(number):
        response = client.get(url, {"page": number})
        if response.status_code != 200:
            raise SystemExit(f"bench.reviews: GET {url}?page={number} -> {response.status_code}")
        return response

    def anchor(number):
        request = factory.get(url, {"page": number})
        return render_to_string(
            "reviews/product_reviews.html", _naive_context(product, number), request=request
        )

    for number in (1, 10, 2500, last):
        if number > last:
            continue
        first = ours(number)
        shown = [int(pk) for pk in re.findall(rb'data-review="(\d+)"', first.content)]
        expected = [r.pk for r in _naive_context(product, number)["page"].reviews]
        if shown != expected:
            raise SystemExit(f"bench.reviews: page {number} shows {shown[:3]}…, the anchor {expected[:3]}…")
        reset_queries()  # DEBUG keeps at most 9,000 queries: a full log would make every capture empty
        with CaptureQueriesContext(connection) as captured:
            ours(number)
        reset_queries()
        with CaptureQueriesContext(connection) as anchor_captured:
            anchor(number)
        ours_ms, anchor_ms = _interleaved(partial(ours, number), partial(anchor, number))
        name = "last" if number == last else f"p{number}"
        report.add(
            f"reviews.public.{name}",
            statistics.median(ours_ms),
            "ms",
            anchor=statistics.median(anchor_ms),
            anchor_name="Paginator + per-request aggregates + per-review queries",
            target=PUBLIC_TARGET_MS,
            note=f"product with {total:,} visible reviews, page {number} of {last}; "
            f"{len(captured)} queries (anchor {len(anchor_captured)}); ours is the whole HTTP stack, the anchor only queries + template",
            samples=[round(x, 1) for x in ours_ms],
            anchor_samples=[round(x, 1) for x in anchor_ms],
            queries=[q["sql"][:300] for q in captured.captured_queries],
            query_ms=[q["time"] for q in captured.captured_queries],
        )
        report.add(
            f"reviews.public.{name}.queries",
            len(captured),
            "queries",
            anchor=len(anchor_captured),
            anchor_name="Paginator + per-request aggregates + per-review queries",
            target=PUBLIC_MAX_QUERIES,
        )


def run_changelist(report: Report) -> None:
    from django.db import reset_queries
    from django.test import override_settings

    from bench.anchor import anchor_site, register_default
    from bench.orders import _client, _get, _queries
    from merchants.kernel.admin.sites import workbench_site
    from reviews.models import Review

    shop = bench_shop_id()
    shop_reviews = Review.objects.filter(merchant_id=shop)
    count = shop_reviews.count()
    order_no = shop_reviews.order_by("created_at", "pk").values_list("order_no", flat=True)[count // 2]
    from django.urls import path

    import bench.anchor

    register_default(
        Review,
        list_display=(
            "order_no",
            "product",
            "content",
            "product_rating",
            "reply_status",
            "appeal_status",
            "created_at",
        ),
        list_filter=("product_rating", "reply_status"),
        search_fields=("order_no", "content", "buyer_name"),
    )
    # bench.anchor built its URLs when imported: mount them again with the review list registered.
    bench.anchor.urlpatterns[0] = path("bench-anchor/", anchor_site.urls)
    scenarios = {
        "plain": ({}, {}),
        "rating": ({"product_rating__exact": "1"}, {"product_rating__exact": "1"}),
        "tab_to_reply": ({"tab": "to_reply"}, {"reply_status__exact": ""}),
        "search": ({"q": order_no}, {"q": order_no}),
    }
    ours_url, anchor_url = "/workbench/reviews/review/", "/bench-anchor/reviews/review/"
    model_admin, anchor_admin = workbench_site._registry[Review], anchor_site._registry[Review]
    saved = model_admin.list_per_page
    case = {"rows": f"shop {shop}: {count:,} reviews"}
    with override_settings(ROOT_URLCONF="bench.anchor"):
        try:
            for scenario, (params, anchor_params) in scenarios.items():
                ours_client, anchor_client = _client(BENCH_SHOP_USER), _client(BENCH_SHOP_USER)
                must = order_no if scenario == "search" else None
                counts = {}
                for size in PAGE_SIZES:
                    reset_queries()
                    model_admin.list_per_page = anchor_admin.list_per_page = size
                    _get(ours_client, ours_url, params, must)
                    _get(anchor_client, anchor_url, anchor_params, must)
                    counts[size] = (
                        _queries(ours_client, ours_url, params),
                        _queries(anchor_client, anchor_url, anchor_params),
                    )
                    ours_ms, anchor_ms = _interleaved(
                        partial(_get, ours_client, ours_url, params),
                        partial(_get, anchor_client, anchor_url, anchor_params),
                    )
                    report_changelist_page(
                        report,
                        f"reviews.changelist.{scenario}.p{size}",
                        case,
                        ours_ms,
                        anchor_ms,
                        counts[size],
                        target=CHANGELIST_TARGET_MS,
                    )
                report_query_counts(report, f"reviews.changelist.{scenario}.queries", counts, PAGE_SIZES)
        finally:
            model_admin.list_per_page = saved


SECTIONS = {"dsr": run_dsr, "public": run_public, "changelist": run_changelist}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="review benchmarks")
    parser.add_argument("sections", nargs="*", help=f"any of {', '.join(SECTIONS)} (default: all)")
    parser.add_argument("--force", action="store_true", help="regenerate the data set")
    args = parser.parse_args(argv)
    unknown = set(args.sections) - set(SECTIONS)
    if unknown:
        parser.error(f"unknown section(s): {', '.join(sorted(unknown))}")
    use_own_database()
    from bench.common import require_postgres, setup

    setup()
    require_postgres()
    ensure_reviews(force=args.force)
    report = Report()
    for name in args.sections or list(SECTIONS):
        log(f"reviews: {name}")
        SECTIONS[name](report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
