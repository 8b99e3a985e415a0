"""The after-sales data set: 1,000,000 cases over the orders data set's 200 shops, written with COPY.

    .venv/bin/python -m bench.generate cases            # (or all data sets), skipped when present
    .venv/bin/python -m bench.generate cases --force    # rebuild the cases (the orders stay)

Every case hangs off a real order item of the orders data set (bench/generate.py): same shop, order,
item, product, order number and buyer; a case needs a paid (or confirmed cod) order that was not
cancelled (to_ship, partially_shipped, shipped, received), return and exchange need a shipped item, a
received order's cases open within the 15-day window (A-2).

Each case is *walked* from its opening to the data set's instant ("now") through the A-3 state machine
with realistic delays: the merchant answers (approve / reject / propose) or stays silent until the
48 h deadline and the system approves; the buyer ships the goods back or lets the 7 days pass; refunds
come back from the gateway in minutes (a few are flagged as failed); arbitration is decided or escalated
after 72 h; express refund (A-11) approves at once where the shop switched it on. So the state a case is
in, and its `deadline_at`, follow `AfterSaleCase._set_deadline_for` with the AftersalesSettings defaults,
and every timestamp of the path (approval, return tracking, receipt, refund, arbitration …) is set.
A waiting state whose deadline would fall less than `DEADLINE_MARGIN` after "now" is drawn again:
nothing is due by itself, even when the data set is hours old (the sweep benchmark decides exactly which
rows are due). Data is consistent with the orders data set's instant and is shifted with it.

One open case per item (`case_one_open_per_item`): an item has at most one *last* case that may be open;
~8 % of items also have an earlier case the buyer withdrew or that was closed. Items are updated to
match: an open case -> `aftersale_lock = "open"`; a refunded case -> `refunded_amount`, and "refunded"
when refunded in full. Case timelines (CaseEvent) are written for bench_shop's shop only (~15,000
events: the case pages there show a full history); the other cases have no events.
"""

from __future__ import annotations

import os
import random
from collections import Counter
from datetime import UTC, datetime, timedelta

import psycopg

from bench.common import Stopwatch, log, scalar, sql
from bench.generate import (
    BENCH_SHOP_USER,
    BENCH_STAFF_USER,
    CARRIER_PREFIX,
    CARRIERS,
    SHIFT_AFTER,
    Copier,
    _drop_secondary_indexes,
    _mark,
    _money,
    bench_shop_id,
    ensure_orders,
    marker,
)

N_CASES = int(os.environ.get("BENCH_CASES", "1000000"))
SEED = 20261124
CHUNK = 50_000
# No generated deadline is earlier than this after the data set's instant. The orders data set is shifted
# forward once it is SHIFT_AFTER old (and the cases with it), so no case falls due by itself between runs.
DEADLINE_MARGIN = SHIFT_AFTER + timedelta(hours=1)
ELIGIBLE_ORDER_STATES = ("to_ship", "partially_shipped", "shipped", "received")
EXPRESS_REFUND = "极速退款"  # aftersales.automation.EXPRESS_REFUND
H = 3600.0
D = 24 * H

CASE_COLUMNS = [
    "id",
    "case_no",
    "merchant_id",
    "order_id",
    "item_id",
    "product_id",
    "order_no",
    "buyer_id",
    "buyer_name",
    "type",
    "status",
    "reason",
    "description",
    "quantity",
    "amount",
    "postage_payer",
    "deadline_at",
    "merchant_deadline_at",
    "proposed_type",
    "proposed_amount",
    "proposal_text",
    "proposed_at",
    "negotiated",
    "reject_reason",
    "return_carrier",
    "return_tracking_no",
    "return_shipped_at",
    "return_received_at",
    "reship_carrier",
    "reship_tracking_no",
    "reshipped_at",
    "refunded_amount",
    "refunded_at",
    "refund_failed",
    "advance_paid",
    "arbitration_started_at",
    "arbitration_outcome",
    "liability",
    "arbitrated_at",
    "escalated",
    "auto_approved_by",
    "excluded_from_assessment",
    "created_at",
    "updated_at",
    "closed_at",
]
# The columns the walk fills (the others come from the order row).
WALK_FIELDS = CASE_COLUMNS[9:]
EVENT_COLUMNS = [
    "id",
    "case_id",
    "kind",
    "source_status",
    "target_status",
    "actor_id",
    "actor_kind",
    "message",
    "data",
    "amount",
    "created_at",
]

