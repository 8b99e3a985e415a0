"""The shop's return addresses (退货地址库, A-3) and the copy a case keeps of the one the buyer was given.

A shop keeps several addresses, one the default. Approving a return or an exchange (by a person, a bulk
approval, an automation rule, the answer deadline or an accepted proposal) gives the buyer one: the one
the merchant picked, else the shop's default. The case stores a copy (`return_to_*`) in the same save as
its new state, so what the case page shows is what the buyer was told then, whatever the library says
later. A shop whose library is empty but whose settings still hold the old single address (the shop
settings page) gives that one.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.db import transaction
from django.utils.translation import gettext as _

from aftersales.exceptions import CaseNotEligibleError
from aftersales.models import AfterSaleCase, ReturnAddress
from aftersales.transitions import CaseStatus
from merchants.kernel.checks import clean_text, normalize_phone, phone_validator
from merchants.kernel.scoping import get_for_actor, require_role
from merchants.kernel.vocabulary import Role
from merchants.models import Merchant

SNAPSHOT_FIELDS = ("return_to_contact", "return_to_phone", "return_to_address")
OWNER_ONLY = frozenset({Role.OWNER})


def _legacy(shop: Merchant) -> dict[str, str] | None:
    """The single address of the shop settings, when the library has none (shops made before it)."""
    if not (shop.return_address or "").strip():
        return None
    return {"contact": shop.return_contact, "phone": shop.return_phone, "address": shop.return_address}


def default_addresses(merchant_ids) -> dict[int, dict[str, str]]:
    """{shop id: the snapshot of its default address} for the shops that have one (one query each table)."""
    ids = set(merchant_ids)
    found = {}
    for address in ReturnAddress.objects.filter(merchant_id__in=ids).order_by(
        "merchant_id", "-is_default", "pk"
    ):
        found.setdefault(address.merchant_id, address.snapshot())
    for shop in Merchant.objects.filter(pk__in=ids - set(found)).only(
        "pk", "return_contact", "return_phone", "return_address"
    ):
        if legacy := _legacy(shop):
            found[shop.pk] = legacy
    return found


def default_address(merchant_id: int) -> dict[str, str] | None:
    return default_addresses([merchant_id]).get(merchant_id)


def address_for_shop(address: ReturnAddress | int | None, merchant_id: int) -> ReturnAddress | None:
    """The address the merchant picked, checked to be one of the case's shop (N-9: never another shop's)."""
    if address in (None, ""):
        return None
    pk = address.pk if isinstance(address, ReturnAddress) else address
    try:
        return ReturnAddress.objects.get(pk=int(pk), merchant_id=merchant_id)
    except (ReturnAddress.DoesNotExist, TypeError, ValueError) as exc:
        raise CaseNotEligibleError(
            _("所选退货地址不是该售后单店铺的地址，请重新选择。"), code="return_address"
        ) from exc


def give_return_address(case: AfterSaleCase, chosen: ReturnAddress | None = None) -> None:
    """Case just approved (lock held, not yet saved): copy the address the buyer is sent to onto it."""
    give_return_addresses([case], chosen)


def give_return_addresses(cases: Sequence[AfterSaleCase], chosen: ReturnAddress | None = None) -> None:
    """The batch form: `chosen` for the cases of its shop, each other case its shop's default."""
    waiting = [case for case in cases if case.status == CaseStatus.AWAITING_RETURN]
    if not waiting:
        return
    defaults = default_addresses({case.merchant_id for case in waiting})
    for case in waiting:
        if chosen is not None and chosen.merchant_id == case.merchant_id:
            snapshot = chosen.snapshot()
        else:
            snapshot = defaults.get(case.merchant_id) or {"contact": "", "phone": "", "address": ""}
        case.return_to_contact = snapshot["contact"]
        case.return_to_phone = snapshot["phone"]
        case.return_to_address = snapshot["address"]


def given_address(case: AfterSaleCase) -> dict[str, str] | None:
    """What the buyer of this case was given (None: approved when the shop had no address)."""
    if not case.return_to_address:
        return None
    return {
        "contact": case.return_to_contact,
        "phone": case.return_to_phone,
        "address": case.return_to_address,
    }


