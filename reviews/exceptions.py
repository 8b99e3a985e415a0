"""The refusals of the review services: each a ValidationError with a readable message (SPEC §9)."""

from merchants.kernel.workflow import ApplicationError


class ReviewNotAllowedError(ApplicationError):
    """The order or item cannot be reviewed (not received, not in the order, already reviewed)."""


class ReviewLockedError(ApplicationError):
    """Deleted by the buyer or hidden by an upheld appeal: the merchant can do nothing with it (R-3, R-5)."""


class ReplyNotAllowedError(ApplicationError):
    """A live reply exists, or the reply is not in a state that allows the move (R-2)."""


class PinNotAllowedError(ApplicationError):
    """The third pin of a product, a pin on an appealed review, unpinning what is not pinned (R-4)."""


class AppealNotAllowedError(ApplicationError):
    """A second appeal, an appeal while pinned or after the 30-day window (R-3)."""