# Reasons by case type and shipping stage (weights).
REASONS = {
    ("refund_only", "not_shipped"): (
        ("no_reason", 55),
        ("other", 20),
        ("out_of_stock", 15),
        ("logistics", 10),
    ),
    ("refund_only", "shipped"): (("logistics", 40), ("no_reason", 35), ("other", 15), ("quality", 10)),
    ("refund_only", "received"): (
        ("quality", 40),
        ("not_as_described", 25),
        ("logistics", 15),
        ("other", 20),
    ),
    ("return_refund", None): (
        ("no_reason", 45),
        ("quality", 25),
        ("not_as_described", 15),
        ("wrong_item", 8),
        ("counterfeit", 2),
        ("other", 5),
    ),
    ("exchange", None): (("quality", 40), ("wrong_item", 30), ("not_as_described", 20), ("other", 10)),
}
BUYER_PAYS = {"no_reason", "other"}  # aftersales.transitions.POSTAGE_PAYER: buyer preference

# Timeline messages: the words the services and the sweep write (aftersales/services/*.py).
MSG = {
    "auto_approve": "商家超时未处理，系统自动同意。",
    "express": "符合极速退款条件（订单金额低于 ¥300.00，下单 6 小时内，未发货），系统自动同意。",
    "proposal_expired": "买家超时未回应协商方案，方案失效，售后单回到待商家处理。",
    "close_rejected": "商家拒绝后买家超时未处理，售后单自动关闭。",
    "close_return": "买家超时未寄回商品，售后单自动关闭。",
    "auto_confirm_return": "商家超时未确认收货，系统自动确认。",
    "advance_paid": "货到付款售后超时未上传退款凭证，平台先行赔付。",
    "auto_exchange": "买家超时未确认，系统自动确认换货完成。",
    "escalated": "平台介入超过 72 小时未判定，已升级至高级客服。",
    "refund_failed": "支付网关退款失败，已标记待平台处理。",
}


def _texts():
    """Buyer, merchant and staff wording, shared with the demo (demo/aftersales/wording.py)."""
    from demo.aftersales.wording import (
        ARBITRATION_NOTES,
        DESCRIPTIONS,
        ESCALATE_REASONS,
        PROPOSALS,
        REFUSE_RETURN_REASONS,
        REJECT_REASONS,
    )

    return {
        "descriptions": {str(k): v for k, v in DESCRIPTIONS.items()},
        "reject": REJECT_REASONS,
        "proposals": PROPOSALS,
        "refuse": REFUSE_RETURN_REASONS,
        "escalate": tuple(x for x in ESCALATE_REASONS if x) or ("请平台介入。",),
        "arbitration": {str(k): v for k, v in ARBITRATION_NOTES.items()},
    }


def _pick(rng: random.Random, weighted) -> str:
    total = sum(w for _, w in weighted)
    x = rng.random() * total
    for value, w in weighted:
        x -= w
        if x < 0:
            return value
    return weighted[-1][0]


# ------------------------------------------------------------------------------------------------
# One case's walk through A-3


class Limits:
    """AftersalesSettings (the database row, defaults if none) in seconds."""

    def __init__(self, settings_row):
        s = settings_row
        self.resp = s.merchant_response_hours * H
        self.nego = s.negotiation_hours * H
        self.ret = s.buyer_return_days * D
        self.receipt = s.merchant_receipt_days * D
        self.voucher = s.voucher_hours * H
        self.rejected = s.rejected_idle_days * D
        self.exchange = s.exchange_delivery_days * D
        self.arbitration = s.arbitration_hours * H
        self.express_cents = int(s.express_max_amount * 100)
        self.express_s = s.express_max_hours * H


