"""The shop's members (SPEC §1): on the workbench the owner adds, re-roles and removes them.

Every change goes through merchants.members (the shop's row locked, the last owner kept); others see the
list read-only, with a line saying what their role is. /admin/ manages members as Django's admin does.
"""

from __future__ import annotations

from django import forms
from django.core.exceptions import PermissionDenied, ValidationError
from django.template.response import TemplateResponse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from unfold.contrib.filters.admin import ChoicesDropdownFilter
from unfold.decorators import display
from unfold.widgets import UnfoldAdminRadioSelectWidget, UnfoldAdminSelectWidget, UnfoldAdminTextInputWidget

from merchants import members
from merchants.kernel.admin.actions.pages import ConfirmForm, ObjectAction, ObjectActionsMixin
from merchants.kernel.admin.base import MerchantScopedAdmin, is_workbench, member_may, message_errors
from merchants.kernel.admin.display import local_time
from merchants.kernel.scoping import is_platform, role_for, roles_for
from merchants.kernel.vocabulary import Role
from merchants.models import Merchant

ROLE_VARIANTS = {Role.OWNER: "primary", Role.AGENT: "info", Role.VIEWER: "default"}
OWNER_ONLY = frozenset({Role.OWNER})
NEW_LOGIN, EXISTING_LOGIN = "new", "existing"


def may_edit_members(membership, user) -> bool:
    """Owners of the member's shop, platform staff and superusers."""
    return is_platform(user) or role_for(user, membership.merchant_id) == Role.OWNER


def owned_shops(user):
    if is_platform(user):
        return Merchant.objects.order_by("code")
    return Merchant.objects.filter(
        pk__in=[pk for pk, role in roles_for(user).items() if role == Role.OWNER]
    ).order_by("code")


class MemberRoleForm(forms.Form):
    role = forms.ChoiceField(
        label=_("角色"),
        choices=Role.choices,
        widget=UnfoldAdminRadioSelectWidget,
        help_text=_("店主：管理店铺设置和成员；售后客服：处理订单和售后；只读：只能查看。"),
        error_messages={"required": _("请选择成员的角色。"), "invalid_choice": _("请选择成员的角色。")},
    )

    def __init__(self, *args, membership=None, **kwargs):
        super().__init__(*args, **kwargs)
        if membership is not None and not self.is_bound:
            self.initial.setdefault("role", membership.role)

    def service_kwargs(self) -> dict:
        return {"role": self.cleaned_data["role"]}


class MemberAddForm(forms.Form):
    merchant = forms.ModelChoiceField(
        label=_("店铺"),
        queryset=Merchant.objects.none(),
        widget=UnfoldAdminSelectWidget,
        error_messages={"required": _("请选择店铺。"), "invalid_choice": _("请选择您管理的店铺。")},
    )
    login = forms.ChoiceField(
        label=_("账号"),
        choices=[(EXISTING_LOGIN, _("已有账号")), (NEW_LOGIN, _("新建账号（生成一次性密码）"))],
        initial=EXISTING_LOGIN,
        widget=UnfoldAdminRadioSelectWidget,
        error_messages={
            "required": _("请选择已有账号或新建账号。"),
            "invalid_choice": _("请选择已有账号或新建账号。"),
        },
    )
    username = forms.CharField(
        label=_("登录名"),
        max_length=150,
        widget=UnfoldAdminTextInputWidget,
        error_messages={
            "required": _("请填写登录名。"),
            "max_length": _("登录名不能超过 %(limit_value)d 个字符。"),
        },
    )
    role = MemberRoleForm.base_fields["role"]

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["role"].initial = Role.AGENT
        shops = owned_shops(user)
        self.fields["merchant"].queryset = shops
        if len(shops) == 1:
            self.fields["merchant"].initial = shops[0].pk

    def service_kwargs(self) -> dict:
        data = self.cleaned_data
        return {"username": data["username"], "role": data["role"], "new_login": data["login"] == NEW_LOGIN}


def _role_changed(membership, result, data) -> str:
    return gettext("%(user)s 的角色已改为「%(role)s」。") % {
        "user": membership.user.get_username(),
        "role": Role(data["role"]).label,
    }


def _removed(membership, result, data) -> str:
    return gettext("%(user)s 已从%(shop)s移除。") % {
        "user": membership.user.get_username(),
        "shop": membership.merchant.name,
    }


