"""Reviews in the browser (issue 9): shop1 replies, staff approve, the public page shows the reply (R-2, R-8);
shop1 pins two reviews that then lead the public page, and the third pin is refused (R-4).

People act only through the pages. The buyers' reviews arrive through the buyer's service, as they would
from the buyer feed.
"""

import re
from datetime import timedelta

from django.contrib.auth.models import Group
from django.utils import timezone
from playwright.sync_api import Page, expect

from merchants.kernel.scoping import PLATFORM_GROUP
from reviews.models import Reply, Review
from reviews.transitions import ReplyStatus
from tests.e2e.support import login, open_menu
from tests.factories import ProductFactory, UserFactory
from tests.reviews.factories import ReviewFactory


def review_row(page: Page, order_no: str):
    return page.locator("#result_list tbody tr").filter(has_text=order_no)


def act(page: Page, label: str, submit: str, screenshot=None, step: str = "action") -> None:
    """Click an action button of the review page, then confirm on the action's own page."""
    page.locator("#review-actions").get_by_role(
        "link", name=re.compile(rf"(^|\s){re.escape(label)}$")
    ).click()
    expect(page).to_have_url(re.compile(r"/action/"))
    if screenshot:
        screenshot(page, step)
    page.get_by_role("button", name=re.compile(re.escape(submit))).click()
    expect(page).not_to_have_url(re.compile(r"/action/"))


def staff_login(page: Page, base_url: str) -> None:
    user = UserFactory(username="staff", is_staff=True)
    user.set_password("staff")
    user.save()
    user.groups.add(Group.objects.get_or_create(name=PLATFORM_GROUP)[0])
    page.goto(f"{base_url}/admin/login/")
    page.get_by_label(re.compile("用户名")).fill("staff")
    page.get_by_label(re.compile("密码")).fill("staff")
    page.get_by_role("button", name=re.compile("登录")).click()
    expect(page).to_have_url(re.compile(r"/admin/$"))


def test_R2_R8_shop1_replies_staff_approve_and_the_public_page_shows_it(
    page: Page, new_page, live_server, shop1, shop2, screenshot
):
    product = ProductFactory(merchant=shop1, name="纯棉短袖T恤", spu_id="SPU-E2E")
    review = ReviewFactory(
        merchant=shop1, product=product, product_rating=4, content="面料舒服，就是快递慢了两天。"
    )
    theirs = ReviewFactory(merchant=shop2, product_rating=1)

    login(page, live_server.url, "shop1")
    open_menu(page, "评价")
    tab = page.locator("#review-quick-tabs").get_by_role("link", name=re.compile("待回复"))
    expect(tab).to_contain_text("1")
    expect(page.locator("#result_list")).not_to_contain_text(theirs.order_no)
    screenshot(page, "review-list")
    review_row(page, review.order_no).get_by_role("link", name="去回复").click()
    expect(page.locator("#review-status")).to_contain_text("纯棉短袖T恤")
    screenshot(page, "review-page")

    page.locator("#review-actions").get_by_role("link", name=re.compile(r"(^|\s)回复$")).click()
    page.get_by_label("回复内容").fill("有事加微信 shop_8888")
    page.get_by_role("button", name="提交回复").click()
    expect(
        page.get_by_text(re.compile("回复已被系统驳回"))
    ).to_be_visible()  # contact details: refused at once
    expect(page.locator("#review-replies")).to_contain_text("微信 shop_8888")
    screenshot(page, "reply-refused")

    page.locator("#review-actions").get_by_role("link", name=re.compile(r"(^|\s)回复$")).click()
    page.get_by_label("回复内容").fill("感谢亲的支持，物流的问题我们已经反馈给快递公司！")
    page.get_by_role("button", name="提交回复").click()
    expect(page.get_by_text(re.compile("平台审核通过后展示"))).to_be_visible()
    expect(page.locator("#review-status")).to_contain_text("回复审核中")
    screenshot(page, "reply-pending")

    # Platform staff, at another computer, moderate the queue.
    staff = new_page()
    staff_login(staff, live_server.url)
    staff.goto(f"{live_server.url}/admin/reviews/reply/")
    row = staff.locator("#result_list tbody tr").filter(has_text="感谢亲的支持")
    expect(row).to_contain_text("已等待")
    screenshot(staff, "moderation-queue")
    row.get_by_role("link", name="去审核").click()
    staff.get_by_role("button", name="通过").click()
    expect(staff.get_by_text(re.compile("已通过回复"))).to_be_visible()
    screenshot(staff, "moderated")

    # Anyone: the public page shows the approved reply, the buyer's name masked.
    visitor = new_page()
    visitor.goto(f"{live_server.url}/shop/shop1/products/SPU-E2E/reviews/")
    article = visitor.locator(f'article[data-review="{review.pk}"]')
    expect(article).to_contain_text("面料舒服")
    expect(article.locator(".reply")).to_contain_text("感谢亲的支持")
    expect(article).to_contain_text("张**")
    expect(visitor.locator("body")).not_to_contain_text("shop_8888")
    screenshot(visitor, "public-page")

    visitor.locator("#language").select_option("en")
    visitor.get_by_role("button", name="切换").click()
    expect(visitor.locator("#review-count")).to_contain_text("1 review")
    expect(article.locator(".reply")).to_contain_text("Shop reply")
    screenshot(visitor, "public-page-en")

    assert Reply.objects.get(review=review, status=ReplyStatus.APPROVED).text.startswith("感谢亲的支持")


