"""The document wrapper and the checks the XSD cannot make (PI, root, onError)."""

from __future__ import annotations

from pathlib import Path

import pytest
from lxml import etree

from qbxml_builders import (
    SERVICE_ON_ERROR,
    BuilderError,
    OnError,
    build_document,
    build_request,
    check_document,
    join_document,
    preview,
    serialize_request,
)
from qbxml_builders.examples import EXAMPLES
from qbxml_builders.schema import schema_version_for, validate_document
from tests.unit.builders.conftest import QBXML_DIR


def test_several_requests_in_one_message() -> None:
    """Several requests share one QBXMLMsgsRq, in order, each with its requestID."""
    document = build_document(
        [
            ("a-1", build_request("customer_add", EXAMPLES["customer_add"])),
            ("a-2", build_request("invoice_add", EXAMPLES["invoice_add"])),
            ("a-3", build_request("customer_query", {"full_names": ["Acme Café"]})),
        ],
        version="16.0",
        on_error=OnError.STOP,
    )
    root = etree.fromstring(document)
    msgs = root.find("QBXMLMsgsRq")
    assert msgs is not None
    assert msgs.get("onError") == "stopOnError"
    assert [(c.tag, c.get("requestID")) for c in msgs] == [
        ("CustomerAddRq", "a-1"),
        ("InvoiceAddRq", "a-2"),
        ("CustomerQueryRq", "a-3"),
    ]
    assert check_document(document) == "16.0"


def test_joining_serialized_requests_gives_the_same_document() -> None:
    """A caller that kept each request's text gets, byte for byte, the document build_document makes."""
    elements = [
        build_request("customer_add", EXAMPLES["customer_add"]),
        build_request("invoice_add", EXAMPLES["invoice_add"]),
    ]
    texts = []
    for i, element in enumerate(elements, 1):
        element.set("requestID", f"7.{i}")
        texts.append(serialize_request(element))
    fresh = [
        build_request("customer_add", EXAMPLES["customer_add"]),
        build_request("invoice_add", EXAMPLES["invoice_add"]),
    ]
    expected = build_document([("7.1", fresh[0]), ("7.2", fresh[1])], version="13.0", on_error=OnError.STOP)
    assert join_document(texts, version="13.0", on_error=OnError.STOP).encode() == expected
    assert check_document(expected) == "13.0"
    with pytest.raises(BuilderError, match="at least one request"):
        join_document([])


def test_wrapper_refuses_non_requests_and_empty_messages() -> None:
    """Only …Rq elements go in, and a message needs at least one."""
    with pytest.raises(BuilderError, match="not a qbXML request"):
        build_document([("1", etree.Element("CustomerAdd"))])
    with pytest.raises(BuilderError, match="at least one request"):
        build_document([])


@pytest.mark.parametrize(
    ("document", "message"),
    [
        (
            b'<?xml version="1.0"?><QBXML><QBXMLMsgsRq onError="stopOnError"/></QBXML>',
            "instruction is missing",
        ),
        (
            b'<?xml version="1.0"?><?qbxml version="13.0"?><QBXMLMsgsRq onError="stopOnError"/>',
            "root element",
        ),
        (
            b'<?qbxml version="13.0"?><QBXML xmlns="urn:x"><QBXMLMsgsRq onError="stopOnError"/></QBXML>',
            "root element",
        ),
        (b'<?qbxml version="13.0"?><QBXML/>', "no QBXMLMsgsRq"),
        (b'<?qbxml version="13.0"?><QBXML><QBXMLMsgsRq/></QBXML>', "onError"),
        (
            b'<?qbxml version="9.0"?><QBXML><QBXMLMsgsRq onError="stopOnError"/></QBXML>',
            "not a version",
        ),
        (b"<QBXML>", "not well-formed"),
    ],
)
def test_check_document_catches_what_the_schema_misses(document: bytes, message: str) -> None:
    """A missing or bad PI, a wrong root, a namespace or a bad onError are refused."""
    with pytest.raises(BuilderError, match=message):
        check_document(document)


def test_every_document_defaults_to_the_services_on_error() -> None:
    """build_document, join_document and preview all write onError="continueOnError", as the service sends."""
    element = build_request("host_query", {})
    element.set("requestID", "1")
    joined = join_document([serialize_request(element)])
    assert SERVICE_ON_ERROR is OnError.CONTINUE
    assert f'onError="{SERVICE_ON_ERROR}"' in joined
    assert joined.encode() == build_document([("1", element)]) == preview("host_query", {})


def test_validate_document_reports_schema_errors(schemas: dict[str, etree.XMLSchema]) -> None:
    """Elements out of schema order are reported with the XSD's message."""
    good = build_document([("1", build_request("customer_add", {"name": "A", "is_active": True}))])
    assert validate_document(good, QBXML_DIR) == "13.0"
    bad = good.replace(b"<Name>A</Name><IsActive>true</IsActive>", b"<IsActive>true</IsActive><Name>A</Name>")
    with pytest.raises(BuilderError, match="IsActive"):
        validate_document(bad, QBXML_DIR)


@pytest.mark.parametrize(
    ("declared", "judge"),
    [("2.0", "13.0"), ("12.0", "13.0"), ("13.0", "13.0"), ("14.0", "16.0"), ("15", "16.0"), ("16.0", "16.0")],
)
def test_the_oldest_shipped_schema_not_older_than_the_document_judges_it(declared: str, judge: str) -> None:
    """13.0 judges 13.0 and older documents; 16.0 judges 14.0 and 15.0 ones, which may use newer elements."""
    assert schema_version_for(declared) == judge


def test_a_15_0_document_may_use_what_16_0_added(schemas: dict[str, etree.XMLSchema]) -> None:
    """An element added after 13.0 (AlertQueryRq) passes in a 15.0 document and is refused in a 13.0 one."""
    alert = ['<AlertQueryRq requestID="1"><OwnerID>0</OwnerID></AlertQueryRq>']
    assert validate_document(join_document(alert, version="15.0").encode(), QBXML_DIR) == "15.0"
    with pytest.raises(BuilderError, match="AlertQueryRq"):
        validate_document(join_document(alert, version="13.0").encode(), QBXML_DIR)


def test_validate_document_needs_the_schema_files(tmp_path: Path) -> None:
    """A directory without the XSD gives a clear error, not an lxml traceback."""
    document = build_document([("1", build_request("host_query", {}))])
    with pytest.raises(BuilderError, match="schema is not at"):
        validate_document(document, tmp_path)
