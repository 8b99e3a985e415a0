"""The kernel's models: shops and their members, and the abstract bases every app builds on.

They belong to the `merchants` app (labels and migrations stay `merchants.*`) but live here, apart from
the catalog and orders, because every app stands on them: `MerchantOwned` is what `scoping` filters,
`EventBase` is the append-only history row of every timeline, `SingletonSettings` holds the business
defaults staff edit in /admin/, `AttachmentBase` a stored upload. Violations and notices are shared by
after-sales (A-3), tickets (T-3) and levels (L-*). Nothing here imports an app.
"""

from typing import Any, ClassVar

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from merchants.kernel import notice_kinds
from merchants.kernel.checks import phone_validator
from merchants.kernel.uploads import scrub_upload
from merchants.kernel.vocabulary import ActorKind, MerchantStatus, Role

__all__ = [
    "ActorKind",
    "AttachmentBase",
    "EventBase",
    "Membership",
    "Merchant",
    "MerchantOwned",
    "MerchantStatus",
    "Notice",
    "Role",
    "SingletonSettings",
    "Violation",
]


class SingletonSettings(models.Model):
    """One row of business defaults that staff tune in /admin/ (SPEC: "default" numbers)."""

    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        self.pk = 1
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValidationError(_("平台设置不能删除。"))

    @classmethod
    def load(cls):
        obj, _created = cls.objects.get_or_create(pk=1)
        return obj


class MerchantOwned(models.Model):
    """A row that belongs to one shop. The tenancy layer filters on `merchant_path`."""

    merchant_path = "merchant"

    merchant = models.ForeignKey("merchants.Merchant", on_delete=models.PROTECT, verbose_name=_("店铺"))

    class Meta:
        abstract = True

    @classmethod
    def from_db(cls, db, field_names, values):
        """Django's from_db for the batch paths: the loaded columns' places worked out once per column list,
        and the instance filled without Model.__init__'s per-field setattr when nothing can tell the
        difference.

        A row loaded with only()/defer() (the deadline sweeps, the big lists) made Django look up each of
        the model's ~45 fields in the list of loaded names, for every row: a tenth of a sweep's time; the
        per-field setattr of Model.__init__ another tenth. The fast fill writes the loaded columns straight
        into the instance's __dict__ — where Model.__init__'s setattr puts them too (the descriptors on
        the foreign keys and FSM fields store there, and a fresh instance has no cached relation to drop)
        — and only when the model has no pre_init/post_init receiver and no __init__ of its own beyond
        Django's and django-fsm-2's (which records the loaded state: called here too).
        """
        key = (cls, tuple(field_names))
        plan = _LOAD_PLANS.get(key)
        if plan is None:
            plan = _LOAD_PLANS[key] = _load_plan(cls, field_names, len(values))
        places, names, fast = plan
        if not fast:
            if places is not None:
                values = [models.DEFERRED if place is None else values[place] for place in places]
            new = cls(*values)
        else:
            new = cls.__new__(cls)
            new._state = models.base.ModelState()
            new.__dict__.update(zip(names, values, strict=True))
            if _records_initial_state(cls):
                new._update_initial_state()
        new._state.adding = False
        new._state.db = db
        return new


def _init_is_known(cls) -> bool:
    from django_fsm import ConcurrentTransitionMixin  # noqa: PLC0415

    return cls.__init__ in (models.Model.__init__, ConcurrentTransitionMixin.__init__)


def _records_initial_state(cls) -> bool:
    return hasattr(cls, "_update_initial_state")


def _load_plan(cls, field_names, width: int):
    """(places or None, the attnames of the loaded values in their order, whether the fast fill applies)."""
    fields = cls._meta.concrete_fields
    places = None
    if width != len(fields):
        loaded = iter(range(width))
        places = tuple(next(loaded) if f.attname in field_names else None for f in fields)
    fast = (
        _init_is_known(cls)
        and not models.signals.pre_init.has_listeners(cls)
        and not models.signals.post_init.has_listeners(cls)
    )
    # Django hands the loaded values in the order of the concrete fields, the deferred ones left out.
    names = tuple(f.attname for f, place in zip(fields, places or fields, strict=True) if place is not None)
    return places, names, fast


# (model, names of the loaded columns) -> (places of the fields in the row, the fast fill's plan, fast or not).
_LOAD_PLANS: dict[tuple, tuple] = {}


