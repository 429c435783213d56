"""Typed job kinds: validated at enqueue, built at send time for the company's version and country."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner
from lxml import etree
from sqlalchemy import Engine, select

from qbwc_service.accounts.companies import NewCompany
from qbwc_service.cli import main
from qbwc_service.db.models import Job, JobState
from qbwc_service.errors import PayloadError
from qbwc_service.qbwc.protocol import Protocol
from qbwc_service.queue import jobs
from tests.helpers import customer_ret, response_doc, rs

INVOICE = {
    "customer_ref": {"full_name": "Zoë's Garage"},
    "ref_number": "INV-1001",
    "txn_date": "2026-11-20",
    "lines": [{"item_ref": {"full_name": "Labor"}, "quantity": "2", "rate": "45.50", "desc": "Brake job"}],
}


def test_enqueue_refuses_bad_payloads_with_field_errors(engine: Engine, company: NewCompany) -> None:
    """A typed payload with faults is refused at enqueue with one error per field, and nothing is queued."""
    with engine.begin() as conn, pytest.raises(PayloadError) as caught:
        jobs.enqueue(conn, "acme", "customer_add", {"name": "a:b", "colour": "red"})
    assert any(e.startswith("name:") for e in caught.value.errors)
    assert any(e.startswith("colour:") for e in caught.value.errors)
    with engine.connect() as conn:
        assert conn.execute(select(Job.id)).first() is None


def test_typed_jobs_are_built_for_the_company_and_record_ids(engine: Engine, company: NewCompany) -> None:
    """A customer and its invoice go in one message as schema-ordered qbXML, and their ListID/TxnID are recorded."""
    with engine.begin() as conn:
        customer = jobs.enqueue(conn, "acme", "customer_add", {"name": "Zoë's Garage"}).job_id
        invoice = jobs.enqueue(conn, "acme", "invoice_add", INVOICE, depends_on=customer).job_id
        stored = conn.execute(select(Job.payload, Job.reference).where(Job.id == invoice)).one()
    assert Decimal(stored.payload["lines"][0]["rate"]) == Decimal("45.50") and stored.reference == "INV-1001"
    from qbwc_service.config import load_settings

    protocol = Protocol(engine, load_settings({"log_level": "WARNING"}, environ={}))
    ticket = protocol.authenticate(company.username, company.token)[0]
    first = etree.fromstring(protocol.send_request_xml(ticket, "", "", "US", 13, 0).encode())
    customer_rq, invoice_rq = first.find("QBXMLMsgsRq")  # the invoice after the customer it waits for
    assert customer_rq.tag == "CustomerAddRq" and customer_rq.findtext("CustomerAdd/Name") == "Zoë's Garage"
    body = invoice_rq.find("InvoiceAdd")
    assert [c.tag for c in body][:3] == ["CustomerRef", "TxnDate", "RefNumber"]
    assert Decimal(body.findtext("InvoiceLineAdd/Rate")) == Decimal("45.50")
    ret = "<InvoiceRet><TxnID>1A-1</TxnID><EditSequence>17</EditSequence><RefNumber>INV-1001</RefNumber></InvoiceRet>"
    answer = response_doc(
        rs(str(customer), ret=customer_ret("80000001-1", "Zoë's Garage")),
        rs(str(invoice), name="InvoiceAddRs", ret=ret),
    )
    assert protocol.receive_response_xml(ticket, answer, "", "") == 100
    with engine.connect() as conn:
        result = conn.execute(select(Job.state, Job.result).where(Job.id == invoice)).one()
    assert result.state == JobState.DONE and result.result["TxnID"] == "1A-1" and result.result["EditSequence"] == "17"


def test_qbxml_cli_lists_builds_and_parses(tmp_path: Path) -> None:
    """qbxml kinds gives JSON Schemas, build previews a document, parse reads a response."""
    runner = CliRunner()
    kinds = json.loads(runner.invoke(main, ["--json", "qbxml", "kinds"]).stdout)
    assert "invoice_add" in kinds and kinds["invoice_add"]["type"] == "object"
    payload = tmp_path / "invoice.json"
    payload.write_text(json.dumps(INVOICE))
    built = runner.invoke(main, ["qbxml", "build", "invoice_add", "--payload", str(payload), "--version", "16.0"])
    assert built.exit_code == 0 and '<?qbxml version="16.0"?>' in built.stdout
    assert etree.fromstring(built.stdout.encode()).find(".//InvoiceAddRq/InvoiceAdd/RefNumber").text == "INV-1001"
    bad = runner.invoke(main, ["qbxml", "build", "invoice_add", "--payload", "-"], input=json.dumps({"lines": []}))
    assert bad.exit_code == 1 and "customer_ref" in bad.stderr
    response = tmp_path / "rs.xml"
    response.write_text(response_doc(rs("7", 3140, name="InvoiceAddRs", message="Invalid reference to Customer")))
    parsed = json.loads(runner.invoke(main, ["--json", "qbxml", "parse", str(response)]).stdout)
    assert parsed[0]["request_id"] == "7" and parsed[0]["classification"] == "missing_reference"


def test_qbxml_kinds_lists_the_queue_kinds_with_their_schemas() -> None:
    """The multi-step kinds are listed: ensure with the Add's schema, a Mod with an optional EditSequence, iterate."""
    runner = CliRunner()
    kinds = json.loads(runner.invoke(main, ["--json", "qbxml", "kinds"]).stdout)
    assert kinds["customer_ensure"]["properties"].keys() == kinds["customer_add"]["properties"].keys()
    assert "edit_sequence" not in kinds["customer_mod"]["required"]
    assert kinds["customer_query"]["properties"]["iterate"]["type"] == "boolean"
    assert kinds["qbxml"]["required"] == ["request"]
    text = runner.invoke(main, ["qbxml", "kinds"]).stdout
    assert "sales_tax_code_ensure" in text and "item_inventory_ensure" in text
