"""List filters any change list can use, and the one way a filter refuses a value (N-9).

Every value a filter reads from the query string goes through merchants.kernel.checks. A value that
cannot be what the filter expects (a date in year 1, an id of 23 digits, '²', a NUL byte) is said on
the page, naming the filter ("申请时间格式不正确…"), and the filter is not applied; the change list
does not count it as an active filter (`CheckedChangeList`), so the 筛选 button does not light up
for a filter that filters nothing.

Django's own date filter (a plain date field in `list_filter`, on any admin, ours or a package's) is
replaced by the checked one below, registered with priority.
"""

from __future__ import annotations

import datetime

from django.contrib import admin, messages
from django.contrib.admin.filters import (
    BooleanFieldListFilter,
    ChoicesFieldListFilter,
    DateFieldListFilter,
    FieldListFilter,
    RelatedFieldListFilter,
)
from django.db import models
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from unfold.contrib.filters.admin import (
    AutocompleteSelectFilter,
    ChoicesDropdownFilter,
    DropdownFilter,
    RangeDateFilter,
    RangeNumericFilter,
    TextFilter,
)
from unfold.contrib.filters.forms import DropdownForm
from unfold.views import ChangeList
from unfold.widgets import UnfoldAdminSelectWidget

from merchants.kernel.checks import (
    BadInputError,
    clean_query_text,
    parse_date,
    parse_datetime,
    parse_decimal,
    parse_id,
    preview,
)

_REJECTED_ATTR = "_shouhou_rejected_params"
_SAID_ATTR = "_shouhou_said"


def rejected_params(request) -> set[str]:
    """The query parameters a filter refused on this request (not applied, not an active filter)."""
    return getattr(request, _REJECTED_ATTR, set())


def is_autocomplete(request) -> bool:
    match = getattr(request, "resolver_match", None)
    return bool(match and match.url_name == "autocomplete")


def say_once(request, text: str) -> None:
    """An error message on the page, once per request (a change list may build its filters twice)."""
    said = getattr(request, _SAID_ATTR, None)
    if said is None:
        said = set()
        setattr(request, _SAID_ATTR, said)
    if text in said or is_autocomplete(request) or not hasattr(request, "_messages"):
        return  # an autocomplete answers JSON: its message would surface on some later page
    said.add(text)
    messages.error(request, text)


def reject(request, params, error: BadInputError) -> None:
    """Record that `params` were refused on this request and say why on the page."""
    rejected = getattr(request, _REJECTED_ATTR, None)
    if rejected is None:
        rejected = set()
        setattr(request, _REJECTED_ATTR, rejected)
    rejected.update([params] if isinstance(params, str) else params)
    for text in error.messages:
        say_once(request, text)


def search_term(request, term, *, label=None, max_length: int | None = None) -> str | None:
    """A change list's (or autocomplete's) search text, cleaned; None when it cannot match anything.

    None is said on the page; the caller returns no rows rather than all of them.
    """
    label = label or _("搜索内容")
    kwargs = {"max_length": max_length} if max_length else {}
    try:
        return clean_query_text(term, label=label, **kwargs)
    except BadInputError as exc:
        for text in exc.messages:
            say_once(request, text)
        return None


class CheckedChangeList(ChangeList):
    """A change list that does not count refused filter values as active filters."""

    def get_filters(self, request):
        filter_specs, has_filters, remaining, may_have_duplicates, has_active = super().get_filters(request)
        refused = rejected_params(request)
        if has_active and refused:
            has_active = any(
                any(str(v).strip() for v in values)
                for key, values in self.get_filters_params().items()
                if key not in refused
            )
        return filter_specs, has_filters, remaining, may_have_duplicates, has_active


class CheckedFilterMixin:
    """Parse each of this filter's parameters (`parse_param`); a refused one is dropped and said."""

    def check_parameters(self, request) -> None:
        self.parsed = {}
        for name in list(self.used_parameters):
            if name not in self.expected_parameters():
                continue
            try:
                self.parsed[name] = self.parse_param(name, self.used_parameters[name])
            except BadInputError as exc:
                del self.used_parameters[name]
                reject(request, name, exc)

    def parse_param(self, name: str, value):
        raise NotImplementedError


