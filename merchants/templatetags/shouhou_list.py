"""`{% shouhou_result_list cl %}`: unfold's change-list table with the column headers built once a page.

Why: django-unfold 0.91's `items_for_result()` calls `result_headers(cl)` for EVERY row, so a page of
100 rows builds every header (label lookups, the select-all checkbox rendered through a template, three
query strings per sortable column) 101 times. Upstream fixed it after 0.91 (django-unfold PRs
#2171/#2172, "reuse changelist result headers"); we stay on 0.91, the last release for Python 3.11
(SPEC N-1). The order and case lists use this tag through templates/admin/shouhou/change_list.html.

`_items_for_result()` below is unfold 0.91.0's `items_for_result()` with one change: the headers come in
as an argument instead of being rebuilt inside, with what else every row shares (`_Page`: each column's
lookup, its classes and escaped data-label, the row link). The rows of a page without row forms, drag
handles, sections or row actions are then written here as one string (`rows_html`), the <tbody> markup of
unfold's change_list_results.html, which templates/admin/shouhou/change_list_results.html (unfold's, with
that one switch) puts in place of its loop over rows and cells. With any other unfold version the tag refuses the copy
and renders unfold's own `result_list()` unchanged (the copy might no longer match that version's
markup); tests/test_changelist_perf.py pins the version so an upgrade shows where to look: delete this
module once unfold includes the fix.
"""

from __future__ import annotations

import datetime
from importlib.metadata import version
from typing import Any

from django import VERSION as DJANGO_VERSION
from django.contrib.admin.templatetags.admin_list import _coerce_field_name, result_hidden_fields
from django.contrib.admin.templatetags.admin_urls import add_preserved_filters
from django.contrib.admin.templatetags.base import InclusionAdminNode
from django.contrib.admin.utils import FieldIsAForeignKeyColumnName, _get_non_gfk_field, lookup_field
from django.contrib.admin.views.main import ChangeList
from django.core.exceptions import FieldDoesNotExist, ObjectDoesNotExist
from django.db import models
from django.template import Library
from django.template.loader import render_to_string
from django.urls import NoReverseMatch
from django.utils.functional import Promise
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext
from unfold.templatetags import unfold_list
from unfold.utils import (
    display_for_dropdown,
    display_for_field,
    display_for_header,
    display_for_label,
    display_for_value,
)

from merchants.kernel.admin.display import cell_escape, cell_html

register = Library()

# The unfold release `_items_for_result()` was copied from.
COPIED_FROM_UNFOLD = "0.91.0"
UNFOLD_VERSION = version("django-unfold")


def headers_reusable() -> bool:
    """The copy below matches the installed unfold (else unfold's own code renders the table)."""
    return UNFOLD_VERSION == COPIED_FROM_UNFOLD


def result_headers(cl) -> list[dict]:
    """All column headers of the page, once (unfold's generator, consumed here)."""
    headers = list(unfold_list.result_headers(cl))
    for header in headers:
        # Every cell repeats its header as data-label: translate the lazy text once, not once a cell.
        if isinstance(header["text"], Promise):
            header["text"] = str(header["text"])
    return headers


# Stands for the row's pk in the link built once a page (letters only: reverse() and quote() keep it).
_PK_MARK = "shouhouRowPk"


def row_link(cl):
    """`pk -> the row's link` (cl.url_for_result plus the preserved filters), built once a page.

    Django builds it for every row: a reverse() and, with filters to preserve, add_preserved_filters()
    parsing and resolve()-ing the URL again (a tenth of a 100-row page). The link differs per row only
    in the pk, so the page's link is built once with a mark in its place. A ChangeList that builds its
    own links, or a pk that is not an integer (quote() would change it), goes the long way.
    """
    custom = type(cl).url_for_result is not ChangeList.url_for_result

    def slow(result):
        url = cl.url_for_result(result)
        return add_preserved_filters({"preserved_filters": cl.preserved_filters, "opts": cl.opts}, url)

    if custom:
        return slow
    try:
        template = slow(type("Row", (), {cl.pk_attname: _PK_MARK})())
    except NoReverseMatch:
        return slow
    if template.count(_PK_MARK) != 1:
        return slow
    head, tail = template.split(_PK_MARK)

    def fast(result):
        pk = getattr(result, cl.pk_attname)
        return f"{head}{pk}{tail}" if type(pk) is int else slow(result)

    return fast


