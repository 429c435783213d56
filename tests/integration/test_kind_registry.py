"""The job-kind registry: a kind registered from outside the queue runs its steps through the protocol."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import pytest
from lxml import etree
from sqlalchemy import Engine, select

from qbwc_service.accounts.companies import NewCompany
from qbwc_service.config import load_settings
from qbwc_service.db.models import Job, JobEvent, JobState
from qbwc_service.errors import PayloadError, UnknownKind
from qbwc_service.qbwc.protocol import Protocol
from qbwc_service.queue import jobs, kinds
from qbwc_service.queue.kinds import Done, JobKind, Next, StepState
from qbxml_builders import QBResponse
from tests.helpers import customer_ret, response_doc, rs


def _validate(payload: Mapping[str, Any]) -> dict[str, Any]:
    if not isinstance(payload.get("name"), str):
        raise PayloadError("customer_lookup_then_add", ["name: a string is required"])
    return {"name": payload["name"]}


def _first(payload: Mapping[str, Any], version: str, country: str) -> etree._Element:
    rq = etree.Element("CustomerQueryRq")
    etree.SubElement(rq, "FullName").text = str(payload["name"])
    return rq


def _steps(state: StepState, version: str, country: str) -> etree._Element:
    if not state.progress:
        return _first(state.payload, version, country)
    rq = etree.Element("CustomerAddRq")
    etree.SubElement(etree.SubElement(rq, "CustomerAdd"), "Name").text = str(state.payload["name"])
    return rq


def _take(state: StepState, response: QBResponse) -> Done | Next:
    if not state.progress and response.empty:
        return Next({"missing": True}, "not in QuickBooks yet: adding it")
    return Done(response.ids() or None)


LOOKUP_THEN_ADD = JobKind(
    "customer_lookup_then_add", "Query a customer by name; add it when missing.", _validate, _first,
    lambda p: str(p.get("name")), steps=_steps, take_answer=_take,
)  # fmt: skip


@pytest.fixture
def registered() -> Iterator[JobKind]:
    """The two-step kind, registered for one test."""
    kinds.register(LOOKUP_THEN_ADD)
    yield LOOKUP_THEN_ADD
    kinds._registered.pop(LOOKUP_THEN_ADD.name)


def test_a_name_taken_by_another_kind_is_refused() -> None:
    """Registering a different kind under a built-in name raises; the built-in stays."""
    impostor = JobKind("customer_add", "not the real one", dict, _first, lambda p: None)
    with pytest.raises(ValueError, match="already registered"):
        kinds.register(impostor)
    assert kinds.get_kind("customer_add") is not impostor


def test_an_unregistered_kind_is_unknown(engine: Engine, company: NewCompany) -> None:
    """Until it is registered, enqueueing the kind is refused by name."""
    with engine.begin() as conn, pytest.raises(UnknownKind):
        jobs.enqueue(conn, "acme", "customer_lookup_then_add", {"name": "Zoë"})


def test_a_registered_multi_step_kind_runs_both_steps_in_one_session(
    engine: Engine, company: NewCompany, registered: JobKind
) -> None:
    """A query answered 'no match' leads to the add in the next message of the same session; history shows both."""
    with engine.begin() as conn:
        job_id = jobs.enqueue(conn, "acme", registered.name, {"name": "Zoë"}).job_id
    protocol = Protocol(engine, load_settings({"log_level": "WARNING"}, environ={}))
    ticket = protocol.authenticate(company.username, company.token)[0]
    first = etree.fromstring(protocol.send_request_xml(ticket, "", "", "US", 13, 0).encode())
    (query,) = first.find("QBXMLMsgsRq")
    assert (query.tag, query.get("requestID")) == ("CustomerQueryRq", str(job_id))
    nothing = rs(str(job_id), 1, name="CustomerQueryRs", severity="Info", message="no match")
    assert protocol.receive_response_xml(ticket, response_doc(nothing), "", "") < 100
    second = etree.fromstring(protocol.send_request_xml(ticket, "", "", "US", 13, 0).encode())
    (add,) = second.find("QBXMLMsgsRq")
    assert (add.tag, add.get("requestID")) == ("CustomerAddRq", f"{job_id}.1")
    added = rs(f"{job_id}.1", ret=customer_ret("80000002-1", "Zoë"))
    assert protocol.receive_response_xml(ticket, response_doc(added), "", "") == 100
    with engine.connect() as conn:
        row = conn.execute(select(Job.state, Job.result, Job.step, Job.attempts).where(Job.id == job_id)).one()
        messages = conn.execute(select(JobEvent.message).where(JobEvent.job_id == job_id).order_by(JobEvent.id))
        history = [m for (m,) in messages]
    assert row.state == JobState.DONE and row.result["ListID"] == "80000002-1"
    assert (row.step, row.attempts) == (1, 1)
    assert "not in QuickBooks yet: adding it" in history
