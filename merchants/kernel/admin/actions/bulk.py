"""The bulk kit: one move on many objects, asked first and answered per object.

`bulk_action(BulkAction(...))` makes a Django admin action (put it in the admin's `actions`). Chosen in
the change list it shows a confirmation page — how many objects the move will touch and, when the
action names a money field, how much money — then, confirmed, calls the service once per object (each
call its own transaction: one refusal never undoes the others) and shows one row per object on a result
page: done, or refused with the service's reason. The rows are the admin's scoped queryset, so another
shop's ids are simply absent.

A service that handles the batch itself (`batch=`, e.g. aftersales.services.bulk_approve) returns one
result per object, in the order given, each with `ok` and `message`.

A move that needs input (one reason for all, a choice, an explicit "yes, even so") names a `form_class`:
built as `form_class(data, objects=queryset, actor=user)`, shown on the confirmation page, and its
`service_kwargs()` (or cleaned data) passed to every call; an invalid form shows the page again with its
errors and moves nothing. `question` is the page's heading («确认同意 %(count)d 个售后单，共 %(total)s？»),
`breakdown(queryset)` lines that say what the move does to which objects. Results come in the order the
objects were selected, the refused ones first (they are what the person must look at).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.core.exceptions import ValidationError
from django.db.models import Sum
from django.template.response import TemplateResponse
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext

from merchants.kernel.admin.display import money

CONFIRMED = "post"  # the confirmation page's field (as Django's delete_selected names it)
PREVIEW_ROWS = 50  # the confirmation page lists this many objects by name


@dataclass(frozen=True)
class BulkAction:
    name: str  # the admin action's name: `<verb>_selected`
    label: str  # as the action menu shows it
    service: Callable[..., Any] | None = None  # per object: service(obj, *, actor)
    batch: Callable[..., Iterable[Any]] | None = None  # or all at once: batch(objects, *, actor)
    done: str = ""  # the result text of an object the service accepted
    intro: str = ""  # what will happen, on the confirmation page
    money_field: str = ""  # a Decimal field to total on the confirmation page ("amount")
    money_label: str = ""  # what that total is ("申请金额")
    submit: str = ""  # the confirmation button (default: the label)
    variant: str = "primary"
    permission: str = "act"  # the admin's has_<permission>_permission(request) decides who gets it
    result_title: str = ""  # the result page's title (default: "<label>结果")
    form_class: type | None = None  # input for the move: form_class(data, objects=, actor=)
    question: str = ""  # the confirmation's heading, with %(count)d and %(total)s
    breakdown: Callable[[Any], list[str]] | None = None  # breakdown(queryset): what happens to which


@dataclass
class BulkRow:
    """One object's result."""

    obj: Any
    label: str
    ok: bool
    message: str
    url: str = ""

    def __getitem__(self, key):  # templates and tests read rows as mappings too
        return getattr(self, key)


def bulk_action(spec: BulkAction):
    """The Django admin action of `spec` (confirmation page, then the per-object result page)."""

    def run(model_admin, request, queryset):
        if request.POST.get(CONFIRMED) != "yes":
            return render_confirmation(model_admin, request, queryset, spec)
        kwargs = {}
        if spec.form_class is not None:
            form = spec.form_class(request.POST, objects=queryset, actor=request.user)
            if not form.is_valid():
                return render_confirmation(model_admin, request, queryset, spec, form=form)
            kwargs = form.service_kwargs() if hasattr(form, "service_kwargs") else dict(form.cleaned_data)
        rows = run_bulk(model_admin, request, queryset, spec, **kwargs)
        return render_results(model_admin, request, rows, spec)

    run.__name__ = spec.name
    run.__qualname__ = spec.name
    run.bulk_spec = spec
    return admin.action(description=spec.label, permissions=[spec.permission])(run)


def object_label(model_admin, obj) -> str:
    label = getattr(model_admin, "bulk_object_label", None)
    return label(obj) if label else str(obj)


def object_state(model_admin, obj) -> str:
    """The object's state as its list shows it (so the person sees which ones the move may refuse)."""
    state = getattr(model_admin, "bulk_object_state", None)
    return state(obj) if state else ""


def object_url(model_admin, obj) -> str:
    opts = model_admin.opts
    try:
        return reverse(
            f"{model_admin.admin_site.name}:{opts.app_label}_{opts.model_name}_change", args=[obj.pk]
        )
    except NoReverseMatch:
        return ""


def selection_order(request, queryset) -> list:
    """The objects in the order the person selected them (the list's order); "select all" keeps the list's."""
    chosen = {str(pk): index for index, pk in enumerate(request.POST.getlist(ACTION_CHECKBOX_NAME))}
    objects = list(queryset)
    if chosen and request.POST.get("select_across") != "1":
        objects.sort(key=lambda obj: (chosen.get(str(obj.pk), len(chosen)), obj.pk))
    return objects


