"""The shared kernel of every state machine: readable errors and transition guards.

Every service in every app raises an `ApplicationError` (a `ValidationError`) when a rule forbids the
action, with a message in the user's language; `require_transition` turns a refused django-fsm-2
transition into one, naming the condition that failed.
"""

from collections.abc import Callable
from functools import cache
from typing import Any

import django_fsm as fsm
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _


class ApplicationError(ValidationError):
    """A business rule refused the action. The message is shown to the user as is."""


class ObjectNotFoundError(ApplicationError):
    """The object does not exist, or belongs to a shop the actor cannot see (never say which)."""

    def __init__(self, message=None, **kwargs):
        super().__init__(message or _("对象不存在，或不属于您的店铺。"), **kwargs)


class ActorNotAllowedError(ApplicationError):
    """The actor's role does not allow the action (viewer, wrong shop, not platform staff...)."""


class InvalidTransitionError(ApplicationError):
    """The current state, or one of the transition's conditions, forbids the action."""


def condition(message: Any) -> Callable[[Callable[[Any], bool]], Callable[[Any], bool]]:
    """Attach the user-facing message shown when this transition condition is false."""

    def decorate(func: Callable[[Any], bool]) -> Callable[[Any], bool]:
        func.message = message  # type: ignore[attr-defined]
        return func

    return decorate


def require_transition(bound_method: Any, *, action: Any = None) -> None:
    """Raise InvalidTransitionError unless `bound_method` (an FSM transition) may run now."""
    instance = bound_method.__self__
    meta = bound_method._django_fsm
    state = meta.field.get_state(instance)
    transition = meta.get_transition(state)
    label = action or getattr(bound_method, "__name__", "")
    if transition is None:
        display = getattr(instance, f"get_{meta.field.name}_display", lambda: state)()
        raise InvalidTransitionError(
            _("当前状态「%(state)s」不能执行「%(action)s」。") % {"state": display, "action": label},
            code="invalid_state",
        )
    for check in transition.conditions or ():
        if not check(instance):
            message = getattr(check, "message", None) or _("不满足「%(action)s」的条件。") % {"action": label}
            raise InvalidTransitionError(message, code="condition_failed")


def can_proceed(bound_method: Any) -> bool:
    """True when the transition's source state and conditions allow it now (no exception)."""
    return fsm.can_proceed(bound_method)


@cache
def _state_fields(model: type) -> tuple:
    return tuple(field for field in model._meta.fields if isinstance(field, fsm.FSMFieldMixin))


class ConcurrentTransitionMixin(fsm.ConcurrentTransitionMixin):
    """django-fsm-2's optimistic check on save (the state must still be what was loaded), cheaper to load.

    The original finds the model's state fields by scanning every field, on every instance it builds;
    a sweep builds thousands. Here they are found once per model.
    """

    @property
    def state_fields(self):
        return _state_fields(type(self))