class CheckedSimpleFilter(CheckedFilterMixin, admin.SimpleListFilter):
    """A SimpleListFilter whose value is parsed by `parse_value` before `lookups` and `queryset` see it."""

    def __init__(self, request, params, model, model_admin):
        super().__init__(request, params, model, model_admin)
        self.check_parameters(request)

    def parse_param(self, name, value):
        return self.parse_value(value)

    def parse_value(self, value):
        return value

    @property
    def parsed_value(self):
        """The parsed value of the (checked) parameter, read afresh: facet counts swap the raw value."""
        raw = self.used_parameters.get(self.parameter_name)
        if raw is None:
            return None
        try:
            return self.parse_value(raw)
        except BadInputError:
            return None


class CheckedChoiceFilter(CheckedSimpleFilter, DropdownFilter):
    """A dropdown whose value must be one of its lookups ('yes' / 'no' …)."""

    def parse_value(self, value):
        text = clean_query_text(value, label=self.title)
        if text and text not in {str(key) for key, _label in self.lookup_choices}:
            raise BadInputError(
                _("筛选条件「%(title)s」没有「%(value)s」这一项。")
                % {"title": self.title, "value": preview(text)},
                code="invalid_choice",
            )
        return text


class CheckedTextFilter(CheckedSimpleFilter, TextFilter):
    """A text box filter: cleaned text, at most `max_length` characters (the column's own length)."""

    max_length = 100

    def parse_value(self, value):
        return clean_query_text(value, label=self.title, max_length=self.max_length)


def _option_attrs(attrs: dict) -> str:
    """django/forms/widgets/attrs.html in Python: ` name="value"`, a bare name for True, nothing for False."""
    return mark_safe(
        "".join(
            format_html(" {}", name) if value is True else format_html(' {}="{}"', name, value)
            for name, value in attrs.items()
            if value is not False
        )
    )  # noqa: S308  (format_html escaped each)


# unfold/widgets/select.html around the options (unfold 0.91).
_SELECT_HTML = (
    '<div class="grow relative max-w-2xl">\n    <select name="{}"{}>{}\n    </select>\n\n    '
    '<span class="material-symbols-outlined absolute group-[.primary]:text-white pointer-events-none '
    "mr-[12px] right-0 text-base-400 top-0 top-1/2 hover:text-base-700 dark:text-base-500 "
    'dark:hover:text-base-200 -translate-y-1/2">expand_more</span>\n</div>'
)


class FastSelectWidget(UnfoldAdminSelectWidget):
    """unfold's select written in Python: the same markup as unfold/widgets/select.html, without its two
    template includes per option (a 300-product filter spent a tenth of the case list's time on them)."""

    def render(self, name, value, attrs=None, renderer=None):
        widget = self.get_context(name, value, attrs)["widget"]
        parts = []
        for group_name, options, _index in widget["optgroups"]:
            html = "".join(
                format_html(
                    '\n            <option value="{}"{}>{}</option>',
                    str(option["value"]),
                    _option_attrs(option["attrs"]),
                    option["label"],
                )
                for option in options
            )
            parts.append(
                format_html('\n        <optgroup label="{}">{}</optgroup>', group_name, mark_safe(html))  # noqa: S308  (escaped above)
                if group_name
                else html
            )
        options_html = mark_safe("".join(parts))  # noqa: S308  (each part escaped by format_html)
        return format_html(_SELECT_HTML, widget["name"], _option_attrs(widget["attrs"]), options_html)


class FastDropdownForm(DropdownForm):
    widget = FastSelectWidget(  # DropdownForm's attributes
        attrs={"data-theme": "admin-autocomplete", "class": "unfold-admin-autocomplete admin-autocomplete"}
    )


class CheckedIdFilter(CheckedSimpleFilter, DropdownFilter):
    """A dropdown of objects by id: the value must be a bounded positive integer (not '²', not 10^22)."""

    form_class = FastDropdownForm  # a shop's whole catalogue may be offered: its options without templates

    def parse_value(self, value):
        return parse_id(value, label=self.title)


def _no_such_choice(title, text) -> BadInputError:
    return BadInputError(
        _("筛选条件「%(title)s」没有「%(value)s」这一项。") % {"title": title, "value": preview(text)},
        code="invalid_choice",
    )


def _values(value) -> list:
    return value if isinstance(value, list) else [value]


