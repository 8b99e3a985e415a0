"""The merchant's replies and their moderation (R-2).

Every reply is moderated. `reply()` screens the text first: contact details or a "refuse at once" banned
word store it `rejected` at once with the reason (the call succeeds — the merchant sees why and may write
again); a "send to a person" word, like any other reply, waits `pending` in the staff queue, flagged.
Each wording is its own Reply row and its own REPLIED event: the history keeps every wording.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from merchants.kernel.events import record_event
from merchants.kernel.workflow import require_transition
from reviews import selectors
from reviews.contact import find_contact, fold
from reviews.exceptions import ReplyNotAllowedError
from reviews.models import BannedWord, Reply, ReplyFlag, Review, ReviewEvent
from reviews.services._common import (
    clean_text,
    notify_merchant,
    pk_of,
    require_merchant,
    require_platform,
    require_unlocked,
)
from reviews.transitions import BannedWordAction, ReplyStatus

Kind = ReviewEvent.Kind
REASON_MAX = 500


@dataclass(frozen=True)
class Screening:
    """What the automatic check found: nothing (flag ""), contact details, a banned or a sensitive word."""

    flag: str = ""
    kind: str = ""  # the ContactKind of a contact finding
    found: str = ""  # the words as written, or the banned word

    @property
    def refuses(self) -> bool:
        return self.flag in (ReplyFlag.CONTACT, ReplyFlag.BANNED)


def screen(text: str, *, words: Sequence[tuple[str, str]] | None = None) -> Screening:
    """R-2's automatic check of a reply (or a reply template): contact details, then banned words.

    A "refuse at once" word wins over a "send to a person" one. Words are matched on the folded text
    (full-width, case, Chinese numerals and separators undone), so 违 禁 词 is 违禁词.
    """
    finding = find_contact(text)
    if finding is not None:
        return Screening(ReplyFlag.CONTACT, finding.kind, finding.text[:100])
    if words is None:
        words = list(BannedWord.objects.values_list("word", "action"))
    folded = fold(text)
    held = None
    for word, action in words:
        needle = fold(word)
        if not needle or needle not in folded:
            continue
        if action == BannedWordAction.REFUSE:
            return Screening(ReplyFlag.BANNED, "", word)
        held = held or word
    if held is not None:
        return Screening(ReplyFlag.SENSITIVE, "", held)
    return Screening()


def _reply_exists_message(live: Reply) -> str:
    if live.status == ReplyStatus.PENDING:
        return _("该评价已有回复正在审核中，审核结束前不能再回复。")
    return _("该评价已有回复，如需修改请先删除原回复。")


@transaction.atomic
def reply(review: Review | int, *, actor, text: str) -> Reply:
    """The merchant replies (R-2): stored `rejected` at once (with the reason) when screening refuses it,
    else `pending` for the staff queue. One live reply per review; a rejected one may be written anew."""
    limits = selectors.settings_row()
    text = clean_text(text, label=_("回复内容"), max_length=limits.reply_max_chars)
    ref = selectors.review_ref(pk_of(review), actor=actor)
    require_merchant(actor, ref.merchant_id)
    review = selectors.review_for_update(ref.pk, actor=actor)
    require_unlocked(review)
    live = selectors.live_reply(review)
    if live is not None:
        raise ReplyNotAllowedError(_reply_exists_message(live), code="live_reply")

    found = screen(text)
    now = timezone.now()
    status = ReplyStatus.REJECTED if found.refuses else ReplyStatus.PENDING
    new = Reply(
        merchant_id=review.merchant_id,
        review=review,
        text=text,
        status=status,
        flag=found.flag,
        flag_kind=found.kind,
        flag_text=found.found,
        author=actor if getattr(actor, "pk", None) else None,
        moderated_at=now if found.refuses else None,
        created_at=now,
    )
    try:
        with transaction.atomic():
            new.save(force_insert=True)
    except IntegrityError as exc:  # reply_one_live_per_review: a concurrent reply won
        raise ReplyNotAllowedError(
            _("该评价已有回复正在审核中，审核结束前不能再回复。"), code="live_reply"
        ) from exc
    source = review.reply_status
    review.reply_status = status
    review.save(update_fields=["reply_status", "updated_at"])
    params = {"why": "sensitive", "word": found.found} if found.flag == ReplyFlag.SENSITIVE else None
    record_event(
        review,
        Kind.REPLIED,
        actor=actor,
        source=source,
        message=text,
        params=params,
        data={"reply": new.pk},
        at=now,
    )
    if found.refuses:
        why = {"why": "contact", "kind": found.kind, "found": found.found}
        if found.flag == ReplyFlag.BANNED:
            why = {"why": "banned", "word": found.found}
        record_event(
            review,
            Kind.REPLY_REJECTED,
            actor=None,
            source=ReplyStatus.PENDING,
            params=why,
            data={"reply": new.pk},
            at=now,
        )
    return new


def _lock_reply(reply, actor) -> tuple[Review, Reply]:
    """Lock the reply's review, then the reply (the order reply() takes): scoped to the actor."""
    ref = selectors.reply_ref(pk_of(reply), actor=actor)
    review = selectors.review_for_update(ref.review_id, actor=actor)
    return review, Reply.objects.select_for_update().get(pk=ref.pk)


