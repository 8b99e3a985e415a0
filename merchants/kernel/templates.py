"""Reply templates (话术, SPEC T-6): the platform's defaults and each shop's own, filled from the object at hand.

A template's text names placeholders in braces — `{tracking_no}` — from a fixed vocabulary (PLACEHOLDERS;
an app may add its own with `register_placeholder`). A placeholder outside brackets is required: the
template cannot be used while it has no value, and the error names it. Square brackets mark an optional
part, left out whole when one of its placeholders has no value:

    亲，很抱歉，因为{reason}影响发货，承诺在{promised_hours}小时内发出。[发货后送上{coupon}优惠券。]

Brackets do not nest, and an optional part holds at least one placeholder; a literal bracket is written
【】. An unknown placeholder or an unbalanced bracket is refused when the template is saved.

The values come from the object a message is about (an order, a case, a ticket, a review): the app that
owns the model registers a value builder with `register_source(Model, build)`; `build(obj)` returns
{placeholder: value or None}. What the object cannot know (the reason of a delay, a coupon) the user
types; typed values fill the gaps. A form offers the insert control on a text field with `offer(field,
source=obj, scenes=...)`, and a template shows it with `{% reply_picker field %}`; the control asks the
workbench's JSON endpoint, which renders a template for an object the user may see (404 otherwise).

The kernel imports no app: sources and placeholders are registered by the apps, from AppConfig.ready().
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.apps import apps
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from merchants.kernel.models import Merchant
from merchants.kernel.scoping import merchant_id_of

# --------------------------------------------------------------------------------------------
# Vocabulary

PLACEHOLDERS: dict[str, Any] = {
    "promised_hours": pgettext_lazy("话术占位符", "承诺发货时长（小时）"),
    "ship_time": pgettext_lazy("话术占位符", "发货时间"),
    "ship_from": pgettext_lazy("话术占位符", "发货地"),
    "carrier": pgettext_lazy("话术占位符", "快递公司"),
    "tracking_no": pgettext_lazy("话术占位符", "运单号"),
    "reason": pgettext_lazy("话术占位符", "原因"),
    "coupon": pgettext_lazy("话术占位符", "优惠券"),
}
MAX_VALUE_LENGTH = 100  # a typed value: a place, a reason, a coupon — never a paragraph


def register_placeholder(name: str, label) -> None:
    """Add a placeholder to the vocabulary (an app's own value, e.g. a review's rating); `label` is lazy."""
    if not re.fullmatch(r"[a-z][a-z0-9_]*", name):
        raise ValueError(f"placeholder names are lower-case words: {name!r}")
    PLACEHOLDERS[name] = label


def placeholder_label(name: str) -> str:
    label = PLACEHOLDERS.get(name)
    return str(label) if label is not None else name


SYNTAX_HELP = _(
    "在花括号中写占位符，使用时自动填入：{promised_hours} 承诺发货时长（小时）、{ship_time} 发货时间、"
    "{ship_from} 发货地、{carrier} 快递公司、{tracking_no} 运单号、{reason} 原因、{coupon} 优惠券。"
    "方括号外的占位符必须有值，否则不能使用此模板；用方括号括起可选的一段，其中的占位符没有值时整段省略，"
    "例如：[发货后送您{coupon}优惠券，]。方括号不能嵌套；正文需要方括号时请用【】。"
)


# --------------------------------------------------------------------------------------------
# The text: parse, check, render


@dataclass(frozen=True)
class Piece:
    """Literal text, or a placeholder (`name` set)."""

    text: str = ""
    name: str = ""


Item = Piece | tuple[Piece, ...]  # a tuple is an optional part
_TOKEN = re.compile(r"\{([^{}\[\]]*)\}|[\[\]{}]")


class MissingValuesError(ValidationError):
    """A required placeholder has no value: the template cannot be used for this object (yet)."""

    def __init__(self, missing: list[str]):
        self.missing = missing
        labels = gettext("、").join(
            gettext("「%(label)s」") % {"label": placeholder_label(n)} for n in missing
        )
        super().__init__(gettext("缺少%(names)s，无法使用此模板。") % {"names": labels}, code="missing_value")


def parse(text: str) -> list[Item]:
    """The template's pieces; ValidationError (every problem named) for an unknown placeholder or bracket."""
    errors: list[str] = []
    top: list[Item] = []
    optional: list[Piece] | None = None
    pos = 0

    def add(piece: Piece) -> None:
        (optional if optional is not None else top).append(piece)

    def error(message: str) -> None:
        if message not in errors:
            errors.append(message)

    for match in _TOKEN.finditer(text or ""):
        if match.start() > pos:
            add(Piece(text=text[pos : match.start()]))
        token, name = match.group(0), match.group(1)
        if name is not None:
            name = name.strip()
            if name not in PLACEHOLDERS:
                error(
                    gettext("未知的占位符「%(token)s」。可用的占位符：%(names)s。")
                    % {"token": token, "names": "、".join(f"{{{known}}}" for known in PLACEHOLDERS)}
                )
            add(Piece(name=name))
        elif token == "[":
            if optional is not None:
                error(gettext("可选部分不能嵌套：请先用「]」结束前一个可选部分。"))
            else:
                optional = []
        elif token == "]":
            if optional is None:
                error(gettext("方括号不成对：有一个「]」前面没有「[」。"))
            else:
                if not any(piece.name for piece in optional):
                    error(gettext("可选部分「[…]」中至少要有一个占位符。"))
                top.append(tuple(optional))
                optional = None
        else:
            error(gettext("花括号不成对：占位符应写成 {tracking_no} 这样。"))
        pos = match.end()
    if pos < len(text or ""):
        add(Piece(text=text[pos:]))
    if optional is not None:
        error(gettext("方括号不成对：有一个「[」没有用「]」结束。"))
    if errors:
        raise ValidationError(errors, code="template_syntax")
    return top


