"""Levels on both sites (L-1..L-8): the shop's level dashboard and what-if, the evaluation history
(read-only), staff's cross-shop overview, the dated score settings, and the hand-set level action.

/workbench/merchants/levelevaluation/dashboard/ is the shop's dashboard (linked from the home page's
level cards); the list under it is the shop's evaluations, each explaining itself metric by metric.
"""

from __future__ import annotations

import json
from datetime import timedelta

from django import forms
from django.contrib import messages
from django.db.models import Count, OuterRef, Subquery
from django.http import Http404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from unfold.admin import ModelAdmin
from unfold.decorators import display

from merchants import services
from merchants.admin.shops import MerchantAdmin
from merchants.kernel import registry
from merchants.kernel.admin.actions import ObjectAction, ObjectActionsMixin
from merchants.kernel.admin.base import MerchantScopedAdmin, is_workbench
from merchants.kernel.admin.readonly import ReadOnlyAdminMixin
from merchants.kernel.scoping import is_platform, merchant_ids_for
from merchants.kernel.vocabulary import MerchantStatus
from merchants.levels import dashboard, rules
from merchants.levels.numbers import decimal
from merchants.models import LevelEvaluation, LevelOutcome, Merchant

OUTCOME_VARIANTS = {
    LevelOutcome.UP: "success",
    LevelOutcome.FAST_UP: "success",
    LevelOutcome.DOWN: "danger",
    LevelOutcome.CLEARED: "danger",
    LevelOutcome.UNCHANGED: "default",
    LevelOutcome.NOT_DUE: "info",
    LevelOutcome.MANUAL: "warning",
}


def checks_table(checks: list[dict]):
    rows = dashboard.check_rows(checks)
    state = {"down": gettext("超过降级值"), "up": gettext("达到升级值"), "between": gettext("未达升级值")}
    return format_html(
        '<table class="levels-checks"><thead><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr>'
        "</thead><tbody>{}</tbody></table>",
        gettext("指标"),
        gettext("数值"),
        gettext("升级值"),
        gettext("降级值"),
        gettext("结论"),
        format_html_join(
            "",
            '<tr data-state="{}"><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>',
            (
                (r["state"], r["label"], r["display"], r["up_line"], r["down_line"], state[r["state"]])
                for r in rows
            ),
        ),
    )


class LevelEvaluationAdmin(ReadOnlyAdminMixin, MerchantScopedAdmin):
    """Every evaluation, with why: read-only (written by the daily task and set_level only)."""

    list_display = (
        "evaluated_on",
        "merchant",
        "outcome_badge",
        "levels",
        "reason_display",
        "next_evaluation_on",
    )
    list_select_related = ("merchant",)
    list_filter = ("outcome", "applied")
    ordering = ("-evaluated_on", "-pk")
    show_full_result_count = False
    list_per_page = 30
    fields = (
        ("merchant", "evaluated_on"),
        ("outcome_badge", "levels"),
        "reason_display",
        "checks_display",
        "scores_display",
        ("next_evaluation_on", "forecast"),
        ("actor", "created_at"),
    )
    readonly_fields = ("outcome_badge", "levels", "reason_display", "checks_display", "scores_display")
    list_before_template = "merchants/levels/list_before.html"

    @display(description=_("结果"), label=OUTCOME_VARIANTS)
    def outcome_badge(self, obj):
        return obj.outcome, obj.get_outcome_display()

    @display(description=_("等级"))
    def levels(self, obj):
        if obj.level_before == obj.level_after:
            return f"LV{obj.level_after}"
        return f"LV{obj.level_before} → LV{obj.level_after}"

    @display(description=_("原因"))
    def reason_display(self, obj):
        return obj.reason_text()

    @display(description=_("各项指标"))
    def checks_display(self, obj):
        return checks_table(obj.checks) if obj.checks else "—"

    @display(description=_("评分"))
    def scores_display(self, obj):
        s = obj.scores or {}
        if not s:
            return "—"
        return format_html(
            "{}: {} / 5 · {}: {} / 100",
            gettext("店铺分"),
            s.get("shop_score"),
            gettext("体验分"),
            s.get("experience_score"),
        )

    # -- the dashboard page

    def get_urls(self):
        urls = [
            path(
                "dashboard/",
                self.admin_site.admin_view(self.dashboard_view),
                name="merchants_level_dashboard",
            ),
        ]
        return urls + super().get_urls()

    def changelist_view(self, request, extra_context=None):
        extra_context = {**(extra_context or {})}
        if is_workbench(self.admin_site):
            extra_context["levels_dashboard_url"] = reverse(
                f"{self.admin_site.name}:merchants_level_dashboard"
            )
        else:
            extra_context["levels_overview"] = staff_overview()
        return super().changelist_view(request, extra_context)

    def dashboard_view(self, request):
        shop = shop_for(request)
        changes, errors = dashboard.parse_changes(request.GET)
        for error in errors:
            messages.error(request, error)
        context = {
            **self.admin_site.each_context(request),
            **dashboard.context_for(shop, changes=changes),
            "title": gettext("店铺等级与评分"),
            "opts": self.model._meta,
            "what_if_fields": [
                (key, dashboard.what_if_labels()[key], request.GET.get(key, ""))
                for key, _kind in dashboard.WHAT_IF_FIELDS
            ],
            "what_if_active": bool(changes),
            "shops": shops_of(request),
            "history_url": reverse(f"{self.admin_site.name}:merchants_levelevaluation_changelist"),
        }
        return TemplateResponse(request, "merchants/levels/dashboard.html", context)


