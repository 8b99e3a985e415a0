"""After-sales errors: business refusals (ApplicationError, shown to the user) and the gateway's transient one."""

from merchants.kernel.checks import AmountError
from merchants.kernel.workflow import (
    ActorNotAllowedError,
    ApplicationError,
    InvalidTransitionError,
    ObjectNotFoundError,
)


class CaseNotEligibleError(ApplicationError):
    """The order or item cannot have an after-sales case of this kind (A-1: unpaid, cancelled, not shipped…)."""


class CaseWindowClosedError(ApplicationError):
    """A-2: the after-sales window of the order has closed."""


class CaseAlreadyOpenError(ApplicationError):
    """A-1: the item already has an open case."""


class CaseAmountError(AmountError):
    """A-1 / A-6: the amount or quantity is not positive or exceeds what is still refundable."""


class DelayReportError(ApplicationError):
    """A-9: the delay report cannot be filed or decided."""


class GatewayError(Exception):
    """The payment gateway failed transiently (timeout, busy, 5xx): the refund task retries it."""


__all__ = [
    "ActorNotAllowedError",
    "ApplicationError",
    "CaseAlreadyOpenError",
    "CaseAmountError",
    "CaseNotEligibleError",
    "CaseWindowClosedError",
    "DelayReportError",
    "GatewayError",
    "InvalidTransitionError",
    "ObjectNotFoundError",
]
