"""The merchant workbench (/workbench/): an AdminSite of its own, for shop members only.

Platform staff and admins use the default site at /admin/. A merchant user needs no `is_staff`:
membership of an active shop is what lets them in (merchants/scoping.py decides).

Both sites' login pages (N-7) say in our words what went wrong and when the login locks (the numbers
come from the django-axes settings), and after logging in land on the site's own home when the `next`
they were given points elsewhere or is missing.
"""

from django.contrib.auth import REDIRECT_FIELD_NAME
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext_lazy as _
from unfold.forms import AuthenticationForm
from unfold.sites import UnfoldAdminSite

from merchants.kernel.logins import lockout_numbers
from merchants.kernel.registry import stable_app_list
from merchants.kernel.scoping import is_platform, roles_for


def may_use_workbench(user) -> bool:
    return bool(user.is_active and (user.is_superuser or roles_for(user)))


class LockoutNoticeLoginForm(AuthenticationForm):
    """A wrong username or password, said plainly, with how many failures lock the login and for how long."""

    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": _(
            "用户名或密码不正确（注意区分大小写）。同一账号在同一设备上连续 %(limit)d 次登录失败后，"
            "登录将被锁定 %(minutes)d 分钟。"
        ),
        "inactive": _("该账号已停用，请联系平台管理员。"),
    }

    def get_invalid_login_error(self):
        return ValidationError(
            self.error_messages["invalid_login"], code="invalid_login", params=lockout_numbers(self.request)
        )


class WorkbenchLoginForm(LockoutNoticeLoginForm):
    """Admit shop members (not `is_staff`, which is for /admin/)."""

    def confirm_login_allowed(self, user):
        if not user.is_active:
            raise ValidationError(self.error_messages["inactive"], code="inactive")
        if not may_use_workbench(user):
            raise ValidationError(
                _("该账号不是任何店铺的成员。平台人员请使用 /admin/ 登录。"), code="no_membership"
            )


class PlatformLoginForm(LockoutNoticeLoginForm):
    """/admin/: platform staff (is_staff); a shop member is pointed to the workbench."""

    def confirm_login_allowed(self, user):
        if not user.is_active:
            raise ValidationError(self.error_messages["inactive"], code="inactive")
        if not user.is_staff:
            raise ValidationError(
                _("该账号不是平台人员账号。商家请使用 /workbench/ 登录。"), code="not_staff"
            )


def ensure_safe_next(request, home: str) -> None:
    """Make the login's `next` the site's home when it is missing or points off this site.

    Django's LoginView falls back to LOGIN_REDIRECT_URL (/accounts/profile/, a 404) for both.
    """
    target = request.POST.get(REDIRECT_FIELD_NAME, request.GET.get(REDIRECT_FIELD_NAME, ""))
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return
    if request.method == "POST":
        data = request.POST.copy()
        data[REDIRECT_FIELD_NAME] = home
        request.POST = data
    query = request.GET.copy()
    query[REDIRECT_FIELD_NAME] = home
    request.GET = query


def safe_next_login(site):
    """`site.login` behind ensure_safe_next, for a site this project does not subclass (/admin/)."""

    def login(request, extra_context=None):
        ensure_safe_next(request, reverse(f"{site.name}:index"))
        return site.login(request, extra_context)

    return login


class StableOrderMixin:
    """The sidebar and the index list apps and pages in one order whatever the language."""

    def get_app_list(self, request, app_label=None):
        return stable_app_list(super().get_app_list(request, app_label))


def keep_app_order(site) -> None:
    """Give a site this project does not subclass (/admin/, unfold's default site) the stable order."""
    if not isinstance(site, StableOrderMixin):
        site.__class__ = type(f"Stable{type(site).__name__}", (StableOrderMixin, type(site)), {})


# /admin/ (platform staff): our own heading instead of Django's 站点管理 / "Site administration".
# The sidebar's header and the tab title are unfold's SITE_HEADER / SITE_TITLE (config/settings.py).
PLATFORM_INDEX_TITLE = _("平台管理")


def title_platform_site(site) -> None:
    """Give /admin/ (Django's own site object) the platform's titles, in the reader's language."""
    site.site_header = _("售后平台管理")
    site.site_title = _("售后平台管理")
    site.index_title = PLATFORM_INDEX_TITLE


class WorkbenchSite(StableOrderMixin, UnfoldAdminSite):
    settings_name = "UNFOLD_WORKBENCH"
    site_header = _("商家售后工作台")
    site_title = _("商家售后工作台")
    index_title = _("售后工作台")
    login_form = WorkbenchLoginForm

    def has_permission(self, request) -> bool:
        return request.user.is_authenticated and may_use_workbench(request.user)

    def login(self, request, extra_context=None):
        ensure_safe_next(request, reverse(f"{self.name}:index"))
        return super().login(request, extra_context)

    def each_context(self, request):
        context = super().each_context(request)
        context["is_workbench"] = True
        context["acting_as_platform"] = is_platform(request.user)
        return context


workbench_site = WorkbenchSite(name="workbench")
