"""What the emulator does with the document as a whole: parsing, schema, HCP, snapshots."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from lxml import etree

from qbwc_service.simulator import (
    CompanyFacts,
    Edition,
    HResultError,
    QuickBooksEmulator,
    SnapshotError,
)
from qbwc_service.simulator.schema import load_schema
from qbxml_builders import parse_response
from tests.emulator.conftest import Company, FakeClock, add, document, el, needs_spec, ref

pytestmark = needs_spec

PARSE = "QuickBooks found an error when parsing the provided XML text stream."


def raw(body: str, pi: str = '<?qbxml version="13.0"?>') -> str:
    """A request document written by hand."""
    msgs = f'<QBXMLMsgsRq onError="stopOnError">{body}</QBXMLMsgsRq>'
    return f'<?xml version="1.0"?>{pi}<QBXML>{msgs}</QBXML>'


def test_elements_out_of_schema_order_are_an_hresult(qb: Company) -> None:
    """IsActive before Name breaks the XSD: the call fails with 0x80040400, no response document."""
    bad = raw("<CustomerAddRq><CustomerAdd><IsActive>true</IsActive><Name>X</Name></CustomerAdd></CustomerAddRq>")
    with pytest.raises(HResultError) as info:
        qb.qb.process_request(bad)
    assert info.value.hresult == "0x80040400"
    assert info.value.message == PARSE
    assert "IsActive" in info.value.detail
    assert qb.qb.find("Customer", "X") is None


def test_missing_qbxml_instruction_is_an_hresult(qb: Company) -> None:
    """A document without <?qbxml version?> is refused even though the XSD would accept it."""
    with pytest.raises(HResultError) as info:
        qb.qb.process_request(raw("<CustomerQueryRq/>", pi=""))
    assert info.value.hresult == "0x80040400"


@pytest.mark.parametrize(
    "text",
    [
        "not xml at all",
        '<?qbxml version="13.0"?><QBXMLMsgsRq onError="stopOnError"/>',
        '<?xml version="1.0"?><!DOCTYPE QBXML [<!ENTITY e "x">]><?qbxml version="13.0"?><QBXML/>',
        "",
    ],
)
def test_malformed_documents_are_an_hresult(qb: Company, text: str) -> None:
    """Broken XML, a wrong root, a DTD and an empty body all fail the call with 0x80040400."""
    with pytest.raises(HResultError) as info:
        qb.qb.process_request(text)
    assert info.value.hresult == "0x80040400"


def test_unsupported_version_is_an_hresult(clock: FakeClock) -> None:
    """A Canadian company stops at qbXML 13.0: a 16.0 document is refused."""
    qb = QuickBooksEmulator(CompanyFacts.for_country("CA"), clock=clock)
    with pytest.raises(HResultError, match="not supported"):
        qb.process_request(document(el("CustomerQueryRq"), version="16.0"))


def test_validation_can_be_turned_off(clock: FakeClock) -> None:
    """Without validation the emulator is lenient about element order."""
    qb = QuickBooksEmulator(clock=clock, validate=False)
    out = qb.process_request(
        raw("<CustomerAddRq><CustomerAdd><IsActive>true</IsActive><Name>X</Name></CustomerAdd></CustomerAddRq>")
    )
    assert parse_response(out)[0].status_code == 0


def test_response_looks_like_quickbooks(qb: Company) -> None:
    """Responses open with <?xml version="1.0" ?>, lack the qbxml instruction, echo requestIDs."""
    out = qb.qb.process_request(document(el("CustomerQueryRq")))
    assert out.startswith('<?xml version="1.0" ?>')
    assert "<?qbxml" not in out
    assert parse_response(out)[0].request_id == "1"


def test_hcp_response_reports_the_company(clock: FakeClock) -> None:
    """The HCP response carries product, versions, country, company name and sales tax prefs."""
    facts = CompanyFacts(name="Widgets Ltd", edition=Edition.ENTERPRISE, product_version=24)
    qb = QuickBooksEmulator(facts, clock=clock)
    out = qb.hcp_response()
    schema = load_schema("13.0")
    assert schema is not None
    root = etree.fromstring(out.encode())
    assert schema.validate(root), schema.error_log.last_error
    assert [rs.get("requestID") for rs in root.find("QBXMLMsgsRs")] == ["0", "1", "2"]  # type: ignore[union-attr]
    assert root.findtext(".//ProductName") == "QuickBooks Enterprise Solutions 24.0"
    assert root.findtext(".//HostRet/Country") == "US"
    assert root.findall(".//SupportedQBXMLVersion")[-1].text == "16.0"
    assert root.findtext(".//CompanyName") == "Widgets Ltd"
    assert root.find(".//SalesTaxPreferences") is not None


def test_hcp_response_without_sales_tax(clock: FakeClock) -> None:
    """A UK company without sales tax has no SalesTaxPreferences and tops out at 13.0."""
    qb = QuickBooksEmulator(CompanyFacts.for_country("UK", sales_tax=False), clock=clock)
    root = etree.fromstring(qb.hcp_response().encode())
    assert root.find(".//SalesTaxPreferences") is None
    assert root.findall(".//SupportedQBXMLVersion")[-1].text == "13.0"
    assert "UK" in (root.findtext(".//ProductName") or "")


def test_snapshot_round_trip(stocked: Company, tmp_path: Path, clock: FakeClock) -> None:
    """A company dumped to JSON and loaded again holds the same records and keeps numbering."""
    stocked.ok(
        add(
            "Invoice",
            ref("CustomerRef", "Acme"),
            el("InvoiceLineAdd", ref("ItemRef", "Consulting")),
        )
    )
    path = tmp_path / "company.json"
    stocked.qb.dump(path)
    data = json.loads(path.read_text())
    assert data["records"]["Invoice"][0]["BalanceRemaining"] == "162.38"
    loaded = QuickBooksEmulator.from_snapshot(path, clock=clock)
    assert loaded.snapshot() == stocked.qb.snapshot()
    again = Company(loaded)
    assert again.one(add("Customer", el("Name", "Acme"))).status_code == 3100
    second = again.ok(add("Invoice", ref("CustomerRef", "Acme")))
    assert second["RefNumber"] == "2"


def test_snapshot_starts_a_company_from_json(clock: FakeClock) -> None:
    """A hand-written snapshot is a valid starting point."""
    snap = {
        "format": 1,
        "facts": {"name": "From JSON", "sales_tax": False},
        "records": {
            "Customer": [
                {
                    "ListID": "80000001-1",
                    "Name": "Seeded",
                    "FullName": "Seeded",
                    "EditSequence": "1",
                    "IsActive": "true",
                }
            ]
        },
    }
    qb = Company(QuickBooksEmulator.from_snapshot(snap, clock=clock))
    rs = qb.one(el("CustomerQueryRq", el("FullName", "Seeded")))
    assert rs.ids()["ListID"] == "80000001-1"
    assert qb.qb.facts.name == "From JSON"


@pytest.mark.parametrize(
    "snap",
    [
        {"format": 99},
        {"format": 1, "records": {"Spaceship": [{}]}},
        {"format": 1, "facts": {"edition": "Gold"}},
    ],
)
def test_bad_snapshots_are_refused(snap: dict[str, object]) -> None:
    """Unknown formats, kinds or editions raise SnapshotError."""
    with pytest.raises(SnapshotError):
        QuickBooksEmulator.from_snapshot(snap)


def test_history_records_every_request(qb: Company) -> None:
    """The emulator keeps the name, requestID and status of every request it answered."""
    qb.send(add("Customer", el("Name", "A")), add("Customer", el("Name", "A")), el("CustomerQueryRq"))
    assert [(h.request, h.status_code) for h in qb.qb.history] == [
        ("CustomerAddRq", 0),
        ("CustomerAddRq", 3100),
        ("CustomerQueryRq", 3231),
    ]
