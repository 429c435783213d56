"""The outcome of an answer, decided without a database: from a held job and its ``…Rs`` to the transition."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from lxml import etree

from qbwc_service.db.models import JobState
from qbwc_service.qbwc import outcomes
from qbwc_service.qbwc.outcomes import Answer, HeldJob
from qbwc_service.queue.kinds import RAW_QBXML, Done, Failed, JobKind, Next, StepState
from qbwc_service.queue.retry import RetryPolicy
from qbxml_builders import QBResponse, parse_response_elements
from tests.helpers import customer_ret, response_doc, rs

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
POLICY = RetryPolicy(base_delay=timedelta(seconds=30))


def job(job_id: int = 7, *, attempts: int = 1, max_attempts: int = 5, progress: dict[str, Any] | None = None,
        kind: str = "qbxml", step: int = 0) -> HeldJob:  # fmt: skip
    """A held job of ``kind``."""
    return HeldJob(job_id, kind, {"request": "<CustomerAddRq/>"}, step, attempts, max_attempts, progress)


def answers(*parts: str) -> list[Answer]:
    """The ``…Rs`` of a response document made of ``parts``."""
    return [Answer(el, r) for el, r in parse_response_elements(response_doc(*parts))]


def decide(held: Mapping[int, HeldJob], *parts: str, kind: JobKind = RAW_QBXML) -> outcomes.Decided:
    """:func:`outcomes.of_message` with every job of ``kind``."""
    return outcomes.of_message(held, answers(*parts), policy=POLICY, now=NOW, kind_of=lambda _: kind)


def test_success_is_done_with_the_ids_returned() -> None:
    """A status 0 answer makes the job done with its ListID and EditSequence, and keeps the Rs."""
    (o,) = decide({7: job()}, rs("7", ret=customer_ret("80000001-1", "Acme"))).outcomes
    assert o.to_state is JobState.DONE and o.result is not None
    assert o.result["ListID"] == "80000001-1" and o.status_code == 0
    assert o.response_xml is not None and o.response_xml.startswith("<CustomerAddRs")


def test_retryable_status_requeues_with_back_off() -> None:
    """A retryable status (3180) puts the job back after the policy's delay."""
    (o,) = decide({7: job(attempts=2)}, rs("7", 3180, message="busy")).outcomes
    assert o.to_state is JobState.QUEUED and o.not_before == NOW + timedelta(seconds=60)


def test_retryable_status_fails_once_attempts_run_out() -> None:
    """The same status fails the job on its last attempt."""
    (o,) = decide({7: job(attempts=5)}, rs("7", 3180, message="busy")).outcomes
    assert o.to_state is JobState.FAILED and o.error and "3180" in o.error


def test_permanent_error_fails_with_status_and_explanation() -> None:
    """A 3100 (name in use) fails the job with QuickBooks' message and what to do."""
    (o,) = decide({7: job()}, rs("7", 3100, message='The name "Acme" is already in use.')).outcomes
    assert o.to_state is JobState.FAILED
    assert o.error is not None and o.error.startswith('QuickBooks status 3100: The name "Acme"')


def test_an_unanswered_job_is_retried_and_a_stray_answer_reported() -> None:
    """A job with no ``…Rs`` goes back to the queue; an Rs for no held job is returned as unexpected."""
    decided = decide({7: job(), 8: job(8)}, rs("8"), rs("99"), rs("8"))
    by_id = {o.job_id: o for o in decided.outcomes}
    assert by_id[7].to_state is JobState.QUEUED and by_id[7].error == outcomes.NO_ANSWER
    assert by_id[8].to_state is JobState.DONE
    assert [r.request_id for r in decided.unexpected] == ["99", "8"]