def _column_lookups(cl) -> list:
    """For each column, `obj -> lookup_field(name, obj, model_admin)`, resolved once a page.

    lookup_field() asks the model's _meta for the name first (a FieldDoesNotExist raised and caught for
    every cell of a ModelAdmin method) and looks the method up again on the ModelAdmin; for such a column
    the bound method is taken once here and called per row, which is what lookup_field does with it.
    Every other column goes through lookup_field itself.
    """
    model_admin, opts = cl.model_admin, cl.lookup_opts
    lookups = []
    for name in cl.list_display:
        try:
            _get_non_gfk_field(opts, name)
        except (FieldDoesNotExist, FieldIsAForeignKeyColumnName):
            if callable(name):
                attr = name
            elif name != "__str__" and hasattr(model_admin, name):
                attr = getattr(model_admin, name)
            else:
                attr = None
            if attr is not None:
                lookups.append(lambda obj, attr=attr: (None, attr, attr(obj)))
                continue
        lookups.append(lambda obj, name=name: lookup_field(name, obj, model_admin))
    return lookups


class _Page:
    """What every row of a page shares, computed once (unfold 0.91 computed it per row or per cell)."""

    def __init__(self, cl, headers, link):
        self.pk = cl.lookup_opts.pk.attname
        self.empty_value_default = cl.model_admin.get_empty_value_display()
        self.ordering_field = getattr(cl.model_admin, "ordering_field", None)
        self.hide_ordering_field = getattr(cl.model_admin, "hide_ordering_field", False)
        self.lookups = _column_lookups(cl)
        self.field_classes = [
            f"field-{_coerce_field_name(name, index)}" for index, name in enumerate(cl.list_display)
        ]
        self.link_classes = " ".join(unfold_list.LINK_CLASSES)
        # data-label of a cell: the header's text, escaped once; the first column's says "Select record".
        self.labels = [cell_escape(header["text"]) for header in headers]
        self.labels_of_cells = [cell_escape(gettext("Select record")), *self.labels[1:]]
        self.link = link or row_link(cl)


def _items_for_result(cl, result, form, headers, link=None, page=None):  # noqa: C901, PLR0912, PLR0915  (unfold 0.91.0's shape)
    """The cells of one row: unfold 0.91.0's items_for_result() with `headers` (and the page's `link`,
    see row_link, and what else every row shares, see _Page) passed in."""

    def link_in_col(is_first: bool, field_name: str, cl) -> bool:
        if cl.list_display_links is None:
            return False
        if is_first and not cl.list_display_links:
            return True
        return field_name in cl.list_display_links

    page = page or _Page(cl, headers, link)
    first = True
    pk = page.pk
    empty_value_default = page.empty_value_default
    ordering_field = page.ordering_field
    hide_ordering_field = page.hide_ordering_field

    for field_index, field_name in enumerate(cl.list_display):
        empty_value_display = empty_value_default
        row_classes = [page.field_classes[field_index], *unfold_list.ROW_CLASSES]

        try:
            f, attr, value = page.lookups[field_index](result)
        except ObjectDoesNotExist:
            result_repr = empty_value_display
        else:
            empty_value_display = getattr(attr, "empty_value_display", empty_value_display)
            if f is None or f.auto_created:
                if field_name == "action_checkbox":
                    row_classes = unfold_list.CHECKBOX_CLASSES
                boolean = getattr(attr, "boolean", False)
                label = getattr(attr, "label", False)
                header = getattr(attr, "header", False)
                dropdown = getattr(attr, "dropdown", False)

                if label:
                    result_repr = display_for_label(value, empty_value_display, label)
                elif dropdown:
                    result_repr = display_for_dropdown(result, field_name, value, empty_value_display)
                elif header:
                    result_repr = display_for_header(value, empty_value_display)
                else:
                    result_repr = display_for_value(value, empty_value_display, boolean)

                if isinstance(value, datetime.date | datetime.time):
                    row_classes.append("nowrap")
            else:
                if isinstance(f.remote_field, models.ManyToOneRel):
                    field_val = getattr(result, f.name)
                    result_repr = empty_value_display if field_val is None else field_val
                else:
                    result_repr = display_for_field(value, f, empty_value_display)
                if isinstance(f, models.DateField | models.TimeField | models.ForeignKey):
                    row_classes.append("nowrap")

        if link_in_col(first, field_name, cl):
            table_tag = "th" if first else "td"
            first = False
            try:
                url = page.link(result)
            except NoReverseMatch:
                link_or_text = result_repr
            else:
                value = result.serializable_value(str(cl.to_field) if cl.to_field else pk)
                link_or_text = cell_html(
                    '<a href="{}" class="{}" {}>{}</a>',
                    url,
                    page.link_classes,
                    cell_html(' data-popup-opener="{}"', value) if cl.is_popup else "",
                    result_repr,
                )
            yield SafeString(
                f'<{table_tag} class="{" ".join(row_classes)}" data-label="{page.labels[field_index]}">'
                f"{cell_escape(link_or_text)}</{table_tag}>"
            )
        else:
            if (
                form
                and field_name in form.fields
                and not (field_name == cl.model._meta.pk.name and form[cl.model._meta.pk.name].is_hidden)
            ):
                bf = form[field_name]
                result_repr = mark_safe(  # noqa: S308  (a bound field and unfold's error template)
                    str(bf) + render_to_string("unfold/helpers/form_errors.html", {"errors": bf.errors})
                )
                row_classes += ["group", "errors"] if bf.errors else []

            if ordering_field and field_name == ordering_field and hide_ordering_field:
                row_classes.append("!hidden")

            yield SafeString(
                f'<td class="{" ".join(row_classes)}" data-label="{page.labels_of_cells[field_index]}">'
                f"{cell_escape(result_repr)}</td>"
            )

    if form and not form[cl.model._meta.pk.name].is_hidden:  # pragma: no cover  (as in unfold)
        yield cell_html("<td>{}</td>", form[cl.model._meta.pk.name])