def shops_of(request) -> list[Merchant]:
    if is_platform(request.user):
        return []
    return list(Merchant.objects.filter(pk__in=merchant_ids_for(request.user)).order_by("code"))


def shop_for(request) -> Merchant:
    """The shop the dashboard shows: ?shop=<code> among the user's shops (staff: any), else the first."""
    code = (request.GET.get("shop") or "").strip()
    if is_platform(request.user):
        qs = Merchant.objects.all()
    else:
        qs = Merchant.objects.filter(pk__in=merchant_ids_for(request.user))
    shop = (qs.filter(code=code) if code else qs.order_by("code")).first()
    if shop is None:
        raise Http404(gettext("没有找到该店铺。"))
    return shop


def staff_overview(today=None) -> dict:
    """/admin/: shops about to drop a level, near clear-out, the distribution of levels and scores."""
    today = today or timezone.localdate()
    latest = (
        LevelEvaluation.objects.filter(merchant=OuterRef("pk"))
        .exclude(outcome=LevelOutcome.MANUAL)
        .order_by("-evaluated_on", "-pk")
    )
    active = Merchant.objects.filter(status=MerchantStatus.ACTIVE)
    levels = dict(active.values_list("level").annotate(n=Count("pk")).order_by())
    latest_rows = LevelEvaluation.objects.filter(
        pk__in=active.annotate(latest=Subquery(latest.values("pk")[:1])).values("latest")
    ).values_list("merchant_id", "forecast", "scores")
    dropping_ids, buckets = [], [0] * 10
    for merchant_id, forecast, scores in latest_rows:
        if forecast == LevelOutcome.DOWN:
            dropping_ids.append(merchant_id)
        value = decimal((scores or {}).get("experience_score"))
        if value is not None:
            buckets[max(0, min(int(value // 10), 9))] += 1
    dropping = list(active.filter(pk__in=dropping_ids).order_by("code")[:20])
    near_clear = [
        (shop, rules.CLEAR_OUT_DAYS - (today - timezone.localdate(shop.level_changed_at)).days)
        for shop in active.filter(
            level=0, level_changed_at__lte=timezone.now() - timedelta(days=40)
        ).order_by("level_changed_at")[:20]
    ]
    level_chart = {
        "labels": [f"LV{n}" for n in range(8)],
        "datasets": [{"label": gettext("店铺数"), "data": [levels.get(n, 0) for n in range(8)]}],
    }
    score_chart = {
        "labels": [f"{n * 10}–{n * 10 + 9}" for n in range(10)],
        "datasets": [{"label": gettext("店铺数"), "data": buckets}],
    }
    return {
        "dropping": dropping,
        "near_clear": near_clear,
        "level_chart": json.dumps(level_chart),
        "score_chart": json.dumps(score_chart),
        "cleared": Merchant.objects.filter(status=MerchantStatus.CLEARED).count(),
    }


# ---- dated score settings (L-5, L-6)


class ScoreSettingsForm(forms.ModelForm):
    curves = forms.JSONField(
        label=_("评分曲线"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 10}),
        help_text=_("每个指标一组 [指标值, 分数] 折线点，按指标值升序；留空的指标用默认曲线。"),
    )

    class Meta:
        fields = (
            "effective_from",
            "product_weight",
            "logistics_weight",
            "service_weight",
            "refund_only_weight",
            "return_refund_weight",
            "curves",
            "note",
        )


class ScoreSettingsAdmin(ModelAdmin):
    """Staff add a dated row to change the curves or weights; the evaluations from that day are re-scored."""

    form = ScoreSettingsForm
    list_display = ("effective_from", "product_weight", "logistics_weight", "service_weight", "note")
    ordering = ("-effective_from",)

    def save_model(self, request, obj, form, change):
        from merchants.levels import scores

        super().save_model(request, obj, form, change)
        count = scores.recompute(since=obj.effective_from)
        messages.info(request, gettext("已按新设置重新计算 %(count)d 条评估的评分。") % {"count": count})


# ---- staff set a level by hand (shops that existed before the rules)


class SetLevelForm(forms.Form):
    level = forms.TypedChoiceField(label=_("新等级"), coerce=int, choices=[(n, f"LV{n}") for n in range(8)])
    reason = forms.CharField(label=_("调整原因"), max_length=500, widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args, merchant=None, **kwargs):
        super().__init__(*args, **kwargs)
        if merchant is not None:
            self.fields["level"].initial = merchant.level

    def service_kwargs(self) -> dict:
        return {"level": self.cleaned_data["level"], "reason": self.cleaned_data["reason"]}


SET_LEVEL = ObjectAction(
    "set_level",
    _("调整等级"),
    services.set_level,
    SetLevelForm,
    _("店铺等级已调整。"),
    icon="military_tech",
    url_path="set-level",
    platform_only=True,
    permission=lambda obj, user: is_platform(user),
    condition=lambda obj: True,
    intro=_("用于规则生效前已入驻的店铺等情况；调整记入等级评估记录，30 天后重新评估。"),
)


class PlatformMerchantAdmin(ObjectActionsMixin, MerchantAdmin):
    """The shop admin of /admin/, with staff's hand-set level (an action page)."""

    object_actions = (SET_LEVEL,)
    action_form_object = "merchant"
    action_buttons_in_header = True


# ---- the workbench home: the level cards (L-1 caps with today's use, the next evaluation)


@registry.card_provider(order=5)
def level_cards(request):
    if is_platform(request.user):
        return None
    shops = shops_of(request)
    if not shops:
        return None
    url = reverse(f"{registry.site_name(request)}:merchants_level_dashboard")
    if len(shops) > 1:
        return _shops_level_cards(shops, url)
    shop = shops[0]
    caps = dashboard.caps_today(shop)

    def cap_card(title, use):
        if use["cap"] is None:
            return registry.Card(title, use["value_text"], url, gettext("不限"), "default", "speed")
        hint = gettext("上限 %(cap)s，已用 %(percent)s%%") % {
            "cap": use["cap_text"],
            "percent": use["percent"],
        }
        return registry.Card(
            title, use["value_text"], url, hint, "danger" if use["warn"] else "default", "speed"
        )

    latest = LevelEvaluation.objects.filter(merchant=shop).exclude(outcome=LevelOutcome.MANUAL).first()
    nxt = latest.next_evaluation_on if latest else None
    return registry.Section(
        title=gettext("店铺等级（%(shop)s）") % {"shop": shop.name},
        description=gettext("今日用量达到上限的 80% 时提醒；上限只提醒，不拦截订单。"),
        cards=[
            registry.Card(
                gettext("当前等级"),
                shop.level_label,
                url,
                gettext("查看指标、评分与模拟"),
                "info",
                "military_tech",
            ),
            cap_card(gettext("今日订单"), caps["orders"]),
            cap_card(gettext("今日成交金额"), caps["gmv"]),
            registry.Card(gettext("下次评估"), str(nxt) if nxt else "—", url, "", "default", "event"),
        ],
    )


def _shops_level_cards(shops: list[Merchant], url: str) -> registry.Section:
    """A member of several shops: a card per shop (its level and today's use of its caps), each opening
    that shop's dashboard."""
    cards = []
    every_caps = dashboard.caps_today_for(shops)  # one query for every shop's day
    for shop in shops:
        caps = every_caps[shop.pk]
        hints = [
            f"{title} {use['value_text']}" + (f" / {use['cap_text']}" if use["cap"] is not None else "")
            for title, use in ((gettext("今日订单"), caps["orders"]), (gettext("今日成交金额"), caps["gmv"]))
        ]
        warn = any(use["cap"] is not None and use["warn"] for use in (caps["orders"], caps["gmv"]))
        cards.append(
            registry.Card(
                shop.name,
                shop.level_label,
                f"{url}?shop={shop.code}",
                " · ".join(hints),
                "danger" if warn else "info",
                "military_tech",
            )
        )
    return registry.Section(
        title=gettext("店铺等级"),
        description=gettext("今日用量达到上限的 80% 时提醒；上限只提醒，不拦截订单。"),
        cards=cards,
    )


registry.nav_icon("merchants.levelevaluation", "military_tech", priority=70)
