"""What every import of the shop's data shares: cell readers, widgets, the row's shop (B-2, B-4)."""

from __future__ import annotations

import re
import unicodedata
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.utils.encoding import force_str
from django.utils.translation import gettext
from import_export import widgets

from merchants.kernel.scoping import WRITE_ROLES, roles_for, sees_all
from merchants.models import Merchant

TRUE_WORDS = frozenset({"是", "1", "true", "yes", "y", "在售", "上架", "√", "t"})
FALSE_WORDS = frozenset({"否", "0", "false", "no", "n", "下架", "已下架", "×", "f"})
LIST_SEPARATORS = re.compile(r"[,，、;；|\s]+")


def cell_text(value) -> str:
    """A code or number cell as text: NFKC (full-width digits and letters to ASCII), stripped."""
    if value is None:
        return ""
    if value.__class__ is str and value.isascii():
        return value.strip()
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # an Excel number cell holding an id: 100001.0 -> "100001"
    return unicodedata.normalize("NFKC", force_str(value)).strip()


def cell_plain(value) -> str:
    """A text cell (a name, a variant) as the user typed it: stripped, never normalised."""
    if value is None:
        return ""
    return value.strip() if value.__class__ is str else force_str(value).strip()


def chunks(items, size):
    for start in range(0, len(items), size):
        yield items[start : start + size]


class YesNoWidget(widgets.Widget):
    """是 / 否 (and yes/no, 1/0, 在售/下架); blank is "not given"."""

    def clean(self, value, row=None, **kwargs):
        text = cell_text(value).casefold()
        if not text:
            return None
        if text in TRUE_WORDS:
            return True
        if text in FALSE_WORDS:
            return False
        raise ValueError(gettext("「%(value)s」不是有效的是/否值，请填写“是”或“否”。") % {"value": value})

    def render(self, value, obj=None, **kwargs):
        return gettext("是") if value else gettext("否")


class MoneyWidget(widgets.Widget):
    """An amount in yuan: ¥, commas, full-width digits and spaces accepted; two places; never negative."""

    def clean(self, value, row=None, **kwargs):
        if isinstance(value, int | Decimal):
            text = str(value)
        elif isinstance(value, float):
            text = repr(value)
        else:
            text = cell_text(value)
        text = text.replace("¥", "").replace("￥", "").replace(",", "").replace("元", "").replace(" ", "")
        if not text:
            return None
        try:
            amount = Decimal(text)
        except InvalidOperation:
            raise ValueError(gettext("「%(value)s」不是有效的金额。") % {"value": value}) from None
        if not amount.is_finite() or amount < 0:
            raise ValueError(gettext("金额不能为负数：%(value)s") % {"value": value})
        if amount != amount.quantize(Decimal("0.01")):
            raise ValueError(gettext("金额最多两位小数：%(value)s") % {"value": value})
        return amount.quantize(Decimal("0.01"))

    def render(self, value, obj=None, **kwargs):
        return "" if value is None else f"{value:.2f}"


class TextWidget(widgets.Widget):
    def clean(self, value, row=None, **kwargs):
        return cell_text(value)

    def render(self, value, obj=None, **kwargs):
        return "" if value is None else force_str(value)


class ShopRowsMixin:
    """Which shop a row is for: its 店铺编码, or the importing member's one shop (B-4)."""

    shop_field = "shop"

    def before_import(self, dataset, **kwargs):
        super().before_import(dataset, **kwargs)
        self._shops: dict[str, Merchant | None] = {}

    def _shop_column(self) -> str:
        return force_str(self.fields[self.shop_field].column_name)

    def row_merchant(self, row) -> Merchant:
        column = self._shop_column()
        code = cell_text(row.get(column))
        if not code:
            shops = sorted(roles_for(self.actor)) if not sees_all(self.actor) else []
            if len(shops) == 1:
                code_or_id = shops[0]
                key = f"#{code_or_id}"
                if key not in getattr(self, "_shops", {}):
                    self._shops = getattr(self, "_shops", {})
                    self._shops[key] = Merchant.objects.get(pk=code_or_id)
                return self._shops[key]
            message = (
                gettext("请填写店铺编码。")
                if sees_all(self.actor)
                else gettext("您是多个店铺的成员，请填写店铺编码。")
            )
            raise ValidationError({column: [message]})
        cache = getattr(self, "_shops", None)
        if cache is None:
            cache = self._shops = {}
        if code not in cache:
            cache[code] = Merchant.objects.filter(code=code).first()
        merchant = cache[code]
        if merchant is None:
            raise ValidationError({column: [gettext("店铺编码「%(code)s」不存在。") % {"code": code}]})
        if not sees_all(self.actor) and roles_for(self.actor).get(merchant.pk) not in WRITE_ROLES:
            raise ValidationError(
                {
                    column: [
                        gettext("不能导入其他店铺（%(code)s）的数据：您只能导入自己店铺的数据。")
                        % {"code": code}
                    ]
                }
            )
        return merchant

    def get_example_row(self):
        """The template's example row names the member's own shop."""
        row = super().get_example_row()
        shops = sorted(roles_for(self.actor)) if not sees_all(self.actor) else []
        if shops:
            row[self.shop_field] = Merchant.objects.get(pk=shops[0]).code
        return row


