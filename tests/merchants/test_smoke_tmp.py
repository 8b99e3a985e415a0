from decimal import Decimal

from merchants import services
from merchants.transitions import Carrier, OrderStatus
from tests.factories import OrderFactory


def test_ship_all(shop, clerk):
    order = OrderFactory(merchant=shop, items=2)
    items = list(order.items.all())
    services.ship(order, items=[items[0]], carrier=Carrier.SF, tracking_no="SF1234567890", actor=clerk)
    order.refresh_from_db()
    assert order.status == OrderStatus.PARTIALLY_SHIPPED
    services.ship(order, items=[items[1]], carrier=Carrier.SF, tracking_no="SF1234567891", actor=clerk)
    order.refresh_from_db()
    assert order.status == OrderStatus.SHIPPED
    assert order.events.count() == 2
