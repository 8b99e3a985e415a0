"""The shop's members (SPEC §1): on the workbench the owner adds, re-roles and removes them.

Every change goes through merchants.members (the shop's row locked, the last owner kept); others see the
list read-only, with a line saying what their role is. /admin/ keeps Django's forms (and the shop page's
member inline) but not their way around the rule: removing, demoting or moving a shop's last owner is
refused with the reason, and removals and role changes are made by the member services.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.contrib.admin.actions import delete_selected
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
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


# ---- /admin/: Django's member forms, with the last-owner rule (merchants.members)


def _owner_leaves(original, merchant, role) -> bool:
    """Whether an edit takes an owner membership away from its shop (demoted, or moved to another shop)."""
    if original.pk is None or original.role != Role.OWNER:
        return False
    moved = merchant is not None and merchant.pk != original.merchant_id
    return moved or (role is not None and role != Role.OWNER)


class PlatformMembershipForm(forms.ModelForm):
    """/admin/'s member form: an edit that would leave the shop without an owner is refused, with why."""

    def clean(self):
        cleaned = super().clean()
        original = self.instance  # still the stored row: the form's values are copied onto it after clean()
        if _owner_leaves(original, cleaned.get("merchant"), cleaned.get("role")):
            try:
                members.check_owner_kept(original.merchant_id, leaving=[original.pk])
            except members.LastOwnerError as exc:
                raise ValidationError(exc.messages, code="last_owner") from exc
        return cleaned


class OwnerKeptInlineFormSet(forms.BaseInlineFormSet):
    """The shop page's member rows (/admin/): after the edit the shop must still have an owner."""

    def clean(self):
        super().clean()
        if self.instance.pk is None or any(self.errors):
            return
        leaving, joining = [], 0
        for form in self.forms:
            if not getattr(form, "cleaned_data", None):
                continue
            pk = form.instance.pk
            stored = form.initial.get("role") if pk is not None else None  # the instance holds the new values
            deleted = self.can_delete and self._should_delete_form(form)
            role = form.cleaned_data.get("role")
            if stored == Role.OWNER and (deleted or role != Role.OWNER):
                leaving.append(pk)
            elif not deleted and role == Role.OWNER and stored != Role.OWNER:
                joining += 1
        try:
            members.check_owner_kept(self.instance.pk, leaving=leaving, joining=joining)
        except members.LastOwnerError as exc:
            raise ValidationError(exc.messages, code="last_owner") from exc


def save_member_rows(request, formset) -> None:
    """Save the inline's rows: removals and role changes through the member services (the shop's row locked,
    the rule re-checked), new rows and other edits as Django saves them."""
    changed = [f for f in formset.forms if f not in formset.deleted_forms and f.has_changed()]
    # Owners first: a shop handed from one owner to another in one save has an owner at every step.
    changed.sort(key=lambda form: form.cleaned_data.get("role") != Role.OWNER)
    formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
    for form in changed:
        if form.instance.pk is not None and form.changed_data == ["role"]:
            membership = members.change_role(
                form.instance.pk, actor=request.user, role=form.cleaned_data["role"]
            )
            formset.changed_objects.append((membership, form.changed_data))
        elif form.instance.pk is not None:
            formset.changed_objects.append((form.save(), form.changed_data))
        else:
            formset.new_objects.append(form.save())
    for form in formset.deleted_forms:
        if form.instance.pk is not None:
            members.remove_member(form.instance.pk, actor=request.user)
            formset.deleted_objects.append(form.instance)


def refuse_last_owner_removal(request, queryset) -> bool:
    """Say so and return True when removing the selected members would leave a shop without an owner."""
    leaving: dict[int, list[int]] = {}
    for pk, merchant_id in queryset.filter(role=Role.OWNER).values_list("pk", "merchant_id"):
        leaving.setdefault(merchant_id, []).append(pk)
    refused = False
    for merchant_id, pks in leaving.items():
        try:
            members.check_owner_kept(merchant_id, leaving=pks)
        except members.LastOwnerError as exc:
            message_errors(request, exc)
            refused = True
    return refused


@admin.action(description=_("删除所选的成员"), permissions=["delete"])
def delete_members(modeladmin, request, queryset):
    """/admin/'s bulk delete: refused up front when it takes a shop's last owner; otherwise Django's
    confirmation page, then each member through members.remove_member (MembershipAdmin.delete_queryset)."""
    if refuse_last_owner_removal(request, queryset):
        return None
    return delete_selected(modeladmin, request, queryset)


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

    # -- /admin/: Django's forms, the last owner kept (merchants.members)

    def get_form(self, request, obj=None, change=False, **kwargs):
        if not is_workbench(self.admin_site):
            kwargs["form"] = PlatformMembershipForm
        return super().get_form(request, obj, change, **kwargs)

    def save_model(self, request, obj, form, change):
        if change and form.changed_data == ["role"]:
            members.change_role(obj.pk, actor=request.user, role=obj.role)  # locks the shop, re-checks
        else:
            super().save_model(request, obj, form, change)

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except members.LastOwnerError as exc:  # another owner left meanwhile: the service's re-check
            message_errors(request, exc)
            return HttpResponseRedirect(request.get_full_path())

    def delete_view(self, request, object_id, extra_context=None):
        if not is_workbench(self.admin_site):
            membership = self.get_object(request, object_id)
            if membership is not None:
                try:
                    members.check_owner_kept(membership.merchant_id, leaving=[membership.pk])
                except members.LastOwnerError as exc:
                    message_errors(request, exc)
                    url = reverse(f"{self.admin_site.name}:merchants_membership_change", args=[membership.pk])
                    return HttpResponseRedirect(url)
        try:
            return super().delete_view(request, object_id, extra_context)
        except members.LastOwnerError as exc:  # another owner left meanwhile: the service's re-check
            message_errors(request, exc)
            return HttpResponseRedirect(request.get_full_path())

    def delete_model(self, request, obj):
        members.remove_member(obj.pk, actor=request.user)

    def delete_queryset(self, request, queryset):
        for membership in queryset.order_by("pk"):
            try:
                with transaction.atomic():
                    members.remove_member(membership.pk, actor=request.user)
            except ValidationError as exc:  # another owner left meanwhile: the service's re-check
                message_errors(request, exc)

    def get_actions(self, request):
        actions = super().get_actions(request)
        if "delete_selected" in actions and not is_workbench(self.admin_site):
            actions["delete_selected"] = (delete_members, "delete_selected", delete_members.short_description)
        return actions

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
