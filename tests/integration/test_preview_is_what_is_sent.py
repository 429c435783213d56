"""``qbwc-service qbxml build`` (qbxml_builders.preview) shows exactly what the service sends."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine

from qbwc_service.accounts.companies import NewCompany
from qbwc_service.config import load_settings
from qbwc_service.qbwc.protocol import Protocol
from qbwc_service.queue import jobs
from qbxml_builders import SERVICE_ON_ERROR, preview
from qbxml_builders.examples import EXAMPLES


@pytest.mark.parametrize("kind", ["customer_add", "invoice_add", "journal_entry_add"])
def test_the_preview_is_byte_for_byte_the_sent_message(engine: Engine, company: NewCompany, kind: str) -> None:
    """For one queued job the protocol's message equals the preview, but for the requestID."""
    with engine.begin() as conn:
        job_id = jobs.enqueue(conn, "acme", kind, EXAMPLES[kind]).job_id
    protocol = Protocol(engine, load_settings({"log_level": "WARNING"}, environ={}))
    ticket = protocol.authenticate(company.username, company.token)[0]
    sent = protocol.send_request_xml(ticket, "", "", "US", 13, 0)
    shown = preview(kind, EXAMPLES[kind], version="13.0", country="US").decode("utf-8")
    assert f'onError="{SERVICE_ON_ERROR}"' in shown
    assert sent == shown.replace('requestID="1"', f'requestID="{job_id}"', 1)
