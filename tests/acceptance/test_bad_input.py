"""Malformed and hostile input gets a one-line answer, no traceback, and changes no job."""

from __future__ import annotations

import pytest
from lxml import etree
from sqlalchemy import Engine, func, select

from qbwc_service.accounts.companies import NewCompany
from qbwc_service.db.models import Job, JobEvent, JobState
from qbwc_service.queue import jobs
from tests.conftest import LiveServer, make_test_app
from tests.helpers import SOAP_ENVELOPE, customer_add, qbwc, soap_post

NS = "http://developer.intuit.com/"


def fault_string(body: bytes) -> str:
    root = etree.fromstring(body)
    found = root.find(".//faultstring")
    assert found is not None, body
    return found.text or ""


def job_snapshot(engine: Engine) -> list[tuple[int, str, int]]:
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(select(Job.id, Job.state, Job.attempts).order_by(Job.id))]


@pytest.fixture
def queued(engine: Engine, company: NewCompany) -> int:
    with engine.begin() as conn:
        return jobs.enqueue(conn, "acme", "qbxml", {"request": customer_add("Safe")}).job_id


HOSTILE = {
    "dtd with entity expansion": (
        b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]>'
        + SOAP_ENVELOPE.format(body=f'<authenticate xmlns="{NS}"><strUserName>&lol2;</strUserName></authenticate>')
        .split("?>", 1)[1]
        .encode()
    ),
    "external entity": (
        b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
        + SOAP_ENVELOPE.format(body=f'<authenticate xmlns="{NS}"><strUserName>&xxe;</strUserName></authenticate>')
        .split("?>", 1)[1]
        .encode()
    ),
}


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_hostile_documents_are_refused(live_server: LiveServer, engine: Engine, queued: int, case: str) -> None:
    """A DTD or entity in the SOAP body gets a client fault saying so, and no job moves."""
    before = job_snapshot(engine)
    reply = soap_post(live_server.url + "/qbwc", "authenticate", HOSTILE[case])
    assert reply.status_code == 400
    message = fault_string(reply.content)
    assert "Document type declarations" in message and "\n" not in message
    assert "root:" not in reply.text and "Traceback" not in reply.text
    assert job_snapshot(engine) == before


def test_body_over_the_limit_is_refused(db_url: str, company: NewCompany) -> None:
    """A body over the configured size limit gets a fault naming the limit."""
    app = make_test_app(db_url, max_body_bytes=10_000)
    with LiveServer(app) as server:
        padding = "x" * 20_000
        reply = soap_post(
            server.url + "/qbwc",
            "getLastError",
            f'<getLastError xmlns="{NS}"><ticket>{padding}</ticket></getLastError>',
        )
    assert reply.status_code == 413
    assert "10000-byte limit" in fault_string(reply.content)


def test_empty_and_malformed_bodies_get_faults(live_server: LiveServer, engine: Engine, queued: int) -> None:
    """An empty body, broken XML and a body in the wrong namespace each get a SOAP fault, not a traceback."""
    before = job_snapshot(engine)
    empty = soap_post(live_server.url + "/qbwc", "authenticate", b"")
    assert empty.status_code == 400 and "empty" in fault_string(empty.content)
    broken = soap_post(live_server.url + "/qbwc", "authenticate", b"<soap:Envelope><not closed")
    assert broken.status_code >= 400 and fault_string(broken.content)
    wrong_ns = soap_post(
        live_server.url + "/qbwc",
        "authenticate",
        '<authenticate xmlns="urn:wrong"><strUserName>a</strUserName></authenticate>',
    )
    assert wrong_ns.status_code >= 400 and fault_string(wrong_ns.content)
    for reply in (empty, broken, wrong_ns):
        assert "Traceback" not in reply.text and 'File "' not in reply.text
    assert job_snapshot(engine) == before


def test_server_version_accepts_empty_and_str_version_inputs(live_server: LiveServer) -> None:
    """serverVersion answers QBWC's empty element and the strVersion form of some WSDL copies."""
    for body in (
        f'<serverVersion xmlns="{NS}" />',
        f'<serverVersion xmlns="{NS}"><strVersion>2.3</strVersion></serverVersion>',
    ):
        reply = soap_post(live_server.url + "/qbwc", "serverVersion", body)
        assert reply.status_code == 200
        assert etree.fromstring(reply.content).findtext(f".//{{{NS}}}serverVersionResult").startswith("qbwc-service")


def test_response_that_is_not_xml_changes_no_job(
    live_server: LiveServer, engine: Engine, company: NewCompany, queued: int
) -> None:
    """A qbXML response that is not XML ends the run with -1 and a readable error; the job stays in flight."""
    svc = qbwc(live_server.url + "/qbwc")
    ticket = svc.authenticate(company.username, company.token)[0]
    svc.sendRequestXML(ticket, "", "", "US", 13, 0)
    before = job_snapshot(engine)
    with engine.connect() as conn:
        events_before = conn.execute(select(func.count()).select_from(JobEvent)).scalar_one()
    assert svc.receiveResponseXML(ticket, "this is <not xml", "", "") == -1
    assert "could not be read" in svc.getLastError(ticket)
    hostile = '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "b">]><QBXML><QBXMLMsgsRs/></QBXML>'
    assert svc.receiveResponseXML(ticket, hostile, "", "") == -1
    assert "DTD" in svc.getLastError(ticket)
    assert job_snapshot(engine) == before == [(queued, JobState.IN_FLIGHT, 1)]
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(JobEvent)).scalar_one() == events_before


def test_tokens_never_reach_the_logs(
    live_server: LiveServer, company: NewCompany, queued: int, caplog: pytest.LogCaptureFixture
) -> None:
    """Neither a right nor a wrong token appears in any log record of an authenticate."""
    caplog.set_level("DEBUG")
    svc = qbwc(live_server.url + "/qbwc")
    svc.authenticate(company.username, "wrong-token-s3cret")
    svc.authenticate(company.username, company.token)
    server_side = [r for r in caplog.records if not r.name.startswith(("zeep", "urllib3"))]
    text = "\n".join(f"{r.name} {r.getMessage()} {getattr(r, 'facts', '')}" for r in server_side)
    assert "authenticate_refused" in text
    assert company.token not in text and "wrong-token-s3cret" not in text