class Walk:
    """Walk one case from `created` to `now` (epoch seconds); `fields` then holds its row, `events` its timeline.

    Deadlines follow AfterSaleCase._set_deadline_for; a deadline that passes before `now` fires the
    system's move (the sweep runs every minute: a few seconds to two minutes late).
    """

    def __init__(self, rng, lim: Limits, texts, now: float, *, record: bool):
        self.rng, self.lim, self.texts, self.now = rng, lim, texts, now
        self.record = record

    # -- bookkeeping

    def _event(self, t, kind, source, target, actor, message="", amount=None):
        if self.record:
            self.events.append((t, kind, source, target, actor, message, amount))

    def _go(self, target: str, t: float, kind: str, actor: str, message: str = "", amount=None) -> None:
        source = self.state
        self.state, self.te = target, t
        f = self.f
        f["updated_at"] = t
        lim = self.lim
        periods = {
            "rejected": lim.rejected,
            "awaiting_return": lim.ret,
            "return_in_transit": lim.receipt,
            "awaiting_voucher": lim.voucher,
            "exchange_shipped": lim.exchange,
            "arbitration": lim.arbitration,
        }
        if target == "pending":
            self.dl = f["merchant_deadline_at"]
        elif target == "negotiating":
            self.dl = t + lim.nego
        else:
            period = periods.get(target)
            self.dl = t + period if period else None
        if target in ("refunded", "exchanged", "closed", "cancelled"):
            f["closed_at"] = t
        self._event(t, kind, source, target, actor, message, amount)

    def _sys(self, deadline: float) -> float:
        return deadline + self.rng.uniform(5, 120)

    def _after_approval(self) -> str:
        if self.f["type"] == "refund_only":
            return "awaiting_voucher" if self.cod else "refunding"
        return "awaiting_return"

    def _approve(self, t, actor, message=""):
        self._go(self._after_approval(), t, "approved", actor, message, self.f["amount"])

    def _mark_paid(self, t):
        f = self.f
        f["refunded_amount"], f["refunded_at"], f["refund_failed"] = f["amount"], t, False

    # -- the walk

    def run_withdrawn(self, ctx: dict, created: float, reason: str, amount: int, quantity: int) -> dict:
        """An item's earlier case that ended without money moving: withdrawn, or refused and left to close."""
        rng = self.rng
        f = self._open(ctx, created, "refund_only", reason, amount, quantity)
        if rng.random() < 0.7:
            self._go("cancelled", created + rng.uniform(600, D), "cancelled", "buyer")
        else:
            f["reject_reason"] = rng.choice(self.texts["reject"])
            self._go("rejected", created + rng.uniform(H, 40 * H), "rejected", "merchant", f["reject_reason"])
            self._go("closed", self._sys(self.dl), "closed", "system", MSG["close_rejected"])
        f["status"], f["deadline_at"] = self.state, None
        return f

    def run(self, ctx: dict, created: float, case_type: str, reason: str, amount: int, quantity: int) -> dict:
        lim = self.lim
        f = self._open(ctx, created, case_type, reason, amount, quantity)
        revised = False
        # express refund approves the moment the case opens.
        if (
            ctx["express"]
            and case_type == "refund_only"
            and not ctx["in_package"]
            and ctx["order_cents"] < lim.express_cents
            and created - ctx["placed"] < lim.express_s
        ):
            f["auto_approved_by"] = EXPRESS_REFUND
            self._approve(created, "system", MSG["express"])
        return self._walk(f, revised)

    def _open(
        self, ctx: dict, created: float, case_type: str, reason: str, amount: int, quantity: int
    ) -> dict:
        rng, lim = self.rng, self.lim
        self.cod = ctx["cod"]
        self.events = []
        descriptions = self.texts["descriptions"][reason]
        f = self.f = dict.fromkeys(WALK_FIELDS)
        f.update(
            type=case_type,
            status="pending",
            reason=reason,
            description=rng.choice(descriptions) if rng.random() < 0.85 else "",
            quantity=quantity,
            amount=amount,
            postage_payer="buyer" if reason in BUYER_PAYS else "merchant",
            merchant_deadline_at=created + lim.resp,
            proposed_type="",
            proposal_text="",
            negotiated=False,
            reject_reason="",
            return_carrier="",
            return_tracking_no="",
            reship_carrier="",
            reship_tracking_no="",
            refund_failed=False,
            advance_paid=False,
            arbitration_outcome="",
            liability="",
            escalated=False,
            auto_approved_by="",
            excluded_from_assessment=False,
            created_at=created,
            updated_at=created,
        )
        self.state = ""
        self._go("pending", created, "opened", "buyer", f["description"], amount)
        return f

    def _walk(self, f: dict, revised: bool) -> dict:
        rng, lim, now = self.rng, self.lim, self.now
        while True:
            state, te, dl = self.state, self.te, self.dl
            u = rng.random()
            if state == "pending":
                room = dl - te
                if room < 600:  # the original clock ran out meanwhile (a declined proposal)
                    t, move = self._sys(max(dl, te)), "auto_approve"
                elif u < 0.03:
                    t, move = te + rng.uniform(300, min(room, D) * 0.9), "cancel"
                elif u < 0.13:
                    t, move = self._sys(dl), "auto_approve"
                else:
                    t = te + min(rng.expovariate(1 / (8 * H)), room - 120)
                    d = rng.random()
                    move = "approve" if d < 0.80 else ("reject" if d < 0.92 else "propose")
                    if move == "propose" and f["proposed_at"] is not None:
                        move = "approve"
                if t > now:
                    break
                if move == "cancel":
                    self._go("cancelled", t, "cancelled", "buyer")
                elif move == "auto_approve":
                    self._approve(t, "system", MSG["auto_approve"])
                elif move == "approve":
                    self._approve(t, "merchant")
                elif move == "reject":
                    f["reject_reason"] = rng.choice(self.texts["reject"])
                    self._go("rejected", t, "rejected", "merchant", f["reject_reason"])
                else:
                    part = max(100, int(f["amount"] * rng.uniform(0.3, 0.8)) // 100 * 100)
                    f["proposed_type"], f["proposed_amount"], f["proposed_at"] = "refund_only", part, t
                    f["proposal_text"] = rng.choice(self.texts["proposals"]).format(amount=_money(part))
                    self._go("negotiating", t, "proposed", "merchant", f["proposal_text"], part)
            elif state == "negotiating":
                if u < 0.85:
                    t = te + min(rng.expovariate(1 / (10 * H)), dl - te - 120)
                else:
                    t = self._sys(dl)
                if t > now:
                    break
                if u < 0.60:
                    f["type"], f["negotiated"] = f["proposed_type"] or f["type"], True
                    if f["proposed_amount"] is not None:
                        f["amount"] = f["proposed_amount"]
                    self._go(self._after_approval(), t, "proposal_accepted", "buyer", amount=f["amount"])
                elif u < 0.85:
                    self._go("pending", t, "proposal_declined", "buyer")
                else:
                    self._go("pending", t, "proposal_expired", "system", MSG["proposal_expired"])
            elif state == "rejected":
                if u < 0.20 and not revised:
                    t, move = te + rng.uniform(H, min(dl - te - 120, 3 * D)), "revise"
                elif u < 0.45:
                    t, move = te + rng.uniform(H, min(dl - te - 120, 5 * D)), "escalate"
                elif u < 0.55:
                    t, move = te + rng.uniform(H, min(dl - te - 120, 5 * D)), "cancel"
                else:
                    t, move = self._sys(dl), "close"
                if t > now:
                    break
                if move == "revise":
                    revised = True
                    f["merchant_deadline_at"] = t + lim.resp
                    self._go("pending", t, "revised", "buyer")
                elif move == "escalate":
                    f["arbitration_started_at"] = t
                    self._go(
                        "arbitration", t, "arbitration_requested", "buyer", rng.choice(self.texts["escalate"])
                    )
                elif move == "cancel":
                    self._go("cancelled", t, "cancelled", "buyer")
                else:
                    self._go("closed", t, "closed", "system", MSG["close_rejected"])
            elif state == "awaiting_return":
                if u < 0.85:
                    t, move = te + rng.uniform(2 * H, 5 * D), "ship"
                elif u < 0.88:
                    t, move = te + rng.uniform(H, 5 * D), "cancel"
                else:
                    t, move = self._sys(dl), "close"
                if t > now:
                    break
                if move == "ship":
                    carrier = rng.choice(CARRIERS)
                    f["return_carrier"], f["return_shipped_at"] = carrier, t
                    f["return_tracking_no"] = f"{CARRIER_PREFIX[carrier]}{rng.randrange(10**12, 10**13)}"
                    self._go("return_in_transit", t, "return_shipped", "buyer")
                elif move == "cancel":
                    self._go("cancelled", t, "cancelled", "buyer")
                else:
                    self._go("closed", t, "closed", "system", MSG["close_return"])
            elif state == "return_in_transit":
                if u < 0.83:
                    t, move = te + rng.uniform(12 * H, 6 * D), "confirm"
                elif u < 0.87:
                    t, move = te + rng.uniform(12 * H, 5 * D), "refuse"
                else:
                    t, move = self._sys(dl), "auto_confirm"
                if t > now:
                    break
                if move == "refuse":
                    f["arbitration_started_at"] = t
                    self._go("arbitration", t, "return_refused", "merchant", rng.choice(self.texts["refuse"]))
                    continue
                f["return_received_at"] = t
                if f["type"] == "exchange":
                    target = "reshipping"
                else:
                    target = "awaiting_voucher" if self.cod else "refunding"
                if move == "confirm":
                    self._go(target, t, "return_confirmed", "merchant")
                else:
                    self._go(target, t, "return_confirmed", "system", MSG["auto_confirm_return"])
            elif state == "awaiting_voucher":
                if u < 0.85:
                    t, move = te + rng.uniform(H, 40 * H), "voucher"
                else:
                    t, move = self._sys(dl), "advance"
                if t > now:
                    break
                self._mark_paid(t)
                if move == "voucher":
                    self._go("refunded", t, "voucher_uploaded", "merchant", amount=f["amount"])
                else:
                    f["advance_paid"] = True
                    self._go("refunded", t, "advance_paid", "system", MSG["advance_paid"], f["amount"])
            elif state == "reshipping":
                t = te + rng.uniform(2 * H, 3 * D)
                if t > now:
                    break
                carrier = rng.choice(CARRIERS)
                f["reship_carrier"], f["reshipped_at"] = carrier, t
                f["reship_tracking_no"] = f"{CARRIER_PREFIX[carrier]}{rng.randrange(10**12, 10**13)}"
                self._go("exchange_shipped", t, "reshipped", "merchant")
            elif state == "exchange_shipped":
                if u < 0.7:
                    t, actor, message = te + rng.uniform(2 * D, 10 * D), "buyer", ""
                else:
                    t, actor, message = self._sys(dl), "system", MSG["auto_exchange"]
                if t > now:
                    break
                self._go("exchanged", t, "exchange_confirmed", actor, message)
            elif state == "refunding":
                if f["refund_failed"]:
                    break  # flagged: waits for platform staff (retry_refund)
                if u < 0.004:
                    t = te + rng.uniform(H, D)
                    if t > now:
                        break
                    f["refund_failed"] = True
                    self._event(t, "refund_failed", "refunding", "refunding", "system", MSG["refund_failed"])
                    f["updated_at"] = t
                    continue
                t = te + (rng.uniform(5, 600) if u < 0.97 else rng.uniform(600, 6 * H))
                if t > now:
                    break
                self._mark_paid(t)
                self._go("refunded", t, "refunded", "system", amount=f["amount"])
            elif state == "arbitration":
                decide = te + (rng.uniform(4 * H, 70 * H) if u < 0.75 else rng.uniform(72 * H, 8 * D))
                if dl is not None and decide > dl:  # 72 h without a decision: escalated
                    t = self._sys(dl)
                    if t > now:
                        break
                    f["escalated"], f["updated_at"], self.dl = True, t, None
                    self._event(t, "escalated", "arbitration", "arbitration", "system", MSG["escalated"])
                    decide = max(decide, t + rng.uniform(2 * H, 3 * D))
                if decide > now:
                    break
                r = rng.random()
                f["arbitrated_at"] = decide
                if r < 0.55:
                    f["arbitration_outcome"] = "refund"
                    f["liability"] = _pick(rng, (("merchant", 7), ("both", 2), ("none", 1)))
                    target = "awaiting_voucher" if self.cod else "refunding"
                elif r < 0.70:
                    f["arbitration_outcome"], f["liability"], target = "reship", "merchant", "reshipping"
                else:
                    f["arbitration_outcome"] = "reject"
                    f["liability"] = "buyer" if rng.random() < 0.7 else "none"
                    target = "closed"
                note = self.texts["arbitration"].get(f["arbitration_outcome"], "")
                self._go(target, decide, "arbitrated", "platform", note)
            else:  # final
                break
        f["status"] = self.state
        f["deadline_at"] = self.dl
        return f


# ------------------------------------------------------------------------------------------------
# The generator


SOURCE_QUERY = """
    SELECT i.id, i.order_id, i.product_id, i.quantity, (i.paid_amount * 100)::bigint, i.package_id IS NOT NULL,
           o.merchant_id, o.order_no, o.buyer_id, o.buyer_name, o.status, o.payment_method = 'cod',
           (o.paid_amount * 100)::bigint, extract(epoch FROM o.placed_at)::float8,
           extract(epoch FROM coalesce(o.paid_at, o.placed_at))::float8,
           extract(epoch FROM o.shipped_at)::float8, extract(epoch FROM o.received_at)::float8
    FROM {items} i JOIN {orders} o ON o.id = i.order_id
    WHERE o.status IN ('to_ship', 'partially_shipped', 'shipped', 'received')
    ORDER BY i.id
"""


def _ts(x: float | None):
    return None if x is None else datetime.fromtimestamp(x, UTC)


def _window(status, paid, shipped, received, now) -> tuple[float, float]:
    """When a case on this order may open: [earliest, latest] (A-2's window for received orders)."""
    if status == "received":
        return received + 60, min(received + 15 * D, now - 60)
    if status == "shipped":
        return shipped + 60, now - 60
    return paid + 60, now - 60  # to_ship, partially_shipped


def generate_cases(now_dt: datetime) -> dict:
    """Truncate the case tables and COPY the data set in one transaction; fix the items to match."""
    from django.contrib.auth import get_user_model
    from django.db import connection, transaction

    from aftersales.models import AfterSaleCase, AftersalesSettings, CaseEvent
    from merchants.models import Merchant, Order, OrderItem

    rng = random.Random(SEED)
    lim = Limits(AftersalesSettings.load())
    texts = _texts()
    now = now_dt.timestamp()
    margin = DEADLINE_MARGIN.total_seconds()
    express = dict(Merchant.objects.values_list("pk", "express_refund_enabled"))
    bench_shop = bench_shop_id()
    User = get_user_model()
    users = dict(
        User.objects.filter(username__in=[BENCH_SHOP_USER, BENCH_STAFF_USER]).values_list("username", "pk")
    )
    actor_ids = {"merchant": users.get(BENCH_SHOP_USER), "platform": users.get(BENCH_STAFF_USER)}
    case_table, event_table, item_table = (
        AfterSaleCase._meta.db_table,
        CaseEvent._meta.db_table,
        OrderItem._meta.db_table,
    )
    states: Counter = Counter()
    walk_rng = rng
    with transaction.atomic(), connection.cursor() as cur:
        cur.execute(f"TRUNCATE {case_table}, {event_table} RESTART IDENTITY CASCADE")
        cur.execute("SET LOCAL session_replication_role = replica")
        dropped = _drop_secondary_indexes(cur, [case_table, event_table])
        cur.execute(
            f"UPDATE {item_table} SET aftersale_lock = '', refunded_amount = 0 "
            "WHERE aftersale_lock <> '' OR refunded_amount <> 0"
        )
        cur.execute(
            "CREATE TEMP TABLE bench_item_fix (item_id bigint, lock text, refunded numeric(12,2)) ON COMMIT DROP"
        )
        cases = Copier(cur, AfterSaleCase, CASE_COLUMNS)
        events = Copier(cur, CaseEvent, EVENT_COLUMNS)
        fixes_cols = ["item_id", "lock", "refunded"]

        # Read the items from a second connection: an open cursor in this transaction rules out COPY FREEZE.
        reader = psycopg.connect(**_reader_params(connection))
        source = reader.cursor(name="bench_case_source")
        source.itersize = CHUNK
        source.execute(SOURCE_QUERY.format(items=item_table, orders=Order._meta.db_table))
        case_id = event_id = 0
        case_buf, event_buf, fix_buf = [], [], []
        resampled = skipped = 0

        def flush():
            cases.write(case_buf)
            events.write(event_buf)
            with cur.copy(f"COPY bench_item_fix ({', '.join(fixes_cols)}) FROM STDIN") as copy:
                for row in fix_buf:
                    copy.write_row(row)
            case_buf.clear(), event_buf.clear(), fix_buf.clear()

        def emit(f, item_row, timeline):
            nonlocal case_id, event_id
            (iid, oid, pid, _q, _paid, _pkg, mid, order_no, buyer_id, buyer_name) = item_row[:10]
            case_id += 1
            created = f["created_at"]
            local_day = datetime.fromtimestamp(created + 8 * H, UTC)
            case_no = f"AS{local_day:%y%m%d}{(case_id * 48271 + 9973) % 10**8:08d}"
            row = [case_id, case_no, mid, oid, iid, pid, order_no, buyer_id, buyer_name]
            for name in WALK_FIELDS:
                v = f[name]
                if name in ("amount", "proposed_amount", "refunded_amount"):
                    v = None if v is None else _money(v)
                elif name.endswith("_at"):
                    v = _ts(v)
                row.append(v)
            case_buf.append(tuple(row))
            states[f["status"]] += 1
            for t, kind, src, dst, actor, message, amount in timeline:
                event_id += 1
                event_buf.append(
                    (
                        event_id,
                        case_id,
                        kind,
                        src,
                        dst,
                        actor_ids.get(actor),
                        actor,
                        message,
                        "{}",
                        None if amount is None else _money(amount),
                        _ts(t),
                    )
                )

        with Stopwatch() as sw:
            while case_id < N_CASES:
                rows = source.fetchmany(CHUNK)
                if not rows:
                    break
                for row in rows:
                    if case_id >= N_CASES:
                        break
                    (iid, oid, pid, qty, paid_cents, in_package, mid, _no, _b, _n, status, cod) = row[:12]
                    order_cents, placed, paid, shipped, received = row[12:]
                    if rng.random() >= 0.97:
                        continue  # an item nobody complained about
                    lo, hi = _window(status, paid, shipped, received, now)
                    if hi <= lo:
                        continue
                    record = mid == bench_shop
                    walker = Walk(walk_rng, lim, texts, now, record=record)
                    ctx = {
                        "cod": cod,
                        "express": express.get(mid, False),
                        "in_package": in_package,
                        "order_cents": order_cents,
                        "placed": placed,
                    }
                    stage = (
                        "received" if status == "received" else ("shipped" if in_package else "not_shipped")
                    )
                    # An earlier case on the same item, withdrawn or closed, before the last one opened.
                    if rng.random() < 0.09 and hi - lo > 2 * D:
                        t0 = lo + rng.uniform(0, (hi - lo) * 0.3)
                        prior = Walk(walk_rng, lim, texts, now, record=record)
                        reason = _pick(rng, REASONS[("refund_only", stage)])
                        f = prior.run_withdrawn(ctx, t0, reason, paid_cents, qty)
                        if f["closed_at"] < hi - H:
                            emit(f, row, prior.events)
                            lo = f["closed_at"] + rng.uniform(60, min(2 * D, hi - f["closed_at"] - 60))
                            if case_id >= N_CASES:
                                break
                    # The item's last case: may be open.
                    if stage == "not_shipped":
                        case_type = "refund_only"
                    elif stage == "shipped":
                        case_type = _pick(rng, (("refund_only", 50), ("return_refund", 40), ("exchange", 10)))
                    else:
                        case_type = _pick(rng, (("refund_only", 30), ("return_refund", 55), ("exchange", 15)))
                    reason = _pick(rng, REASONS.get((case_type, stage)) or REASONS[(case_type, None)])
                    amount, quantity = paid_cents, qty
                    if case_type == "refund_only" and stage == "received" and rng.random() < 0.6:
                        amount = max(100, int(paid_cents * rng.uniform(0.1, 0.9)) // 100 * 100)
                    elif qty > 1 and rng.random() < 0.3:
                        amount, quantity = paid_cents // qty, 1
                    for _attempt in range(12):
                        span = hi - lo
                        # Buyers complain soon after receipt; before it, any time.
                        created = lo + span * (rng.random() ** 2 if stage == "received" else rng.random())
                        f = walker.run(ctx, created, case_type, reason, amount, quantity)
                        if f["deadline_at"] is None or f["deadline_at"] >= now + margin:
                            break
                        resampled += 1
                    else:
                        skipped += 1
                        continue
                    emit(f, row, walker.events)
                    if f["status"] in ("refunded",):
                        lock = "refunded" if f["refunded_amount"] >= paid_cents else ""
                        fix_buf.append((iid, lock, _money(f["refunded_amount"])))
                    elif f["status"] not in ("exchanged", "closed", "cancelled"):
                        fix_buf.append((iid, "open", "0.00"))
                flush()
                log(f"  {case_id:,} cases ({case_id / max(sw_elapsed(sw), 1e-6):,.0f}/s)")
            source.close()
            reader.close()
            flush()
        copy_seconds = sw.seconds
        log(f"  {resampled:,} walks drawn again (deadline inside the margin), {skipped:,} items skipped")

        with Stopwatch() as sw_items:
            cur.execute(
                f"""UPDATE {item_table} i SET aftersale_lock = f.lock, refunded_amount = f.refunded
                    FROM bench_item_fix f WHERE i.id = f.item_id"""
            )
            fixed = cur.rowcount
        log(f"  {fixed:,} items updated (open / refunded) in {sw_items.seconds:.1f} s")
        log(f"recreating {len(dropped)} indexes")
        for _name, definition in dropped:
            cur.execute(definition)
        for table in (case_table, event_table):
            cur.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), GREATEST((SELECT max(id) FROM {table}), 1))"
            )
    log("ANALYZE")
    for table in (case_table, event_table, item_table):
        sql(f"VACUUM (ANALYZE) {table}")
    return {
        "cases": cases.rows,
        "events": events.rows,
        "items_fixed": fixed,
        "copy_seconds": copy_seconds,
        "states": dict(states.most_common()),
    }