def test_a_kind_may_ask_for_another_step() -> None:
    """A kind answering :class:`Next` sends the job back to the queue at its next step, attempt not counted."""

    def take(state: StepState, response: QBResponse) -> Done | Next:
        if state.step == 0:
            return Next({"found": response.ids().get("ListID")}, "queried; now the add")
        return Done({"ListID": str((state.progress or {})["found"])})

    kind = JobKind("two_steps", "query then act", dict, RAW_QBXML.build, lambda p: None, take_answer=take)
    (first,) = decide({7: job(kind="two_steps")}, rs("7", ret=customer_ret("1-1", "A")), kind=kind).outcomes
    assert (first.to_state, first.advance, first.count_attempt) == (JobState.QUEUED, True, False)
    assert first.progress == {"found": "1-1"} and first.set_progress
    held = job(kind="two_steps", step=1, progress={"found": "1-1"})
    (second,) = decide({7: held}, rs("7.1"), kind=kind).outcomes
    assert second.to_state is JobState.DONE and second.result == {"ListID": "1-1"}


def test_lost_reply_mark_is_dropped_when_no_lookup_was_needed() -> None:
    """A marked job answered without a lookup (a Mod) is done and its mark cleared."""
    (o,) = decide({7: job(progress={"verify": True})}, rs("7")).outcomes
    assert o.to_state is JobState.DONE and o.set_progress and o.progress is None


def test_a_lookup_that_finds_the_record_adopts_it() -> None:
    """The answer to a lost-reply lookup that holds the record makes the job done with its ListID."""
    progress = {"verify": True, "checking": True, "entity": None, "expect": None}
    found = rs("7.1", name="CustomerQueryRs", ret=customer_ret("80000009-1", "Acme"))
    (o,) = decide({7: job(progress=progress, step=1)}, found).outcomes
    assert o.to_state is JobState.DONE and o.result and o.result["ListID"] == "80000009-1"
    assert o.message is not None and o.message.startswith("found already in QuickBooks")


def test_a_lookup_that_finds_nothing_sends_the_add_now() -> None:
    """Status 1 to a lookup requeues the job at once, the attempt not counted and the mark cleared."""
    progress = {"verify": True, "checking": True, "entity": None, "expect": None}
    (o,) = decide({7: job(progress=progress, step=1)}, rs("7.1", 1, name="CustomerQueryRs")).outcomes
    assert (o.to_state, o.count_attempt, o.set_progress, o.progress) == (JobState.QUEUED, False, True, None)
    assert o.not_before is None


@pytest.mark.parametrize(("held", "states"), [(1, [JobState.FAILED]), (3, [JobState.QUEUED] * 3)])
def test_parse_error_hresult_isolates_the_job_at_fault(held: int, states: list[JobState]) -> None:
    """0x80040400 fails a lone job; in a batch each job is requeued to be sent alone, uncounted."""
    found, fatal = outcomes.of_hresult(
        {i: job(i) for i in range(held)}, "0x80040400", "parse error", policy=POLICY, now=NOW
    )
    assert fatal is None and [o.to_state for o in found] == states
    if held > 1:
        assert all(o.send_alone and not o.count_attempt for o in found)


def test_other_hresults_end_the_run_and_mark_jobs_for_a_lookup() -> None:
    """Any other hresult ends the session and requeues its jobs marked as possibly applied."""
    found, fatal = outcomes.of_hresult({1: job(1), 2: job(2, attempts=5)}, "0x80040408", "", policy=POLICY, now=NOW)
    assert fatal is not None and "0x80040408" in fatal
    by_id = {o.job_id: o for o in found}
    assert by_id[1].to_state is JobState.QUEUED and by_id[1].progress == {"verify": True}
    assert by_id[2].to_state is JobState.FAILED and "gave up after 5 attempts" in (by_id[2].error or "")


def test_request_ids_carry_the_step() -> None:
    """The first request of a job is sent under its id, later steps as ``id.step``."""
    assert [outcomes.request_id(12, s) for s in (0, 3)] == ["12", "12.3"]
    assert outcomes.job_id_of("12.3") == 12 and outcomes.job_id_of("x") is None


def test_answers_keep_the_element_as_received() -> None:
    """The element kept for the job is the ``…Rs`` itself, so the admin pages show what QuickBooks said."""
    (a,) = answers(rs("7", ret=customer_ret("1-1", "A")))
    assert etree.QName(a.element).localname == "CustomerAddRs" and a.response.request_id == "7"


