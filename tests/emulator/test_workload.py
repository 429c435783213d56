"""The typed workload on its own: valid payloads, sound dependencies, totals QuickBooks agrees with."""

from __future__ import annotations

import json
import random
from decimal import Decimal

import pytest

from qbwc_service.queue.kinds import get_kind
from qbwc_service.simulator import CompanyFacts, Duplicate, QuickBooksEmulator
from qbwc_service.simulator.run import Failure, Summary, check_amount
from qbwc_service.simulator.workload import PlannedJob, workload
from qbxml_builders import build_document, build_request, parse_response
from tests.emulator.conftest import needs_spec


def plan(customers: int = 4, invoices: int = 3, seed: int = 1) -> list[PlannedJob]:
    """The workload of one company."""
    return workload("t", random.Random(seed), customers=customers, invoices=invoices)


def test_every_payload_is_valid_for_its_job_kind() -> None:
    """Every payload is plain JSON the service's job kind accepts, and each job waits only for an earlier one."""
    seen: set[str] = set()
    for planned in plan():
        assert json.loads(json.dumps(planned.payload)) == planned.payload
        assert get_kind(planned.kind).validate(planned.payload)
        assert planned.depends_on is None or planned.depends_on in seen
        assert planned.key not in seen
        seen.add(planned.key)


def test_customer_invoice_payment_chains() -> None:
    """A customer's invoices wait for it in turn and its payment waits for the last invoice."""
    by_key = {p.key: p for p in plan(customers=2, invoices=3)}
    assert by_key["invoice2-1"].depends_on == "customer2"
    assert by_key["invoice2-3"].depends_on == "invoice2-2"
    assert by_key["payment2"].depends_on == "invoice2-3"
    assert by_key["payment2"].payload["is_auto_apply"] is True


def test_raw_payload_holds_the_same_request() -> None:
    """A job's raw form is the request element the typed kind builds for qbXML 13.0."""
    planned = next(p for p in plan() if p.kind == "invoice_add")
    raw = planned.raw()["request"]
    assert raw.startswith("<InvoiceAddRq>")
    assert get_kind("qbxml").validate(planned.raw()) == planned.raw()


@needs_spec
@pytest.mark.parametrize("version", ["13.0", "16.0"])
def test_quickbooks_agrees_with_the_planned_amounts(version: str) -> None:
    """Sent in order to the emulator, every job succeeds and each sale, payment and entry has the planned amount."""
    qb = QuickBooksEmulator(CompanyFacts())
    for planned in plan(customers=8, invoices=3, seed=4):
        element = build_request(planned.kind, planned.payload, version=version)
        (response,) = parse_response(qb.process_request(build_document([("1", element)], version=version)))
        assert response.status_code == 0, f"{planned.key}: {response.message}"
        if planned.expect and planned.expect[0] in ("Invoice", "ReceivePayment", "SalesReceipt", "JournalEntry"):
            (record,) = [r for r in qb.records(planned.expect[0]) if r["RefNumber"] == planned.expect[1]]
            assert check_amount(planned, record) is None, check_amount(planned, record)
    assert not qb.duplicates()


def test_check_amount_names_a_short_payment() -> None:
    """A payment applying less than its amount to invoices is reported."""
    planned = PlannedJob("p", "payment_add", {}, ("ReceivePayment", "P1"), amount=Decimal("10.00"))
    record = {"TotalAmount": "10.00", "AppliedToTxnRet": [{"Amount": "4.00"}]}
    assert check_amount(planned, record) == "payment P1 of 10.00 applied only 4.00 to invoices"  # type: ignore[arg-type]


def _summary(**changes: object) -> Summary:
    values: dict[str, object] = {
        "round_trips": 3, "sessions": 2, "outcomes": {"done": 1, "busy": 1}, "jobs": {"done": 3},
        "duplicates": [], "lost": [], "latencies": [0.01, 0.02, 0.03], "faults": {},
    }  # fmt: skip
    values.update(changes)
    return Summary(**values)  # type: ignore[arg-type]


def test_summary_groups_lost_jobs_and_explains_quiet_sessions() -> None:
    """Lost jobs are counted per company and reason, with a note on session time-outs when runs met a busy company."""
    lost = [("c", 1, "still in_flight after the last session")] + [
        ("c", n, "still queued after the last session") for n in range(2, 10)
    ]
    text = _summary(lost=lost).text()
    assert "  lost x8 in c (still queued after the last session): job 2, 3, 4, 5, 6, ..." in text
    assert "QBWC_SESSION_TIMEOUT" in text
    assert not _summary(lost=lost).ok


def test_summary_counts_failures_by_reason() -> None:
    """Failed jobs make the summary not ok and are grouped by the first sentence of their error."""
    failed = [
        Failure("c", 1, "customer1", "QuickBooks status 3100: The name is in use. More words", True),
        Failure("c", 2, "invoice1-1", "a job it depends on failed; retry that one first", False),
        Failure("c", 3, "invoice1-2", "a job it depends on failed; retry that one first", False),
    ]
    summary = _summary(failed=failed)
    assert summary.failure_reasons() == {
        "QuickBooks status 3100: The name is in use [in QuickBooks]": 1,
        "a job it depends on failed": 2,
    }
    assert not summary.ok
    assert summary.as_dict()["failed"][0]["in_quickbooks"] is True
    assert _summary(duplicates=[("c", Duplicate("Invoice", "k", ("1", "2")))]).ok is False
    assert _summary().ok
