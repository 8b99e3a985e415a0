"""Issue 11 §13-§16: language, dates, the 404 page in DEBUG, the favicon, a sidebar order that does not change
with the language, help texts without rule ids, the quiet demo log."""

from __future__ import annotations

import datetime
import logging
import logging.config

from django.conf import settings
from django.test import override_settings
from django.urls import reverse
from django.utils import formats, translation
from django.utils import timezone as tz

from merchants.kernel import registry
from merchants.kernel.admin.sites import workbench_site
from tests.factories import OrderFactory

BACKEND = "django.contrib.auth.backends.ModelBackend"
THEMED = [
    *settings.MIDDLEWARE[:-1],
    "merchants.kernel.errors.ThemedNotFoundMiddleware",
    settings.MIDDLEWARE[-1],
]


def login(client, user):
    client.force_login(user, backend=BACKEND)
    return client


# ---- the 404 page with DEBUG on (the demo)


@override_settings(DEBUG=True, MIDDLEWARE=THEMED)
def test_N9_with_debug_on_a_missing_page_is_still_the_themed_404(client, db):
    response = client.get("/no/such/page/")

    assert response.status_code == 404
    page = response.content.decode()
    assert "页面不存在" in page
    assert "URLconf" not in page and "Using the URLconf" not in page


@override_settings(DEBUG=True, MIDDLEWARE=THEMED)
def test_N7_with_debug_on_another_shops_order_is_the_themed_404_on_both_sites(
    client, shop, other_shop, clerk, operator
):
    theirs = OrderFactory(merchant=other_shop)
    login(client, clerk)

    workbench = client.get(reverse("workbench:merchants_order_change", args=[theirs.pk]))
    login(client, operator)
    platform = client.get("/admin/merchants/order/987654/change/")

    for response in (workbench, platform):
        assert response.status_code == 404
        assert "页面不存在" in response.content.decode()
        assert theirs.order_no not in response.content.decode()


# ---- favicon


def test_favicon_is_linked_on_both_sites_and_served(client, shop, clerk, operator):
    login(client, clerk)
    assert 'rel="icon"' in client.get(reverse("workbench:index")).content.decode()
    login(client, operator)
    assert 'rel="icon"' in client.get(reverse("admin:index")).content.decode()

    redirect = client.get("/favicon.ico")
    assert redirect.status_code == 302 and redirect.url.endswith("favicon.svg")
    assert (settings.BASE_DIR / "static" / "favicon.svg").read_text().startswith("<svg")
    assert 'rel="icon"' in client.get("/no/such/page/").content.decode()


# ---- sidebar order


def _titles(request):
    return [
        [str(item["title"]) for item in group["items"]] for group in registry.workbench_navigation(request)
    ]


def test_sidebar_order_is_the_same_in_both_languages(rf, shop, owner):
    request = rf.get("/workbench/")
    request.user = owner

    with translation.override("zh-hans"):
        chinese = [
            [item["link"] for item in group["items"]] for group in registry.workbench_navigation(request)
        ]
    with translation.override("en"):
        english = [
            [item["link"] for item in group["items"]] for group in registry.workbench_navigation(request)
        ]

    assert chinese == english
    assert chinese[1][0] == reverse("workbench:aftersales_aftersalecase_changelist")


def test_admin_app_list_order_is_the_same_in_both_languages(rf, operator):
    from django.contrib import admin

    request = rf.get("/admin/")
    request.user = operator

    with translation.override("zh-hans"):
        chinese = [app["app_label"] for app in admin.site.get_app_list(request)]
    with translation.override("en"):
        english = [app["app_label"] for app in admin.site.get_app_list(request)]

    assert chinese == english
    assert chinese[:2] == ["aftersales", "merchants"]
    assert workbench_site.get_app_list  # the workbench uses the same order (StableOrderMixin)


# ---- one date format


