"""Who works in a shop and as what (SPEC §1: only the owner edits members): add, change a role, remove.

Each service locks the shop's row first, so two owners editing members at once are serialised and the
"at least one owner" rule (a shop is never left without an owner) is checked on what is really there.
There is no event table for memberships: each change is written to the `shouhou.members` log (who did
what to whom, in which shop) and the admin's LogEntry.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from merchants.kernel.checks import clean_text
from merchants.kernel.scoping import get_for_actor, is_platform, require_role, role_for
from merchants.kernel.vocabulary import Role
from merchants.kernel.workflow import ActorNotAllowedError, ApplicationError
from merchants.models import Membership, Merchant

logger = logging.getLogger("shouhou.members")
OWNER_ONLY = frozenset({Role.OWNER})


class LastOwnerError(ApplicationError):
    """The change would leave the shop without an owner."""


class MemberExistsError(ApplicationError):
    """The login is already a member of the shop."""


@dataclass(frozen=True)
class AddedMember:
    membership: Membership
    password: str = ""  # the one-time password of a login created here ("" for an existing login)


def _clean_role(role: str) -> str:
    if role not in Role.values:
        raise ValidationError(_("请选择成员的角色。"), code="role")
    return role


def _lock_shop(merchant: Merchant | int, actor) -> Merchant:
    """The shop's row, locked, after checking that the actor may edit its members (owner or platform)."""
    pk = merchant.pk if isinstance(merchant, Merchant) else int(merchant)
    shop = get_for_actor(Merchant.objects.select_for_update(), actor, pk=pk)
    role = role_for(actor, shop.pk) if actor is not None and not is_platform(actor) else None
    if role is not None and role not in OWNER_ONLY:
        raise ActorNotAllowedError(
            _("只有店主可以管理成员；您在本店的角色是「%(role)s」。") % {"role": Role(role).label},
            code="role",
        )
    require_role(actor, shop.pk, OWNER_ONLY)
    return shop


def _lock_membership(membership: Membership | int, actor) -> tuple[Merchant, Membership]:
    pk = membership.pk if isinstance(membership, Membership) else int(membership)
    merchant_id = get_for_actor(Membership.objects.all(), actor, pk=pk).merchant_id
    shop = _lock_shop(merchant_id, actor)
    return shop, Membership.objects.select_related("user").get(pk=pk)


def _require_another_owner(shop: Merchant, membership: Membership) -> None:
    others = Membership.objects.filter(merchant=shop, role=Role.OWNER).exclude(pk=membership.pk)
    if membership.role == Role.OWNER and not others.exists():
        raise LastOwnerError(
            _("%(user)s 是本店唯一的店主：请先把另一位成员设为店主。")
            % {"user": membership.user.get_username()},
            code="last_owner",
        )


def check_owner_kept(merchant: Merchant | int, *, leaving=(), joining: int = 0) -> None:
    """Refuse a change that would leave a shop that has owners without any (no lock: a form's early check).

    `leaving`: pks of the shop's memberships removed, demoted or moved to another shop by the change;
    `joining`: how many memberships the change makes owners of this shop. The services re-check under
    the shop's lock (change_role, remove_member).
    """
    pk = merchant.pk if isinstance(merchant, Merchant) else int(merchant)
    owners = set(Membership.objects.filter(merchant_id=pk, role=Role.OWNER).values_list("pk", flat=True))
    if owners and not owners - set(leaving) and joining <= 0:
        names = Membership.objects.filter(pk__in=owners).values_list("user__username", flat=True)
        raise LastOwnerError(
            _("%(user)s 是本店唯一的店主：不能移除或改为其他角色，请先把另一位成员设为店主。")
            % {"user": "、".join(sorted(names))},
            code="last_owner",
        )


def _actor_name(actor) -> str:
    return "system" if actor is None else actor.get_username()


@transaction.atomic
def add_member(
    merchant: Merchant | int, *, actor, username: str, role: str, new_login: bool = False
) -> AddedMember:
    """Add a login to the shop with `role` (owners and platform staff only).

    `new_login`: create the login first, with a random one-time password returned once (never stored
    in clear); otherwise the login must exist.
    """
    shop = _lock_shop(merchant, actor)
    role = _clean_role(role)
    User = get_user_model()
    name = clean_text(username, label=_("登录名"), max_length=User._meta.get_field("username").max_length)
    password = ""
    if new_login:
        try:
            User.username_validator(name)
        except ValidationError as exc:
            raise ValidationError(_("登录名只能包含字母、数字和 @/./+/-/_。"), code="username") from exc
        if User.objects.filter(username__iexact=name).exists():
            raise ValidationError(
                _("登录名 %(name)s 已被使用：请选择“已有账号”添加，或换一个登录名。") % {"name": name},
                code="username_taken",
            )
        password = secrets.token_urlsafe(9)
        user = User.objects.create_user(username=name, password=password)
    else:
        user = User.objects.filter(username=name, is_active=True).first()
        if user is None:
            raise ValidationError(
                _("没有登录名为 %(name)s 的账号：请核对，或选择“新建账号”。") % {"name": name}, code="no_user"
            )
    if Membership.objects.filter(merchant=shop, user=user).exists():
        raise MemberExistsError(_("%(name)s 已经是本店成员。") % {"name": name}, code="member_exists")
    membership = Membership.objects.create(merchant=shop, user=user, role=role)
    logger.info(
        "member added: shop=%s user=%s role=%s new_login=%s by=%s",
        shop.code,
        name,
        role,
        new_login,
        _actor_name(actor),
    )
    return AddedMember(membership=membership, password=password)


@transaction.atomic
def change_role(membership: Membership | int, *, actor, role: str) -> Membership:
    """Give a member another role (owners and platform staff); the last owner cannot be demoted."""
    shop, membership = _lock_membership(membership, actor)
    role = _clean_role(role)
    if role == membership.role:
        return membership
    if role != Role.OWNER:
        _require_another_owner(shop, membership)
    source = membership.role
    membership.role = role
    membership.save(update_fields=["role"])
    logger.info(
        "member role changed: shop=%s user=%s %s->%s by=%s",
        shop.code,
        membership.user.get_username(),
        source,
        role,
        _actor_name(actor),
    )
    return membership


@transaction.atomic
def remove_member(membership: Membership | int, *, actor) -> Merchant:
    """Take a member out of the shop (owners and platform staff); the last owner cannot be removed.

    The login itself stays (it may belong to other shops); returns the shop.
    """
    shop, membership = _lock_membership(membership, actor)
    _require_another_owner(shop, membership)
    username = membership.user.get_username()
    membership.delete()
    logger.info("member removed: shop=%s user=%s by=%s", shop.code, username, _actor_name(actor))
    return shop


__all__ = [
    "AddedMember",
    "LastOwnerError",
    "MemberExistsError",
    "add_member",
    "change_role",
    "check_owner_kept",
    "remove_member",
]
