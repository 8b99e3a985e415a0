"""History in the reader's language (A-4, N-4): events store their kind and parameters, never a sentence
rendered at write time, and the kernel's record_event()/record_events() are the only writers."""

import importlib
from datetime import timedelta

import pytest
from django.apps import apps
from django.urls import reverse
from django.utils import timezone, translation

from aftersales.models import CaseEvent
from aftersales.transitions import CaseStatus
from merchants import services as order_services
from merchants.kernel.events import record_event, record_events, recover_params
from merchants.kernel.scoping import BUYER
from merchants.models import ActorKind, OrderEvent
from merchants.transitions import Carrier
from tests.aftersales.factories import open_pending
from tests.factories import OrderFactory

pytestmark = pytest.mark.django_db
BACKEND = "django.contrib.auth.backends.ModelBackend"


def test_A4_an_english_reader_reads_english_history_of_events_written_in_chinese(client, shop, clerk):
    order = OrderFactory(merchant=shop)
    order_services.ship(
        order, items=list(order.items.all()), carrier=Carrier.SF, tracking_no="SF1234567890", actor=clerk
    )
    shipped = order.events.get(kind=OrderEvent.Kind.SHIPPED)
    assert shipped.message == ""  # nothing rendered was stored
    assert shipped.params == {"carrier": "sf", "tracking": "SF1234567890", "count": 1}

    client.force_login(clerk, backend=BACKEND)
    url = reverse("workbench:merchants_order_change", args=[order.pk])
    chinese = client.get(url).content.decode()
    english = client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()

    assert "顺丰速运 SF1234567890，1 件商品" in chinese
    assert "SF Express SF1234567890" in english and "顺丰速运" not in english


def test_A4_case_timeline_renders_system_sentences_in_the_active_language(shop):
    case = open_pending(shop)
    record_event(case, CaseEvent.Kind.ESCALATED, actor=None, source=case.status, params={"hours": 72})
    event = case.events.get(kind=CaseEvent.Kind.ESCALATED)

    with translation.override("zh-hans"):
        chinese = event.describe()
    with translation.override("en"):
        english = event.describe()

    assert chinese == "平台介入超过 72 小时未判定，已升级至高级客服。"
    assert "72" in english and "平台" not in english


def test_A4_peoples_words_stay_as_typed_beside_the_system_sentence(shop, operator):
    case = open_pending(shop)
    record_event(
        case,
        CaseEvent.Kind.ARBITRATED,
        actor=operator,
        source=CaseStatus.ARBITRATION,
        message="买家提供的照片清楚",
        params={"outcome": "refund", "liability": "merchant"},
    )
    event = case.events.get(kind=CaseEvent.Kind.ARBITRATED)

    with translation.override("en"):
        lines = event.describe().splitlines()

    assert lines[1] == "买家提供的照片清楚"
    assert "支持退款" not in lines[0] and lines[0]


def test_A4_record_event_refuses_a_kind_its_table_does_not_know(shop):
    order = OrderFactory(merchant=shop)

    with pytest.raises(ValueError, match="unknown event kind"):
        record_event(order, "teleported", actor=None)

    assert not order.events.exists()


def test_A4_the_batch_writer_records_the_same_rows_as_the_single_one(shop):
    one, two = OrderFactory(merchant=shop), OrderFactory(merchant=shop)
    now = timezone.now()

    record_event(one, OrderEvent.Kind.AUTO_RECEIVED, actor=None, source="shipped", at=now)
    record_events([two], OrderEvent.Kind.AUTO_RECEIVED, source="shipped", at=now)

    fields = ("kind", "source_status", "target_status", "actor_id", "actor_kind", "message", "params")
    first = OrderEvent.objects.filter(order=one).values(*fields).get()
    second = OrderEvent.objects.filter(order=two).values(*fields).get()
    assert first == second


def test_A4_buyer_moves_are_recorded_as_the_buyer_and_never_as_a_user(shop):
    order = OrderFactory(merchant=shop)

    event = record_event(order, OrderEvent.Kind.PAID, actor=BUYER)

    assert (event.actor_kind, event.actor_id) == (ActorKind.BUYER, None)


