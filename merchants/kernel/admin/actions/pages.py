"""The action-page kit: one move on one object, on a page of its own (form page → service → message → back).

An admin declares its moves as `ObjectAction`s: a label, a form class, the service itself (a callable, never
a name looked up later), who may see it (by default the model's `Moves` in its app's transitions.py say,
by the action's name) and the success text. The kit then

- registers the URLs: one `<id>/action/<name>/` (`action_url_name = "action"`), or one `<id>/<url_path>/`
  per action named `<app>_<model>_<name>`;
- loads the object through the admin's scoped `get_object()` (another shop's id is a 404), refuses a user
  whose role does not allow the move (403) and, on GET, sends a state that does not allow it back to the
  object's page with a message;
- renders the form page in unfold's style (templates/kernel/action_page.html) with the object's summary;
- on a valid POST calls `service(obj, actor=request.user, **form.service_kwargs())` (or the cleaned data);
  a refusal (ValidationError) is shown as messages on the same page, the service's transaction having
  changed nothing; success is a message and a redirect to the object's page (or the list).

`action_buttons(request, obj)` is what the object's page shows: the moves allowed now, in the order the
state machine lists them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from unfold.enums import ActionVariant

from merchants.kernel.admin.base import is_workbench, message_errors


def _header_variant(variant: str) -> ActionVariant:
    try:
        return ActionVariant(variant)
    except ValueError:
        return ActionVariant.DEFAULT


class ConfirmForm(forms.Form):
    """A move without input: the POST with its CSRF token is the confirmation."""

    def __init__(self, *args, **kwargs):
        for name in [key for key in kwargs if key not in ("data", "files", "initial", "prefix")]:
            kwargs.pop(name)  # the object the page is about (case=, order=): nothing to ask about it
        super().__init__(*args, **kwargs)

    def service_kwargs(self) -> dict:
        return {}


@dataclass(frozen=True)
class ObjectAction:
    """One move on one object (see the module docstring)."""

    name: str  # the move's name in the model's Moves; also the URL part and the button's id
    label: str
    service: Callable[..., Any]  # service(obj, *, actor, **kwargs)
    form_class: type[forms.Form] = ConfirmForm
    done: str | Callable[[Any, Any, dict], str] = ""  # the success message; a string may use the admin's
    # action_message_params (e.g. %(case_no)s); a callable gets (obj, what the service returned, form data)
    icon: str = ""
    variant: str = "default"  # unfold button variant: primary | danger | default
    intro: str = ""  # what happens, above the form
    submit: str = ""  # the submit button (default: the label)
    url_path: str = ""  # per-action URLs: the path part (default: the name)
    platform_only: bool = False  # offered on /admin/ only
    # Who may and when, for an action that is not one of the model's Moves: (obj, user) and (obj).
    permission: Callable[[Any, Any], bool] | None = None
    condition: Callable[[Any], bool] | None = None
    template: str = ""  # the page (default: the admin's action_template)
    then: str = "change"  # after success: the object's page ("change") or the list ("changelist")
    extra: dict = field(default_factory=dict)  # anything a page template wants to read (action.extra.x)

    @property
    def takes_input(self) -> bool:
        return bool(self.form_class.base_fields)


class ObjectActionsMixin:
    """A ModelAdmin whose objects have moves on pages of their own. Declare:

    object_actions   the ObjectActions, in the order buttons are shown when the Moves do not order them
    moves            the model's Moves (transitions.py): who may make each action, and when
    action_url_name  "action": one URL `<id>/action/<name>/` named `<app>_<model>_action`; None: one per action
    action_form_object  the keyword the forms take the object under ("case", "order"); None: nothing
    """

    object_actions: tuple[ObjectAction, ...] = ()
    moves = None
    action_url_name: str | None = None
    action_form_object: str | None = None
    action_buttons_in_header = False  # also list the buttons in unfold's page header (actions_detail)
    action_template = "kernel/action_page.html"  # extend it to add to every action page of the admin
    action_summary_id = ""  # the summary block's id (default "<model>-summary")
    action_refusal_goes_back = False  # a refused move without input: back to the object's page, not the form
    action_number_field = ""  # the object's number ("case_no"): in the page's title, and the success texts
    # may name it (%(case_no)s); none: str(obj)

    # -- what is offered, to whom

    def offered_actions(self) -> dict[str, ObjectAction]:
        platform_site = not is_workbench(self.admin_site)
        return {
            action.name: action for action in self.object_actions if platform_site or not action.platform_only
        }

    def action_permitted(self, request, obj, action: ObjectAction) -> bool:
        """The user's role lets them make the move on this object (403 otherwise)."""
        if action.permission is not None:
            return bool(action.permission(obj, request.user))
        return self.moves is not None and self.moves.permitted(obj, request.user, action.name)

    def action_possible(self, request, obj, action: ObjectAction) -> bool:
        """The object's state allows the move now."""
        if action.condition is not None:
            return bool(action.condition(obj))
        return self.moves is not None and self.moves.possible(obj, action.name)

    def visible_actions(self, request, obj) -> list[ObjectAction]:
        """The moves the user may make on `obj` now, in the order the state machine lists them."""
        cache = request.__dict__.setdefault("_kit_visible_actions", {})
        key = (type(self).__name__, obj.pk)
        if key in cache:
            return cache[key]
        offered = list(self.offered_actions().values())
        order = {}
        if self.moves is not None:
            order = {name: index for index, name in enumerate(self.moves.available(obj, request.user))}
        shown = []
        for index, action in enumerate(offered):
            if action.permission is None and action.condition is None:
                if action.name in order:
                    shown.append((order[action.name], action))
            elif self.action_permitted(request, obj, action) and self.action_possible(request, obj, action):
                shown.append((len(order) + index, action))
        cache[key] = [action for _index, action in sorted(shown, key=lambda pair: pair[0])]
        return cache[key]

    def action_visible(self, request, obj, name: str) -> bool:
        return any(action.name == name for action in self.visible_actions(request, obj))

    def action_buttons(self, request, obj) -> list[dict]:
        """The buttons of the object's page: name, label, icon, variant, url."""
        return [
            {
                "name": action.name,
                "label": action.label,
                "icon": action.icon,
                "variant": action.variant,
                "url": self.action_url(action.name, obj),
            }
            for action in self.visible_actions(request, obj)
        ]

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None and self.action_buttons_in_header:
            context["actions_detail"] = [
                {
                    "title": button["label"],
                    "icon": button["icon"],
                    "variant": _header_variant(button["variant"]),
                    "attrs": {"id": f"action-{button['name']}"},
                    "path": button["url"],
                }
                for button in self.action_buttons(request, obj)
            ]
        return super().render_change_form(request, context, add, change, form_url, obj)

    # -- URLs

    def _url_name(self, suffix: str) -> str:
        return f"{self.opts.app_label}_{self.opts.model_name}_{suffix}"

    def get_urls(self):
        if self.action_url_name:
            urls = [
                path(
                    f"<path:object_id>/{self.action_url_name}/<slug:action>/",
                    self.admin_site.admin_view(self.object_action_view),
                    name=self._url_name(self.action_url_name),
                )
            ]
        else:
            urls = [
                path(
                    f"<path:object_id>/{action.url_path or action.name}/",
                    self.admin_site.admin_view(self.object_action_view),
                    {"action": action.name},
                    name=self._url_name(action.name),
                )
                for action in self.object_actions
            ]
        return urls + super().get_urls()

    def action_url(self, name: str, obj) -> str:
        site = self.admin_site.name
        if self.action_url_name:
            return reverse(f"{site}:{self._url_name(self.action_url_name)}", args=[obj.pk, name])
        return reverse(f"{site}:{self._url_name(name)}", args=[obj.pk])

    def object_url(self, obj) -> str:
        return reverse(f"{self.admin_site.name}:{self._url_name('change')}", args=[obj.pk])

    def changelist_url(self) -> str:
        return reverse(f"{self.admin_site.name}:{self._url_name('changelist')}")

    # -- hooks a page may fill

    def action_message_params(self, obj) -> dict:
        """What a success text may name (%(obj)s, the object's number, and whatever the admin adds)."""
        params = {"obj": str(obj)}
        if self.action_number_field:
            params[self.action_number_field] = getattr(obj, self.action_number_field)
        return params

    def action_summary(self, request, obj) -> list[tuple[str, Any]]:
        """The object's summary above the form: (label, value) pairs; the first links to the object."""
        return [(str(self.opts.verbose_name), str(obj))]

    def action_context(self, request, obj, action: ObjectAction, form) -> dict:
        """Anything else one action's page shows (evidence, the packages to pick from…)."""
        return {}

    def action_form_kwargs(self, request, obj, action: ObjectAction) -> dict:
        return {self.action_form_object: obj} if self.action_form_object else {}

    def action_initial(self, request, obj, action: ObjectAction) -> dict:
        return {}

    # -- the view

    def object_action_view(self, request, object_id, action):
        """GET: the action's form; POST: the service call. 404 outside the user's shops, 403 without the role."""
        spec = {declared.name: declared for declared in self.object_actions}.get(action)
        offered = spec is not None and spec.name in self.offered_actions()
        if spec is None or (not offered and self.action_url_name):
            raise Http404(_("没有这个操作。"))  # <id>/action/<name>/: this site has no such move
        obj = self.get_object(request, unquote(str(object_id)))
        if obj is None:
            raise Http404(_("对象不存在。"))
        if not offered or not self.action_permitted(request, obj, spec):
            raise PermissionDenied
        kwargs = self.action_form_kwargs(request, obj, spec)
        if request.method == "POST":
            form = spec.form_class(request.POST, request.FILES, **kwargs)
            if form.is_valid():
                data = form.service_kwargs() if hasattr(form, "service_kwargs") else dict(form.cleaned_data)
                try:
                    result = spec.service(obj, actor=request.user, **data)
                except ValidationError as exc:
                    message_errors(request, exc)  # the service's transaction rolled back: nothing changed
                    if self.action_refusal_goes_back and not spec.takes_input:
                        return HttpResponseRedirect(self.object_url(obj))
                else:
                    self.report_done(request, spec, obj, result, data)
                    target = self.changelist_url() if spec.then == "changelist" else self.object_url(obj)
                    return HttpResponseRedirect(target)
        else:
            if not self.action_possible(request, obj, spec):
                messages.warning(request, self.not_now_text(obj, spec))
                return HttpResponseRedirect(self.object_url(obj))
            form = spec.form_class(initial=self.action_initial(request, obj, spec), **kwargs)
        return self.render_action_page(request, obj, spec, form)

    def not_now_text(self, obj, action: ObjectAction) -> str:
        """Why the move cannot be made now: the state machine's words, or the state and the move."""
        why = self.moves.why_not(obj, action.name, action.label) if self.moves is not None else None
        if why and action.condition is None:
            return why
        field_name = getattr(self.moves, "field", "status")
        display = getattr(obj, f"get_{field_name}_display", None)
        return gettext("%(name)s当前状态「%(state)s」不能执行「%(action)s」。") % {
            "name": str(self.opts.verbose_name).lower(),
            "state": display() if display is not None else "",
            "action": action.label,
        }

    def report_done(self, request, action: ObjectAction, obj, result, data) -> None:
        """The message after a move went through (an admin may say more, or warn, from what it returned)."""
        messages.success(request, self._done_text(action, obj, result, data))

    def action_page_title(self, obj, action: ObjectAction) -> str:
        number = getattr(obj, self.action_number_field) if self.action_number_field else obj
        return f"{action.label} · {number}"

    def _done_text(self, action: ObjectAction, obj, result, data) -> str:
        if callable(action.done):
            return action.done(obj, result, data)
        text = action.done or gettext("「%(action)s」已完成。") % {"action": action.label}
        return text % {**self.action_message_params(obj)} if "%(" in text else text

    def render_action_page(self, request, obj, action: ObjectAction, form, *, extra: dict | None = None):
        """The action's page; `extra` is what a page with its own view adds (a page of several forms: form None)."""
        request.current_app = self.admin_site.name
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "original": obj,
            "title": self.action_page_title(obj, action),
            "breadcrumb_tail": action.label,  # 售后单 › AS… › 同意 (templates/unfold/helpers/welcomemsg.html)
            "action": action,
            "form": form,
            "change_url": self.object_url(obj),
            "back_label": gettext("返回%(name)s") % {"name": str(self.opts.verbose_name).lower()},
            "summary": self.action_summary(request, obj),
            "summary_id": self.action_summary_id or f"{self.opts.model_name}-summary",
            "has_file_field": form is not None
            and any(getattr(f.field.widget, "needs_multipart_form", False) for f in form),
            "is_workbench": is_workbench(self.admin_site),
            **self.action_context(request, obj, action, form),
            **(extra or {}),
        }
        return TemplateResponse(request, action.template or self.action_template, context)


__all__ = ["ConfirmForm", "ObjectAction", "ObjectActionsMixin"]