def test_dependent_failure_after_a_failed_dependency_is_put_down_to_it() -> None:
    """A 3140 after the job's dependency failed in the same message fails it naming that dependency."""
    held = {7: job(7), 8: HeldJob(8, "qbxml", {}, 0, 1, 5, after=(7,))}
    first, second = decide(held, rs("7", 3090, message="bad name"), rs("8", 3140, message="invalid ref")).outcomes
    assert first.to_state is JobState.FAILED and "3090" in (first.error or "")
    assert second.to_state is JobState.FAILED and second.count_attempt is False
    assert second.error == "job 7, which it depends on, failed; retry that one first (QuickBooks answered it with " \
        "status 3140)"  # fmt: skip
    assert second.status_code == 3140


def test_dependent_of_a_requeued_dependency_is_requeued_uncounted() -> None:
    """When the dependency goes back to the queue (a retryable status), its dependent goes back too, uncounted."""
    held = {7: job(7), 8: HeldJob(8, "qbxml", {}, 0, 1, 5, after=(7,)), 9: HeldJob(9, "qbxml", {}, 0, 1, 5, after=(8,))}
    found = decide(held, rs("7", 3180, message="busy"), rs("8", 3140), rs("9", 3140)).outcomes
    by_id = {o.job_id: o for o in found}
    assert by_id[7].to_state is JobState.QUEUED and by_id[7].count_attempt is True
    for dependent, blamed in ((8, 7), (9, 8)):
        o = by_id[dependent]
        assert o.to_state is JobState.QUEUED and o.count_attempt is False and o.not_before is None
        assert o.error is not None and o.error.startswith(f"job {blamed}, which it depends on")


def test_dependent_that_succeeded_despite_its_dependency_is_done() -> None:
    """A dependent QuickBooks accepted although its dependency failed is done: only failures are put down to it."""
    held = {7: job(7), 8: HeldJob(8, "qbxml", {}, 0, 1, 5, after=(7,))}
    _, second = decide(held, rs("7", 3090), rs("8", ret=customer_ret("80000002-1", "B"))).outcomes
    assert second.to_state is JobState.DONE


def test_own_failure_without_a_failed_dependency_stays_its_own() -> None:
    """A dependent whose dependency was done fails with its own QuickBooks status."""
    held = {7: job(7), 8: HeldJob(8, "qbxml", {}, 0, 1, 5, after=(7,))}
    _, second = decide(held, rs("7", ret=customer_ret("80000001-1", "A")), rs("8", 3140, message="bad")).outcomes
    assert second.to_state is JobState.FAILED and (second.error or "").startswith("QuickBooks status 3140")


def _reading(state: StepState, response: QBResponse) -> Done | Next | Failed:
    if response.status_code == 3100:
        return Next({"phase": "requery"}, "taken: looking again")
    if response.status_code == 3200:
        return Failed("changed under us")
    return Done(response.ids() or None)


READS = JobKind("reads", "reads 3100 and 3200", dict, lambda p, v, c: etree.Element("X"), lambda p: None,
                take_answer=_reading, reads_status=frozenset({3100, 3200}))  # fmt: skip


def test_a_status_the_kind_reads_goes_to_the_kind_not_the_policy() -> None:
    """3100 is permanent to the policy, but a kind that reads it turns it into its next step, attempt uncounted."""
    (o,) = decide({7: job()}, rs("7", 3100, message="name taken"), kind=READS).outcomes
    assert o.to_state is JobState.QUEUED and o.advance and not o.count_attempt
    assert o.progress == {"phase": "requery"} and o.message == "taken: looking again"
    assert o.status_code == 3100 and o.not_before is None


def test_a_kind_may_fail_a_job_with_its_own_sentence() -> None:
    """A Failed step fails the job with the kind's error, keeping the answer."""
    (o,) = decide({7: job()}, rs("7", 3200, message="stale"), kind=READS).outcomes
    assert o.to_state is JobState.FAILED and o.error == "changed under us"
    assert o.response_xml is not None and "3200" in o.response_xml


