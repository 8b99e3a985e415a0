"""The platform's buyer feed of after-sales requests (B-1; staff only, on /admin/'s case list).

A row is one buyer action, through the after-sales service the buyer's own move calls:
申请 open (`open_case`: A-1 amount and one open case per item, A-2 window, A-11/A-12 automation),
修改 revise (`revise`, a refused request asked again), 退货 return tracking (`buyer_ship_return`) and
撤销 withdraw (`cancel`). The case is named by its 售后单号, or by the order and the item (its SKU code or
product ID; empty when the order has one item): the item's latest case, including one opened by an
earlier row of the same file. Rows run in file order in one transaction; a refused row (a rule's
message, e.g. A-2's window) is named and nothing is written.

A second import of the same file changes nothing: a row is skipped when what it asks is already so —
the item's latest case has the same type, reason, amount and quantity (open); the case waits for the
merchant with that amount (revise); it carries that return tracking number (return); it is withdrawn.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from import_export import fields

from aftersales import services
from aftersales.models import AfterSaleCase
from aftersales.transitions import CaseStatus, CaseType, Reason
from merchants.kernel.importing import BatchResult, SpreadsheetResource, any_of
from merchants.kernel.scoping import is_platform
from merchants.resources.cells import parse_count
from merchants.resources.common import (
    Cells,
    MoneyWidget,
    TextWidget,
    cell_plain,
    cell_text,
    choice_of,
    preview_of,
    run_actions,
)
from merchants.resources.order_rows import orders_and_items, pick_item
from merchants.resources.shipping import carrier_code
from merchants.tracking import normalise_tracking

ACTIONS = {
    "open": "open",
    "申请": "open",
    "申请售后": "open",
    "revise": "revise",
    "修改": "revise",
    "修改申请": "revise",
    "return": "return",
    "退货": "return",
    "填写退货物流": "return",
    "return tracking": "return",
    "withdraw": "withdraw",
    "cancel": "withdraw",
    "撤销": "withdraw",
    "撤销申请": "withdraw",
}

# The services' error codes -> the column a refused row is marked in (default: the action column).
CASE_ERROR_COLUMNS = {
    "invalid_choice": "reason",
    "amount": "amount",
    "over_refundable": "amount",
    "nothing_refundable": "amount",
    "quantity": "quantity",
    "window_closed": "order_no",
    "order_state": "order_no",
    "not_shipped": "type",
    "already_open": "item",
    "carrier": "carrier",
    "tracking_no": "tracking_no",
}


class CaseRequestResource(SpreadsheetResource):
    # Its preview runs the services and rolls back: the import center validates it inside a transaction.
    dry_run_writes_nothing = False

    action = fields.Field(column_name=_("动作"), widget=TextWidget())
    case_no = fields.Field(column_name=_("售后单号"), widget=TextWidget())
    order_no = fields.Field(column_name=_("订单号"), widget=TextWidget())
    item = fields.Field(column_name=_("商品SKU"), widget=TextWidget())
    type = fields.Field(column_name=_("售后类型"), widget=TextWidget())
    reason = fields.Field(column_name=_("售后原因"), widget=TextWidget())
    amount = fields.Field(column_name=_("申请金额（元）"), widget=MoneyWidget())
    quantity = fields.Field(column_name=_("数量"), widget=TextWidget())
    description = fields.Field(column_name=_("问题描述"), widget=TextWidget())
    carrier = fields.Field(column_name=_("退货快递"), widget=TextWidget())
    tracking_no = fields.Field(column_name=_("退货运单号"), widget=TextWidget())

    required_columns = ("action",)
    example_row = {
        "action": _("申请"),
        "order_no": "O20261100000001",
        "item": "SKU100001-WL",
        "type": _("仅退款"),
        "reason": _("质量问题"),
        "amount": "59.00",
        "quantity": "1",
        "description": _("衣服有破洞"),
    }

    class Meta:
        model = AfterSaleCase
        fields = (
            "action",
            "case_no",
            "order_no",
            "item",
            "type",
            "reason",
            "amount",
            "quantity",
            "description",
            "carrier",
            "tracking_no",
        )
        import_order = fields
        export_order = fields
        import_id_fields = ()
        report_skipped = True

    @classmethod
    def get_display_name(cls) -> str:
        return str(_("买家售后申请"))

    def import_prepared(self, dataset, *args, dry_run=False, **kwargs):
        batch = BatchResult(self, dataset)
        if not (self.actor is None or is_platform(self.actor)):  # the buyer feed is the platform's
            batch.error(1, "", gettext("只有平台客服可以导入买家售后申请。"))
            return batch.finish({}, preview_of(self, dataset))
        batch.formula_errors()
        cells = Cells(self, dataset)
        col = cells.column
        rows = list(enumerate(dataset, start=1))

        # one lookup each: the orders, their items, the cases named by number
        orders, items = orders_and_items(self.actor, (cell_text(cells(v, "order_no")) for _n, v in rows))
        case_nos = {cell_text(cells(v, "case_no")) for _n, v in rows} - {""}
        by_no = {
            c.case_no: c.pk for c in any_of(AfterSaleCase.objects.only("id", "case_no"), "case_no", case_nos)
        }
        latest: dict[int, int] = {}  # item id -> its latest case (cases opened by earlier rows too)
        item_ids = [i.pk for group in items.values() for i in group]
        for case_id, item_id in any_of(
            AfterSaleCase.objects.order_by("created_at", "pk").values_list("id", "item_id"),
            "item_id",
            item_ids,
        ):
            latest[item_id] = case_id

        money = MoneyWidget()
        actions = []
        for number, values in rows:
            err = batch.error
            action = ACTIONS.get(cell_text(cells(values, "action")).casefold())
            if action is None:
                err(
                    number,
                    col["action"],
                    gettext("「%(value)s」不是有效的动作，请填写：申请、修改、退货、撤销。")
                    % {"value": cells(values, "action") or ""},
                )
                continue
            item = case_id = None
            case_no, order_no = cell_text(cells(values, "case_no")), cell_text(cells(values, "order_no"))
            if case_no:
                case_id = by_no.get(case_no)
                if case_id is None:
                    err(number, col["case_no"], gettext("售后单号「%(no)s」不存在。") % {"no": case_no})
                    continue
            if order_no or action == "open" or case_id is None:
                order = orders.get(order_no)
                if order is None:
                    err(
                        number,
                        col["order_no"],
                        gettext("订单号「%(no)s」不存在。") % {"no": order_no}
                        if order_no
                        else gettext("请填写订单号（或售后单号）。"),
                    )
                    continue
                item = pick_item(items.get(order.pk, []), cell_text(cells(values, "item")))
                if isinstance(item, str):
                    err(number, col["item"], item)
                    continue
            if action == "open":
                opened = self._open_values(values, cells, money)
                if isinstance(opened, dict):
                    for column, message in opened.items():
                        err(number, col[column], message)
                    continue
                actions.append((number, col["action"], self._opener(item, opened, latest, col)))
                continue
            if case_id is None:  # the item's latest case when the row runs (an earlier row may open it)
                case_id = _latest_of(item, latest, col)
            else:
                case_id = _fixed(case_id)
            if action == "revise":
                try:
                    amount = money.clean(cells(values, "amount"))
                except ValueError as exc:
                    err(number, col["amount"], str(exc))
                    continue
                description = cell_plain(cells(values, "description"))
                actions.append((number, col["action"], self._reviser(case_id, amount, description, col)))
            elif action == "return":
                carrier = carrier_code(cells(values, "carrier"))
                tracking = cell_text(cells(values, "tracking_no"))
                actions.append((number, col["action"], self._returner(case_id, carrier, tracking, col)))
            else:
                actions.append((number, col["action"], self._withdrawer(case_id, col)))

        if batch.errors:  # rows that cannot even be read: the services are still asked about the others
            dry_run = True
        import_types = run_actions(batch, actions, dry_run=dry_run)
        return batch.finish(import_types, preview_of(self, dataset))

    # -- rows

    @staticmethod
    def _open_values(values, cells, money):
        errors = {}
        case_type = choice_of(CaseType, cells(values, "type"))
        reason = choice_of(Reason, cells(values, "reason"))
        if not case_type:
            errors["type"] = gettext("请填写有效的售后类型：仅退款、退货退款或换货。")
        if not reason:
            errors["reason"] = gettext("请填写有效的售后原因（如 七天无理由、质量问题）。")
        amount = quantity = None
        try:
            amount = money.clean(cells(values, "amount"))
            if amount is None:
                errors["amount"] = gettext("该列必须填写。")
        except ValueError as exc:
            errors["amount"] = str(exc)
        try:
            quantity = parse_count(cells(values, "quantity")) or 1
        except ValueError as exc:
            errors["quantity"] = str(exc)
        if errors:
            return errors
        return case_type, reason, amount, quantity, cell_plain(cells(values, "description"))

    @staticmethod
    def _refused(exc, col, default="action"):
        column = CASE_ERROR_COLUMNS.get(getattr(exc, "code", None) or "", default)
        return ValidationError({col[column]: ["；".join(exc.messages)]})

    def _opener(self, item, opened, latest, col):
        case_type, reason, amount, quantity, description = opened

        def act():
            previous = latest.get(item.pk)
            if previous is not None:
                same = AfterSaleCase.objects.filter(
                    pk=previous, type=case_type, reason=reason, amount=amount, quantity=quantity
                ).exists()
                if same:
                    return "skip"  # the feed's same request, imported before
            try:
                case = services.open_case(
                    item.pk,
                    type=case_type,
                    reason=reason,
                    amount=amount,
                    quantity=quantity,
                    description=description,
                )
            except ValidationError as exc:
                raise self._refused(exc, col, "item") from exc
            latest[item.pk] = case.pk
            return "new"

        return act

    def _reviser(self, case_of, amount, description, col):
        def act():
            case_id = case_of()
            case = AfterSaleCase.objects.get(pk=case_id)
            if case.status == CaseStatus.PENDING and (amount is None or case.amount == amount):
                return "skip"
            try:
                services.revise(case_id, amount=amount, description=description)
            except ValidationError as exc:
                raise self._refused(exc, col) from exc
            return "update"

        return act

    def _returner(self, case_of, carrier, tracking, col):
        def act():
            case_id = case_of()
            case = AfterSaleCase.objects.get(pk=case_id)
            if case.return_tracking_no and case.return_tracking_no == normalise_tracking(tracking):
                return "skip"
            try:
                services.buyer_ship_return(case_id, carrier=carrier, tracking_no=tracking)
            except ValidationError as exc:
                raise self._refused(exc, col) from exc
            return "update"

        return act

    def _withdrawer(self, case_of, col):
        def act():
            case_id = case_of()
            if AfterSaleCase.objects.filter(pk=case_id, status=CaseStatus.CANCELLED).exists():
                return "skip"
            try:
                services.cancel(case_id)
            except ValidationError as exc:
                raise self._refused(exc, col) from exc
            return "update"

        return act


def _fixed(case_id):
    return lambda: case_id


def _latest_of(item, latest, col):
    def case_of():
        case_id = latest.get(item.pk)
        if case_id is None:
            raise ValidationError({col["item"]: [gettext("该商品没有售后单。")]})
        return case_id

    return case_of
