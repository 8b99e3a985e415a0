"""The one tenancy-aware admin base every workbench page inherits (STYLE §7).

Rows, change/delete/history URLs, actions, autocomplete and exports all read `get_queryset()`, which
is scoped here and cannot be overridden; FK dropdowns and FK list filters are scoped too. On the
merchant workbench, permissions come from the member's role (viewer reads, owner/agent act); on
/admin/ they are Django's model permissions, as usual for platform staff.
"""

from __future__ import annotations

import re

from django.contrib import admin, messages
from django.contrib.admin.options import TO_FIELD_VAR
from django.contrib.admin.utils import unquote
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.http import Http404, HttpResponseRedirect
from django.utils.functional import lazy
from django.utils.translation import gettext_lazy as _
from unfold.admin import ModelAdmin, StackedInline, TabularInline

from merchants.kernel.admin.filters import CheckedChangeList, ShopAutocompleteFilter
from merchants.kernel.models import Merchant
from merchants.kernel.scoping import (
    ALL_ROLES,
    WRITE_ROLES,
    merchant_id_of,
    role_for,
    roles_for,
    scope_to_actor,
)


def is_workbench(admin_site) -> bool:
    return getattr(admin_site, "name", "") == "workbench"


def member_may(request, obj, roles) -> bool:
    """The member's role allows `roles` in the shop of `obj` (or in any of their shops when obj is None)."""
    user = request.user
    if user.is_superuser:
        return True
    if obj is None:
        return any(role in roles for role in roles_for(user).values())
    shop_id = merchant_id_of(obj)
    if shop_id is None:  # a row of no shop (a multi-shop member's job): its starter, by any of their roles
        starter = getattr(type(obj), "starter_path", None)
        mine = bool(starter) and getattr(obj, f"{starter}_id", None) == user.pk
        return mine and any(role in roles for role in roles_for(user).values())
    return role_for(user, shop_id) in roles


def message_errors(request, error: ValidationError) -> None:
    """Show every message of a refused service call on the page (never a 500)."""
    for text in error.messages:
        messages.error(request, text)


RULE_ID = re.compile(r"\s*[（(][MSARTLBN]-\d+[a-z]?(?:[,，、]\s*[MSARTLBN]-\d+[a-z]?)*[）)]")


def _strip_rule_ids(text) -> str:
    return RULE_ID.sub("", str(text))


without_rule_ids = lazy(_strip_rule_ids, str)
"""A help text without the spec's rule ids ("（A-11）"): they mean nothing to a merchant (issue 11 §14)."""