class FieldChoicesMixin(CheckedFilterMixin):
    """A field filter on a field with choices: `<field>__exact` must be one of them."""

    def parse_param(self, name, value):
        allowed = {str(key) for key, _label in self.field.flatchoices}
        cleaned = []
        for item in _values(value):
            text = clean_query_text(item, label=self.title)
            if name == self.lookup_kwarg and text and text not in allowed:
                raise _no_such_choice(self.title, text)
            cleaned.append(text)
        return cleaned

    def forget_rejected(self) -> None:
        if self.lookup_kwarg not in self.used_parameters:
            self.lookup_val = None
        if self.lookup_kwarg_isnull not in self.used_parameters:
            self.lookup_val_isnull = None


class CheckedChoicesDropdownFilter(FieldChoicesMixin, ChoicesDropdownFilter):
    """unfold's choices dropdown, refusing a value that is not one of the field's choices."""

    def __init__(self, field, request, params, model, model_admin, field_path):
        super().__init__(field, request, params, model, model_admin, field_path)
        self.check_parameters(request)
        self.forget_rejected()


class CheckedChoicesFieldListFilter(FieldChoicesMixin, ChoicesFieldListFilter):
    """Django's own filter of a field with choices (a plain field name in list_filter), checked."""

    def __init__(self, field, request, params, model, model_admin, field_path):
        super().__init__(field, request, params, model, model_admin, field_path)
        self.check_parameters(request)
        self.forget_rejected()


BOOLEAN_VALUES = frozenset({"0", "1", "true", "false", "True", "False", "t", "f"})


class CheckedBooleanFieldListFilter(CheckedFilterMixin, BooleanFieldListFilter):
    """Django's yes/no filter: `__exact` must be a boolean ('1', '0', 'True' …), not 'abc' (→ ?e=1)."""

    def __init__(self, field, request, params, model, model_admin, field_path):
        super().__init__(field, request, params, model, model_admin, field_path)
        self.check_parameters(request)
        if self.lookup_kwarg not in self.used_parameters:
            self.lookup_val = None
        if self.lookup_kwarg2 not in self.used_parameters:
            self.lookup_val2 = None

    def parse_param(self, name, value):
        if isinstance(value, bool):
            return value
        for item in _values(value):
            text = clean_query_text(item, label=self.title)
            if name == self.lookup_kwarg and text not in BOOLEAN_VALUES:
                raise _no_such_choice(self.title, text)
        return value


class CheckedRelatedFieldListFilter(CheckedFilterMixin, RelatedFieldListFilter):
    """Django's filter of a foreign key: the id must be a bounded id of the target's kind."""

    def __init__(self, field, request, params, model, model_admin, field_path):
        super().__init__(field, request, params, model, model_admin, field_path)
        self.check_parameters(request)
        if self.lookup_kwarg not in self.used_parameters:
            self.lookup_val = None
        if self.lookup_kwarg_isnull not in self.used_parameters:
            self.lookup_val_isnull = None

    def parse_param(self, name, value):
        if name != self.lookup_kwarg:
            return value
        integer = isinstance(self.field.target_field, (models.AutoField, models.IntegerField))
        for item in _values(value):
            if integer:
                parse_id(item, label=self.title)
            else:
                clean_query_text(item, label=self.title)
        return value


class ShopAutocompleteFilter(CheckedRelatedFieldListFilter, AutocompleteSelectFilter):
    """The shop of a cross-shop list on /admin/ (issue 11 §13): a search box (unfold's autocomplete over the
    shop admin's search fields), never a select of every shop. MerchantScopedAdmin adds it by itself."""

    def __init__(self, field, request, params, model, model_admin, field_path):
        super().__init__(field, request, params, model, model_admin, field_path)
        self.title = _("店铺")


def shop_filter_param(model) -> str | None:
    """The query parameter of a model's shop filter ("merchant__id__exact"), None for a model with no shop."""
    path = getattr(model, "merchant_path", None)
    if not path:
        return None
    return f"{path}__id__exact"


def chosen_shop_id(request, model) -> int | None:
    """The shop the list is filtered to (a valid id), or None: product filters offer that shop's products."""
    param = shop_filter_param(model)
    value = request.GET.get(param) if param else None
    if not value:
        return None
    try:
        return parse_id(value, label=_("店铺"))
    except BadInputError:
        return None