CHANGE_ROLE = ObjectAction(
    name="change_role",
    label=_("修改角色"),
    service=members.change_role,
    form_class=MemberRoleForm,
    icon="manage_accounts",
    variant="primary",
    done=_role_changed,
    permission=may_edit_members,
    condition=lambda membership: True,
)
REMOVE = ObjectAction(
    name="remove",
    label=_("移除成员"),
    service=members.remove_member,
    form_class=ConfirmForm,
    icon="person_remove",
    variant="danger",
    intro=_("该账号将不能再进入本店的工作台；账号本身保留（它可能还属于其他店铺）。"),
    done=_removed,
    permission=may_edit_members,
    condition=lambda membership: True,
    then="changelist",
)


class MembershipAdmin(ObjectActionsMixin, MerchantScopedAdmin):
    """Who works in the shop and as what; the workbench owner edits through the member services."""

    list_display = ("username", "role_badge", "shop", "joined")
    list_select_related = ("user", "merchant")
    list_filter = (("role", ChoicesDropdownFilter),)
    list_filter_submit = True
    search_fields = ("user__username", "merchant__code", "merchant__name")
    ordering = ("merchant__code", "role", "user__username")
    list_before_template = "merchants/admin/members_note.html"
    object_actions = (CHANGE_ROLE, REMOVE)
    action_buttons_in_header = True
    action_form_object = "membership"
    action_summary_id = "member-summary"

    def offered_actions(self):
        return super().offered_actions() if is_workbench(self.admin_site) else {}

    def action_form_kwargs(self, request, obj, action):
        return {"membership": obj} if action.name == "change_role" else {}

    def action_summary(self, request, obj):
        return [
            (gettext("成员"), obj.user.get_username()),
            (gettext("店铺"), obj.merchant.name),
            (gettext("角色"), obj.get_role_display()),
        ]

    def has_add_permission(self, request, *args):
        if is_workbench(self.admin_site):
            return is_platform(request.user) or member_may(request, None, OWNER_ONLY)
        return super().has_add_permission(request, *args)

    def has_change_permission(self, request, obj=None):
        if is_workbench(self.admin_site):
            return False  # the role is changed on its own page (修改角色), through the service
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        if is_workbench(self.admin_site):
            return False  # 移除成员, through the service
        return super().has_delete_permission(request, obj)

    def get_autocomplete_fields(self, request):
        return () if is_workbench(self.admin_site) else ("user", "merchant")

    def get_readonly_fields(self, request, obj=None):
        if is_workbench(self.admin_site):
            return ("user", "merchant", "role", "created_at")
        return ("created_at",)

    def changelist_view(self, request, extra_context=None):
        extra = {"members_note": self.members_note(request)} if is_workbench(self.admin_site) else {}
        return super().changelist_view(request, {**extra, **(extra_context or {})})

    def members_note(self, request) -> str:
        """For a member who is not an owner: who may edit members, and what their own role is."""
        user = request.user
        if is_platform(user):
            return ""
        roles = roles_for(user)
        others = sorted({Role(role).label for role in roles.values() if role != Role.OWNER})
        if not others or any(role == Role.OWNER for role in roles.values()):
            return ""
        return gettext("只有店主可以添加、修改或移除成员；您在本店的角色是「%(role)s」。") % {
            "role": "、".join(str(label) for label in others)
        }

    def add_view(self, request, form_url="", extra_context=None):
        if not is_workbench(self.admin_site):
            return super().add_view(request, form_url, extra_context)
        if not self.has_add_permission(request):
            raise PermissionDenied
        if request.method == "POST":
            form = MemberAddForm(request.POST, user=request.user)
            if form.is_valid():
                try:
                    added = members.add_member(
                        form.cleaned_data["merchant"], actor=request.user, **form.service_kwargs()
                    )
                except ValidationError as exc:
                    message_errors(request, exc)
                else:
                    self.log_addition(request, added.membership, [{"added": {}}])
                    return self.render_member_page(request, "merchants/admin/member_added.html", added=added)
        else:
            form = MemberAddForm(user=request.user)
        return self.render_member_page(request, "merchants/admin/member_add.html", form=form)

    def render_member_page(self, request, template, **context):
        request.current_app = self.admin_site.name
        title = gettext("添加成员")
        return TemplateResponse(
            request,
            template,
            {
                **self.admin_site.each_context(request),
                "opts": self.opts,
                "title": title,
                "breadcrumb_tail": title,
                "changelist_url": self.changelist_url(),
                **context,
            },
        )

    @display(description=_("用户"), ordering="user__username")
    def username(self, obj):
        return obj.user.get_username()

    @display(description=_("角色"), label=ROLE_VARIANTS)
    def role_badge(self, obj):
        return obj.role, obj.get_role_display()

    @display(description=_("店铺"), ordering="merchant__code")
    def shop(self, obj):
        return obj.merchant.name

    @display(description=_("加入时间"), ordering="created_at")
    def joined(self, obj):
        return local_time(obj.created_at, "Y-m-d")


__all__ = ["MembershipAdmin"]