def test_a_status_the_kind_does_not_read_stays_with_the_policy() -> None:
    """A retryable 3180 still follows the retry policy for a kind that reads other codes."""
    (o,) = decide({7: job()}, rs("7", 3180, message="busy"), kind=READS).outcomes
    assert o.to_state is JobState.QUEUED and o.not_before is not None and o.count_attempt


def test_the_kind_sees_the_answer_element_and_the_ticket() -> None:
    """take_answer gets the Rs element (nested fields) and the session's ticket in its state."""
    seen: list[StepState] = []

    def take(state: StepState, response: QBResponse) -> Done:
        seen.append(state)
        return Done(None)

    kind = JobKind("sees", "", dict, lambda p, v, c: etree.Element("X"), lambda p: None, take_answer=take)
    held = {7: job()}
    outcomes.of_message(held, answers(rs("7", ret=customer_ret("1-1", "A"))), policy=POLICY, now=NOW,
                        kind_of=lambda _: kind, ticket="T-1")  # fmt: skip
    (state,) = seen
    assert state.ticket == "T-1" and state.answer is not None and state.answer.findtext("CustomerRet/Name") == "A"


def _tax_item_found(vendor_list_id: str) -> str:
    return rs("8", name="ItemQueryRs", ret=(
        "<ItemSalesTaxRet><ListID>80000009-1</ListID><EditSequence>1</EditSequence><Name>CA Tax</Name>"
        f"<TaxRate>7.5</TaxRate><TaxVendorRef><ListID>{vendor_list_id}</ListID><FullName>State Board</FullName>"
        "</TaxVendorRef></ItemSalesTaxRet>"
    ))  # fmt: skip


@pytest.mark.parametrize(("found", "state"), [("80000001-1", JobState.DONE), ("80000077-1", JobState.FAILED)])
def test_a_job_ref_to_a_dependency_answered_earlier_in_the_message_is_read_as_its_list_id(
    found: str, state: JobState
) -> None:
    """An ensure's key field naming a job sent before it is compared with the ListID that job's answer gave."""
    held = {
        7: HeldJob(7, "vendor_add", {"name": "State Board"}, 0, 1, 5),
        8: HeldJob(8, "sales_tax_item_ensure", {"name": "CA Tax", "tax_rate": "7.5", "tax_vendor_ref": {"job": 7}},
                   0, 1, 5, after=(7,), named=frozenset({7})),
    }  # fmt: skip
    vendor = rs("7", name="VendorAddRs", ret="<VendorRet><ListID>80000001-1</ListID><EditSequence>1</EditSequence>"
                "<Name>State Board</Name></VendorRet>")  # fmt: skip
    first, second = outcomes.of_message(held, answers(vendor, _tax_item_found(found)), policy=POLICY, now=NOW).outcomes
    assert first.to_state is JobState.DONE and second.to_state is state
    if state is JobState.FAILED:
        assert "tax_vendor_ref is '80000077-1' in QuickBooks, '80000001-1' in the job" in (second.error or "")


def test_held_jobs_gather_each_jobs_edges() -> None:
    """Rows of the held SELECT become one job each: dependencies in the message, and results of those named by ref."""
    from types import SimpleNamespace as Row

    base = {"kind": "invoice_add", "payload": {}, "step": 0, "attempts": 1, "max_attempts": 5, "progress": None}
    rows = [
        Row(id=7, dep_id=None, dep_ref=None, dep_in_message=None, dep_state=None, dep_result=None, **base),
        Row(
            id=8,
            dep_id=3,
            dep_ref=True,
            dep_in_message=False,
            dep_state=JobState.DONE,
            dep_result={"ListID": "L3"},
            **base,
        ),
        Row(id=8, dep_id=7, dep_ref=False, dep_in_message=True, dep_state=JobState.IN_FLIGHT, dep_result=None, **base),
    ]
    held = outcomes.held_jobs(rows)
    assert (held[7].after, held[7].named, held[7].known) == ((), frozenset(), None)
    assert (held[8].after, held[8].named, held[8].known) == ((7,), frozenset({3}), {3: {"ListID": "L3"}})
