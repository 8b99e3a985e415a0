"""The platform's feed of reviews and buyer deletions (B-1; staff only, on /admin/'s review list).

A row is one buyer move through reviews.services: 评价 review (`submit_review`: a received order, once
per item — R-1 — ratings 1–5, the review's time when the feed gives one) or 删除 delete
(`buyer_delete`, R-5). The item is the order's product (商品ID) or SKU (SKU编码). Rows run in file order
in one transaction; a refused row is named with the rule's message and nothing is written.

A second import of the same file changes nothing: a review row whose item already has a review with the
same ratings and text is skipped, as is a delete row whose review is deleted already.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from import_export import fields

from merchants.kernel.importing import BatchResult, SpreadsheetResource
from merchants.kernel.scoping import is_platform
from merchants.resources.cells import local_text, parse_moment
from merchants.resources.common import Cells, TextWidget, cell_plain, cell_text, preview_of, run_actions
from merchants.resources.order_rows import orders_and_items, pick_item
from reviews import services
from reviews.models import Review

ACTIONS = {
    "review": "review",
    "评价": "review",
    "delete": "delete",
    "删除": "delete",
    "删除评价": "delete",
}
RATINGS = ("product_rating", "service_rating", "logistics_rating")
REVIEW_ERROR_COLUMNS = {"not_received": "order_no", "not_in_order": "item", "already_reviewed": "item"}


class ReviewFeedResource(SpreadsheetResource):
    # Its preview runs the services and rolls back: the import center validates it inside a transaction.
    dry_run_writes_nothing = False

    action = fields.Field(column_name=_("动作"), widget=TextWidget())
    order_no = fields.Field(column_name=_("订单号"), widget=TextWidget())
    item = fields.Field(column_name=_("商品SKU"), widget=TextWidget())
    product_rating = fields.Field(column_name=_("商品评分"), widget=TextWidget())
    service_rating = fields.Field(column_name=_("服务评分"), widget=TextWidget())
    logistics_rating = fields.Field(column_name=_("物流评分"), widget=TextWidget())
    content = fields.Field(column_name=_("评价内容"), widget=TextWidget())
    created_at = fields.Field(column_name=_("评价时间"), widget=TextWidget())

    required_columns = ("action", "order_no")
    example_row = {
        "action": _("评价"),
        "order_no": "O20261100000001",
        "item": "SKU100001-WL",
        "product_rating": "5",
        "service_rating": "5",
        "logistics_rating": "4",
        "content": _("质量很好，物流也快"),
        "created_at": "2026-05-08 20:00",
    }

    class Meta:
        model = Review
        fields = (
            "action",
            "order_no",
            "item",
            "product_rating",
            "service_rating",
            "logistics_rating",
            "content",
            "created_at",
        )
        import_order = fields
        export_order = fields
        import_id_fields = ()
        report_skipped = True

    @classmethod
    def get_display_name(cls) -> str:
        return str(_("买家评价及删除"))

    def import_prepared(self, dataset, *args, dry_run=False, **kwargs):
        batch = BatchResult(self, dataset)
        if not (self.actor is None or is_platform(self.actor)):
            batch.error(1, "", gettext("只有平台客服可以导入买家评价。"))
            return batch.finish({}, preview_of(self, dataset))
        batch.formula_errors()
        cells = Cells(self, dataset)
        col = cells.column
        orders, items = orders_and_items(self.actor, (cell_text(cells(v, "order_no")) for v in dataset))

        actions = []
        for number, values in enumerate(dataset, start=1):
            err = batch.error
            action = ACTIONS.get(cell_text(cells(values, "action")).casefold())
            if action is None:
                err(
                    number,
                    col["action"],
                    gettext("「%(value)s」不是有效的动作，请填写：评价、删除。")
                    % {"value": cells(values, "action") or ""},
                )
                continue
            order_no = cell_text(cells(values, "order_no"))
            order = orders.get(order_no)
            if order is None:
                err(number, col["order_no"], gettext("订单号「%(no)s」不存在。") % {"no": order_no})
                continue
            item = pick_item(items.get(order.pk, []), cell_text(cells(values, "item")))
            if isinstance(item, str):
                err(number, col["item"], item)
                continue
            if action == "delete":
                actions.append((number, col["action"], _deleter(item, col)))
                continue
            ratings, bad = {}, False
            for name in RATINGS:
                text = cell_text(cells(values, name))
                if text.endswith(".0"):
                    text = text[:-2]
                if text not in {"1", "2", "3", "4", "5"}:
                    err(number, col[name], gettext("评分应为 1–5 的整数：%(value)s") % {"value": text or "—"})
                    bad = True
                ratings[name] = int(text) if not bad else None
            try:
                created_at = parse_moment(cells(values, "created_at"))
            except ValueError as exc:
                err(number, col["created_at"], str(exc))
                continue
            if bad:
                continue
            content = cell_plain(cells(values, "content"))
            actions.append((number, col["action"], _reviewer(order, item, ratings, content, created_at, col)))

        if batch.errors:
            dry_run = True
        import_types = run_actions(batch, actions, dry_run=dry_run)
        return batch.finish(import_types, preview_of(self, dataset))

    # -- export: the feed's own columns, which import back (every row skipped)

    def get_queryset(self):
        return super().get_queryset().select_related("order", "product", "sku")

    def dehydrate_action(self, review):
        return gettext("评价")

    def dehydrate_order_no(self, review):
        return review.order.order_no if review.order_id else ""

    def dehydrate_item(self, review):
        return review.sku.sku_code if review.sku_id else review.product.spu_id

    def dehydrate_product_rating(self, review):
        return str(review.product_rating)

    def dehydrate_service_rating(self, review):
        return str(review.service_rating)

    def dehydrate_logistics_rating(self, review):
        return str(review.logistics_rating)

    def dehydrate_content(self, review):
        return review.content

    def dehydrate_created_at(self, review):
        return local_text(review.created_at)


def _refused(exc, col, default="action"):
    column = REVIEW_ERROR_COLUMNS.get(getattr(exc, "code", None) or "", default)
    return ValidationError({col[column]: ["；".join(exc.messages)]})


def _reviewer(order, item, ratings, content, created_at, col):
    def act():
        existing = Review.objects.filter(item=item).first()
        if existing is not None and existing.content == content:
            if all(getattr(existing, name) == value for name, value in ratings.items()):
                return "skip"  # the feed's same review, imported before
        try:
            services.submit_review(
                order.pk,
                product=item.product_id,
                sku=item.sku_id,
                content=content,
                created_at=created_at,
                **ratings,
            )
        except ValidationError as exc:
            raise _refused(exc, col) from exc
        return "new"

    return act


def _deleter(item, col):
    def act():
        review = Review.objects.filter(item=item).first()
        if review is None:
            raise ValidationError({col["item"]: [gettext("这件商品没有评价，无法删除。")]})
        if review.deleted_at is not None:
            return "skip"
        try:
            services.buyer_delete(review.pk)
        except ValidationError as exc:
            raise _refused(exc, col) from exc
        return "update"

    return act
