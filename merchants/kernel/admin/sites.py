"""The merchant workbench (/workbench/): an AdminSite of its own, for shop members only.

Platform staff and admins use the default site at /admin/. A merchant user needs no `is_staff`:
membership of an active shop is what lets them in (merchants/scoping.py decides).
"""

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from unfold.forms import AuthenticationForm
from unfold.sites import UnfoldAdminSite

from merchants.kernel.scoping import is_platform, roles_for


def may_use_workbench(user) -> bool:
    return bool(user.is_active and (user.is_superuser or roles_for(user)))


class WorkbenchLoginForm(AuthenticationForm):
    """Admit shop members (not `is_staff`, which is for /admin/)."""

    def confirm_login_allowed(self, user):
        if not may_use_workbench(user):
            raise ValidationError(
                _("该账号不是任何店铺的成员。平台人员请使用 /admin/ 登录。"), code="no_membership"
            )


class WorkbenchSite(UnfoldAdminSite):
    settings_name = "UNFOLD_WORKBENCH"
    site_header = _("商家售后工作台")
    site_title = _("商家售后工作台")
    index_title = _("工作台")
    login_form = WorkbenchLoginForm

    def has_permission(self, request) -> bool:
        return request.user.is_authenticated and may_use_workbench(request.user)

    def each_context(self, request):
        context = super().each_context(request)
        context["is_workbench"] = True
        context["acting_as_platform"] = is_platform(request.user)
        return context


workbench_site = WorkbenchSite(name="workbench")
