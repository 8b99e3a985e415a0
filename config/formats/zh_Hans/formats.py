"""One date format everywhere (issue 11 §14): 2026-12-01 15:26, in both languages (N-5).

Django's zh_Hans formats print 2026年12月1日 and its English ones Dec. 1, 2026, 3:26 p.m.; a change list,
a change form, a filter and an export must all read the same way. config/formats/en re-exports these.
"""

DATE_FORMAT = "Y-m-d"
TIME_FORMAT = "H:i"
DATETIME_FORMAT = "Y-m-d H:i"
SHORT_DATE_FORMAT = "Y-m-d"
SHORT_DATETIME_FORMAT = "Y-m-d H:i"
YEAR_MONTH_FORMAT = "Y-m"
MONTH_DAY_FORMAT = "m-d"
FIRST_DAY_OF_WEEK = 1  # Monday: the date picker's week starts 一 in both languages