def test_A4_rows_written_before_the_change_are_migrated_to_their_sentence_and_params(shop):
    order = OrderFactory(merchant=shop)
    legacy = OrderEvent.objects.create(
        order=order, kind="shipped", actor_kind="merchant", message="中通快递 ZT0000000001，2 件商品"
    )
    typed = OrderEvent.objects.create(order=order, kind="cancelled", actor_kind="merchant", message="缺货")
    case = open_pending(shop)
    old_case = CaseEvent.objects.create(
        case=case,
        kind="approved",
        actor_kind="system",
        message="命中自动退款规则「小额秒退」，系统自动同意。",
    )

    importlib.import_module("merchants.migrations.0005_event_sentences").forwards(apps, None)
    importlib.import_module("aftersales.migrations.0007_event_sentences").forwards(apps, None)

    legacy.refresh_from_db()
    typed.refresh_from_db()
    old_case.refresh_from_db()
    assert (legacy.message, legacy.params) == ("", {"carrier": "zto", "tracking": "ZT0000000001", "count": 2})
    assert (typed.message, typed.params) == ("缺货", {})
    assert old_case.params == {"why": "auto_rule", "name": "小额秒退"} and old_case.message == ""
    with translation.override("en"):
        assert "ZTO" in legacy.describe() and "中通" not in legacy.describe()


def test_A4_recover_params_keeps_a_message_that_matches_no_sentence():
    sentences = {"auto": "超时 %(hours)d 小时", "money": "¥%(amount)s"}

    assert recover_params("超时 48 小时", sentences, {}) == ("auto", {"hours": 48})
    assert recover_params("¥12.50", sentences, {}) == ("money", {"amount": "12.50"})
    assert recover_params("超时很久", sentences, {}) is None


def test_A4_an_old_row_without_params_falls_back_to_its_stored_message(shop):
    case = open_pending(shop)
    old = CaseEvent.objects.create(
        case=case, kind="escalated", actor_kind="system", message="平台介入超过 72 小时未判定（旧格式）"
    )

    with translation.override("en"):
        assert old.describe() == "平台介入超过 72 小时未判定（旧格式）"


def test_A4_order_cancelled_because_everything_was_refunded_says_why(shop):
    order = OrderFactory(merchant=shop)
    order.refresh_from_db()
    record_event(order, OrderEvent.Kind.CANCELLED, actor=None, params={"why": "all_refunded"})
    event = order.events.get(kind=OrderEvent.Kind.CANCELLED)

    with translation.override("zh-hans"):
        assert event.describe() == "全部商品已退款，交易关闭"
    assert timedelta(0) <= timezone.now() - event.created_at < timedelta(minutes=1)


def test_A4_the_batch_writer_returns_its_rows_with_ids_and_per_row_columns(shop, clerk):
    """On PostgreSQL record_events writes by COPY: the rows it returns are the rows stored, ids included."""
    cases = [open_pending(shop), open_pending(shop)]
    now = timezone.now()

    written = record_events(
        cases,
        CaseEvent.Kind.APPROVED,
        source=CaseStatus.PENDING,
        at=now,
        actor=clerk,
        params={"why": "timeout"},
        per_subject=lambda case: {"amount": case.amount, "params": {"no": case.case_no}, "data": {"n": 1}},
    )

    stored = {
        event.pk: event
        for event in CaseEvent.objects.filter(case__in=cases, kind=CaseEvent.Kind.APPROVED).order_by("pk")
    }
    assert [event.pk for event in written] == list(stored)
    fields = ("case_id", "kind", "source_status", "target_status", "actor_id", "actor_kind", "message")
    for event, case in zip(written, cases, strict=True):
        row = stored[event.pk]
        assert [getattr(row, f) for f in fields] == [getattr(event, f) for f in fields]
        assert (row.case_id, row.actor_id, row.actor_kind) == (case.pk, clerk.pk, ActorKind.MERCHANT)
        assert row.params == event.params == {"why": "timeout", "no": case.case_no}
        assert row.data == {"n": 1} and row.amount == case.amount and row.created_at == now
        assert not event._state.adding


def test_A4_a_row_loaded_with_only_some_columns_reads_the_rest_when_asked(shop):
    """merchants.kernel.models.MerchantOwned.from_db places the loaded columns by name (the sweeps load a few)."""
    case = open_pending(shop)
    from aftersales.models import AfterSaleCase

    loaded = AfterSaleCase.objects.only("status", "amount", "merchant_id").get(pk=case.pk)
    other = AfterSaleCase.objects.only("case_no", "deadline_at").get(pk=case.pk)

    assert (loaded.status, loaded.amount, loaded.merchant_id) == (case.status, case.amount, shop.pk)
    assert loaded.get_deferred_fields() >= {"case_no", "deadline_at"}
    assert (other.case_no, other.deadline_at) == (case.case_no, case.deadline_at)
    assert loaded.case_no == case.case_no  # a deferred column, loaded on first read