class ScopedFormFieldsMixin:
    """FK and M2M choices limited to the user's shops; on the workbench, help texts without rule ids."""

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        field = super().formfield_for_dbfield(db_field, request, **kwargs)
        if field is not None and field.help_text and is_workbench(self.admin_site):
            field.help_text = without_rule_ids(field.help_text)
        return field

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        related = db_field.related_model
        if hasattr(related, "merchant_path"):
            kwargs["queryset"] = scope_to_actor(related._default_manager.all(), request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        related = db_field.related_model
        if hasattr(related, "merchant_path"):
            kwargs["queryset"] = scope_to_actor(related._default_manager.all(), request.user)
        return super().formfield_for_manytomany(db_field, request, **kwargs)


class RolePermissionsMixin:
    """Workbench permissions from the member's role; /admin/ keeps Django's model permissions."""

    workbench_can_add = False
    workbench_can_delete = False

    def has_module_permission(self, request):
        if is_workbench(self.admin_site):
            return member_may(request, None, ALL_ROLES)
        return super().has_module_permission(request)

    def is_platform_site(self) -> bool:
        """This admin is mounted on the platform's site (/admin/), not the merchants' workbench."""
        return not is_workbench(self.admin_site)

    def has_view_permission(self, request, obj=None):
        if is_workbench(self.admin_site):
            return member_may(request, obj, ALL_ROLES)
        return super().has_view_permission(request, obj)

    def has_change_permission(self, request, obj=None):
        if is_workbench(self.admin_site):
            return member_may(request, obj, WRITE_ROLES)
        return super().has_change_permission(request, obj)

    def has_add_permission(self, request, *args):
        if is_workbench(self.admin_site):
            return self.workbench_can_add and member_may(request, None, WRITE_ROLES)
        return super().has_add_permission(request, *args)

    def has_delete_permission(self, request, obj=None):
        if is_workbench(self.admin_site):
            return self.workbench_can_delete and member_may(request, obj, WRITE_ROLES)
        return super().has_delete_permission(request, obj)


class ActorResourceKwargsMixin:
    """Every resource the admin builds gets `actor=request.user` (the kernel's import/export admins list it first)."""

    def get_resource_kwargs(self, request, *args, **kwargs):
        return {**kwargs, "actor": request.user}

    def get_export_resource_kwargs(self, request, **kwargs):
        return {**super().get_export_resource_kwargs(request, **kwargs), "actor": request.user}

    def get_import_resource_kwargs(self, request, **kwargs):
        return {**super().get_import_resource_kwargs(request, **kwargs), "actor": request.user}


def _check_import_export(cls) -> None:
    """Refuse an import/export admin whose resources would not get the actor (see admin/importexport.py)."""
    from import_export.mixins import BaseExportMixin, BaseImportMixin

    if not issubclass(cls, BaseExportMixin | BaseImportMixin):
        return
    from merchants.kernel.resources import MerchantScopedResource

    for hook in ("get_resource_kwargs", "get_export_resource_kwargs", "get_import_resource_kwargs"):
        if getattr(cls, hook, None) is not getattr(ActorResourceKwargsMixin, hook):
            raise ImproperlyConfigured(
                f"{cls.__name__}.{hook} is not the kernel's: inherit MerchantScopedExportAdmin or "
                "MerchantScopedImportExportAdmin (merchants.kernel.admin.importexport), not import_export's mixins"
            )
    for resource in [*(cls.resource_classes or ()), *([cls.resource_class] if cls.resource_class else [])]:
        if not issubclass(resource, MerchantScopedResource):
            raise ImproperlyConfigured(f"{cls.__name__}: {resource.__name__} is not a MerchantScopedResource")


class MerchantScopedAdmin(RolePermissionsMixin, ScopedFormFieldsMixin, ModelAdmin):
    """Base of every admin of a merchant-owned model, on both sites."""

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if "get_queryset" in cls.__dict__:
            raise ImproperlyConfigured(f"{cls.__name__}: extend scope_queryset(), not get_queryset()")
        _check_import_export(cls)

    def get_queryset(self, request):
        return self.scope_queryset(request, scope_to_actor(super().get_queryset(request), request.user))

    def scope_queryset(self, request, qs):
        """Hook for select_related / annotations; the rows are already scoped."""
        return qs

    def get_list_filter(self, request):
        """On /admin/, every list of a shop's rows starts with the shop filter (an autocomplete)."""
        filters = list(super().get_list_filter(request))
        path = getattr(self.model, "merchant_path", None)
        if is_workbench(self.admin_site) or not path:
            return filters
        named = {item[0] if isinstance(item, (list, tuple)) else item for item in filters}
        if path in named or not self.admin_site.is_registered(Merchant):
            return filters  # the autocomplete searches through the shop admin of this site
        return [(path, ShopAutocompleteFilter), *filters]

    def get_changelist(self, request, **kwargs):
        return CheckedChangeList  # a filter value refused (N-9) is not an active filter

    def _get_obj_does_not_exist_redirect(self, request, opts, object_id):
        # Another shop's id must look exactly like an id that does not exist: 404, no hint.
        raise Http404(_("对象不存在。"))

    # Django asks for the change / delete permission *before* it looks the object up, so a POST (or a
    # delete page) for another shop's id answered 403 where a GET answered 404 — which told the two
    # apart. Here the object is looked up first (N-7); the row found is handed on, so there is no
    # second query.

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        if object_id is not None:
            self._require_visible(request, object_id)
        return super().changeform_view(request, object_id, form_url, extra_context)

    def delete_view(self, request, object_id, extra_context=None):
        self._require_visible(request, object_id)
        return super().delete_view(request, object_id, extra_context)

    def _require_visible(self, request, object_id) -> None:
        to_field = request.POST.get(TO_FIELD_VAR, request.GET.get(TO_FIELD_VAR))
        if to_field and not self.to_field_allowed(request, to_field):
            return  # Django's own view refuses it with its error
        key = (self.model, unquote(object_id), to_field)
        obj = self.get_object(request, *key[1:])
        if obj is None:
            raise Http404(_("对象不存在。"))
        request._shouhou_visible_object = (key, obj)

    def get_object(self, request, object_id, from_field=None):
        looked_up = getattr(request, "_shouhou_visible_object", None)
        if looked_up is not None and looked_up[0] == (self.model, object_id, from_field):
            request._shouhou_visible_object = None
            return looked_up[1]
        return super().get_object(request, object_id, from_field)

    def redirect_back(self, request, obj=None):
        """After a service-backed action: back to where the user came from (or the object page)."""
        referer = request.headers.get("referer")
        if referer and referer.startswith(request.build_absolute_uri("/")):
            return HttpResponseRedirect(referer)
        if obj is not None:
            return HttpResponseRedirect(request.path.rsplit("/", 3)[0] + "/")
        return HttpResponseRedirect("../")


class ScopedTabularInline(RolePermissionsMixin, ScopedFormFieldsMixin, TabularInline):
    """Inlines read their rows through the parent, which is already scoped; their FK choices are scoped here."""

    extra = 0


class ScopedStackedInline(RolePermissionsMixin, ScopedFormFieldsMixin, StackedInline):
    extra = 0


class ReadOnlyEventInline(ScopedTabularInline):
    """A timeline of immutable event rows: never added, changed or deleted from any admin."""

    can_delete = False
    show_change_link = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


__all__ = [
    "MerchantScopedAdmin",
    "ReadOnlyEventInline",
    "ScopedStackedInline",
    "ScopedTabularInline",
    "admin",
    "is_workbench",
    "member_may",
    "message_errors",
]
