"""Responses are read defensively, streamed when large, and classified for the job queue."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from qbxml_builders import (
    SALES_TAX_OFF_MESSAGE,
    Classification,
    QBResponse,
    ResponseError,
    classify,
    iter_responses,
    parse_response,
    read_hcp,
    response_to_json,
    sales_tax_enabled,
)
from qbxml_builders.responses import STATUS_TABLE

DATA = Path(__file__).resolve().parent / "data"
RESPONSE = (DATA / "mixed_rs.xml").read_bytes()


def test_parse_reads_status_objects_and_iterator() -> None:
    """Each Rs gives requestID, status, returned IDs, totals and the iterator state."""
    first, invoice, empty, dup, warn = parse_response(RESPONSE)
    assert (first.request_id, first.status_code, first.severity) == ("1", 0, "Info")
    assert first.iterator_id == "{eb05f701-e727-472f-8ade-6753c4f67a46}"
    assert first.iterator_remaining == 12
    assert first.more
    assert first.ids() == {
        "ListID": "80000001-1",
        "EditSequence": "1714575600",
        "FullName": "Acme & Co",
        "Name": "Acme & Co",
    }
    assert first.objects[0]["TermsRef"] == "Net 30"
    assert first.objects[0]["Balance"] == "120.50"
    assert first.objects[1]["Name"] == "Zoë"
    assert invoice.ids() == {"TxnID": "1A2-1", "EditSequence": "3", "RefNumber": "INV-1"}
    assert invoice.objects[0]["Subtotal"] == "100.00"
    assert empty.empty
    assert empty.ok
    assert empty.objects == ()
    assert dup.classification is Classification.ALREADY_EXISTS
    assert not dup.ok
    assert warn.ok
    assert warn.severity == "Warn"


def test_streaming_matches_whole_parse() -> None:
    """iter_responses yields the same responses as parse_response, from bytes, str or files."""
    expected = parse_response(RESPONSE)
    assert list(iter_responses(RESPONSE)) == expected
    assert list(iter_responses(RESPONSE.decode())) == expected
    assert list(iter_responses(io.BytesIO(RESPONSE))) == expected


def test_streaming_from_path(tmp_path: Path) -> None:
    """iter_responses reads a response saved to disk."""
    path = tmp_path / "rs.xml"
    path.write_bytes(RESPONSE)
    assert [r.request_id for r in iter_responses(path)] == ["1", "2", "3", "4", "5"]


def test_streaming_is_lazy() -> None:
    """The first response comes out before the parser reaches a fault further on.

    The fault lies past the parser's first reads (128 KiB on): lxml 6.2 raises an error in a
    chunk it was fed before handing out that chunk's events, as a whole document does.
    """
    broken = RESPONSE.replace(b"<InvoiceModRs", b" " * (128 << 10) + b"<InvoiceModRs <")
    stream = iter_responses(broken)
    assert next(stream).request_id == "1"
    with pytest.raises(ResponseError, match="not well-formed"):
        list(stream)


def read(reader: str, data: bytes, max_bytes: int = 1 << 20) -> list[QBResponse]:
    """Parse ``data`` whole or streamed (from a file object), by name."""
    if reader == "parse_response":
        return parse_response(data, max_bytes=max_bytes)
    return list(iter_responses(io.BytesIO(data), max_bytes=max_bytes))


BILLION_LAUGHS = (
    b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
    b'<!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">'
    b'<!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">]>'
    b'<QBXML><QBXMLMsgsRs><CustomerQueryRs statusCode="0"><CustomerRet><Name>&lol2;</Name>'
    b"</CustomerRet></CustomerQueryRs></QBXMLMsgsRs></QBXML>"
)
XXE = (
    b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
    b'<QBXML><QBXMLMsgsRs><CustomerQueryRs statusCode="0"><CustomerRet><Name>&x;</Name>'
    b"</CustomerRet></CustomerQueryRs></QBXMLMsgsRs></QBXML>"
)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (BILLION_LAUGHS, "DTD"),
        (XXE, "DTD"),
        (b"", "empty"),
        (b"   ", "empty"),
        (b"<QBXML><QBXMLMsgsRs>", "not well-formed"),
        (b"<QBXMLMsgsRs/>", "root element"),
        (b"<QBXML/>", "no QBXMLMsgsRs"),
        (b'<QBXML><QBXMLMsgsRs><XRs statusCode="abc"/></QBXMLMsgsRs></QBXML>', "not a number"),
    ],
)
@pytest.mark.parametrize("reader", ["parse_response", "iter_responses"])
def test_hostile_or_broken_input_is_refused(data: bytes, message: str, reader: str) -> None:
    """DTDs, entity bombs, external entities and broken documents raise ResponseError."""
    with pytest.raises(ResponseError, match=message):
        read(reader, data)


@pytest.mark.parametrize("reader", ["parse_response", "iter_responses"])
def test_size_limit(reader: str) -> None:
    """A response over max_bytes is refused instead of being parsed."""
    with pytest.raises(ResponseError, match="limit"):
        read(reader, RESPONSE, max_bytes=200)


def test_response_to_json() -> None:
    """The JSON form lists each request's status, classification, explanation and objects."""
    out = response_to_json(parse_response(RESPONSE))
    json.dumps(out)
    assert [r["request_id"] for r in out] == ["1", "2", "3", "4", "5"]
    assert out[0]["objects"][0]["ListID"] == "80000001-1"
    assert out[2]["classification"] == "success"
    assert out[3] == {
        "request_id": "4",
        "name": "CustomerAddRs",
        "status_code": 3100,
        "severity": "Error",
        "message": 'The name "Acme" of the list element is already in use.',
        "classification": "already_exists",
        "explanation": STATUS_TABLE[3100].explanation,
        "ok": False,
        "iterator_id": None,
        "iterator_remaining": None,
        "objects": [],
    }