class EventBase(models.Model):
    """One immutable history row: who did what, from which state to which, when (A-4, STYLE §5).

    Written only by merchants.kernel.events. A concrete event model declares `Kind` (TextChoices: what
    happened), `TEXTS` ({kind: lazy sentence with %(name)s placeholders filled from `params`}) and
    `PARAM_CHOICES` ({param name: the Choices class whose label shows a stored value, e.g. a carrier}).
    A kind with several system sentences (a case closed for one reason or another) stores the key of
    its sentence as the param "why".
    The sentence is rendered when shown, in the reader's language; `message` keeps people's own words.
    """

    Kind: ClassVar[type[models.TextChoices]]
    TEXTS: ClassVar[dict[str, Any]] = {}
    PARAM_CHOICES: ClassVar[dict[str, type[models.Choices]]] = {}

    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("操作人"),
    )
    actor_kind = models.CharField(_("操作方"), max_length=16, choices=ActorKind.choices)
    kind = models.CharField(_("动作"), max_length=40)
    source_status = models.CharField(_("原状态"), max_length=32, blank=True)
    target_status = models.CharField(_("新状态"), max_length=32, blank=True)
    message = models.TextField(_("说明"), blank=True)  # people's words as typed, never a rendered sentence
    params = models.JSONField(_("参数"), default=dict, blank=True)  # the values TEXTS[kind] shows
    data = models.JSONField(_("数据"), default=dict, blank=True)
    created_at = models.DateTimeField(_("时间"), default=timezone.now, db_index=True)

    class Meta:
        abstract = True
        ordering = ("created_at", "pk")

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ValidationError(_("历史记录不可修改。"))
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValidationError(_("历史记录不可删除。"))

    @property
    def kind_label(self) -> str:
        """What happened, in the active language (the stored value when the kind is unknown)."""
        try:
            return str(self.Kind(self.kind).label)
        except ValueError:
            return self.kind

    def sentence(self) -> str:
        """The system's sentence about this event in the active language; "" when the kind has none.

        Rows written before sentences were rendered at display time have no params: their `message`
        (stored then in Chinese) is the fallback, so they keep reading as they did.
        """
        params = self.params or {}
        template = self.TEXTS.get(params.get("why") or self.kind)  # "why" names one of several sentences
        if template is None:
            return ""
        values = {}
        for name, value in params.items():
            choices = self.PARAM_CHOICES.get(name)
            if choices is not None:
                try:
                    value = choices(value).label
                except ValueError:
                    pass
            values[name] = value
        try:
            return str(template) % values
        except (KeyError, TypeError, ValueError):
            return ""

    def describe(self) -> str:
        """The sentence, then people's own words: what a timeline shows under the kind."""
        return "\n".join(part for part in (self.sentence(), self.message) if part)


def attachment_upload_to(instance, filename: str) -> str:
    """A random stored name under the model's folder: the original name is kept as data, never as a path."""
    import uuid
    from pathlib import PurePath

    suffix = PurePath(filename).suffix.lower()[:10]
    return f"{instance.upload_folder}/{timezone.now():%Y/%m}/{uuid.uuid4().hex}{suffix}"