class RowShops:
    """The shop of each row, set-based (B-4): one query for every shop code the file names.

    A row names its shop by code; a member of exactly one shop may leave it empty. `resolve(code)` is
    the shop, or raises ValueError with the message for the shop column.
    """

    def __init__(self, actor, codes):
        self.all = sees_all(actor)
        self.roles = {} if self.all else roles_for(actor)
        codes = {code for code in codes if code}
        self.by_code = {m.code: m for m in Merchant.objects.filter(code__in=codes)} if codes else {}
        self.default = None
        if not self.all and len(self.roles) == 1:
            self.default = Merchant.objects.get(pk=next(iter(self.roles)))

    def resolve(self, code: str) -> Merchant:
        if not code:
            if self.default is not None:
                return self.default
            raise ValueError(
                gettext("请填写店铺编码。") if self.all else gettext("您是多个店铺的成员，请填写店铺编码。")
            )
        merchant = self.by_code.get(code)
        if merchant is None:
            raise ValueError(gettext("店铺编码「%(code)s」不存在。") % {"code": code})
        if not self.all and self.roles.get(merchant.pk) not in WRITE_ROLES:
            raise ValueError(
                gettext("不能导入其他店铺（%(code)s）的数据：您只能导入自己店铺的数据。") % {"code": code}
            )
        return merchant


class Cells:
    """A prepared dataset's cells by field name: `cells(values, "order_no")` (None when the column is absent)."""

    def __init__(self, resource, dataset):
        self.column = {name: force_str(field.column_name) for name, field in resource.fields.items()}
        headers = list(dataset.headers)
        self.index = {name: headers.index(col) for name, col in self.column.items() if col in headers}

    def __call__(self, values, name):
        index = self.index.get(name)
        return values[index] if index is not None else None

    def has(self, name) -> bool:
        return name in self.index

    def rows(self, dataset, names):
        """Each data row's cells of `names`, as a tuple (None for an absent column), in file order.

        One C-level itemgetter per row over tablib's own row lists: no per-cell Python call, no copy of
        the row through Dataset.__getitem__ (the 100k-row imports call this 100,000 times)."""
        from operator import itemgetter  # noqa: PLC0415

        width = len(dataset.headers)
        pick = itemgetter(*[self.index.get(name, width) for name in names])
        if all(name in self.index for name in names):
            for row in dataset._data:
                yield pick(row._row)
        else:
            for row in dataset._data:
                yield pick((*row._row, None))


def preview_of(resource, dataset):
    """The preview's cells of a row (import_export's diff columns), for BatchResult.finish."""
    headers = list(dataset.headers)
    columns = [headers.index(c) if c in headers else None for c in resource.get_diff_headers()]

    def preview(number):
        values = dataset[number - 1]
        return ["" if i is None or values[i] is None else force_str(values[i]) for i in columns]

    return preview


def choice_of(choices, value) -> str | None:
    """A TextChoices value named by its value or its label in either language (仅退款 / Refund only)."""
    from django.utils import translation  # noqa: PLC0415

    text = cell_text(value).casefold()
    if not text:
        return None
    for choice in choices:
        names = {choice.value.casefold()}
        for language in ("zh-hans", "en"):
            with translation.override(language):
                names.add(force_str(choice.label).casefold())
        if text in names:
            return choice.value
    return ""


class _Rollback(Exception):
    pass


def run_actions(batch, actions, *, dry_run: bool) -> dict[int, str]:
    """Run each row's service call in file order, in one transaction, each in a savepoint (B-3).

    `actions`: (row number, act) pairs; `act()` calls the service and returns the row's import type
    ("new", "update", "skip"), or raises ValidationError — a dict {column: [messages]} or a plain
    message, recorded on the row. Any refused row, or a dry run (the preview), rolls everything back,
    so later rows are checked against what the earlier ones did and nothing is written unless all pass.
    """
    from django.db import transaction  # noqa: PLC0415

    types: dict[int, str] = {}
    try:
        with transaction.atomic():
            for number, column, act in actions:
                try:
                    with transaction.atomic():
                        types[number] = act()
                except ValidationError as exc:
                    if hasattr(exc, "error_dict"):
                        for key, errors in exc.error_dict.items():
                            for error in errors:
                                batch.error(number, key, "；".join(error.messages))
                    else:
                        batch.error(number, column, "；".join(exc.messages))
            if dry_run or batch.errors:
                raise _Rollback
    except _Rollback:
        pass
    return types
