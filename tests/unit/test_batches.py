"""One message's requests, built without a database (:func:`.batches.assemble`): which dependents may follow."""

from __future__ import annotations

from typing import Any

from lxml import etree

from qbwc_service.qbwc.batches import Batch, assemble
from qbwc_service.queue.jobs import LOST_REPLY, LeasedJob
from qbwc_service.workflows import install

INVOICE = {"customer_ref": {"job": 1}, "lines": [{"item_ref": {"full_name": "Work"}, "quantity": "2"}]}


def ensure(step: int = 0, progress: dict[str, Any] | None = None) -> LeasedJob:
    """Job 1: a ``customer_ensure`` for a new customer, at ``step`` with ``progress``."""
    return LeasedJob(1, "customer_ensure", {"name": "Zoë's Garage"}, 1, 5, step, progress)


def invoice(dependency: int = 1) -> LeasedJob:
    """Job 2: an invoice naming its dependency's customer by ``{"job": N}``, placed after it in the message."""
    return LeasedJob(2, "invoice_add", INVOICE, 1, 5, 0, None, after=(dependency,),
                     known={dependency: {"FullName": "Zoë's Garage"}})  # fmt: skip


def build(*found: LeasedJob) -> Batch:
    """The message of ``found`` for a US company on qbXML 13.0."""
    return assemble(found, "13.0", "US", max_bytes=100_000, ticket="t")


def tags(batch: Batch) -> list[tuple[str, str]]:
    """Each request's tag and requestID, in message order."""
    out = []
    for _, xml in batch.requests:
        element = etree.fromstring(xml)
        out.append((str(element.tag), element.get("requestID", "")))
    return out


def test_a_dependent_follows_an_ensure_at_its_add_step() -> None:
    """At its Add an ensure leaves the name in QuickBooks: the invoice by that name follows in the same message."""
    batch = build(ensure(1, {"phase": "add"}), invoice())
    assert tags(batch) == [("CustomerAddRq", "1.1"), ("InvoiceAddRq", "2")]
    assert etree.fromstring(batch.requests[1][1]).findtext(".//CustomerRef/FullName") == "Zoë's Garage"


def test_a_dependent_waits_while_the_ensure_only_looks_the_name_up() -> None:
    """At its first query (or the query again after a 3100) the entry may not exist yet: the dependent waits."""
    assert tags(build(ensure(), invoice())) == [("CustomerQueryRq", "1")]
    assert tags(build(ensure(2, {"phase": "requery"}), invoice())) == [("CustomerQueryRq", "1.2")]


def test_an_ensure_add_sent_again_after_a_lost_reply_still_leads() -> None:
    """An ensure needs no lookup after a lost reply (a 3100 adopts what the lost Add made): it is its Add, and leads."""
    batch = build(ensure(1, {"phase": "add", LOST_REPLY: True}), invoice())
    assert batch.checks == {}
    assert tags(batch) == [("CustomerAddRq", "1.1"), ("InvoiceAddRq", "2")]


def test_a_dependent_waits_for_a_dependency_that_cannot_be_built() -> None:
    """An ensure at its Add whose payload cannot be built is unbuildable, and its dependent does not go."""
    broken = LeasedJob(1, "customer_ensure", {}, 1, 5, 1, {"phase": "add"})
    batch = build(broken, invoice())
    assert tags(batch) == [] and [job_id for job_id, _ in batch.unbuildable] == [1]


def test_a_dependent_still_follows_a_single_step_add() -> None:
    """A single-step kind's request is the whole job, as before: its dependent follows it."""
    add = LeasedJob(1, "customer_add", {"name": "Zoë's Garage"}, 1, 5, 0, None)
    assert tags(build(add, invoice())) == [("CustomerAddRq", "1"), ("InvoiceAddRq", "2")]


def test_a_dependent_of_a_setup_step_follows_its_add_too() -> None:
    """``setup_ensure`` wraps an ensure kind, and lets a dependent follow where the ensure it wraps does."""
    install()
    fields = {"name": "Labor", "sales_or_purchase": {"price": "40.00", "account_ref": {"full_name": "Sales"}}}
    step = {"entry": "labor", "ensure": "item_service_ensure", "create": True, "fields": fields}
    lines = {"customer_ref": {"full_name": "Acme"}, "lines": [{"item_ref": {"job": 1}, "quantity": "1"}]}
    dependent = LeasedJob(2, "invoice_add", lines, 1, 5, 0, None, after=(1,), known={1: {"FullName": "Labor"}})
    at_add = LeasedJob(1, "setup_ensure", step, 1, 5, 1, {"phase": "add"})
    at_query = LeasedJob(1, "setup_ensure", step, 1, 5, 0, None)
    assert tags(build(at_add, dependent)) == [("ItemServiceAddRq", "1.1"), ("InvoiceAddRq", "2")]
    assert tags(build(at_query, dependent)) == [("ItemQueryRq", "1")]