class AttachmentBase(models.Model):
    """An uploaded file that belongs to an object (evidence, vouchers, appeal proofs, ticket files), N-7.

    Stored under a random name (`upload_folder`/yyyy/mm/<uuid>.<ext>); `original_name` is what the
    uploader called it, shown to people and sent back as the download name. An image is re-encoded on
    its first save (merchants.kernel.uploads.scrub_upload), so its EXIF (GPS position, camera, time)
    never reaches the storage. Served only through the kernel's protected file view
    (merchants.kernel.files): a concrete model sets `merchant_path` (who may see it, through
    scope_to_actor) and registers itself with `files.register(Model, kind=...)`; `url` is its link.
    """

    upload_folder = "files"
    file_kind: ClassVar[str] = ""  # the /files/<kind>/ segment, stamped by files.register()

    file = models.FileField(_("文件"), upload_to=attachment_upload_to, max_length=200)
    original_name = models.CharField(_("原文件名"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("上传时间"), default=timezone.now)

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return self.display_name

    def save(self, *args, **kwargs):
        if self.file and not self.file._committed:
            upload = self.file.file
            self.original_name = (self.original_name or _base_name(self.file.name))[:200]
            self.file = scrub_upload(upload, name=self.file.name)
        super().save(*args, **kwargs)

    @property
    def display_name(self) -> str:
        return self.original_name or self.file.name.rsplit("/", 1)[-1]

    @property
    def url(self) -> str:
        """The protected view's address of this file (never the storage's own URL): /files/<kind>/<pk>/.

        `file_kind` is stamped on the model by merchants.kernel.files.register().
        """
        if self.pk is None:
            return ""
        if not self.file_kind:
            raise ImproperlyConfigured(
                f"{self._meta.label} is not registered with merchants.kernel.files.register()."
            )
        return reverse("protected_file", kwargs={"kind": self.file_kind, "pk": self.pk})

    @classmethod
    def public_queryset(cls) -> models.QuerySet:
        """Rows anyone may fetch without logging in; none by default.

        A model whose files are public with the page that shows them (SPEC R-8: the images of the
        reviews the product page shows) returns exactly those rows here; the file view asks it for
        visitors and for users whose shops do not own the row.
        """
        return cls._default_manager.none()


def _base_name(name: str) -> str:
    return (name or "").replace("\\", "/").rsplit("/", 1)[-1]


# --------------------------------------------------------------------------------------------
# Shop and members


class Merchant(models.Model):
    """A shop (店铺), M-1."""

    merchant_path = ""  # a shop is scoped by its own id

    class SettlementCycle(models.IntegerChoices):
        WEEKLY = 7, _("周结")
        HALF_MONTHLY = 15, _("半月结")
        MONTHLY = 30, _("月结")

    name = models.CharField(_("店铺名称"), max_length=100)
    code = models.SlugField(_("店铺编码"), max_length=40, unique=True)
    level = models.PositiveSmallIntegerField(
        _("店铺等级"), default=1, validators=[MinValueValidator(0), MaxValueValidator(7)]
    )
    status = models.CharField(
        _("状态"), max_length=16, choices=MerchantStatus.choices, default=MerchantStatus.ACTIVE
    )
    express_refund_enabled = models.BooleanField(
        _("极速退款"),
        default=False,
        help_text=_("开启后，符合条件的未发货小额仅退款申请将被系统自动同意。"),
    )
    return_contact = models.CharField(_("退货联系人"), max_length=50, blank=True)
    return_phone = models.CharField(
        _("退货联系电话"), max_length=20, blank=True, validators=[phone_validator]
    )
    return_address = models.CharField(_("退货地址"), max_length=200, blank=True)
    settlement_cycle = models.PositiveSmallIntegerField(
        _("结算周期"), choices=SettlementCycle.choices, default=SettlementCycle.WEEKLY
    )
    level_changed_at = models.DateTimeField(_("等级变更时间"), default=timezone.now)
    created_at = models.DateTimeField(_("开店时间"), default=timezone.now)

    class Meta:
        verbose_name = _("店铺")
        verbose_name_plural = _("店铺")
        ordering = ("code",)

    def __str__(self) -> str:
        return self.name

    @property
    def level_label(self) -> str:
        return f"LV{self.level}"


class Membership(models.Model):
    """A user's role in a shop: owner, agent (售后客服) or viewer."""

    merchant_path = "merchant"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships", verbose_name=_("用户")
    )
    merchant = models.ForeignKey(
        Merchant, on_delete=models.CASCADE, related_name="memberships", verbose_name=_("店铺")
    )
    role = models.CharField(_("角色"), max_length=16, choices=Role.choices, default=Role.AGENT)
    created_at = models.DateTimeField(_("加入时间"), default=timezone.now)

    class Meta:
        verbose_name = _("店铺成员")
        verbose_name_plural = _("店铺成员")
        constraints = [
            models.UniqueConstraint(fields=["user", "merchant"], name="membership_unique_user_merchant")
        ]

    def __str__(self) -> str:
        return f"{self.user} @ {self.merchant} ({self.get_role_display()})"


# --------------------------------------------------------------------------------------------
# Violations and notices: shared by after-sales (A-3 voucher timeout), tickets (T-3) and levels (L-*)