def test_N5_one_date_format_in_both_languages():
    moment = tz.make_aware(datetime.datetime(2026, 12, 1, 15, 26))

    for language in ("zh-hans", "en"):
        with translation.override(language):
            assert formats.date_format(tz.localtime(moment), "DATETIME_FORMAT") == "2026-12-01 15:26"
            assert formats.date_format(moment.date(), "DATE_FORMAT") == "2026-12-01"
            assert formats.localize(tz.localtime(moment)) == "2026-12-01 15:26"


# ---- Chinese wordings of Django's own messages


# Django's msgids, held in variables (makemessages would otherwise collect them as ours)
STAFF_LOGIN = " ".join(
    [
        "Please enter the correct %(username)s and password for a staff account.",
        "Note that both fields may be case-sensitive.",
    ]
)
VALID_DATE = "Enter a valid date."


def test_N4_django_wordings_read_as_ours_in_chinese():
    with translation.override("zh-hans"):
        from django import forms

        field = forms.CharField(max_length=5)
        try:
            field.clean("123456")
        except forms.ValidationError as exc:
            message = exc.messages[0]
        assert message == "最多 5 个字，现在是 6 个。"
        assert translation.gettext("Add %(name)s") % {"name": "自动退款规则"} == "添加自动退款规则"
        assert "工作人员账户" not in translation.gettext(STAFF_LOGIN)
        assert translation.gettext(VALID_DATE).endswith("。")
    with translation.override("en"):
        assert translation.gettext(VALID_DATE) == VALID_DATE


def test_N4_date_picker_day_initials_in_chinese(client, operator):
    login(client, operator)

    catalog = client.get(reverse("admin:jsi18n"), HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()

    assert '"one letter Monday\\u0004M": "\\u4e00"' in catalog  # 一
    assert (settings.BASE_DIR / "static" / "shouhou" / "calendar-caption.js").exists()


# ---- no rule ids for merchants


def test_no_rule_ids_in_workbench_help_texts(client, shop, owner):
    login(client, owner)

    page = client.get(reverse("workbench:merchants_merchant_change", args=[shop.pk])).content.decode()

    assert "符合条件的未发货小额仅退款申请将被系统自动同意" in page
    assert "A-11" not in page


def test_rule_ids_are_stripped_in_english_too():
    from merchants.kernel.admin.base import without_rule_ids

    with translation.override("en"):
        assert without_rule_ids("Refunds approve themselves (A-11).") == "Refunds approve themselves."
    assert without_rule_ids("不计入考核数据（A-9）。") == "不计入考核数据。"


# ---- a quiet demo log


def test_demo_log_keeps_warnings_and_drops_request_chatter():
    logging.config.dictConfig(settings.LOGGING)

    assert logging.getLogger("django.server").getEffectiveLevel() == logging.WARNING
    assert logging.getLogger("axes").getEffectiveLevel() == logging.WARNING
    assert logging.getLogger("shouhou.members").getEffectiveLevel() <= logging.INFO
    script = (settings.BASE_DIR / "scripts" / "demo.sh").read_text()
    assert '--loglevel="$TASK_LOG_LEVEL"' in script and "SHOUHOU_TASK_LOG_LEVEL:-WARNING" in script


# ---- evidence uploads: the theme's file input, the size limit said up front


def test_evidence_inputs_are_the_themes_widget_and_say_the_size_limit():
    from unfold.widgets import UnfoldAdminFileFieldWidget

    from aftersales.forms import RejectForm
    from merchants.kernel.uploads import EvidenceImageField, EvidenceImagesField

    single, several = EvidenceImageField(), EvidenceImagesField(help_text="最多 9 张。")

    assert isinstance(single.widget, UnfoldAdminFileFieldWidget)
    assert isinstance(several.widget, UnfoldAdminFileFieldWidget) and several.widget.allow_multiple_selected
    with translation.override("zh-hans"):
        assert str(several.help_text).replace("\xa0", " ") == "最多 9 张。每个文件不超过 5.0 MB。"
        assert "5.0\xa0MB" in str(single.help_text)
    with translation.override("en"):
        assert "5.0\xa0MB" in str(single.help_text) and "不超过" not in str(single.help_text)
    assert RejectForm  # the case forms build their image fields from these