@pytest.mark.parametrize(
    ("code", "severity", "expected"),
    [
        (0, "Info", Classification.SUCCESS),
        (1, "Info", Classification.SUCCESS),
        (500, "Warn", Classification.SUCCESS),
        (530, "Warn", Classification.SUCCESS),
        (3000, "Error", Classification.PERMANENT),
        (3040, "Error", Classification.PERMANENT),
        (3070, "Error", Classification.PERMANENT),
        (3090, "Error", Classification.PERMANENT),
        (3100, "Error", Classification.ALREADY_EXISTS),
        (3120, "Error", Classification.PERMANENT),
        (3140, "Error", Classification.MISSING_REFERENCE),
        (3170, "Error", Classification.RETRYABLE),
        (3175, "Error", Classification.RETRYABLE),
        (3176, "Error", Classification.RETRYABLE),
        (3180, "Error", Classification.RETRYABLE),
        (3200, "Error", Classification.STALE_EDIT_SEQUENCE),
        (3210, "Error", Classification.PERMANENT),
        (3231, "Error", Classification.RETRYABLE),
        (3250, "Error", Classification.PERMANENT),
        (3260, "Error", Classification.PERMANENT),
        (3261, "Error", Classification.PERMANENT),
        (3391, "Error", Classification.RETRYABLE),
        (9001, "Error", Classification.RETRYABLE),
        (4242, "Error", Classification.PERMANENT),
        (4242, "Warn", Classification.SUCCESS),
        (4242, "Info", Classification.SUCCESS),
    ],
)
def test_classification_table(code: int, severity: str, expected: Classification) -> None:
    """Status codes map to what the job should do; unknown errors are permanent, warnings pass."""
    info = classify(code, severity)
    assert info.classification is expected
    assert info.explanation.endswith((".", "again.", "why."))


def test_every_known_code_explains_itself() -> None:
    """Each listed code carries a plain-language sentence for a bookkeeper."""
    for code, info in STATUS_TABLE.items():
        assert len(info.explanation) > 30, code
        assert info.explanation.endswith("."), code


HCP = (DATA / "hcp_rs.xml").read_bytes()
SALES_TAX_ON = (
    b"<SalesTaxPreferences><DefaultItemSalesTaxRef><FullName>Tax</FullName></DefaultItemSalesTaxRef>"
    b"<PaySalesTax>Monthly</PaySalesTax></SalesTaxPreferences>"
)


def test_hcp_tells_product_versions_and_sales_tax() -> None:
    """The HCP answer gives product, country, versions, company and the sales tax switch."""
    info = read_hcp(HCP % SALES_TAX_ON)
    assert info.product_name == "QuickBooks Enterprise Solutions 23.0"
    assert info.country == "US"
    assert info.supported_versions == ("1.0", "13.0", "16.0")
    assert info.best_version() == "16.0"
    assert info.best_version(ceiling="13.0") == "13.0"
    assert info.company_name == "Café Ltd"
    assert info.sales_tax_enabled is True
    assert info.is_multi_currency_on is False


def test_hcp_sales_tax_off() -> None:
    """Without SalesTaxPreferences sales tax is off, and the message tells the user what to do."""
    assert sales_tax_enabled(HCP % b"") is False
    assert "cannot be turned on from here" in SALES_TAX_OFF_MESSAGE
    assert "Edit > Preferences > Sales Tax" in SALES_TAX_OFF_MESSAGE


def test_parsers_are_reused_per_thread_and_stay_hardened() -> None:
    """Each thread keeps its own parser; a refused document leaves it as strict as before."""
    import threading

    from qbxml_builders import parse_untrusted

    hostile = b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY e "boom">]><r>&e;</r>'
    seen: dict[str, object] = {}
    errors: list[BaseException] = []

    def work(name: str) -> None:
        try:
            for _ in range(50):
                assert parse_untrusted(f"<{name}><v>1</v></{name}>").tag == name
                with pytest.raises(ResponseError):
                    parse_untrusted(hostile)
            seen[name] = parse_untrusted("<r/>").getroottree().parser
            assert parse_untrusted("<r/>").getroottree().parser is seen[name]
        except BaseException as exc:  # reported below, from the main thread
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(f"T{i}",)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert len({id(p) for p in seen.values()}) == 4
    assert seen["T0"] is not parse_untrusted("<r/>").getroottree().parser