class Violation(MerchantOwned):
    """A recorded breach of a platform rule (商家违规行为管理规则) by the shop; written by kernel.violations.

    One row per breach *episode*: `episode` names which deadline was missed (its time, as written by
    merchants.kernel.violations.episode_key), so a ticket that goes overdue, is answered, rejected and
    goes overdue again records a second violation (T-3), while a sweep that runs twice records one.
    """

    rule = models.CharField(_("违规规则"), max_length=60)
    points = models.PositiveSmallIntegerField(_("扣分"), default=0)
    source_type = models.CharField(_("来源类型"), max_length=40)
    source_id = models.PositiveBigIntegerField(_("来源ID"))
    # "" for rows written before episodes were kept: they stay unique per (rule, source) as they were.
    episode = models.CharField(_("违规周期"), max_length=40, blank=True, default="")
    note = models.TextField(_("说明"), blank=True)
    excluded = models.BooleanField(_("不计入考核"), default=False)
    created_at = models.DateTimeField(_("时间"), default=timezone.now)

    class Meta:
        verbose_name = _("违规记录")
        verbose_name_plural = _("违规记录")
        ordering = ("-created_at",)
        constraints = [
            # One violation per rule, source and episode: a task running twice cannot record the same
            # breach twice, a second missed deadline of the same source is a second breach.
            models.UniqueConstraint(
                fields=["rule", "source_type", "source_id", "episode"], name="violation_unique_episode"
            )
        ]

    def __str__(self) -> str:
        return f"{self.merchant} {self.rule}"


class NoticeQuerySet(models.QuerySet):
    def bulk_create(self, objs, *args, **kwargs):
        objs = list(objs)
        for notice in objs:
            notice.fill_fallback()  # the batch writers (deadline sweeps) build Notice(...) rows directly
        return super().bulk_create(objs, *args, **kwargs)


class Notice(models.Model):
    """A message for a shop's members (merchant) or for senior platform staff (platform).

    It stores what happened as a `kind` and its `params` (case no, amount, ...; people's own words as
    typed under "message"); the title and body are rendered when shown, in the reader's language, from
    the kind the owning app registered with merchants.kernel.notices. `title` and `body` are a fallback
    only: every write path (save, bulk_create) fills them in the site's default language, for a reader
    that does not render (an export) and for a kind no app registers any more. Rows written before kinds
    existed (kind "") show their stored title and body.
    """

    class Audience(models.TextChoices):
        MERCHANT = "merchant", _("商家")
        PLATFORM = "platform", _("平台高级客服")

    merchant_path = "merchant"

    merchant = models.ForeignKey(
        Merchant, null=True, blank=True, on_delete=models.CASCADE, verbose_name=_("店铺")
    )
    audience = models.CharField(_("接收方"), max_length=10, choices=Audience.choices)
    kind = models.CharField(_("通知类型"), max_length=60, blank=True)
    params = models.JSONField(_("参数"), default=dict, blank=True)
    title = models.CharField(_("标题"), max_length=120, blank=True)
    body = models.TextField(_("内容"), blank=True)
    link = models.CharField(_("链接"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("时间"), default=timezone.now, db_index=True)
    read_at = models.DateTimeField(_("已读时间"), null=True, blank=True)

    objects = NoticeQuerySet.as_manager()

    class Meta:
        verbose_name = _("通知")
        verbose_name_plural = _("通知")
        ordering = ("-created_at",)
        indexes = [
            # The header bell counts a shop's unread notices on every workbench page.
            models.Index(
                fields=["merchant", "audience"],
                name="notice_unread_idx",
                condition=models.Q(read_at__isnull=True),
            ),
        ]

    def __str__(self) -> str:
        return self.display_title

    def save(self, *args, **kwargs):
        self.fill_fallback()
        super().save(*args, **kwargs)

    def fill_fallback(self) -> None:
        """Store the title and body in the default language (a fallback; display renders them anew)."""
        if not self.kind or self.title:
            return
        with translation.override(settings.LANGUAGE_CODE):
            title, body = notice_kinds.render(self)
        self.title, self.body = title[: self._meta.get_field("title").max_length], body

    @property
    def display_title(self) -> str:
        """The title in the active language (merchants.kernel.notices renders it)."""
        return notice_kinds.render(self)[0]

    @property
    def display_body(self) -> str:
        return notice_kinds.render(self)[1]

    @property
    def is_read(self) -> bool:
        return self.read_at is not None
