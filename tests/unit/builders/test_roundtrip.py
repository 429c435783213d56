"""Odd Unicode survives building and parsing; limits match the schema's at the boundary."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from qbxml_builders import PayloadValidationError, preview, validate_payload
from qbxml_builders.examples import EXAMPLES

#: Characters XML 1.0 can carry (no C0 controls but tab/LF/CR, no surrogates, no FFFE/FFFF).
XML_CHARS = st.characters(codec="utf-8", min_codepoint=0x20, exclude_characters="\ufffe\uffff")
TEXT = st.text(XML_CHARS, min_size=1, max_size=41).filter(lambda s: s.strip() and ":" not in s)


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow])
@given(name=TEXT, memo=st.text(XML_CHARS, max_size=200), city=st.text(XML_CHARS, max_size=31))
def test_unicode_round_trip(name: str, memo: str, city: str) -> None:
    """Any XML-legal text comes back unchanged from the built document."""
    document = preview(
        "invoice_add",
        {
            "customer_ref": {"full_name": name},
            "memo": memo,
            "bill_address": {"city": city},
            "lines": [{"desc": name}],
        },
    )
    root = etree.fromstring(document)
    body = root.find("QBXMLMsgsRq/InvoiceAddRq/InvoiceAdd")
    assert body is not None
    assert body.findtext("CustomerRef/FullName") == name
    assert body.findtext("Memo") == memo
    assert body.findtext("InvoiceLineAdd/Desc") == name


@given(bad=st.sampled_from(["\x00", "\x01", "\x0b", "\x1f", "\ud800", "\uffff"]))
def test_characters_xml_cannot_carry_are_refused(bad: str) -> None:
    """Control characters and lone surrogates are refused with the field named."""
    with pytest.raises(PayloadValidationError) as caught:
        validate_payload("customer_add", {"name": f"A{bad}B"})
    assert caught.value.errors[0].startswith("name: ")
    assert "U+" in caught.value.errors[0] or bad == "\ud800"


BOUNDARIES: list[tuple[str, dict[str, Any], int]] = [
    ("customer_add", {"name": ...}, 41),
    ("vendor_add", {"name": ...}, 41),
    ("account_add", {"name": ..., "account_type": "Bank"}, 31),
    ("item_service_add", {"name": ..., "sales_or_purchase": {}}, 31),
    ("sales_tax_item_add", {"name": ...}, 31),
    ("sales_tax_code_add", {"name": ..., "is_taxable": True}, 3),
    ("invoice_add", {**EXAMPLES["invoice_add"], "ref_number": ...}, 11),
    ("invoice_add", {**EXAMPLES["invoice_add"], "bill_address": {"addr1": ...}}, 41),
    ("invoice_add", {**EXAMPLES["invoice_add"], "po_number": ...}, 25),
    ("payment_add", {**EXAMPLES["payment_add"], "ref_number": ...}, 20),
    ("customer_add", {"name": "A", "phone": ...}, 21),
    ("customer_add", {"name": "A", "bill_address": {"postal_code": ...}}, 13),
]


def _fill(data: Any, value: str) -> Any:
    if data is ...:
        return value
    if isinstance(data, dict):
        return {k: _fill(v, value) for k, v in data.items()}
    return data


@pytest.mark.parametrize(("kind", "template", "limit"), BOUNDARIES)
def test_limits_match_the_schema(
    schemas: dict[str, etree.XMLSchema], kind: str, template: dict[str, Any], limit: int
) -> None:
    """A value at the limit is schema-valid; one character more is refused before building."""
    document = preview(kind, _fill(template, "é" * limit))
    schema = schemas["13.0"]
    assert schema.validate(etree.fromstring(document)), schema.error_log.last_error
    with pytest.raises(PayloadValidationError, match=f"at most {limit} characters"):
        validate_payload(kind, _fill(template, "é" * (limit + 1)))
