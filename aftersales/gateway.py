"""The payment gateway behind refunds (A-6): one interface, a simulated default, a failing one for tests.

The backend is chosen by the SHOUHOU_REFUND_GATEWAY setting (a dotted path). Every call carries an
idempotency key: a gateway that sees a key twice must pay once and answer with the same reference.
"""

from __future__ import annotations

import hashlib
from decimal import Decimal

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils.module_loading import import_string

from aftersales.exceptions import GatewayError

__all__ = ["FailingGateway", "GatewayError", "RefundGateway", "SimulatedGateway", "get_gateway"]


class RefundGateway:
    """Pay `amount` back to the buyer of `case_no`; returns the gateway's reference.

    Raises GatewayError when the call failed transiently (the caller retries with the same key).
    """

    def refund(self, *, idempotency_key: str, amount: Decimal, case_no: str) -> str:
        raise NotImplementedError


class SimulatedGateway(RefundGateway):
    """Always succeeds; the reference is derived from the key; a repeated key returns the same reference.

    Calls are recorded in aftersales.GatewayCall (with a call counter) so the demo and tests can see
    exactly how many times "the bank" was asked.
    """

    @staticmethod
    def reference_for(idempotency_key: str) -> str:
        return "SIM" + hashlib.sha256(idempotency_key.encode()).hexdigest()[:24].upper()

    def refund(self, *, idempotency_key: str, amount: Decimal, case_no: str) -> str:
        from aftersales.models import GatewayCall

        reference = self.reference_for(idempotency_key)
        try:
            with transaction.atomic():
                GatewayCall.objects.create(
                    idempotency_key=idempotency_key, amount=amount, case_no=case_no, reference=reference
                )
        except IntegrityError:
            call = GatewayCall.objects.select_for_update().get(idempotency_key=idempotency_key)
            if call.amount != amount:  # a real gateway refuses a reused key with other terms
                raise ValueError(f"idempotency key {idempotency_key} reused with another amount") from None
            GatewayCall.objects.filter(pk=call.pk).update(calls=F("calls") + 1)
            return call.reference
        return reference


class FailingGateway(RefundGateway):
    """Always fails transiently (tests: retries, attempts, the refund_failed flag)."""

    def refund(self, *, idempotency_key: str, amount: Decimal, case_no: str) -> str:
        raise GatewayError("simulated gateway failure")


def get_gateway() -> RefundGateway:
    """The configured backend (SHOUHOU_REFUND_GATEWAY), a fresh instance per call."""
    return import_string(settings.SHOUHOU_REFUND_GATEWAY)()
