"""Third-party models on /admin/ re-registered with unfold's classes, so every page looks the same.

django.contrib.auth's User and Group (with unfold's user forms) and django-celery-beat's schedules
(staff see and tune the beat schedule here, N-1), as unfold's integration guides describe.
"""

from __future__ import annotations

from django.contrib import admin
from django.contrib.auth.admin import GroupAdmin as BaseGroupAdmin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.models import Group, User
from django.utils.translation import gettext_lazy as _
from django_celery_beat.admin import ClockedScheduleAdmin as BaseClockedScheduleAdmin
from django_celery_beat.admin import CrontabScheduleAdmin as BaseCrontabScheduleAdmin
from django_celery_beat.admin import PeriodicTaskAdmin as BasePeriodicTaskAdmin
from django_celery_beat.admin import PeriodicTaskForm, TaskSelectWidget
from django_celery_beat.models import (
    ClockedSchedule,
    CrontabSchedule,
    IntervalSchedule,
    PeriodicTask,
    SolarSchedule,
)
from unfold.admin import ModelAdmin, TabularInline
from unfold.forms import AdminPasswordChangeForm, UserChangeForm, UserCreationForm
from unfold.widgets import UnfoldAdminSelectWidget, UnfoldAdminTextInputWidget


class UserAdmin(BaseUserAdmin, ModelAdmin):
    form = UserChangeForm
    add_form = UserCreationForm
    change_password_form = AdminPasswordChangeForm


class GroupAdmin(BaseGroupAdmin, ModelAdmin):
    pass


class UnfoldTaskSelectWidget(UnfoldAdminSelectWidget, TaskSelectWidget):
    pass


class UnfoldPeriodicTaskForm(PeriodicTaskForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["task"].widget = UnfoldAdminTextInputWidget()
        self.fields["regtask"].widget = UnfoldTaskSelectWidget()


class PeriodicTaskInline(TabularInline):
    """The tasks using a schedule (django-celery-beat's inline, in unfold's style)."""

    model = PeriodicTask
    fields = ("name", "task", "args", "kwargs")
    readonly_fields = fields
    can_delete = False
    extra = 0
    show_change_link = True
    verbose_name = _("使用此计划的定时任务")
    verbose_name_plural = verbose_name

    def has_add_permission(self, request, obj=None):
        return False


class PeriodicTaskAdmin(BasePeriodicTaskAdmin, ModelAdmin):
    form = UnfoldPeriodicTaskForm


class IntervalScheduleAdmin(ModelAdmin):
    inlines = (PeriodicTaskInline,)


class CrontabScheduleAdmin(BaseCrontabScheduleAdmin, ModelAdmin):
    inlines = (PeriodicTaskInline,)


class SolarScheduleAdmin(ModelAdmin):
    inlines = (PeriodicTaskInline,)


class ClockedScheduleAdmin(BaseClockedScheduleAdmin, ModelAdmin):
    inlines = (PeriodicTaskInline,)


def reregister(site: admin.AdminSite) -> None:
    """Replace the stock admins of auth and django-celery-beat on `site` with the unfold ones; keep the
    site's app order the same in every language."""
    from merchants.kernel.admin.sites import keep_app_order  # noqa: PLC0415

    keep_app_order(site)
    for model, model_admin in (
        (User, UserAdmin),
        (Group, GroupAdmin),
        (PeriodicTask, PeriodicTaskAdmin),
        (IntervalSchedule, IntervalScheduleAdmin),
        (CrontabSchedule, CrontabScheduleAdmin),
        (SolarSchedule, SolarScheduleAdmin),
        (ClockedSchedule, ClockedScheduleAdmin),
    ):
        if site.is_registered(model):
            site.unregister(model)
        site.register(model, model_admin)
