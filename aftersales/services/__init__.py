"""Every write to after-sales cases (A-1..A-12): the only code that moves a case.

A package split by sub-domain (STYLE §2); callers import from here:
`from aftersales import services; services.approve(case, actor=user)`.
"""

from aftersales.services._common import requeue_refunds
from aftersales.services.addresses import (
    delete_return_address,
    make_default_return_address,
    save_return_address,
)
from aftersales.services.bulk import (
    BulkResult,
    bulk_approve,
    bulk_confirm_return,
    bulk_reject,
    bulk_results_summary,
)
from aftersales.services.cancellations import refund_cancelled_order
from aftersales.services.cases import (
    accept_proposal,
    add_message,
    approve,
    arbitrate,
    buyer_ship_return,
    cancel,
    confirm_exchange,
    confirm_return,
    decline_proposal,
    escalate,
    open_case,
    propose,
    refuse_return,
    reject,
    reship,
    revise,
    revise_proposal,
    upload_voucher,
    window_days,
    withdraw_proposal,
)
from aftersales.services.deadlines import on_deadline, run_deadlines
from aftersales.services.delays import decide_delay_report, file_delay_report
from aftersales.services.refunds import idempotency_key, pay_refund, retry_refund, stuck_refund_case_ids
from aftersales.services.shop import set_express_refund
from aftersales.services.signing import record_return_signed

__all__ = [
    "BulkResult",
    "accept_proposal",
    "add_message",
    "approve",
    "arbitrate",
    "bulk_approve",
    "bulk_confirm_return",
    "bulk_reject",
    "bulk_results_summary",
    "buyer_ship_return",
    "cancel",
    "confirm_exchange",
    "confirm_return",
    "decide_delay_report",
    "decline_proposal",
    "delete_return_address",
    "escalate",
    "file_delay_report",
    "idempotency_key",
    "make_default_return_address",
    "on_deadline",
    "open_case",
    "pay_refund",
    "propose",
    "refund_cancelled_order",
    "record_return_signed",
    "refuse_return",
    "reject",
    "requeue_refunds",
    "reship",
    "retry_refund",
    "revise",
    "revise_proposal",
    "run_deadlines",
    "save_return_address",
    "set_express_refund",
    "stuck_refund_case_ids",
    "upload_voucher",
    "window_days",
    "withdraw_proposal",
]