def _results(cl, headers):
    forms = cl.formset.forms if getattr(cl, "formset", None) else None
    page = _Page(cl, headers, row_link(cl))
    if forms:
        for res, form in zip(cl.result_list, forms, strict=False):
            yield unfold_list.UnfoldResultList(
                res, form, _items_for_result(cl, res, form, headers, page=page)
            )
    else:
        for res in cl.result_list:
            yield unfold_list.UnfoldResultList(
                res, None, _items_for_result(cl, res, None, headers, page=page)
            )


# unfold 0.91.0's admin/change_list_results.html around the cells of one row, for a row without a form,
# drag handle, sections or row actions (the `{% if %}`s of the template all false); the two row colours
# are its `{% cycle %}`.
_TBODY_CLASSES = ("", "bg-base-50 dark:bg-white/[.02]")
_ROW_OPEN = (
    '<tbody class="block relative lg:table-row-group {}" x-data="{{rowOpen: false}}" >'
    '<tr class="data-row block border border-base-200 mb-3 relative rounded-default lg:table-row '
    'lg:border-none lg:mb-0 lg:rounded-none dark:border-base-800">'
)
_ROW_CLOSE = "</tr></tbody>"


def plain_rows(cl, context) -> bool:
    """The page's rows are only their cells: rows_html may write them (else the template's loop does)."""
    model_admin = cl.model_admin
    return not (
        getattr(cl, "formset", None)
        or getattr(model_admin, "ordering_field", None)
        or len(getattr(model_admin, "list_sections", ()) or ()) > 0
        or context.get("actions_row")
    )


def rows_html(results) -> SafeString:
    """The <tbody> of every row, as change_list_results.html writes them (one string, no template loop)."""
    parts = []
    for index, row in enumerate(results):
        parts.append(_ROW_OPEN.format(_TBODY_CLASSES[index % 2]))
        parts.extend(row)
        parts.append(_ROW_CLOSE)
    return SafeString("".join(parts))


def result_list(context: dict[str, Any], cl) -> dict[str, Any]:
    """unfold's result_list() context, with every row reading the one header list, and the rows written
    here when they are only their cells (`rows_html`, see templates/admin/shouhou/change_list_results.html)."""
    if not headers_reusable():
        return unfold_list.result_list(context, cl)
    headers = result_headers(cl)
    results = list(_results(cl, headers))
    return {
        "cl": cl,
        "result_hidden_fields": list(result_hidden_fields(cl)),
        "result_headers": headers,
        "num_sorted_fields": sum(1 for h in headers if h["sortable"] and h["sorted"]),
        "results": results,
        "rows_html": rows_html(results) if plain_rows(cl, context) else None,
        "actions_row": context.get("actions_row"),
        "has_add_permission": cl.model_admin.has_add_permission(context["request"]),
    }


# admin/shouhou/change_list_results.html (InclusionAdminNode looks for admin/<app>/<model>/<name> first).
RESULTS_TEMPLATE = "shouhou/change_list_results.html"


@register.tag(name="shouhou_result_list")
def result_list_tag(parser, token):
    if DJANGO_VERSION >= (6, 1):  # the same signature switch as unfold's own tag
        return InclusionAdminNode(
            "shouhou_result_list", parser, token, func=result_list, template_name=RESULTS_TEMPLATE
        )
    return InclusionAdminNode(parser, token, func=result_list, template_name=RESULTS_TEMPLATE)
