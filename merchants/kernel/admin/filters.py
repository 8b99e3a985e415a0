"""List filters any change list can use: a date range on a datetime column, read as whole local days."""

from __future__ import annotations

import datetime

from django.conf import settings
from django.core.validators import EMPTY_VALUES
from django.utils import formats, timezone
from unfold.contrib.filters.admin import RangeDateFilter


def _parse_date(value) -> datetime.date | None:
    if isinstance(value, datetime.date):
        return value
    if value in EMPTY_VALUES or not isinstance(value, str):
        return None
    for fmt in [*formats.get_format("DATE_INPUT_FORMATS"), *settings.DATE_INPUT_FORMATS]:
        try:
            return datetime.datetime.strptime(value.strip(), fmt).date()
        except ValueError:
            continue
    return None


def _start_of_day(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


class DateRangeOnDateTimeFilter(RangeDateFilter):
    """A from/to date filter on a datetime column: whole local days, as an index range (no __date)."""

    def queryset(self, request, queryset):
        start = _parse_date(self.used_parameters.get(f"{self.parameter_name}_from"))
        end = _parse_date(self.used_parameters.get(f"{self.parameter_name}_to"))
        if start:
            queryset = queryset.filter(**{f"{self.parameter_name}__gte": _start_of_day(start)})
        if end:
            end_exclusive = _start_of_day(end + datetime.timedelta(days=1))
            queryset = queryset.filter(**{f"{self.parameter_name}__lt": end_exclusive})
        return queryset
