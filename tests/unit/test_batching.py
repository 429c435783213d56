"""Which queued jobs go in one message, decided without a database (:func:`.jobs.in_message`)."""

from __future__ import annotations

from typing import Any

import pytest

from qbwc_service.errors import PayloadError
from qbwc_service.queue import kinds
from qbwc_service.queue.jobs import Candidate, LeasedJob, in_message


def cand(job_id: int, kind: str = "customer_add", payload: dict[str, Any] | None = None, *,
         waiting: tuple[int, ...] = (), results: dict[int, Any] | None = None, named: tuple[int, ...] = (),
         send_alone: bool = False) -> Candidate:  # fmt: skip
    """A candidate job with the dependency facts the SELECT reads."""
    job = LeasedJob(job_id, kind, payload or {"name": f"C{job_id}"}, 1, 5, 0, None)
    return Candidate(job, send_alone, waiting, results or {}, frozenset(named))


def ids(jobs: list[LeasedJob]) -> list[int]:
    """The ids of the jobs, in message order."""
    return [j.id for j in jobs]


def test_a_chain_goes_in_one_message_in_order() -> None:
    """Customer, then its invoice, then a payment by name: each after what it waits for, all in one message."""
    found = in_message(
        [cand(1), cand(2, "invoice_add", {}, waiting=(1,)), cand(3, "payment_add", {}, waiting=(2,))], limit=50
    )
    assert ids(found) == [1, 2, 3]
    assert found[1].after == (1,) and found[2].after == (2,) and found[0].after == ()


def test_a_dependency_outside_the_message_keeps_its_dependent_out() -> None:
    """A job waiting for a job not among the candidates waits for the next message."""
    assert ids(in_message([cand(1), cand(5, waiting=(4,)), cand(6)], limit=50)) == [1, 6]


def test_the_limit_cuts_dependents_before_their_dependencies_are_placed() -> None:
    """At the limit the message ends; a dependent never goes without its dependency."""
    assert ids(in_message([cand(1), cand(2, waiting=(3,)), cand(3)], limit=1)) == [1]


def test_a_dependent_before_its_dependency_goes_right_after_it() -> None:
    """A higher-priority dependent that comes first in the window goes once its dependency is placed."""
    assert ids(in_message([cand(2, waiting=(3,)), cand(1), cand(3)], limit=50)) == [1, 3, 2]


def test_a_job_ref_to_a_dependency_in_the_message_goes_by_its_name() -> None:
    """A ``{"job": N}`` list ref to a dependency in the same message resolves to the FullName it will create."""
    invoice = {"customer_ref": {"job": 1}, "lines": [{"desc": "x"}]}
    found = in_message([cand(1, payload={"name": "Acme"}), cand(2, "invoice_add", invoice, waiting=(1,), named=(1,))],
                       limit=50)  # fmt: skip
    assert ids(found) == [1, 2] and found[1].known == {1: {"FullName": "Acme"}}
    resolved = kinds.resolve_refs("invoice_add", invoice, found[1].known or {})
    assert resolved["customer_ref"] == {"full_name": "Acme"}


def test_a_txn_ref_to_a_dependency_in_the_message_waits() -> None:
    """A payment naming an invoice job of the same message as ``txn_id`` waits: the TxnID is not known yet."""
    payment = {"customer_ref": {"full_name": "Acme"}, "applied_to": [{"txn_id": {"job": 1}, "payment_amount": "5"}]}
    found = in_message([cand(1, "invoice_add", {}), cand(2, "payment_add", payment, waiting=(1,), named=(1,))],
                       limit=50)  # fmt: skip
    assert ids(found) == [1]


def test_a_job_ref_to_a_done_dependency_uses_its_recorded_id() -> None:
    """A ref to a done dependency carries that job's recorded result, whatever is in the message."""
    payment = {"customer_ref": {"full_name": "Acme"}, "applied_to": [{"txn_id": {"job": 1}}]}
    found = in_message([cand(2, "payment_add", payment, results={1: {"TxnID": "T-1"}}, named=(1,))], limit=50)
    assert found[0].known == {1: {"TxnID": "T-1"}} and found[0].after == ()


def test_a_job_sent_alone_goes_alone_and_first() -> None:
    """A job marked send_alone goes by itself when first, and ends the message otherwise."""
    assert ids(in_message([cand(1, send_alone=True), cand(2)], limit=50)) == [1]
    assert ids(in_message([cand(1), cand(2, send_alone=True), cand(3)], limit=50)) == [1]


def test_job_refs_are_found_validated_with_a_placeholder_and_stored_as_given() -> None:
    """A typed kind validates the rest of a payload around ``{"job": N}`` refs, one error per bad field."""
    kind = kinds.get_kind("payment_add")
    payload = {"customer_ref": {"job": 3}, "total_amount": "10", "applied_to": [{"txn_id": {"job": 4}}]}
    clean = kind.validate(payload)
    assert clean["customer_ref"] == {"job": 3} and clean["applied_to"][0]["txn_id"] == {"job": 4}
    assert [(r.field, r.job_id, r.wants) for r in kinds.job_refs(clean)] == [
        ("customer_ref", 3, "ListID"), ("applied_to.0.txn_id", 4, "TxnID"),
    ]  # fmt: skip
    bad = {"customer_ref": {"job": 3}, "total_amount": "1.234", "memo": 5}
    with pytest.raises(PayloadError) as refused:
        kind.validate(bad)
    assert sorted(e.split(":")[0] for e in refused.value.errors) == ["memo", "total_amount"]


def test_a_ref_to_a_job_that_recorded_no_id_names_that_job() -> None:
    """Resolving a ref whose job's result lacks the id refuses with a sentence naming the job."""
    payload = {"customer_ref": {"full_name": "A"}, "applied_to": [{"txn_id": {"job": 4}}]}
    with pytest.raises(PayloadError) as refused:
        kinds.resolve_refs("payment_add", payload, {4: {"ListID": "L"}})
    assert refused.value.errors[0].startswith("applied_to.0.txn_id: job 4, which this one refers to, recorded no TxnID")


def test_creates_gives_the_full_name_of_a_child() -> None:
    """A list Add creates its name, or Parent:Name under a parent given by FullName; a parent by ListID is unknown."""
    assert kinds.creates("customer_add", {"name": "Job 1", "parent_ref": {"full_name": "Acme"}}) == "Acme:Job 1"
    assert kinds.creates("customer_add", {"name": "Job 1", "parent_ref": {"list_id": "80-1"}}) is None
    assert kinds.creates("item_service_add", {"name": "Consulting"}) == "Consulting"
    assert kinds.creates("invoice_add", {"ref_number": "1"}) is None
    raw = {"request": "<CustomerAddRq><CustomerAdd><Name>B</Name><ParentRef><FullName>A</FullName></ParentRef>"
                      "</CustomerAdd></CustomerAddRq>"}  # fmt: skip
    assert kinds.creates("qbxml", raw) == "A:B"
    assert kinds.names_referred_to({"lines": [{"item_ref": {"full_name": "Widget"}}], "x_ref": {"list_id": "1"}}) == {
        "widget"
    }
