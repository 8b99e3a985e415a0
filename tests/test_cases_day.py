"""The case day (issue 11 §4-§9, §14): return addresses, reject reasons, negotiation, bulk work, the refund
that finishes by itself, the express-refund switch, and case forms that speak English."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone, translation

from aftersales import forms, services
from aftersales.models import AfterSaleCase, CaseEvent
from aftersales.tasks import run_deadlines
from aftersales.transitions import CaseStatus, CaseType
from tests.aftersales.conftest import _media_root, make_png  # noqa: F401  (_media_root: autouse fixture)
from tests.aftersales.factories import CaseFactory, open_pending, walk_to

BACKEND = "django.contrib.auth.backends.ModelBackend"
Kind = CaseEvent.Kind
CJK = re.compile(r"[\u3400-\u9fff]")


@pytest.fixture
def queued(monkeypatch):
    """The case ids handed to the refund task (which does not run)."""
    from aftersales.tasks import refund_batch_task, refund_task

    ids: list[int] = []
    monkeypatch.setattr(refund_task, "delay", lambda case_id: ids.append(case_id))
    monkeypatch.setattr(refund_batch_task, "delay", lambda case_ids: ids.extend(case_ids))
    return ids


def login(client, user):
    client.force_login(user, backend=BACKEND)
    return client


def action_url(case, action, site="workbench"):
    return reverse(f"{site}:aftersales_aftersalecase_action", args=[case.pk, action])


def case_url(case, site="workbench"):
    return reverse(f"{site}:aftersales_aftersalecase_change", args=[case.pk])


# --------------------------------------------------------------------------------------------
# §6 Negotiation: withdraw or change a pending proposal, on the same clock


def test_A3_withdraw_proposal_returns_to_pending_on_the_original_answer_deadline(shop, clerk):
    case = walk_to(CaseStatus.NEGOTIATING, shop, clerk)
    answer_by = case.merchant_deadline_at

    with time_machine.travel(timezone.now() + timedelta(hours=3)):
        services.withdraw_proposal(case, actor=clerk)

    case.refresh_from_db()
    assert case.status == CaseStatus.PENDING
    assert case.deadline_at == answer_by  # the merchant's 48 h did not start again
    event = case.events.order_by("-pk").first()
    assert (event.kind, event.source_status, event.target_status, event.actor) == (
        Kind.PROPOSAL_WITHDRAWN,
        CaseStatus.NEGOTIATING,
        CaseStatus.PENDING,
        clerk,
    )


def test_A3_revise_proposal_changes_the_terms_and_keeps_the_negotiation_clock(shop, clerk):
    case = walk_to(CaseStatus.NEGOTIATING, shop, clerk)
    expires = case.deadline_at

    with time_machine.travel(timezone.now() + timedelta(hours=5)):
        services.revise_proposal(
            case, actor=clerk, type=CaseType.REFUND_ONLY, amount=Decimal("12.00"), text="补偿 12 元"
        )

    case.refresh_from_db()
    assert case.status == CaseStatus.NEGOTIATING
    assert (case.proposed_type, case.proposed_amount, case.proposal_text) == (
        CaseType.REFUND_ONLY,
        Decimal("12.00"),
        "补偿 12 元",
    )
    assert case.deadline_at == expires
    event = case.events.order_by("-pk").first()
    assert (event.kind, event.amount, event.message) == (
        Kind.PROPOSAL_REVISED,
        Decimal("12.00"),
        "补偿 12 元",
    )


def test_A3_revised_proposal_is_what_the_buyer_accepts(shop, clerk, queued):
    case = walk_to(CaseStatus.NEGOTIATING, shop, clerk)
    services.revise_proposal(
        case, actor=clerk, type=CaseType.REFUND_ONLY, amount=Decimal("7.00"), text="7 元"
    )

    services.accept_proposal(case)

    case.refresh_from_db()
    assert (case.type, case.amount, case.negotiated) == (CaseType.REFUND_ONLY, Decimal("7.00"), True)


@pytest.mark.parametrize("move", ["withdraw", "revise"])
def test_A3_proposal_moves_refused_for_viewer_other_shop_and_outside_negotiation(
    shop, clerk, viewer, other_clerk, move
):
    def call(case, actor):
        if move == "withdraw":
            return services.withdraw_proposal(case, actor=actor)
        return services.revise_proposal(
            case, actor=actor, type=case.type, amount=Decimal("1.00"), text="1 元"
        )

    negotiating = walk_to(CaseStatus.NEGOTIATING, shop, clerk)
    pending = walk_to(CaseStatus.PENDING, shop, clerk)

    for case, actor in ((negotiating, viewer), (negotiating, other_clerk), (pending, clerk)):
        with pytest.raises(ValidationError):
            call(case, actor)

    negotiating.refresh_from_db()
    assert negotiating.status == CaseStatus.NEGOTIATING
    assert not negotiating.events.filter(kind__in=[Kind.PROPOSAL_WITHDRAWN, Kind.PROPOSAL_REVISED]).exists()


def test_A3_revise_proposal_refuses_more_than_refundable(shop, clerk):
    case = walk_to(CaseStatus.NEGOTIATING, shop, clerk)

    with pytest.raises(ValidationError, match="超过了该商品可退的金额"):
        services.revise_proposal(case, actor=clerk, type=case.type, amount=Decimal("999.00"), text="全退")


def test_A3_withdraw_and_revise_buttons_on_a_negotiating_case(client, shop, owner):
    case = walk_to(CaseStatus.NEGOTIATING, shop, owner)

    page = login(client, owner).get(case_url(case))
    names = [b["name"] for b in page.context["case_actions"]]
    response = client.post(action_url(case, "withdraw_proposal"))

    assert {"withdraw_proposal", "revise_proposal"} <= set(names)
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.status == CaseStatus.PENDING


def test_A3_revise_proposal_page_starts_from_the_current_terms(client, shop, owner):
    case = walk_to(CaseStatus.NEGOTIATING, shop, owner)

    response = login(client, owner).get(action_url(case, "revise_proposal"))

    form = response.context["form"]
    assert form["amount"].value() == case.proposed_amount
    assert form["text"].value() == case.proposal_text


# --------------------------------------------------------------------------------------------
# §14 Every case form's validation message has English


CASE_FORMS = [
    forms.RejectForm,
    forms.ProposeForm,
    forms.ReviseProposalForm,
    forms.RefuseReturnForm,
    forms.ReshipForm,
    forms.UploadVoucherForm,
    forms.DelayReportForm,
    forms.MessageForm,
    forms.ArbitrateForm,
]


@pytest.mark.parametrize("form_class", CASE_FORMS, ids=lambda f: f.__name__)
def test_N4_case_form_errors_are_english_for_an_english_reader(shop, form_class):
    case = CaseFactory(merchant=shop, status=CaseStatus.NEGOTIATING)
    bad = {"amount": "abc", "delay_until_0": "x", "delay_until_1": "y", "tracking_no": "?", "outcome": "no"}
    bad |= {"text": "长" * 1001, "reason": "长" * 1001}

    with translation.override("en"):
        empty = form_class(data={}, files={}, case=case)
        wrong = form_class(data=bad, files={}, case=case)
        messages = [str(m) for form in (empty, wrong) for errors in form.errors.values() for m in errors]

    assert messages, f"{form_class.__name__} accepted an empty form"
    assert not [m for m in messages if CJK.search(m)], messages


def test_N4_the_same_form_error_stays_chinese_for_a_chinese_reader(shop):
    case = CaseFactory(merchant=shop)

    with translation.override("zh-hans"):
        form = forms.RefuseReturnForm(data={}, case=case)
        assert not form.is_valid()
        assert "请填写拒绝收货原因。" in form.errors["reason"]
    with translation.override("en"):
        form = forms.RefuseReturnForm(data={}, case=case)
        assert not form.is_valid()
        assert form.errors["reason"] == ["Reason for refusing the return is required."]


# --------------------------------------------------------------------------------------------
# §4 Return-address library


def _address(shop, **kwargs):
    from aftersales.models import ReturnAddress

    values = {"contact": "李仓管", "phone": "0571-88886666", "address": "杭州市余杭区仓前街道 1 号", **kwargs}
    return ReturnAddress.objects.create(merchant=shop, **values)


def _no_legacy_address(shop):
    shop.return_contact = shop.return_phone = shop.return_address = ""
    shop.save()


def test_A3_approve_sends_the_buyer_to_the_default_address_and_keeps_a_copy(shop, clerk):
    _address(shop, address="默认仓", is_default=True)
    other = _address(shop, address="备用仓")
    case = open_pending(shop, type=CaseType.RETURN_REFUND)

    services.approve(case, actor=clerk)
    other.address = "改了"
    other.save()

    case.refresh_from_db()
    assert (case.status, case.return_to_address) == (CaseStatus.AWAITING_RETURN, "默认仓")


def test_A3_approve_with_a_chosen_address_keeps_that_one_even_after_the_library_changes(client, shop, clerk):
    _address(shop, address="默认仓", is_default=True)
    chosen = _address(shop, address="备用仓", contact="王五")
    case = open_pending(shop, type=CaseType.EXCHANGE)

    services.approve(case, actor=clerk, return_address=chosen)
    chosen.address = "已搬走"
    chosen.save()
    page = login(client, clerk).get(case_url(case)).content.decode()

    case.refresh_from_db()
    assert (case.return_to_contact, case.return_to_address) == ("王五", "备用仓")
    assert "备用仓" in page and "已搬走" not in page


def test_A3_approve_refuses_another_shops_address_and_changes_nothing(shop, other_shop, clerk):
    theirs = _address(other_shop, is_default=True)
    case = open_pending(shop, type=CaseType.RETURN_REFUND)

    with pytest.raises(ValidationError, match="不是该售后单店铺的地址"):
        services.approve(case, actor=clerk, return_address=theirs.pk)

    case.refresh_from_db()
    assert case.status == CaseStatus.PENDING


def test_A3_refund_only_approval_stores_no_address(shop, clerk, queued):
    _address(shop, is_default=True)
    case = open_pending(shop, type=CaseType.REFUND_ONLY)

    services.approve(case, actor=clerk)

    case.refresh_from_db()
    assert case.return_to_address == ""


def test_A3_system_approval_on_timeout_gives_the_default_address(shop, clerk):
    _address(shop, address="默认仓", is_default=True)
    case = open_pending(shop, type=CaseType.RETURN_REFUND)
    AfterSaleCase.objects.filter(pk=case.pk).update(deadline_at=timezone.now() - timedelta(minutes=1))

    run_deadlines()

    case.refresh_from_db()
    assert (case.status, case.return_to_address) == (CaseStatus.AWAITING_RETURN, "默认仓")


def test_A3_approve_page_without_any_address_asks_for_explicit_consent(client, shop, clerk):
    _no_legacy_address(shop)
    case = open_pending(shop, type=CaseType.RETURN_REFUND)
    login(client, clerk)

    page = client.get(action_url(case, "approve")).content.decode()
    refused = client.post(action_url(case, "approve"), {})
    case.refresh_from_db()
    status_after_refusal = case.status
    accepted = client.post(action_url(case, "approve"), {"confirm_no_address": "on"})

    assert 'id="case-return-address-missing"' in page and "confirm_no_address" in page
    assert refused.status_code == 200 and status_after_refusal == CaseStatus.PENDING
    assert "请先添加退货地址" in refused.content.decode()
    assert accepted.status_code == 302
    case.refresh_from_db()
    assert (case.status, case.return_to_address) == (CaseStatus.AWAITING_RETURN, "")


def test_A3_approve_page_offers_the_shops_addresses_and_saves_the_picked_one(client, shop, clerk):
    _address(shop, address="默认仓", is_default=True)
    picked = _address(shop, address="备用仓")
    case = open_pending(shop, type=CaseType.RETURN_REFUND)
    login(client, clerk)

    page = client.get(action_url(case, "approve")).content.decode()
    client.post(action_url(case, "approve"), {"return_address": picked.pk})

    assert "默认仓" in page and "备用仓" in page and "confirm_no_address" not in page
    case.refresh_from_db()
    assert case.return_to_address == "备用仓"


def test_A3_library_keeps_one_default_per_shop(shop, owner):
    from aftersales.models import ReturnAddress

    first = ReturnAddress(merchant=shop)
    services.save_return_address(first, actor=owner, contact="甲", phone="13800138000", address_text="一号仓")
    second = ReturnAddress(merchant=shop)
    services.save_return_address(
        second, actor=owner, contact="乙", phone="13800138001", address_text="二号仓", is_default=True
    )
    services.delete_return_address(second, actor=owner)

    first.refresh_from_db()
    assert first.is_default  # the first became default, lost it to the second, got it back on its removal
    assert ReturnAddress.objects.filter(merchant=shop).count() == 1


def test_A3_only_owners_edit_the_library(shop, clerk):
    from aftersales.models import ReturnAddress

    with pytest.raises(ValidationError):
        services.save_return_address(
            ReturnAddress(merchant=shop), actor=clerk, contact="甲", phone="13800138000", address_text="仓"
        )

    assert not ReturnAddress.objects.filter(merchant=shop).exists()


def test_A3_migration_moves_the_single_address_into_the_library_as_default(shop):
    import importlib

    from django.apps import apps

    from aftersales.models import ReturnAddress

    case = CaseFactory(merchant=shop, type=CaseType.RETURN_REFUND, status=CaseStatus.AWAITING_RETURN)
    migration = importlib.import_module(
        "aftersales.migrations.0015_return_addresses_and_reject_reasons_defaults"
    )

    migration.forwards(apps, None)

    address = ReturnAddress.objects.get(merchant=shop)
    assert (address.contact, address.address, address.is_default) == (
        shop.return_contact,
        shop.return_address,
        True,
    )
    case.refresh_from_db()
    assert case.return_to_address == shop.return_address


# --------------------------------------------------------------------------------------------
# §5 Reject reasons (拒绝原因模板) and reply templates in every message box


def test_A3_reject_with_a_preset_reason_adds_the_merchants_words(shop, clerk):
    from aftersales.services.reasons import reject_reasons_for

    preset = reject_reasons_for(shop.pk).filter(evidence_required=False).first()
    case = open_pending(shop)

    services.reject(case, actor=clerk, preset=preset.pk, reason="买家已确认")

    case.refresh_from_db()
    assert case.status == CaseStatus.REJECTED
    assert case.reject_reason == f"{preset.text}：买家已确认"


def test_A3_preset_that_needs_evidence_refuses_a_reject_without_images(shop, clerk):
    from aftersales.services.reasons import reject_reasons_for

    preset = reject_reasons_for(shop.pk).filter(evidence_required=True).first()
    case = open_pending(shop)

    with pytest.raises(ValidationError, match="需要上传凭证"):
        services.reject(case, actor=clerk, preset=preset)
    case.refresh_from_db()
    assert case.status == CaseStatus.PENDING

    services.reject(case, actor=clerk, preset=preset, attachments=[make_png()])
    case.refresh_from_db()
    assert case.status == CaseStatus.REJECTED


def test_A3_reject_refuses_another_shops_preset(shop, other_shop, clerk):
    from aftersales.services.reasons import reject_reasons_for

    theirs = reject_reasons_for(other_shop.pk).first()
    case = open_pending(shop)

    with pytest.raises(ValidationError, match="拒绝原因不可用"):
        services.reject(case, actor=clerk, preset=theirs.pk)


def test_A3_reject_form_requires_evidence_for_such_a_preset_and_text_without_one(client, shop, clerk):
    from aftersales.services.reasons import reject_reasons_for

    needs = reject_reasons_for(shop.pk).filter(evidence_required=True).first()
    case = open_pending(shop)
    login(client, clerk)

    page = client.get(action_url(case, "reject")).content.decode()
    without_images = client.post(action_url(case, "reject"), {"preset": needs.pk})
    without_anything = client.post(action_url(case, "reject"), {"preset": ""})

    assert needs.text in page
    assert without_images.context["form"].errors["attachments"]
    assert without_anything.context["form"].errors["reason"]
    case.refresh_from_db()
    assert case.status == CaseStatus.PENDING


def test_A3_new_shop_gets_the_default_reject_reasons_once(shop):
    from aftersales.models import DEFAULT_REJECT_REASONS, RejectReason
    from aftersales.services.reasons import ensure_default_reject_reasons

    RejectReason.objects.filter(merchant=shop).delete()

    assert ensure_default_reject_reasons(shop.pk) == len(DEFAULT_REJECT_REASONS)
    assert ensure_default_reject_reasons(shop.pk) == 0


@pytest.mark.parametrize(
    ("status", "action", "field"),
    [
        (CaseStatus.PENDING, "reject", "reason"),
        (CaseStatus.PENDING, "propose", "text"),
        (CaseStatus.NEGOTIATING, "revise_proposal", "text"),
        (CaseStatus.RETURN_IN_TRANSIT, "refuse_return", "reason"),
        (CaseStatus.PENDING, "file_delay_report", "reason"),
        (CaseStatus.PENDING, "add_message", "text"),
    ],
)
def test_T6_every_message_box_of_the_case_pages_offers_reply_templates(
    client, shop, owner, status, action, field
):
    case = walk_to(status, shop, owner)

    response = login(client, owner).get(action_url(case, action))

    assert getattr(response.context["form"].fields[field], "reply_offer", None) is not None


# --------------------------------------------------------------------------------------------
# §7 Bulk work: confirm receipt, reject with one reason, the question, the order of results


def _list_url(tab=""):
    url = reverse("workbench:aftersales_aftersalecase_changelist")
    return f"{url}?tab={tab}" if tab else url


def _bulk(client, action, cases, *, tab="", **data):
    from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME

    body = {"action": action, ACTION_CHECKBOX_NAME: [c.pk for c in cases], **data}
    return client.post(_list_url(tab), body)


def test_A10_bulk_confirm_receipt_is_offered_on_the_awaiting_receipt_tab_only(client, shop, clerk):
    case = walk_to(CaseStatus.RETURN_IN_TRANSIT, shop, clerk)
    login(client, clerk)

    on_tab = client.get(_list_url("return_in_transit")).context["action_form"].fields["action"].choices
    elsewhere = client.get(_list_url("pending")).context["action_form"].fields["action"].choices

    assert "bulk_confirm_return_selected" in dict(on_tab)
    assert "bulk_confirm_return_selected" not in dict(elsewhere)
    assert {"bulk_approve_selected", "bulk_reject_selected"} <= set(dict(elsewhere))
    assert case.status == CaseStatus.RETURN_IN_TRANSIT


def test_A10_bulk_confirm_receipt_asks_then_confirms_each_case(client, shop, clerk):
    cases = [walk_to(CaseStatus.RETURN_IN_TRANSIT, shop, clerk) for _ in range(2)]
    exchange = walk_to(CaseStatus.RETURN_IN_TRANSIT, shop, clerk, type=CaseType.EXCHANGE)
    login(client, clerk)

    asked = _bulk(client, "bulk_confirm_return_selected", [*cases, exchange], tab="return_in_transit")
    done = _bulk(
        client, "bulk_confirm_return_selected", [*cases, exchange], tab="return_in_transit", post="yes"
    )

    assert "确认收到 3 个售后单的退货，共 ¥150.00？" in asked.content.decode()
    rows = done.context["rows"]
    assert all(row.ok for row in rows)
    assert {row.message for row in rows} == {"已确认收货，退款处理中", "已确认收货，请补发商品"}
    statuses = dict(AfterSaleCase.objects.values_list("pk", "status"))
    assert [statuses[c.pk] for c in cases] == [CaseStatus.REFUNDING] * 2
    assert statuses[exchange.pk] == CaseStatus.RESHIPPING


def test_A10_bulk_confirm_receipt_queues_each_refund_once(
    shop, clerk, queued, django_capture_on_commit_callbacks
):
    cases = [walk_to(CaseStatus.RETURN_IN_TRANSIT, shop, clerk) for _ in range(2)]

    with django_capture_on_commit_callbacks(execute=True):
        results = services.bulk_confirm_return([*cases, cases[0]], actor=clerk)

    assert [r.case_id for r in results] == [c.pk for c in cases]
    assert sorted(queued) == sorted(c.pk for c in cases)
    assert all(c.events.filter(kind=Kind.RETURN_CONFIRMED).count() == 1 for c in cases)


def test_A10_bulk_reject_with_one_reason_and_failures_first_in_the_order_selected(client, shop, clerk):
    first, second = open_pending(shop), open_pending(shop)
    negotiating = walk_to(CaseStatus.NEGOTIATING, shop, clerk)
    login(client, clerk)

    missing = _bulk(client, "bulk_reject_selected", [first, negotiating, second], post="yes")
    done = _bulk(
        client, "bulk_reject_selected", [second, negotiating, first], post="yes", reason="商品已拆封使用"
    )

    assert missing.context["form"].errors["reason"]  # asked again: nothing moved
    labels = [row.label for row in done.context["rows"]]
    assert labels == [negotiating.case_no, second.case_no, first.case_no]
    assert [row.ok for row in done.context["rows"]] == [False, True, True]
    for case in (first, second):
        case.refresh_from_db()
        assert (case.status, case.reject_reason) == (CaseStatus.REJECTED, "商品已拆封使用")
        assert case.events.filter(kind=Kind.REJECTED, message="商品已拆封使用").count() == 1


def test_A10_bulk_reject_cannot_use_a_reason_that_needs_evidence(shop, clerk):
    from aftersales.services.reasons import reject_reasons_for

    needs = reject_reasons_for(shop.pk).filter(evidence_required=True).first()
    case = open_pending(shop)

    results = services.bulk_reject([case], actor=clerk, preset=needs.pk)

    assert not results[0].ok and "需要上传凭证" in results[0].message
    case.refresh_from_db()
    assert case.status == CaseStatus.PENDING


def test_A10_bulk_approve_names_what_it_does_per_type(client, shop, clerk, queued):
    _address(shop, is_default=True)
    refund, ret, exchange = (
        open_pending(shop),
        open_pending(shop, type=CaseType.RETURN_REFUND),
        open_pending(shop, type=CaseType.EXCHANGE),
    )
    login(client, clerk)

    asked = _bulk(client, "bulk_approve_selected", [refund, ret, exchange])
    done = _bulk(client, "bulk_approve_selected", [refund, ret, exchange], post="yes")

    page = asked.content.decode()
    assert "确认同意 3 个售后单，共 ¥150.00？" in page
    assert "仅退款 1 单" in page and "退货退款 1 单" in page and "换货 1 单" in page
    assert [row.message for row in done.context["rows"]] == [
        "已同意退款，退款处理中",
        "已同意退货，等待买家寄回",
        "已同意换货，等待买家寄回",
    ]


def test_A3_bulk_approve_of_returns_without_any_address_needs_the_explicit_yes(client, shop, clerk):
    _no_legacy_address(shop)
    ret = open_pending(shop, type=CaseType.RETURN_REFUND)
    login(client, clerk)

    asked = _bulk(client, "bulk_approve_selected", [ret])
    refused = _bulk(client, "bulk_approve_selected", [ret], post="yes")
    ret.refresh_from_db()
    status_after_refusal = ret.status
    done = _bulk(client, "bulk_approve_selected", [ret], post="yes", confirm_no_address="on")

    assert "confirm_no_address" in asked.content.decode()
    assert refused.context["form"].errors["confirm_no_address"]
    assert status_after_refusal == CaseStatus.PENDING
    assert done.context["rows"][0].ok


def test_A3_bulk_approve_gives_the_picked_address_to_the_returns(shop, clerk):
    _address(shop, address="默认仓", is_default=True)
    picked = _address(shop, address="备用仓")
    cases = [open_pending(shop, type=CaseType.RETURN_REFUND) for _ in range(2)]

    results = services.bulk_approve(cases, actor=clerk, return_address=picked)

    assert all(r.ok for r in results)
    assert set(AfterSaleCase.objects.values_list("return_to_address", flat=True)) == {"备用仓"}


# --------------------------------------------------------------------------------------------
# §8 A refund that finishes by itself: the page says so and reloads once


def test_A6_refunding_case_page_says_seconds_and_reloads_once(client, shop, clerk):
    case = walk_to(CaseStatus.REFUNDING, shop, clerk)
    login(client, clerk)

    first = client.get(case_url(case))
    again = client.get(case_url(case) + "?refreshed=1")

    assert '<meta http-equiv="refresh" content="3;url=?refreshed=1">' in first.content.decode()
    assert "通常几秒内完成" in first.content.decode()
    assert 'http-equiv="refresh"' not in again.content.decode()
    assert "稍后刷新页面" in again.content.decode()


def test_A6_refunded_or_failed_case_page_does_not_reload(client, shop, clerk):
    done = walk_to(CaseStatus.REFUNDED, shop, clerk)
    failed = walk_to(CaseStatus.REFUNDING, shop, clerk)
    AfterSaleCase.objects.filter(pk=failed.pk).update(refund_failed=True)
    login(client, clerk)

    for case in (done, failed):
        assert 'http-equiv="refresh"' not in client.get(case_url(case)).content.decode()


# --------------------------------------------------------------------------------------------
# §9 The express-refund switch: one click for owners, read-only with why for the others


EXPRESS = "workbench:aftersales_aftersalecase_express_refund"


def test_A11_owner_turns_express_refund_on_from_the_case_list_in_one_post(client, shop, owner):
    from django.contrib.admin.models import LogEntry

    login(client, owner)
    listing = client.get(_list_url()).content.decode()

    response = client.post(reverse(EXPRESS), {"merchant": shop.pk, "enabled": "1", "next": _list_url()})

    assert f'id="express-toggle-{shop.pk}"' in listing
    assert response.status_code == 302 and response["Location"] == _list_url()
    shop.refresh_from_db()
    assert shop.express_refund_enabled
    entry = LogEntry.objects.get(object_id=str(shop.pk))
    assert entry.user == owner and "极速退款" in entry.change_message


def test_A11_agent_sees_the_switch_read_only_and_cannot_post_it(client, shop, clerk):
    login(client, clerk)
    listing = client.get(_list_url()).content.decode()

    client.post(reverse(EXPRESS), {"merchant": shop.pk, "enabled": "1"})

    assert f'id="express-switch-{shop.pk}"' in listing and f'id="express-toggle-{shop.pk}"' not in listing
    assert "只有店主可以修改" in listing
    shop.refresh_from_db()
    assert not shop.express_refund_enabled


def test_A11_owner_cannot_flip_another_shops_switch(client, shop, other_shop, owner):
    login(client, owner)

    client.post(reverse(EXPRESS), {"merchant": other_shop.pk, "enabled": "1"})

    other_shop.refresh_from_db()
    assert not other_shop.express_refund_enabled


def test_A11_setting_the_switch_to_its_state_logs_nothing(shop, owner):
    from django.contrib.admin.models import LogEntry

    services.set_express_refund(shop, actor=owner, enabled=False)

    assert not LogEntry.objects.exists()


def test_A11_home_page_card_flips_the_switch_for_owners_and_links_to_it_for_others(
    client, shop, owner, clerk
):
    home = login(client, owner).get(reverse("workbench:index")).content.decode()
    page = client.get(reverse(EXPRESS)).content.decode()
    other = login(client, clerk).get(reverse("workbench:index")).content.decode()

    assert f'id="home-express-toggle-{shop.pk}"' in home  # the flip itself: tests/test_shop_day_left.py
    assert f'id="express-toggle-{shop.pk}"' in page
    assert f'id="home-express-toggle-{shop.pk}"' not in other and f'href="{reverse(EXPRESS)}"' in other


def test_A3_a_shop_made_after_the_migration_finds_its_settings_address_in_the_library(client, shop, owner):
    from aftersales.models import ReturnAddress

    listing = login(client, owner).get(reverse("workbench:aftersales_returnaddress_changelist"))
    again = client.get(reverse("workbench:aftersales_returnaddress_changelist"))

    rows = list(listing.context["cl"].result_list)
    assert [(r.address, r.is_default) for r in rows] == [(shop.return_address, True)]
    assert again.status_code == 200 and ReturnAddress.objects.filter(merchant=shop).count() == 1