def sw_elapsed(sw: Stopwatch) -> float:
    import time

    return time.perf_counter() - sw.start


def _reader_params(connection) -> dict:
    params = connection.get_connection_params()
    return {k: v for k, v in params.items() if k not in ("cursor_factory", "context", "prepare_threshold")}


def shift_cases(delta: timedelta) -> None:
    """Move every case and case-event time forward by `delta` (as bench.generate.shift_orders does)."""
    from django.db import models

    from aftersales.models import AfterSaleCase, CaseEvent

    for model in (AfterSaleCase, CaseEvent):
        cols = [f.column for f in model._meta.local_concrete_fields if isinstance(f, models.DateTimeField)]
        sets = ", ".join(f"{c} = {c} + %(d)s" for c in cols)
        sql(f"UPDATE {model._meta.db_table} SET {sets}", {"d": delta})
        sql(f"VACUUM (ANALYZE) {model._meta.db_table}")


def ensure_cases(*, force: bool = False) -> dict:
    """The 1M-case data set on top of the orders data set; generated once, kept in step with its times."""
    from aftersales.models import AfterSaleCase

    orders = ensure_orders()
    params = {
        "cases": N_CASES,
        "seed": SEED,
        "version": 2,
        "orders_generated_at": orders["generated_at"].isoformat(),
    }
    table = AfterSaleCase._meta.db_table
    mark = marker("cases")
    if not force and mark and all(mark["params"].get(k) == v for k, v in params.items()):
        actual = scalar(f"SELECT count(*) FROM {table}")
        if actual == mark["rows"]:
            # The orders were shifted forward since: shift the cases by the same amount.
            delta = orders["consistent_at"] - mark["consistent_at"]
            if delta > timedelta(0):
                log(f"cases data set lags the orders by {delta}: shifting its times forward")
                with Stopwatch() as sw:
                    shift_cases(delta)
                sql(
                    "UPDATE bench_dataset SET consistent_at = %s WHERE name = 'cases'",
                    [orders["consistent_at"]],
                )
                log(f"shifted in {sw.seconds:.1f} s")
            else:
                log(f"cases data set present ({actual:,} cases), generation skipped")
            return marker("cases")
        log(f"cases data set incomplete ({actual:,} of {mark['rows']:,}): regenerating")
    now = orders["consistent_at"]
    log(
        f"generating {N_CASES:,} after-sales cases with COPY (consistent with the orders at {now:%Y-%m-%d %H:%M} UTC)"
    )
    with Stopwatch() as sw:
        counts = generate_cases(now)
    log(
        f"generated {counts['cases']:,} cases, {counts['events']:,} events in {sw.seconds:.1f} s "
        f"(walk + COPY {counts['copy_seconds']:.1f} s); states: {counts['states']}"
    )
    info = {"generated_in_s": round(sw.seconds, 1), "events": counts["events"], "states": counts["states"]}
    _mark("cases", {**params, **info}, counts["cases"], now)
    return marker("cases")
