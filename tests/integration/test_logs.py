"""The log, in both formats: JSON lines keyed by company, session and job; no token, password or configured field."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask

from qbwc_service import logs
from qbwc_service.accounts import companies
from qbwc_service.queue import jobs
from qbwc_service.simulator import QuickBooksEmulator
from qbwc_service.simulator.webconnector import Outcome, WebConnector
from tests.conftest import LiveServer, make_test_app
from tests.emulator.conftest import needs_spec
from tests.helpers import SOAP_ENVELOPE, customer_add, soap_post

pytestmark = needs_spec
#: Values that must never reach the log, whatever carries them.
PHONE, SSN, CARD, PASSWORD, API_KEY = "555-0199", "078-05-1120", "4111 1111 1111 1111", "hunter2-pw", "qbwc_" + "k" * 30


@pytest.fixture(params=["text", "json"])
def logged(request: pytest.FixtureRequest, sqlite_url: str, tmp_path: Path) -> Iterator[tuple[Flask, Path, str]]:
    """The app logging at INFO in the format, to ``tmp_path``'s file, with Phone and SSN as configured fields."""
    app = make_test_app(
        sqlite_url, log_level="INFO", log_format=request.param, log_dir=str(tmp_path), redact_fields="Phone,SSN"
    )
    yield app, tmp_path / logs.LOG_FILE, request.param
    app.extensions["qbwc"].engine.dispose()
    logs.configure("WARNING")  # the next tests' apps configure their own


def test_secrets_never_reach_the_log_in_either_format(logged: tuple[Flask, Path, str]) -> None:
    """A real session, a refused password and facts carrying secrets every way leave none of them in the log."""
    app, path, fmt = logged
    engine = app.extensions["qbwc"].engine
    with engine.begin() as conn:
        company = companies.create_company(conn, "acme", "acme-qbwc")
        phone = f"<Phone>{PHONE}</Phone>"
        request = f"<CustomerAddRq><CustomerAdd><Name>Zoë</Name>{phone}</CustomerAdd></CustomerAddRq>"
        jobs.enqueue(conn, "acme", "qbxml", {"request": request})
        failing = jobs.enqueue(conn, "acme", "qbxml", {"request": customer_add("Zoë")}).job_id  # 3100: name taken
    with LiveServer(app) as server:
        connector = WebConnector(server.url + "/qbwc", company.username, company.token, QuickBooksEmulator(),
                                 noop_delay=0.0)  # fmt: skip
        try:
            report = connector.run_session()
        finally:
            connector.close()
        assert report.outcome == Outcome.DONE, report.detail
        body = (
            '<authenticate xmlns="http://developer.intuit.com/"><strUserName>acme-qbwc</strUserName>'
            f"<strPassword>{PASSWORD}</strPassword></authenticate>"
        )
        assert soap_post(server.url + "/qbwc", "authenticate", body).status_code == 200  # refused: nvu
        # Malformed: Spyne logs the whole body it could not read, password and all, through our filter.
        broken = SOAP_ENVELOPE.format(body=body).replace("</soap:Body>", "<soap:Body>").encode()
        assert soap_post(server.url + "/qbwc", "authenticate", broken).status_code == 500
    logs.log(
        logging.WARNING, "facts_carrying_secrets", company="acme", job=failing,
        token=company.token, password=PASSWORD, Phone=PHONE, ssn=SSN,
        payload={"name": "Zoë", "phone": PHONE, "nested": [{"SSN": SSN}], "note": f"card {CARD}"},
        request_xml=f"<CustomerAddRq><CustomerAdd><Name>x</Name><Phone>{PHONE}</Phone></CustomerAdd></CustomerAddRq>",
        soap=f"<strUserName>u</strUserName><strPassword>{PASSWORD}</strPassword>",
        error=f"QuickBooks said: phone={PHONE}, SSN: {SSN}; password={PASSWORD} key {API_KEY}",
    )  # fmt: skip
    logging.getLogger("qbwc.child").warning("free text with token=%s and <SSN>%s</SSN>", company.token, SSN)
    text = path.read_text(encoding="utf-8")
    for secret in (company.token, PASSWORD, PHONE, SSN, CARD, API_KEY, CARD.replace(" ", "")):
        assert secret not in text, f"{secret!r} reached the {fmt} log"
    assert "[redacted]" in text and "card number …1111" in text
    lines = text.splitlines()
    assert any("session_started" in line for line in lines) and any("job_failed" in line for line in lines)
    assert any("authenticate_refused" in line for line in lines) and "XMLSyntaxError" in text
    if fmt == "json":
        records = [json.loads(line) for line in lines]  # every line is one JSON object
        assert all({"time", "level", "event", "company", "session", "job"} <= r.keys() for r in records)
        started = next(r for r in records if r["event"] == "session_started")
        assert started["company"] == "acme" and report.ticket.startswith(started["session"])
        failed = next(r for r in records if r["event"] == "job_failed")
        assert failed["job"] == failing and failed["status"] == 3100 and failed["session"] == started["session"]
        facts = next(r for r in records if r["event"] == "facts_carrying_secrets")
        assert facts["token"] == facts["Phone"] == facts["payload"]["phone"] == "[redacted]"
        assert facts["payload"]["name"] == "Zoë" and facts["job"] == failing
    else:
        assert all(line[:4].isdigit() for line in lines)  # one event a line, each starting with its time
