"""How orders look in lists: their state badges (the shared helpers are the kernel's)."""

from merchants.transitions import OrderStatus

# Badge colours of unfold's label component: default (grey), info, success, warning, danger, primary.
STATUS_VARIANTS = {
    OrderStatus.UNPAID: "default",
    OrderStatus.AWAITING_CONFIRMATION: "primary",
    OrderStatus.TO_SHIP: "warning",
    OrderStatus.PARTIALLY_SHIPPED: "info",
    OrderStatus.SHIPPED: "info",
    OrderStatus.RECEIVED: "success",
    OrderStatus.CANCELLED: "default",
}


def status_label(status: str) -> str:
    try:
        return str(OrderStatus(status).label)
    except ValueError:
        return status or "-"