def test_R4_shop1_pins_two_reviews_that_lead_the_public_page_and_the_third_is_refused(
    page: Page, new_page, live_server, shop1, screenshot
):
    product = ProductFactory(merchant=shop1, name="保温杯", spu_id="SPU-PIN")
    now = timezone.now()
    oldest, older, newer = (
        ReviewFactory(merchant=shop1, product=product, created_at=now - timedelta(days=days), content=text)
        for days, text in (
            (9, "最早的评价：保温效果很好"),
            (6, "第二条：杯盖很紧"),
            (1, "最新的评价：颜色好看"),
        )
    )

    login(page, live_server.url, "shop1")
    for review in (oldest, older):
        page.goto(f"{live_server.url}/workbench/reviews/review/{review.pk}/change/")
        act(page, "置顶", "确认置顶", screenshot, f"pin-{review.pk}")
        expect(page.get_by_text(re.compile("已置顶（订单"))).to_be_visible()
        expect(page.locator("#review-states")).to_contain_text("已置顶")

    page.goto(f"{live_server.url}/workbench/reviews/review/{newer.pk}/change/")
    act(page, "置顶", "确认置顶")
    expect(page.get_by_text("该商品已有 2 条置顶评价，请先取消其中一条再置顶。")).to_be_visible()
    expect(page.locator("#review-states")).not_to_contain_text("已置顶")
    screenshot(page, "third-pin-refused")

    visitor = new_page()
    visitor.goto(f"{live_server.url}/shop/shop1/products/SPU-PIN/reviews/")
    articles = visitor.locator("#reviews article")
    expect(articles).to_have_count(3)
    expect(articles.nth(0)).to_contain_text("第二条")  # the latest pin first
    expect(articles.nth(1)).to_contain_text("最早的评价")
    expect(articles.nth(2)).to_contain_text("最新的评价")
    expect(visitor.locator("#reviews .pinned")).to_have_count(2)
    screenshot(visitor, "public-pinned")

    # the unpinned review is appealed; staff uphold it with a standard reason; it leaves the page.
    page.goto(f"{live_server.url}/workbench/reviews/review/{newer.pk}/change/")
    expect(page.locator("#review-appeal-countdown")).to_contain_text("剩")
    page.locator("#review-actions").get_by_role("link", name=re.compile(r"(^|\s)申诉$")).click()
    page.get_by_label("申诉理由").fill("该买家为同行，评价内容与商品无关。")
    screenshot(page, "appeal-form")
    page.get_by_role("button", name="提交申诉").click()
    expect(page.get_by_text(re.compile("申诉已提交"))).to_be_visible()
    expect(page.locator("#review-states")).to_contain_text("申诉中")
    expect(page.locator("#review-actions")).not_to_contain_text("置顶")  # an appealed review is never pinned

    staff = new_page()
    staff_login(staff, live_server.url)
    staff.goto(f"{live_server.url}/admin/reviews/appeal/")
    staff.locator("#result_list tbody tr").filter(has_text="同行").get_by_role("link", name="去审核").click()
    expect(staff.locator('[data-party="buyer"]')).to_contain_text("最新的评价")
    expect(staff.locator('[data-party="merchant"]')).to_contain_text("该买家为同行")
    staff.get_by_label("申诉成功（隐藏评价，不计入店铺评分）").check()
    staff.get_by_label("审核结论").select_option("irrelevant")
    screenshot(staff, "appeal-decision")
    staff.get_by_role("button", name="提交审核结果").click()
    expect(staff.get_by_text(re.compile("已判定申诉成功"))).to_be_visible()

    visitor.reload()
    expect(visitor.locator("#reviews article")).to_have_count(2)
    expect(visitor.locator("#reviews")).not_to_contain_text("最新的评价")
    page.goto(f"{live_server.url}/workbench/")
    expect(page.locator("#workbench-dashboard")).to_contain_text("商品评分")
    screenshot(page, "workbench-home")

    assert Review.objects.filter(product=product, pinned_at__isnull=False).count() == 2
    assert Review.objects.get(pk=newer.pk).hidden_at is not None