def check(text: str) -> None:
    """ValidationError unless the text is a usable template (what saving a template checks)."""
    parse(text)


def placeholders_of(text: str) -> list[tuple[str, bool]]:
    """[(name, required)] in order of first use; a name used outside brackets anywhere is required."""
    seen: dict[str, bool] = {}
    for item in parse(text):
        pieces, required = ((item,), True) if isinstance(item, Piece) else (item, False)
        for piece in pieces:
            if piece.name:
                seen[piece.name] = seen.get(piece.name, False) or required
    return list(seen.items())


def as_text(value: Any) -> str:
    """A value as it reads in a message: local times to the minute, Choices by label, None as ""."""
    if value is None:
        return ""
    if isinstance(value, datetime.datetime):
        return (
            timezone.localtime(value).strftime("%Y-%m-%d %H:%M")
            if timezone.is_aware(value)
            else value.strftime("%Y-%m-%d %H:%M")
        )
    if isinstance(value, Decimal):
        return f"{value.normalize():f}"
    if hasattr(value, "label") and hasattr(value, "value"):
        return str(value.label)
    return str(value).strip()


def render(text: str, values: Mapping[str, Any]) -> str:
    """The text with its placeholders filled; optional parts without every value left out.

    Raises MissingValuesError naming each required placeholder without a value, ValidationError for a
    broken template.
    """
    items = parse(text)
    filled = {name: as_text(value) for name, value in values.items()}
    missing = [name for name, required in placeholders_of(text) if required and not filled.get(name)]
    if missing:
        raise MissingValuesError(missing)
    out = []
    for item in items:
        if isinstance(item, Piece):
            out.append(filled[item.name] if item.name else item.text)
        elif all(filled.get(piece.name) for piece in item if piece.name):
            out.extend(filled[piece.name] if piece.name else piece.text for piece in item)
    return "".join(out).strip()


# --------------------------------------------------------------------------------------------
# Where values come from: each app registers a builder for its models


Builder = Callable[[models.Model], Mapping[str, Any]]
SOURCES: dict[str, Builder] = {}


def register_source(model: type[models.Model], build: Builder) -> None:
    """Let reply templates be filled from `model`'s objects; `build(obj)` -> {placeholder: value or None}."""
    if not hasattr(model, "merchant_path"):
        raise TypeError(f"{model.__name__} is not merchant-owned: its objects cannot be scoped")
    SOURCES[model._meta.label_lower] = build


def source_label(obj_or_model) -> str:
    return obj_or_model._meta.label_lower


def source_model(label: str) -> type[models.Model] | None:
    """The registered model named `label` ("aftersales.aftersalecase"), or None."""
    if label not in SOURCES:
        return None
    try:
        return apps.get_model(label)
    except (LookupError, ValueError):
        return None


def values_for(obj: models.Model) -> dict[str, Any]:
    """What the object knows of the placeholders (its registered builder), as message text."""
    build = SOURCES.get(source_label(obj))
    if build is None:
        return {}
    return {name: as_text(value) for name, value in (build(obj) or {}).items() if name in PLACEHOLDERS}


def clean_typed(typed: Mapping[str, Any]) -> dict[str, str]:
    """Values the user typed: known placeholders only, trimmed, at most MAX_VALUE_LENGTH characters."""
    out = {}
    for name, value in typed.items():
        text = str(value or "").strip()[:MAX_VALUE_LENGTH]
        if name in PLACEHOLDERS and text:
            out[name] = text
    return out


# --------------------------------------------------------------------------------------------
# The model