# ---- the library (owners edit it: a shop setting, SPEC §1)


@transaction.atomic
def adopt_settings_address(merchant_ids) -> int:
    """Shops with an empty library whose settings hold the old single address get it as their default
    (migration 0014 did this for the shops that existed; shops made since — the demo, imports — get it the
    first time the library or an approval form is shown). Idempotent; returns how many were added."""
    ids = set(merchant_ids) - set(
        ReturnAddress.objects.filter(merchant_id__in=merchant_ids).values_list("merchant_id", flat=True)
    )
    added = 0
    for shop in Merchant.objects.select_for_update().filter(pk__in=ids).order_by("pk"):
        legacy = _legacy(shop)
        if legacy is None or ReturnAddress.objects.filter(merchant=shop).exists():
            continue
        ReturnAddress.objects.create(
            merchant=shop, is_default=True, **{k: v.strip() for k, v in legacy.items()}
        )
        added += 1
    return added


def _clean(contact, phone, address, label) -> dict:
    phone = normalize_phone(phone or "")
    phone_validator(phone)
    return {
        "label": clean_text(label, label=_("地址名称"), required=False, max_length=30),
        "contact": clean_text(contact, label=_("收件人"), max_length=50),
        "phone": phone,
        "address": clean_text(address, label=_("详细地址"), max_length=200),
    }


@transaction.atomic
def save_return_address(
    address: ReturnAddress, *, actor, contact, phone, address_text, label="", is_default=False
) -> ReturnAddress:
    """Add or change one address of a shop the actor owns; the first address, or one marked so, is the default."""
    values = _clean(contact, phone, address_text, label)
    require_role(actor, address.merchant_id, OWNER_ONLY, platform=False)
    shop = Merchant.objects.select_for_update().get(pk=address.merchant_id)  # one default per shop: serialise
    others = ReturnAddress.objects.filter(merchant=shop).exclude(pk=address.pk)
    if not others.filter(is_default=True).exists():
        is_default = True  # a shop with addresses always has a default
    if is_default:
        others.filter(is_default=True).update(is_default=False)
    for name, value in values.items():
        setattr(address, name, value)
    address.is_default = is_default
    address.save()
    return address


@transaction.atomic
def make_default_return_address(address: ReturnAddress | int, *, actor) -> ReturnAddress:
    """Make one address its shop's default (the owner's one click in the library)."""
    address = get_for_actor(ReturnAddress.objects.all(), actor, pk=getattr(address, "pk", address))
    require_role(actor, address.merchant_id, OWNER_ONLY, platform=False)
    Merchant.objects.select_for_update().get(pk=address.merchant_id)
    ReturnAddress.objects.filter(merchant_id=address.merchant_id, is_default=True).exclude(
        pk=address.pk
    ).update(is_default=False)
    address.is_default = True
    address.save(update_fields=["is_default"])
    return address


@transaction.atomic
def delete_return_address(address: ReturnAddress | int, *, actor) -> None:
    """Remove an address; when it was the default, the oldest remaining one becomes the default.

    Cases keep their copy: a buyer already sent there still sees it."""
    address = get_for_actor(ReturnAddress.objects.all(), actor, pk=getattr(address, "pk", address))
    require_role(actor, address.merchant_id, OWNER_ONLY, platform=False)
    Merchant.objects.select_for_update().get(pk=address.merchant_id)
    was_default = address.is_default
    address.delete()
    if was_default:
        successor = ReturnAddress.objects.filter(merchant_id=address.merchant_id).order_by("pk").first()
        if successor is not None:
            successor.is_default = True
            successor.save(update_fields=["is_default"])


__all__ = [
    "SNAPSHOT_FIELDS",
    "adopt_settings_address",
    "address_for_shop",
    "default_address",
    "default_addresses",
    "delete_return_address",
    "give_return_address",
    "give_return_addresses",
    "given_address",
    "make_default_return_address",
    "save_return_address",
]
