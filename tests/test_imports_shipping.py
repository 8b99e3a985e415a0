"""Batch shipping through ship_many, the batch form of ship() (S-1, S-2, B-1..B-3): the same rows as the ship
button, every refusal naming its row, tracking formats, no query per row, and the malformed-file set for
the new imports."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from merchants import services
from merchants.kernel.importing import ImportFileError, read_table
from merchants.models import Order, OrderEvent, Package
from merchants.resources import OrderResource, ShippingResource
from merchants.transitions import AftersaleLock, Carrier, OrderStatus
from tests.factories import OrderFactory, OrderItemFactory, ProductFactory, SkuFactory
from tests.test_bulk_import import SHIP_HEADERS, csv_bytes, import_shipping

pytestmark = pytest.mark.django_db


def _orders(shop, n, prefix="O-SM"):
    made = []
    for i in range(n):
        order = OrderFactory(merchant=shop, order_no=f"{prefix}-{i}", items=0)
        for color in ("W", "B"):
            sku = SkuFactory(product=ProductFactory(merchant=shop), sku_code=f"{prefix}-{i}-{color}")
            OrderItemFactory(order=order, product=sku.product, sku=sku, paid_amount=Decimal("50.00"))
        made.append(order)
    return made


def _state(order):
    order = Order.objects.get(pk=order.pk)
    columns = {f.attname: getattr(order, f.attname) for f in Order._meta.concrete_fields}
    for name in (
        "id",
        "order_no",
        "buyer_id",
        "updated_at",
        "shipped_at",
        "deadline_at",
        "placed_at",
        "paid_at",
        "ship_by",
    ):
        columns.pop(name)
    events = [
        (e.kind, e.source_status, e.target_status, e.actor_id, e.actor_kind, sorted(e.params), sorted(e.data))
        for e in order.events.order_by("pk")
    ]
    return columns, events, sorted(order.items.values_list("package__carrier", flat=True))


def test_S1_ship_many_leaves_the_same_rows_as_ship(shop, clerk):
    one, two = _orders(shop, 2)
    first, second = (list(o.items.order_by("pk")) for o in (one, two))
    services.ship(one, items=[first[0]], carrier=Carrier.SF, tracking_no="SF1000000001", actor=clerk)
    services.ship(one, items=[first[1]], carrier=Carrier.SF, tracking_no="SF1000000002", actor=clerk)
    services.ship_many(
        [
            services.ShipLine(
                order_id=two.pk, item_ids=[second[0].pk], carrier="sf", tracking_no="SF1000000003"
            ),
            services.ShipLine(
                order_id=two.pk, item_ids=[second[1].pk], carrier="sf", tracking_no="SF1000000004"
            ),
        ],
        actor=clerk,
    )

    assert _state(one) == _state(two)
    assert Order.objects.get(pk=two.pk).status == OrderStatus.SHIPPED
    statuses = list(two.events.filter(kind=OrderEvent.Kind.SHIPPED).values_list("target_status", flat=True))
    assert statuses == [OrderStatus.PARTIALLY_SHIPPED, OrderStatus.SHIPPED]


def test_S2_ship_many_refuses_every_bad_line_by_key_and_writes_nothing(shop, clerk):
    one, two = _orders(shop, 2)
    locked = two.items.order_by("pk").first()
    locked.aftersale_lock = AftersaleLock.REFUNDED
    locked.save(update_fields=["aftersale_lock"])
    items = list(one.items.order_by("pk"))
    lines = [
        services.ShipLine(
            order_id=one.pk, item_ids=[items[0].pk], carrier="sf", tracking_no="SF1000000001", key="a"
        ),
        services.ShipLine(
            order_id=one.pk, item_ids=[items[0].pk], carrier="sf", tracking_no="SF1000000002", key="b"
        ),
        services.ShipLine(
            order_id=two.pk, item_ids=[locked.pk], carrier="sf", tracking_no="SF1000000003", key="c"
        ),
        services.ShipLine(
            order_id=one.pk, item_ids=[items[1].pk], carrier="sf", tracking_no="SF1000000001", key="d"
        ),
        services.ShipLine(
            order_id=two.pk, item_ids=[items[1].pk], carrier="sf", tracking_no="SF1000000005", key="e"
        ),
        services.ShipLine(order_id=two.pk, item_ids=[], carrier="jd", tracking_no="123", key="f"),
    ]
    with pytest.raises(services.ShipRefused) as refused:
        services.ship_many(lines, actor=clerk)

    codes = [(key, error.code) for key, error in refused.value.refusals]
    assert codes == [
        ("b", "already_shipped"),  # S-1: line a shipped it
        ("c", "aftersale_refunded"),  # S-2
        ("d", "duplicate_tracking"),
        ("e", "items"),  # another order's item
        ("f", "tracking_no"),  # merchants.tracking: not a JD number
    ]
    assert not Package.objects.exists() and not OrderEvent.objects.exists()


def test_S1_a_tracking_number_in_the_wrong_carriers_format_is_refused_naming_its_row(shop, clerk):
    _orders(shop, 1)
    rows = [["O-SM-0", "O-SM-0-W", "顺丰速运", "JT1234567890123"]]
    resource, result = import_shipping(clerk, csv_bytes(SHIP_HEADERS, rows))

    ((error),) = resource.row_errors(result)
    assert (error.row, error.column) == (2, "运单号") and "极兔" in error.message or "看起来" in error.message
    assert not Package.objects.exists()


def test_B2_batch_shipping_reads_gb18030_and_bom_files(shop, clerk):
    _orders(shop, 2)
    for n, encoding in enumerate(("gb18030", "utf-8-sig")):
        rows = [[f"O-SM-{n}", "", "顺丰速运", f"SF100000000{n}"]]
        resource, result = import_shipping(clerk, csv_bytes(SHIP_HEADERS, rows, encoding=encoding))
        assert not result.has_validation_errors(), resource.row_errors(result)
    assert Package.objects.count() == 2


def test_B3_batch_shipping_makes_the_same_queries_for_5_rows_as_for_40(shop, clerk):
    _orders(shop, 45, prefix="O-Q")

    def rows(numbers):
        return [[f"O-Q-{i}", "", "sf", f"SF{2000000000 + i}"] for i in numbers]

    with CaptureQueriesContext(connection) as small:
        import_shipping(clerk, csv_bytes(SHIP_HEADERS, rows(range(5))))
    with CaptureQueriesContext(connection) as large:
        import_shipping(clerk, csv_bytes(SHIP_HEADERS, rows(range(5, 45))))

    assert Package.objects.count() == 45
    assert len(large.captured_queries) <= len(small.captured_queries) + 4  # no query per row


@pytest.mark.parametrize(
    "data, message",
    [
        (b"", "文件是空的"),
        (b"\x00\x01\x02\x03binary\xff\xfe" * 50, "无法识别文件编码"),
        (b"\x00\x01\x02\x03 binary junk " * 50, "不是 CSV"),
        ("订单号\nO-1\n".encode(), "缺少必需的列"),
        ("订单号,颜色\nO-1,红\n".encode(), "无法识别的列"),
    ],
)
def test_B3_malformed_files_for_the_new_imports_get_a_message(shop, clerk, data, message):
    for resource_class in (ShippingResource, OrderResource):
        resource = resource_class(actor=clerk)
        try:
            result = resource.import_data(read_table(data), dry_run=True, raise_errors=False)
        except ImportFileError as exc:
            assert message in " ".join(exc.messages)
            continue
        assert message in " ".join(e.message for e in resource.row_errors(result))


def test_B3_a_formula_in_a_shipping_cell_is_an_error_naming_it(shop, clerk):
    _orders(shop, 1)
    resource, result = import_shipping(
        clerk, csv_bytes(SHIP_HEADERS, [["O-SM-0", "", "sf", "=HYPERLINK(1)"]])
    )
    assert [(e.row, e.column) for e in resource.row_errors(result)] == [(2, "运单号")]
    assert not Package.objects.exists()


@pytest.mark.parametrize("status", list(OrderStatus.values))
def test_S1_ship_many_moves_only_from_the_states_settle_shipping_allows(shop, clerk, status):
    """ship_many checks plain rows, not model instances: the verdict and the message must stay the FSM's."""
    from django.utils.translation import gettext

    from merchants.kernel.workflow import InvalidTransitionError, require_transition

    (order,) = _orders(shop, 1, prefix=f"O-ST-{status}")
    Order.objects.filter(pk=order.pk).update(status=status)
    order = Order.objects.get(pk=order.pk)
    before = (order.shipped_at, order.shipped_late, order.deadline_at)
    item = order.items.order_by("pk").first()
    line = services.ShipLine(order_id=order.pk, item_ids=[item.pk], carrier="sf", tracking_no="SF1000000001")
    try:
        require_transition(order.settle_shipping, action=gettext("发货"))
        expected = None
    except InvalidTransitionError as exc:
        expected = exc.messages
    if expected is None:
        services.ship_many([line], actor=clerk)
        after = Order.objects.get(pk=order.pk)
        assert after.status == OrderStatus.PARTIALLY_SHIPPED  # one of its two items
        assert (after.shipped_at, after.shipped_late, after.deadline_at) == before  # untouched until shipped
    else:
        with pytest.raises(services.ShipRefused) as refused:
            services.ship_many([line], actor=clerk)
        assert refused.value.refusals[0][1].messages == expected
        assert refused.value.refusals[0][1].code == "invalid_state"
        assert not Package.objects.filter(order=order).exists()