class ReplyTemplate(models.Model):
    """A reply template (话术): a platform default (no shop, edited by staff in /admin/) or a shop's own."""

    class Scene(models.TextChoices):
        SHIPPING = "shipping", _("发货沟通")
        CASE_MESSAGE = "case_message", _("售后留言")
        CASE_REJECT = "case_reject", _("拒绝售后理由")
        REVIEW_GOOD = "review_good", _("好评回复")
        REVIEW_NEUTRAL = "review_neutral", _("中评回复")
        REVIEW_BAD = "review_bad", _("差评回复")
        TICKET_RESULT = "ticket_result", _("服务单处理结果")

    merchant_path = "merchant"

    merchant = models.ForeignKey(
        Merchant,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="reply_templates",
        db_index=False,  # replytemplate_shop_scene_idx leads with the shop
        verbose_name=_("店铺"),
        help_text=_("留空为平台默认话术，所有店铺都可使用。"),
    )
    scene = models.CharField(_("使用场景"), max_length=20, choices=Scene.choices)
    title = models.CharField(_("名称"), max_length=60)
    text = models.TextField(_("话术内容"), max_length=1000, help_text=SYNTAX_HELP)
    enabled = models.BooleanField(_("启用"), default=True)
    position = models.PositiveSmallIntegerField(_("排序"), default=100, help_text=_("数字小的排在前面。"))
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        app_label = "merchants"
        verbose_name = _("话术模板")
        verbose_name_plural = _("话术模板")
        ordering = ("scene", "position", "pk")
        indexes = [models.Index(fields=["merchant", "scene"], name="replytemplate_shop_scene_idx")]

    def __str__(self) -> str:
        return self.title

    def save(self, *args, **kwargs):
        check(self.text)  # a broken template never reaches the table, whatever path saves it
        super().save(*args, **kwargs)

    def clean(self) -> None:
        super().clean()
        try:
            check(self.text)
        except ValidationError as exc:
            raise ValidationError({"text": exc.messages}) from exc

    @property
    def is_platform_default(self) -> bool:
        return self.merchant_id is None

    def placeholders(self) -> list[tuple[str, bool]]:
        return placeholders_of(self.text)


def templates_for(merchant_id: int, scenes: Iterable[str]) -> models.QuerySet[ReplyTemplate]:
    """The enabled templates a shop may use in `scenes`: the platform's defaults and its own, shop's first."""
    return (
        ReplyTemplate.objects.filter(Q(merchant__isnull=True) | Q(merchant_id=merchant_id))
        .filter(enabled=True, scene__in=list(scenes))
        .order_by("scene", models.F("merchant_id").asc(nulls_last=True), "position", "pk")
    )


def templates_for_object(obj: models.Model, scenes: Iterable[str]) -> models.QuerySet[ReplyTemplate]:
    """templates_for() the shop of `obj` (which the caller already read through the actor's scope)."""
    return templates_for(merchant_id_of(obj), scenes)


@dataclass(frozen=True)
class Filled:
    """A template rendered for an object, and how each of its placeholders was filled."""

    text: str
    placeholders: list[dict[str, Any]]


def describe(template: ReplyTemplate, known: Mapping[str, str], typed: Mapping[str, str]) -> list[dict]:
    return [
        {
            "name": name,
            "label": placeholder_label(name),
            "required": required,
            "filled": bool(known.get(name)),
            "value": typed.get(name) or known.get(name, ""),
        }
        for name, required in template.placeholders()
    ]


def fill(template: ReplyTemplate, obj: models.Model, typed: Mapping[str, Any] | None = None) -> Filled:
    """Render `template` for `obj`, typed values filling (or correcting) what the object knows.

    MissingValuesError (with `.placeholders` set) when a required value is still missing.
    """
    known = values_for(obj)
    entered = clean_typed(typed or {})
    placeholders = describe(template, known, entered)
    try:
        text = render(template.text, {**known, **entered})
    except MissingValuesError as exc:
        exc.placeholders = placeholders
        raise
    return Filled(text=text, placeholders=placeholders)


# --------------------------------------------------------------------------------------------
# The insert control on a form field


@dataclass(frozen=True)
class Offer:
    """A text field offers the templates of `scenes`, filled from the object `source_label` #`object_id`."""

    source_label: str
    object_id: int
    merchant_id: int
    scenes: tuple[str, ...]


def offer(field, *, source: models.Model, scenes: Iterable[str]) -> None:
    """Let a form's text field insert reply templates (`{% reply_picker bound_field %}` shows the control)."""
    if source_label(source) not in SOURCES:
        raise ValueError(f"{source_label(source)} has no reply-template values: register_source() it first")
    field.reply_offer = Offer(source_label(source), source.pk, merchant_id_of(source), tuple(scenes))


def picker_groups(offer_: Offer) -> list[dict[str, Any]]:
    """The templates the control lists, grouped by scene in the order the field offers them."""
    rows = list(templates_for(offer_.merchant_id, offer_.scenes).only("pk", "title", "scene", "merchant_id"))
    groups = []
    for scene in offer_.scenes:
        members = [row for row in rows if row.scene == scene]
        if members:
            groups.append({"label": ReplyTemplate.Scene(scene).label, "templates": members})
    return groups


__all__ = [
    "PLACEHOLDERS",
    "SYNTAX_HELP",
    "Filled",
    "MissingValuesError",
    "Offer",
    "ReplyTemplate",
    "check",
    "fill",
    "offer",
    "parse",
    "picker_groups",
    "placeholder_label",
    "placeholders_of",
    "register_placeholder",
    "register_source",
    "render",
    "source_model",
    "templates_for",
    "templates_for_object",
    "values_for",
]
