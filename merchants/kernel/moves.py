"""Which moves a person may make on an object now: the state machine says, never a table kept beside it.

A move is either a django-fsm-2 transition, whose `permission=` predicate `(instance, user) -> bool` names who
makes it, or a `Move` declared beside the transitions in the app's transitions.py for what is not a transition
(a message, a delay report, a refund retry, a tracking edit), with its own permission and condition.
`Moves.available()` asks django-fsm-2's `get_available_user_<field>_transitions(user)` and the declared moves.

This decides which buttons a page shows. The services stay the authority: they check role and state again,
under the row lock, whatever a page offered.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any

from merchants.kernel.workflow import InvalidTransitionError, require_transition

Predicate = Callable[[Any, Any], bool]

# Pages list moves by the rank of their permission, then in the order they are declared: the shop's moves,
# then the platform's, then the shared ones (a message).
SHOP, PLATFORM, SHARED, NOBODY = 0, 1, 2, 9


def permission(rank: int = SHOP, *, role: Predicate | None = None) -> Callable[[Predicate], Predicate]:
    """Mark `(instance, user) -> bool` as a move's permission: who may make it on this object, whatever its state.

    `role`: when the permission also reads the object's data (a shop may cancel only a cash-on-delivery
    order), the part that is the user's role alone. A user with the role who asks anyway is answered by
    the service, with its reason; a user without it is refused outright (403).
    """

    def decorate(func: Predicate) -> Predicate:
        func.rank = rank  # type: ignore[attr-defined]
        func.role = role  # type: ignore[attr-defined]
        return func

    return decorate


def _always(instance) -> bool:
    return True


@dataclass(frozen=True)
class Move:
    """A person's move that is not a transition: who may make it (permission) and when (condition).

    `via`: the transition the move runs through (shipping a package settles the order's shipping state),
    which must be possible too. A condition made with merchants.kernel.workflow.condition() carries the
    message a page shows when it is false.
    """

    name: str
    permission: Predicate
    condition: Callable[[Any], bool] = _always
    via: str = ""


@cache
def _transitions(model: type, field: str) -> dict[str, Predicate | None]:
    """{transition name: permission} of `model`'s `field`, in the order the class declares them."""
    found: dict[str, Predicate | None] = {}
    for klass in reversed(model.__mro__):
        for name, attr in vars(klass).items():
            meta = getattr(attr, "_django_fsm", None)
            if meta is None or getattr(meta.field, "name", meta.field) != field:
                continue
            found.pop(name, None)
            found[name] = next(iter(meta.transitions.values())).permission  # one decorator, one permission
    return found


def _rank(predicate) -> int:
    return getattr(predicate, "rank", SHOP)


def _signed_in(user) -> bool:
    return bool(user is not None and getattr(user, "is_authenticated", False) and user.is_active)


class Moves:
    """One model's moves: its state machine's transitions on `field`, and the `Move`s declared beside them."""

    def __init__(self, *extra: Move, field: str = "status"):
        self.field = field
        self.extra = {move.name: move for move in extra}

    def _transitions_of(self, instance) -> dict[str, Predicate | None]:
        if not hasattr(instance, f"get_available_user_{self.field}_transitions"):
            return {}  # a model without a state machine: only the declared moves
        return _transitions(type(instance), self.field)

    def names(self, instance) -> list[str]:
        """Every move a person might make on this kind of object, transitions first."""
        return [*self._transitions_of(instance), *self.extra]

    def permitted(self, instance, user, name: str) -> bool:
        """The user's role lets them ask for this move on this object (a page refuses them otherwise)."""
        if not _signed_in(user):
            return False
        transitions = self._transitions_of(instance)
        if name in transitions:
            predicate = transitions[name]
        elif name in self.extra:
            predicate = self.extra[name].permission
        else:
            return False
        if predicate is None:
            return True
        return bool((getattr(predicate, "role", None) or predicate)(instance, user))

    def possible(self, instance, name: str) -> bool:
        """The object's state (and the transition's conditions) allow the move now, for someone."""
        return self.why_not(instance, name) is None

    def why_not(self, instance, name: str, label=None) -> str | None:
        """Why the object's state does not allow the move now (None when it does), in the user's words."""
        if name in self._transitions_of(instance):
            return self._transition_refusal(instance, name, label)
        move = self.extra.get(name)
        if move is None:
            return str(label or name)
        if move.via:
            refusal = self._transition_refusal(instance, move.via, label or name)
            if refusal is not None:
                return refusal
        if move.condition(instance):
            return None
        return str(getattr(move.condition, "message", "") or "")

    @staticmethod
    def _transition_refusal(instance, name: str, label) -> str | None:
        try:
            require_transition(getattr(instance, name), action=label or name)
        except InvalidTransitionError as exc:
            return " ".join(exc.messages)
        return None

    def available(self, instance, user) -> list[str]:
        """The moves this user may make on this object now, in the order a page shows them."""
        if not _signed_in(user):
            return []
        transitions = self._transitions_of(instance)
        found = []
        if transitions:
            get_available = getattr(instance, f"get_available_user_{self.field}_transitions")
            allowed = {transition.name for transition in get_available(user)}
            found = [(_rank(predicate), name) for name, predicate in transitions.items() if name in allowed]
        for move in self.extra.values():
            if move.permission(instance, user) and self.why_not(instance, move.name) is None:
                found.append((_rank(move.permission), move.name))
        order = {name: index for index, name in enumerate(self.names(instance))}
        return [name for _rank_, name in sorted(found, key=lambda pair: (pair[0], order[pair[1]]))]


__all__ = ["NOBODY", "PLATFORM", "SHARED", "SHOP", "Move", "Moves", "permission"]