def run_bulk(model_admin, request, queryset, spec: BulkAction, **kwargs) -> list[BulkRow]:
    """Each object through the service, each in its own transaction; a refusal is that object's row only.

    Rows in the order selected, the refused ones first."""
    objects = selection_order(request, queryset)
    rows = []
    if spec.batch is not None:
        results = list(spec.batch(objects, actor=request.user, **kwargs))
        for obj, result in zip(objects, results, strict=True):
            ok = bool(getattr(result, "ok", False))
            text = str(getattr(result, "message", "")) or (spec.done if ok else "")
            rows.append(BulkRow(obj, object_label(model_admin, obj), ok, text, object_url(model_admin, obj)))
    else:
        for obj in objects:
            try:
                spec.service(obj, actor=request.user, **kwargs)
            except ValidationError as exc:
                ok, text = False, "；".join(str(message) for message in exc.messages)
            else:
                ok, text = True, str(spec.done) or gettext("已完成")
            rows.append(BulkRow(obj, object_label(model_admin, obj), ok, text, object_url(model_admin, obj)))
    rows.sort(key=lambda row: row.ok)  # stable: failures first, each group in the order selected
    return rows


def _changelist_url(model_admin, request) -> str:
    opts = model_admin.opts
    url = reverse(f"{model_admin.admin_site.name}:{opts.app_label}_{opts.model_name}_changelist")
    return url + (f"?{request.GET.urlencode()}" if request.GET else "")


def _context(model_admin, request, title: str, spec: BulkAction) -> dict:
    request.current_app = model_admin.admin_site.name
    return {
        **model_admin.admin_site.each_context(request),
        "opts": model_admin.opts,
        "title": title,
        "breadcrumb_tail": title,
        "bulk": spec,
        "object_name": str(model_admin.opts.verbose_name).lower(),
        "object_column": getattr(model_admin, "bulk_object_column", "") or model_admin.opts.verbose_name,
        "changelist_url": _changelist_url(model_admin, request),
    }


def render_confirmation(model_admin, request, queryset, spec: BulkAction, form=None):
    """How many objects (and how much money) the move will touch; confirming posts the same selection back."""
    count = queryset.count()
    if not count:
        messages.warning(
            request,
            gettext("所选的%(name)s都不在您可处理的范围内。")
            % {"name": str(model_admin.opts.verbose_name).lower()},
        )
        return None  # back to the list
    total = None
    if spec.money_field:
        total = queryset.aggregate(total=Sum(spec.money_field))["total"] or Decimal("0.00")
    preview = [
        {
            "label": object_label(model_admin, obj),
            "state": object_state(model_admin, obj),
            "amount": money(getattr(obj, spec.money_field, None)) if spec.money_field else "",
        }
        for obj in (
            list(queryset[:PREVIEW_ROWS])  # "select all": the list's order, never every row loaded
            if request.POST.get("select_across") == "1"
            else selection_order(request, queryset)[:PREVIEW_ROWS]
        )
    ]
    if form is None and spec.form_class is not None:
        form = spec.form_class(None, objects=queryset, actor=request.user)
    question = ""
    if spec.question:
        question = spec.question % {"count": count, "total": money(total) if total is not None else ""}
    context = {
        **_context(model_admin, request, gettext("确认%(action)s") % {"action": spec.label}, spec),
        "count": count,
        "total": money(total) if total is not None else "",
        "preview": preview,
        "more": max(count - len(preview), 0),
        "selected": request.POST.getlist(ACTION_CHECKBOX_NAME),
        "select_across": request.POST.get("select_across", "0"),
        "action_name": spec.name,
        "confirmed_field": CONFIRMED,
        "checkbox_name": ACTION_CHECKBOX_NAME,
        "form": form,
        "question": question,
        "breakdown": spec.breakdown(queryset) if spec.breakdown else [],
    }
    return TemplateResponse(request, "kernel/bulk_confirm.html", context)


def render_results(model_admin, request, rows: list[BulkRow], spec: BulkAction):
    succeeded = sum(1 for row in rows if row.ok)
    failed = len(rows) - succeeded
    name = str(model_admin.opts.verbose_name).lower()
    if succeeded:
        messages.success(request, gettext("成功 %(count)d 个%(name)s。") % {"count": succeeded, "name": name})
    if failed:
        messages.error(
            request, gettext("%(count)d 个%(name)s未成功，原因见下表。") % {"count": failed, "name": name}
        )
    title = spec.result_title or gettext("%(action)s结果") % {"action": spec.label}
    context = {
        **_context(model_admin, request, title, spec),
        "rows": rows,
        "succeeded": succeeded,
        "failed": failed,
    }
    return TemplateResponse(request, "kernel/bulk_result.html", context)


__all__ = ["BulkAction", "BulkRow", "bulk_action", "run_bulk", "selection_order"]
