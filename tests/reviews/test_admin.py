"""The review pages over HTTP: the workbench list and page (R-2..R-6), the staff queues (R-2, R-3), tenancy."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.messages import get_messages
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from merchants.kernel.admin.sites import workbench_site
from merchants.kernel.templates import ReplyTemplate
from reviews import services
from reviews.admin.actions import REVIEW_ACTIONS
from reviews.models import Appeal, BannedWord, Reply, Review
from reviews.transitions import AppealDecisionReason, AppealStatus, ReplyStatus
from tests.factories import ProductFactory
from tests.reviews.factories import ReviewFactory, make_png

BACKEND = "django.contrib.auth.backends.ModelBackend"


def login(client, user):
    client.force_login(user, backend=BACKEND)
    return client


def wb(name, *args):
    return reverse(f"workbench:reviews_{name}", args=args)


def adm(name, *args):
    return reverse(f"admin:reviews_{name}", args=args)


def listed(response) -> set[int]:
    return {obj.pk for obj in response.context["cl"].result_list}


def texts(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def tab_counts(response) -> dict:
    return {tab["key"]: tab["count"] for tab in response.context["review_tabs"] if tab.get("key")}


# ---------------------------------------------------------------------------------------------
# Tenancy: every page, filter and action of the workbench stays in the shop


@pytest.fixture
def mine(shop):
    return ReviewFactory(merchant=shop)


@pytest.fixture
def theirs(other_shop):
    return ReviewFactory(merchant=other_shop, product_rating=1)


def test_R6_the_list_shows_only_the_users_shop(client, clerk, mine, theirs):
    response = login(client, clerk).get(wb("review_changelist"))

    assert response.status_code == 200
    assert listed(response) == {mine.pk}
    assert theirs.order_no not in response.content.decode()


def test_R6_another_shops_review_page_history_and_actions_are_404(client, clerk, theirs):
    login(client, clerk)

    assert client.get(wb("review_change", theirs.pk)).status_code == 404
    assert client.get(wb("review_history", theirs.pk)).status_code == 404
    for action in REVIEW_ACTIONS:
        url = wb("review_action", theirs.pk, action)
        assert client.get(url).status_code == 404, action
        assert client.post(url, {"text": "感谢", "reason": "恶意"}).status_code == 404, action

    theirs.refresh_from_db()
    assert (theirs.reply_status, theirs.appeal_status, theirs.pinned_at) == ("", "", None)
    assert theirs.events.count() == 1


@pytest.mark.parametrize(
    "params",
    [
        {"product_name": "别家"},
        {"spu": "SPU-THEIRS"},
        {"order_no": "O2026"},
        {"product_rating__exact": "1"},
        {"q": "SPU-THEIRS"},
        {"tab": "bad"},
    ],
)
def test_R6_filters_and_search_never_reach_another_shop(client, clerk, shop, other_shop, params):
    ReviewFactory(
        merchant=other_shop,
        product=ProductFactory(merchant=other_shop, name="别家毛衣", spu_id="SPU-THEIRS"),
        product_rating=1,
    )

    response = login(client, clerk).get(wb("review_changelist"), params)

    assert response.status_code == 200
    assert listed(response) == set()


def test_R6_the_staff_queues_are_not_for_shop_members(client, clerk):
    login(client, clerk)

    for url in (adm("reply_changelist"), adm("appeal_changelist"), adm("review_changelist")):
        assert client.get(url).status_code == 302  # to /admin/ login: members are not staff


def test_R2_a_viewer_reads_but_gets_403_on_an_action(client, viewer, mine):
    login(client, viewer)

    page = client.get(wb("review_change", mine.pk))
    action = client.get(wb("review_action", mine.pk, "reply"))

    assert page.status_code == 200 and "只读成员" in page.content.decode()
    assert action.status_code == 403


# ---------------------------------------------------------------------------------------------
# R-6 search and filters, the quick tabs


def test_R6_search_and_filters_find_the_right_reviews(client, clerk, shop):
    sweater = ProductFactory(merchant=shop, name="羊毛开衫", spu_id="SPU-KAI")
    a = ReviewFactory(merchant=shop, product=sweater, product_rating=5)
    b = ReviewFactory(merchant=shop, product_rating=2, created_at=timezone.now() - timedelta(days=10))
    login(client, clerk)

    def find(**params):
        return listed(client.get(wb("review_changelist"), params))

    assert find(product_name="开衫") == {a.pk}
    assert find(spu="SPU-KAI") == {a.pk}
    assert find(order_no=b.order_no) == {b.pk}
    assert find(q=a.order_no[:8]) == {a.pk, b.pk}  # a prefix of both (same sequence)
    assert find(q=b.order_no) == {b.pk}
    assert find(q="SPU-KAI") == {a.pk}
    assert find(product_rating__exact="2") == {b.pk}
    day = (timezone.localdate() - timedelta(days=10)).isoformat()
    assert find(created_at_from=day, created_at_to=day) == {b.pk}


def test_R6_quick_tabs_count_and_filter_each_node(client, clerk, shop, operator):
    to_reply = ReviewFactory(merchant=shop)
    pending = ReviewFactory(merchant=shop, reply=ReplyStatus.PENDING)
    rejected = ReviewFactory(merchant=shop, reply=ReplyStatus.REJECTED)
    ReviewFactory(merchant=shop, reply=ReplyStatus.APPROVED)
    appealing = ReviewFactory(merchant=shop, product_rating=1, appeal=AppealStatus.PENDING)
    ReviewFactory(merchant=shop, product_rating=1, deleted=True)
    login(client, clerk)

    response = client.get(wb("review_changelist"))

    assert tab_counts(response) == {
        "to_reply": 2,  # to_reply and the appealed one; not the deleted review
        "reply_pending": 1,
        "reply_rejected": 1,
        "appealing": 1,
        "bad": 1,
    }
    assert listed(client.get(wb("review_changelist"), {"tab": "to_reply"})) == {to_reply.pk, appealing.pk}
    assert listed(client.get(wb("review_changelist"), {"tab": "reply_pending"})) == {pending.pk}
    assert listed(client.get(wb("review_changelist"), {"tab": "reply_rejected"})) == {rejected.pk}
    assert listed(client.get(wb("review_changelist"), {"tab": "appealing"})) == {appealing.pk}
    assert listed(client.get(wb("review_changelist"), {"tab": "nonsense"})) == set()


@pytest.mark.parametrize("params", [{"product_rating__exact": "5"}, {"q": "O2026"}, {"tab": "to_reply"}])
def test_R6_the_list_costs_the_same_queries_for_5_or_25_rows(client, clerk, shop, monkeypatch, params):
    for _ in range(25):
        ReviewFactory(merchant=shop, reply=ReplyStatus.PENDING if _ % 2 else None)
    ReviewFactory(merchant=shop, product_rating=5)
    login(client, clerk)
    model_admin = workbench_site._registry[Review]
    counts = {}

    for per_page in (5, 25):
        monkeypatch.setattr(model_admin, "list_per_page", per_page)
        with CaptureQueriesContext(connection) as queries:
            response = client.get(wb("review_changelist"), params)
        assert response.status_code == 200
        assert len(response.context["cl"].result_list) == min(per_page, response.context["cl"].result_count)
        counts[per_page] = len(queries)

    assert counts[5] == counts[25]


# ---------------------------------------------------------------------------------------------
# The review page and its actions


def test_R2_R3_the_page_shows_badges_and_only_the_actions_the_state_allows(client, clerk, shop):
    plain = ReviewFactory(merchant=shop)
    pinned = ReviewFactory(merchant=shop, pinned=True)
    appealed = ReviewFactory(merchant=shop, appeal=AppealStatus.DISMISSED)
    deleted = ReviewFactory(merchant=shop, deleted=True)
    login(client, clerk)

    def actions(review):
        return [a["name"] for a in client.get(wb("review_change", review.pk)).context["review_actions"]]

    assert actions(plain) == ["reply", "pin", "appeal"]
    assert actions(pinned) == ["reply", "unpin"]
    assert actions(appealed) == ["reply"]
    assert actions(deleted) == []
    page = client.get(wb("review_change", deleted.pk)).content.decode()
    assert "买家已删除" in page and "138****5678" in page and "13812345678" not in page
    assert "申诉驳回" in client.get(wb("review_change", appealed.pk)).content.decode()


def test_R3_the_page_counts_down_to_the_appeal_deadline(client, clerk, shop):
    review = ReviewFactory(merchant=shop, created_at=timezone.now() - timedelta(days=20))
    login(client, clerk)

    html = client.get(wb("review_change", review.pk)).content.decode()

    assert 'id="review-appeal-countdown"' in html
    assert re.search(r"剩 1[01] 天", html)


def test_R2_replying_from_the_page(client, clerk, mine):
    ReplyTemplate.objects.create(
        scene=ReplyTemplate.Scene.REVIEW_GOOD, title="感谢好评", text="感谢您的好评！"
    )
    ReplyTemplate.objects.create(scene=ReplyTemplate.Scene.REVIEW_BAD, title="致歉", text="非常抱歉！")
    login(client, clerk)
    url = wb("review_action", mine.pk, "reply")

    form = client.get(url)
    response = client.post(url, {"text": "感谢您的支持！"}, follow=True)

    # 话术 for a 5-star review: the platform's thanks, not its apology
    assert form.status_code == 200 and "data-reply-picker" in form.content.decode()
    assert "感谢好评" in form.content.decode() and "致歉" not in form.content.decode()
    assert response.redirect_chain[-1][0] == wb("review_change", mine.pk)
    assert any("平台审核通过后展示" in m for m in texts(response))
    assert mine.replies.get().status == ReplyStatus.PENDING


def test_R2_a_reply_with_a_phone_number_is_stored_rejected_and_the_page_says_why(client, clerk, mine):
    login(client, clerk)

    response = client.post(wb("review_action", mine.pk, "reply"), {"text": "加我 138 1234 5678"}, follow=True)

    reply = mine.replies.get()
    assert reply.status == ReplyStatus.REJECTED
    assert any("联系方式" in m and "138 1234 5678" in m for m in texts(response))
    assert "138 1234 5678" in response.content.decode()  # the history shows the wording and the reason


@pytest.mark.parametrize("text", ["", "好" * 10_000])
def test_R2_an_empty_or_huge_reply_from_the_page_changes_nothing(client, clerk, mine, text):
    login(client, clerk)

    response = client.post(wb("review_action", mine.pk, "reply"), {"text": text})

    assert response.status_code == 200  # the form again, with the message
    assert "回复内容" in response.content.decode()
    assert not mine.replies.exists()


def test_R4_the_third_pin_from_the_page_is_refused_with_a_message(client, clerk, shop):
    a = ReviewFactory(merchant=shop, pinned=True)
    ReviewFactory(merchant=shop, product=a.product, pinned=True)
    c = ReviewFactory(merchant=shop, product=a.product)
    login(client, clerk)

    response = client.post(wb("review_action", c.pk, "pin"), follow=True)

    assert any("已有 2 条置顶评价" in m for m in texts(response))
    assert response.redirect_chain == [
        (wb("review_change", c.pk), 302)
    ]  # a move without input: back to the page
    c.refresh_from_db()
    assert c.pinned_at is None


def test_R3_appealing_from_the_page_with_evidence(client, clerk, mine):
    login(client, clerk)

    response = client.post(
        wb("review_action", mine.pk, "appeal"),
        {"reason": "同行恶意差评", "images": [make_png()]},
        follow=True,
    )

    assert any("申诉已提交" in m for m in texts(response))
    appeal = Appeal.objects.get(review=mine)
    assert appeal.images.count() == 1 and appeal.filed_by.username == "clerk1"


def test_R3_an_appeal_without_a_reason_from_the_page_changes_nothing(client, clerk, mine):
    login(client, clerk)

    response = client.post(wb("review_action", mine.pk, "appeal"), {"reason": ""})

    assert response.status_code == 200 and "申诉理由" in response.content.decode()
    assert not Appeal.objects.exists()


def test_R5_acting_on_a_deleted_review_from_the_page_changes_nothing(client, clerk, shop):
    review = ReviewFactory(merchant=shop, deleted=True)
    login(client, clerk)

    get = client.get(wb("review_action", review.pk, "reply"), follow=True)
    post = client.post(wb("review_action", review.pk, "pin"), follow=True)

    assert any("当前不能" in m for m in texts(get))
    assert any("买家已删除" in m for m in texts(post))
    review.refresh_from_db()
    assert review.pinned_at is None and not review.replies.exists()


def test_R2_deleting_an_approved_reply_from_the_page(client, clerk, shop):
    review = ReviewFactory(merchant=shop, reply=ReplyStatus.APPROVED)
    login(client, clerk)

    response = client.post(wb("review_action", review.pk, "delete_reply"), follow=True)

    assert any("回复已删除" in m for m in texts(response))
    assert review.replies.get().deleted_at is not None


# ---------------------------------------------------------------------------------------------
# Staff: the moderation queue


def test_R2_the_queue_lists_pending_replies_oldest_first_with_their_age(
    client, operator, shop, clerk, time_machine
):
    first = services.reply(ReviewFactory(merchant=shop), actor=clerk, text="先回复的")
    time_machine.move_to(timezone.now() + timedelta(hours=3), tick=False)
    second = services.reply(ReviewFactory(merchant=shop), actor=clerk, text="后回复的")
    time_machine.move_to(timezone.now() + timedelta(minutes=30), tick=False)
    login(client, operator)

    redirect = client.get(adm("reply_changelist"))
    response = client.get(adm("reply_changelist"), {"tab": "pending"})

    assert redirect.status_code == 302 and redirect["Location"] == "?tab=pending"
    assert [r.pk for r in response.context["cl"].result_list] == [first.pk, second.pk]
    html = response.content.decode()
    assert "已等待 3 小时 30 分" in html and "已等待 30 分" in html
    assert tab_counts(response)["pending"] == 2


def test_R2_bulk_approve_shows_a_result_per_reply(client, operator, shop, clerk):
    a = services.reply(ReviewFactory(merchant=shop), actor=clerk, text="感谢一")
    b = services.reply(ReviewFactory(merchant=shop), actor=clerk, text="感谢二")
    services.moderate_reply(b, actor=operator, approve=True)
    login(client, operator)

    response = client.post(
        adm("reply_changelist"), {"action": "approve_selected", ACTION_CHECKBOX_NAME: [a.pk, b.pk]}
    )

    assert response.status_code == 200
    rows = response.context["rows"]
    assert [(row["ok"], row["label"]) for row in rows] == [(True, "感谢一"), (False, "感谢二")]
    assert "当前状态" in rows[1]["message"]
    a.refresh_from_db()
    assert a.status == ReplyStatus.APPROVED


def test_R2_bulk_reject_asks_for_the_reason_first(client, operator, shop, clerk):
    a = services.reply(ReviewFactory(merchant=shop), actor=clerk, text="好评返现 5 元")
    login(client, operator)
    url = adm("reply_changelist") + "?tab=pending"

    ask = client.post(url, {"action": "reject_selected", ACTION_CHECKBOX_NAME: [a.pk]})
    empty = client.post(
        url, {"action": "reject_selected", ACTION_CHECKBOX_NAME: [a.pk], "apply": "1", "reason": ""}
    )
    done = client.post(
        url, {"action": "reject_selected", ACTION_CHECKBOX_NAME: [a.pk], "apply": "1", "reason": "诱导好评"}
    )

    assert 'id="bulk-reject-form"' in ask.content.decode()
    assert 'id="bulk-reject-form"' in empty.content.decode()  # asked again, nothing changed
    assert [row["ok"] for row in done.context["rows"]] == [True]
    a.refresh_from_db()
    assert (a.status, a.reject_reason) == (ReplyStatus.REJECTED, "诱导好评")


def test_R2_staff_moderate_one_reply_on_its_page(client, operator, shop, clerk):
    reply = services.reply(ReviewFactory(merchant=shop), actor=clerk, text="感谢")
    login(client, operator)

    page = client.get(adm("reply_change", reply.pk))
    no_reason = client.post(
        adm("reply_moderate", reply.pk), {"decision": "reject", "reason": ""}, follow=True
    )
    approved = client.post(adm("reply_moderate", reply.pk), {"decision": "approve"}, follow=True)

    assert 'id="reply-moderation"' in page.content.decode()
    assert any("驳回原因" in m for m in texts(no_reason))
    assert any("已通过回复" in m for m in texts(approved))
    reply.refresh_from_db()
    assert reply.status == ReplyStatus.APPROVED


# ---------------------------------------------------------------------------------------------
# Staff: the appeal queue


def test_R3_the_appeal_page_shows_review_order_both_sides_and_decides(client, operator, shop, clerk):
    review = ReviewFactory(merchant=shop, product_rating=1, content="垃圾商品", images=[make_png("b.png")])
    appeal = services.appeal(review, actor=clerk, reason="同行恶意差评", images=[make_png("m.png")])
    login(client, operator)

    queue = client.get(adm("appeal_changelist"), {"tab": "pending"})
    page = client.get(adm("appeal_change", appeal.pk))
    html = page.content.decode()
    missing = client.post(adm("appeal_decide", appeal.pk), {"decision": ""}, follow=True)
    done = client.post(
        adm("appeal_decide", appeal.pk),
        {"decision": "uphold", "code": AppealDecisionReason.MALICIOUS},
        follow=True,
    )

    assert [a.pk for a in queue.context["cl"].result_list] == [appeal.pk]
    assert "垃圾商品" in html and "同行恶意差评" in html and review.order_no in html
    assert 'data-party="buyer"' in html and 'data-party="merchant"' in html
    assert 'id="appeal-decision-form"' in html and str(AppealDecisionReason.MALICIOUS.label) in html
    assert "13812345678" not in html
    assert any("请选择申诉成功或驳回申诉" in m for m in texts(missing))
    assert any("已判定申诉成功" in m for m in texts(done))
    appeal.refresh_from_db()
    assert appeal.status == AppealStatus.UPHELD


def test_R3_dismissing_without_any_reason_is_refused_on_the_page(client, operator, shop, clerk):
    appeal = services.appeal(ReviewFactory(merchant=shop), actor=clerk, reason="恶意")
    login(client, operator)

    response = client.post(adm("appeal_decide", appeal.pk), {"decision": "dismiss"}, follow=True)

    assert any("审核说明" in m for m in texts(response))
    appeal.refresh_from_db()
    assert appeal.status == AppealStatus.PENDING


# ---------------------------------------------------------------------------------------------
# R-7 on the workbench home, and the staff pages of settings and banned words


def test_R7_the_workbench_home_shows_the_dsr_with_a_trend(client, owner, shop):
    ReviewFactory(merchant=shop, product_rating=5, service_rating=4, logistics_rating=4)
    ReviewFactory(merchant=shop, product_rating=3, created_at=timezone.now() - timedelta(days=40))
    login(client, owner)

    html = client.get(reverse("workbench:index")).content.decode()

    assert "商品评分" in html and "4.00" in html  # (5 + 3) / 2 over the last 90 days
    assert "较 30 天前" in html and "↑1.00" in html  # 30 days ago only the 3-star review counted
    assert "待回复" in html


def test_R2_staff_edit_banned_words_and_review_settings(client, superuser):
    login(client, superuser)

    added = client.post(adm("bannedword_add"), {"word": "假货", "action": "refuse", "note": ""})
    settings_page = client.get(adm("reviewsettings_changelist"), follow=True)

    assert added.status_code == 302
    assert services.screen("这是假货").flag == "banned"
    assert settings_page.status_code == 200 and "评价发布后可申诉" in settings_page.content.decode()


def test_R2_staff_see_every_shops_reviews_read_only(client, operator, mine, theirs):
    login(client, operator)

    response = client.get(adm("review_changelist"))
    page = client.get(adm("review_change", theirs.pk))

    assert listed(response) == {mine.pk, theirs.pk}
    assert page.status_code == 200 and page.context["review_actions"] == []
    assert client.get(adm("review_action", theirs.pk, "pin")).status_code == 404
    assert Review.objects.filter(pinned_at__isnull=False).count() == 0
    assert Reply.objects.count() == 0


def test_R2_platform_staff_add_change_and_remove_banned_words(client, operator):
    login(client, operator)

    added = client.post(adm("bannedword_add"), {"word": "加微信", "action": "review", "note": ""})
    word = BannedWord.objects.get(word="加微信")
    removed = client.post(adm("bannedword_delete", word.pk), {"post": "yes"})

    assert added.status_code == 302 and removed.status_code == 302
    assert not BannedWord.objects.exists()


def test_R6_the_list_total_comes_from_the_tab_counts_and_agrees_with_a_count(client, clerk, shop, other_shop):
    """The plain list and a tab reuse the tab aggregate as their row count (no second COUNT); anything
    narrower is counted. Either way the total is the number of rows the list holds."""
    for reply in ("", "", ReplyStatus.PENDING, ReplyStatus.APPROVED):
        ReviewFactory(merchant=shop, reply=reply)
    ReviewFactory(merchant=shop, product_rating=1, deleted=True)
    ReviewFactory(merchant=other_shop)
    login(client, clerk)

    def total(params):
        with CaptureQueriesContext(connection) as queries:
            response = client.get(wb("review_changelist"), params)
        counted = [q["sql"] for q in queries.captured_queries if 'COUNT(*) AS "__count"' in q["sql"]]
        return response.context["cl"].result_count, len(response.context["cl"].result_list), len(counted)

    assert total({}) == (5, 5, 0)
    assert total({"tab": "to_reply", "o": "1"}) == (2, 2, 0)
    assert total({"tab": "nonsense"}) == (0, 0, 0)  # an unknown tab: nothing (no query at all)
    assert total({"tab": "to_reply", "product_rating__exact": "5"}) == (2, 2, 1)
    assert total({"q": "no such order"}) == (0, 0, 1)