class CheckedRangeNumericFilter(CheckedFilterMixin, RangeNumericFilter):
    """unfold's from/to number filter (amounts): each end a bounded number, or the filter is not applied."""

    def __init__(self, field, request, params, model, model_admin, field_path):
        super().__init__(field, request, params, model, model_admin, field_path)
        self.check_parameters(request)

    def parse_param(self, name, value):
        places = getattr(self.field, "decimal_places", 0) or 0
        return parse_decimal(value, label=self.title, places=places)


class DateRangeOnDateTimeFilter(CheckedFilterMixin, RangeDateFilter):
    """A from/to date filter on a datetime column: whole local days, as an index range (no __date).

    Each end is a date within the bounds of merchants.kernel.checks; a bad one, or an end before the
    start, is said on the page and the filter is not applied.
    """

    def __init__(self, field, request, params, model, model_admin, field_path):
        super().__init__(field, request, params, model, model_admin, field_path)
        self.check_parameters(request)
        start, end = self.bounds()
        if start and end and end < start:
            names = [f"{self.parameter_name}_from", f"{self.parameter_name}_to"]
            for name in names:
                self.used_parameters.pop(name, None)
                self.parsed.pop(name, None)
            reject(
                request,
                names,
                BadInputError(_("%(title)s的结束日期早于开始日期，请重新选择。") % {"title": self.title}),
            )

    def parse_param(self, name, value):
        return parse_date(value, label=self.title)

    def bounds(self) -> tuple[datetime.date | None, datetime.date | None]:
        return (
            self.parsed.get(f"{self.parameter_name}_from"),
            self.parsed.get(f"{self.parameter_name}_to"),
        )

    def queryset(self, request, queryset):
        start, end = self.bounds()
        if start:
            queryset = queryset.filter(**{f"{self.parameter_name}__gte": _start_of_day(start)})
        if end:
            end_exclusive = _start_of_day(end + datetime.timedelta(days=1))
            queryset = queryset.filter(**{f"{self.parameter_name}__lt": end_exclusive})
        return queryset


def _start_of_day(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


class CheckedDateFieldListFilter(CheckedFilterMixin, DateFieldListFilter):
    """Django's date filter (任意日期 / 今天 / 过去 7 天 …) with its since/until values bounded."""

    def __init__(self, field, request, params, model, model_admin, field_path):
        super().__init__(field, request, params, model, model_admin, field_path)
        self.check_parameters(request)
        for name in rejected_params(request):
            self.date_params.pop(name, None)

    def parse_param(self, name, value):
        values = value if isinstance(value, list) else [value]
        if name not in (self.lookup_kwarg_since, self.lookup_kwarg_until):
            return values  # __isnull: Django reads any value as a boolean
        parse = parse_datetime if isinstance(self.field, models.DateTimeField) else parse_date
        return [parse(item, label=self.title) for item in values]


# A plain field name in any list_filter (ours or a package's admin) gets the checked filter instead of
# Django's: its date filter would pass year 1 to the database (an OverflowError on SQLite and PostgreSQL
# alike), and its yes/no, choice and foreign-key filters answer a bad value with the ?e=1 page, which
# says the database installation is broken. Same order as Django's own registrations.
FieldListFilter.register(lambda field: field.remote_field, CheckedRelatedFieldListFilter, take_priority=True)
FieldListFilter.register(
    lambda field: isinstance(field, models.BooleanField), CheckedBooleanFieldListFilter, take_priority=True
)
FieldListFilter.register(lambda field: bool(field.choices), CheckedChoicesFieldListFilter, take_priority=True)
FieldListFilter.register(
    lambda field: isinstance(field, models.DateField), CheckedDateFieldListFilter, take_priority=True
)


__all__ = [
    "CheckedBooleanFieldListFilter",
    "CheckedChangeList",
    "CheckedChoicesFieldListFilter",
    "CheckedRelatedFieldListFilter",
    "CheckedChoiceFilter",
    "CheckedChoicesDropdownFilter",
    "CheckedDateFieldListFilter",
    "CheckedIdFilter",
    "CheckedRangeNumericFilter",
    "CheckedTextFilter",
    "DateRangeOnDateTimeFilter",
    "ShopAutocompleteFilter",
    "chosen_shop_id",
    "is_autocomplete",
    "reject",
    "rejected_params",
    "say_once",
    "search_term",
]