@transaction.atomic
def moderate_reply(reply: Reply | int, *, actor, approve: bool, reason: str = "") -> Reply:
    """Platform staff approve a pending reply (it shows on the product page) or reject it with a reason
    the merchant reads (R-2); the shop gets a notice of the result."""
    require_platform(actor)
    reason = clean_text(reason, label=_("驳回原因"), required=not approve, max_length=REASON_MAX)
    review, reply = _lock_reply(reply, actor)
    method = reply.approve if approve else reply.reject
    require_transition(method, action=_("审核通过") if approve else _("驳回回复"))
    now = timezone.now()
    source = reply.status
    if approve:
        reply.approve(now=now, by=actor)
    else:
        reply.reject(now=now, by=actor, reason=reason)
    reply.save(update_fields=["status", "moderated_by", "moderated_at", "reject_reason"])
    if reply.deleted_at is None:
        review.reply_status = reply.status
        review.save(update_fields=["reply_status", "updated_at"])
    record_event(
        review,
        Kind.REPLY_APPROVED if approve else Kind.REPLY_REJECTED,
        actor=actor,
        source=source,
        message=reason,
        data={"reply": reply.pk},
        at=now,
    )
    notify_merchant(
        "reply_approved" if approve else "reply_rejected", review=review, params={"reason": reason}
    )
    return reply


@transaction.atomic
def delete_reply(reply: Reply | int, *, actor) -> Reply:
    """The merchant deletes an approved reply (R-2) and may then write a new one; the wording stays in
    the history. Not on a review deleted by the buyer or hidden by an appeal."""
    review, reply = _lock_reply(reply, actor)
    require_merchant(actor, review.merchant_id)
    require_unlocked(review)
    if reply.deleted_at is not None:
        raise ReplyNotAllowedError(_("该回复已删除。"), code="already_deleted")
    if reply.status != ReplyStatus.APPROVED:
        raise ReplyNotAllowedError(
            _("只有已通过审核的回复可以删除（该回复：%(state)s）。") % {"state": reply.get_status_display()},
            code="not_approved",
        )
    now = timezone.now()
    reply.deleted_at = now
    reply.save(update_fields=["deleted_at"])
    source = review.reply_status
    review.reply_status = ""
    review.save(update_fields=["reply_status", "updated_at"])
    record_event(
        review,
        Kind.REPLY_DELETED,
        actor=actor,
        source=source,
        message=reply.text,
        data={"reply": reply.pk},
        at=now,
    )
    return reply


@dataclass(frozen=True)
class BulkResult:
    reply_id: int
    ok: bool
    message: str


def bulk_moderate(
    replies: Iterable[Reply | int], *, actor, approve: bool, reason: str = ""
) -> list[BulkResult]:
    """Moderate each reply in its own transaction (the staff queue's bulk action); one refusal undoes nothing."""
    results = []
    done = _("已通过") if approve else _("已驳回")
    for item in replies:
        try:
            moderate_reply(item, actor=actor, approve=approve, reason=reason)
        except ValidationError as exc:
            results.append(BulkResult(pk_of(item), False, "；".join(str(m) for m in exc.messages)))
        else:
            results.append(BulkResult(pk_of(item), True, done))
    return results
