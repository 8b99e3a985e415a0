"""The shop's notices on the workbench: newest first, unread marked, read one or all (a shared inbox).

Only notices for shops (audience merchant) of the user's shops; the text is rendered in the reader's
language (merchants.kernel.notices). Opening a notice or pressing "mark read" POSTs to `read/`, which
calls `mark_notices_read` — owners and agents mark, viewers read. The header bell links here.
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.http import Http404, HttpResponseNotAllowed, HttpResponseRedirect
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.text import Truncator
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _
from unfold.decorators import action, display

from merchants.kernel import notices
from merchants.kernel.admin.base import MerchantScopedAdmin, member_may
from merchants.kernel.admin.display import badge, local_time
from merchants.kernel.models import Notice
from merchants.kernel.scoping import WRITE_ROLES, merchant_ids_for


class ReadStateFilter(admin.SimpleListFilter):
    title = _("状态")
    parameter_name = "status"

    def lookups(self, request, model_admin):
        return (("unread", _("未读")), ("read", _("已读")))

    def queryset(self, request, queryset):
        if self.value() == "unread":
            return queryset.filter(read_at__isnull=True)
        if self.value() == "read":
            return queryset.filter(read_at__isnull=False)
        return queryset


class WorkbenchNoticeAdmin(MerchantScopedAdmin):
    """Read-only rows; marking read goes through merchants.kernel.notices.mark_notices_read."""

    list_display = ("state", "notice", "created")
    list_display_links = None
    list_filter = (ReadStateFilter,)
    list_select_related = ("merchant",)
    ordering = ("-created_at", "-pk")
    list_per_page = 50
    show_full_result_count = False
    list_before_template = "merchants/admin/notice_list_before.html"
    actions = ("mark_read_selected",)
    fields = ("notice", "shop", "created", "state")
    readonly_fields = fields

    def scope_queryset(self, request, qs):
        return qs.filter(audience=Notice.Audience.MERCHANT)

    def has_add_permission(self, request, *args):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def may_mark(self, request) -> bool:
        return member_may(request, None, WRITE_ROLES)

    def get_list_display(self, request):
        columns = list(super().get_list_display(request))
        if len(merchant_ids_for(request.user)) != 1:
            columns.insert(2, "shop")
        return columns

    def get_actions(self, request):
        found = super().get_actions(request)
        if not self.may_mark(request):
            found.pop("mark_read_selected", None)
        return found

    def changelist_view(self, request, extra_context=None):
        extra = {
            "notice_read_url": reverse(f"{self.admin_site.name}:merchants_notice_read"),
            "notice_may_mark": self.may_mark(request),
            "notice_unread": notices.unread_count(request.user),
        }
        return super().changelist_view(request, {**extra, **(extra_context or {})})

    # -- columns

    @display(description=_("状态"))
    def state(self, obj):
        return badge(gettext("已读"), "default") if obj.is_read else badge(gettext("未读"), "danger")

    @display(description=_("通知"))
    def notice(self, obj):
        title, body = notices.render(obj)
        target = notices.link_of(obj, self.admin_site.name)
        weight = "font-normal" if obj.is_read else "font-semibold text-important"
        if target:
            # Opening marks it read: a POST through the read form above the list (no state change on GET).
            heading = format_html(
                '<button type="submit" form="notice-read-form" name="open" value="{}" class="{} text-left text-primary-600 hover:underline">{}</button>',
                obj.pk,
                weight,
                title,
            )
        else:
            heading = format_html('<span class="{}">{}</span>', weight, title)
        mark = ""
        if not obj.is_read:
            mark = format_html(
                '<button type="submit" form="notice-read-form" name="ids" value="{}" class="ml-2 text-base-500 text-xs hover:text-primary-600">{}</button>',
                obj.pk,
                gettext("标为已读"),
            )
        return format_html(
            '<div class="flex flex-col gap-1"><div>{}{}</div><div class="text-base-500 whitespace-pre-line">{}</div></div>',
            heading,
            mark,
            Truncator(body).chars(200),
        )

    @display(description=_("店铺"))
    def shop(self, obj):
        return obj.merchant.name if obj.merchant_id else "-"

    @display(description=_("时间"))
    def created(self, obj):
        return local_time(obj.created_at)

    # -- marking read

    @action(description=_("标为已读"))
    def mark_read_selected(self, request, queryset):
        changed = notices.mark_notices_read(request.user, list(queryset.values_list("pk", flat=True)))
        self._done(request, changed)

    def _done(self, request, changed: int) -> None:
        if changed:
            messages.success(
                request,
                ngettext("%(count)d 条通知已标为已读。", "%(count)d 条通知已标为已读。", changed)
                % {"count": changed},
            )
        else:
            messages.info(request, gettext("没有需要标为已读的通知。"))

    def get_urls(self):
        info = self.opts.app_label, self.opts.model_name
        return [
            path("read/", self.admin_site.admin_view(self.read_view), name="{}_{}_read".format(*info)),
        ] + super().get_urls()

    def read_view(self, request):
        """POST open=<id> (mark it read, go to what it is about), ids=<id>… or all=1 (mark, back to the list)."""
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        back = self._back(request)
        opened = request.POST.get("open", "")
        if opened:
            notice = self.get_object(request, opened) if opened.isdigit() else None
            if notice is None:
                raise Http404(_("对象不存在。"))
            if self.may_mark(request):
                notices.mark_notices_read(request.user, [notice.pk])
            return HttpResponseRedirect(notices.link_of(notice, self.admin_site.name) or back)
        if not self.may_mark(request):
            messages.error(request, gettext("您在本店的角色只能查看通知，不能标为已读。"))
            return HttpResponseRedirect(back)
        if request.POST.get("all"):
            self._done(request, notices.mark_notices_read(request.user))
        else:
            self._done(request, notices.mark_notices_read(request.user, request.POST.getlist("ids")))
        return HttpResponseRedirect(back)

    def _back(self, request) -> str:
        changelist = reverse(f"{self.admin_site.name}:merchants_notice_changelist")
        referer = request.headers.get("referer", "")
        if referer and url_has_allowed_host_and_scheme(referer, {request.get_host()}, request.is_secure()):
            return referer
        return changelist


__all__ = ["WorkbenchNoticeAdmin"]
