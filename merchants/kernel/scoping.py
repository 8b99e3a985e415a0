"""Tenancy, once (SPEC §1, STYLE §7): which shops an actor may see and what they may do there.

Every workbench admin, filter, autocomplete, import, export, selector and service goes through
`scope_to_actor()`; nothing else maps a user to shops. Three kinds of actor (SPEC §9 Actors):
`SYSTEM` (`None`: deadlines, automation, the platform's feeds) sees everything; a user sees what their
memberships or platform role allow; `BUYER` — a buyer's own move — and anonymous visitors see nothing
through this layer (the public review page reads through a public selector of its own).
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import Model, Q, QuerySet
from django.utils.translation import gettext_lazy as _

from merchants.kernel.vocabulary import ActorKind, MerchantStatus, Role
from merchants.kernel.workflow import ActorNotAllowedError, ObjectNotFoundError

PLATFORM_GROUP = "platform"
# Senior platform staff (SPEC §1): also in PLATFORM_GROUP; escalations (a late ticket review) go to them.
SENIOR_GROUP = "platform_senior"
SYSTEM = None  # the system actor: deadlines, automation, imports run by the platform


class _Buyer:
    """The BUYER actor: a buyer's move (confirm receipt, cancel an unpaid order). Not a user, not the system.

    It answers the user attributes the scoping layer asks with "no", so it can never widen a queryset
    or pass a role check; events record it as ActorKind.BUYER with no user.
    """

    pk = None
    is_authenticated = False
    is_active = False
    is_staff = False
    is_superuser = False

    def __repr__(self) -> str:
        return "BUYER"

    def __reduce__(self):
        return "BUYER"  # pickles (task arguments) as the one sentinel


BUYER = _Buyer()
WRITE_ROLES = frozenset({Role.OWNER, Role.AGENT})
ALL_ROLES = frozenset({Role.OWNER, Role.AGENT, Role.VIEWER})

_CACHE_ATTR = "_shouhou_roles"


def is_platform(user) -> bool:
    """Platform staff (group `platform`) and superusers see every shop."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    if user.is_superuser:
        return True
    if not user.is_staff:
        return False
    cached = getattr(user, "_shouhou_is_platform", None)
    if cached is None:
        cached = user.groups.filter(name=PLATFORM_GROUP).exists()
        user._shouhou_is_platform = cached
    return cached


def roles_for(user) -> dict[int, str]:
    """{merchant_id: role} of the user's memberships in active shops (cached on the user object)."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return {}
    cached = getattr(user, _CACHE_ATTR, None)
    if cached is None:
        from merchants.kernel.models import Membership  # noqa: PLC0415  (models load after this module)

        cached = dict(
            Membership.objects.filter(user=user, merchant__status=MerchantStatus.ACTIVE).values_list(
                "merchant_id", "role"
            )
        )
        setattr(user, _CACHE_ATTR, cached)
    return cached


def merchant_ids_for(user) -> list[int]:
    return sorted(roles_for(user))


def role_for(user, merchant_id: int) -> str | None:
    return roles_for(user).get(merchant_id)


def is_buyer(actor) -> bool:
    return actor is BUYER


def sees_all(actor) -> bool:
    """The system (None) and platform staff; never the buyer, an anonymous visitor or a shop member."""
    return actor is None or is_platform(actor)


def sees_merchant(actor, merchant_id: int | None) -> bool:
    """scope_to_actor's rule for one shop, for rows read by a key unique across shops (an order number):
    filtering such a lookup by shop in SQL lets the planner prefer the shop's index, which a shop that
    just grew by an import's uncommitted rows (its statistics still say small) makes a scan of them all."""
    return sees_all(actor) or (merchant_id is not None and merchant_id in roles_for(actor))


def scope_to_actor(queryset: QuerySet, actor) -> QuerySet:
    """The rows of `queryset` the actor may see: all for the system and platform staff, their shops for a
    member, none for the buyer or an anonymous visitor. A model with a `starter_path` (the centers' jobs)
    also shows a member the rows of no shop that they started themselves."""
    path = getattr(queryset.model, "merchant_path", None)
    if path is None:
        raise TypeError(f"{queryset.model.__name__} is not merchant-owned; it cannot be scoped.")
    if sees_all(actor):
        return queryset
    shop_ids = merchant_ids_for(actor)  # [] for BUYER and anonymous users: roles_for() knows only members
    if not shop_ids:
        return queryset.none()
    visible = Q(**{f"{path or 'pk'}__in": shop_ids})
    starter = getattr(queryset.model, "starter_path", None)
    if starter and path:  # a row of no shop that this member started (a multi-shop member's job)
        visible |= Q(**{f"{path}__isnull": True, starter: actor})
    return queryset.filter(visible)


def merchant_id_of(obj: Model) -> int:
    """The shop an object belongs to, following its model's `merchant_path`."""
    path = obj.merchant_path
    if path == "":
        return obj.pk
    target = obj
    for part in path.split("__")[:-1]:
        target = getattr(target, part)
    return getattr(target, f"{path.split('__')[-1]}_id")


def get_for_actor(queryset: QuerySet, actor, **lookup) -> Model:
    """One row the actor may see, or ObjectNotFoundError (another shop's id is simply 'not found')."""
    try:
        return scope_to_actor(queryset, actor).get(**lookup)
    except queryset.model.DoesNotExist as exc:
        raise ObjectNotFoundError() from exc


def require_role(
    actor, merchant_id: int, roles: Iterable[str] = WRITE_ROLES, *, platform: bool = True
) -> None:
    """Raise ActorNotAllowedError unless the actor may act for the shop with one of `roles`.

    The system may always act; platform staff may when `platform` is true (arbitration, cancelling).
    """
    if actor is None:
        return
    if actor is BUYER:
        raise ActorNotAllowedError(_("买家不能执行此操作。"), code="buyer")
    if is_platform(actor):
        if platform or actor.is_superuser:
            return
        raise ActorNotAllowedError(_("平台人员不能代替商家执行此操作。"))
    role = role_for(actor, merchant_id)
    if role is None:
        raise ObjectNotFoundError()
    if role not in set(roles):
        raise ActorNotAllowedError(
            _("您在本店的角色「%(role)s」不能执行此操作。") % {"role": Role(role).label}, code="role"
        )


def actor_kind_of(actor) -> str:
    """How an event names its actor: system (None), buyer (BUYER), platform staff or a shop member."""
    if actor is None:
        return ActorKind.SYSTEM
    if actor is BUYER:
        return ActorKind.BUYER
    return ActorKind.PLATFORM if is_platform(actor) else ActorKind.MERCHANT
