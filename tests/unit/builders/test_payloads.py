"""Payload models refuse what QuickBooks would refuse, naming the field, before sending."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pydantic
import pytest
from lxml import etree

from qbxml_builders import (
    KINDS,
    BuilderError,
    PayloadValidationError,
    VersionError,
    build_request,
    get_kind,
    kinds_json_schema,
    preview,
    validate_payload,
)
from qbxml_builders.customers import CustomerAdd
from qbxml_builders.examples import EXAMPLES
from qbxml_builders.journal import JournalEntryAdd


def errors_of(kind: str, data: dict[str, Any]) -> list[str]:
    """The error sentences validate_payload raises for ``data``."""
    with pytest.raises(PayloadValidationError) as caught:
        validate_payload(kind, data)
    assert caught.value.kind == kind
    return caught.value.errors


@pytest.mark.parametrize(
    ("kind", "data", "expected"),
    [
        ("customer_add", {"name": "x" * 42}, "name: must be at most 41 characters"),
        (
            "item_service_add",
            {"name": "x" * 32, "sales_or_purchase": {}},
            "name: must be at most 31",
        ),
        ("account_add", {"name": "x" * 32, "account_type": "Bank"}, "name: must be at most 31"),
        ("sales_tax_code_add", {"name": "TAXX", "is_taxable": True}, "name: must be at most 3"),
        (
            "invoice_add",
            {
                "customer_ref": {"full_name": "A"},
                "ref_number": "123456789012",
                "lines": [{"desc": "x"}],
            },
            "ref_number: must be at most 11 characters",
        ),
        (
            "customer_add",
            {"name": "A", "bill_address": {"addr1": "x" * 42}},
            "bill_address.addr1: must be at most 41 characters",
        ),
        ("customer_add", {"name": "Parent:Child"}, "name: must not contain a colon"),
        ("customer_add", {"name": "bell\x07"}, "name: contains the character U+0007"),
        (
            "customer_add",
            {"name": "A", "nickname": "B"},
            "nickname: is not a field of this request",
        ),
        ("account_add", {"name": "A", "account_type": "Savings"}, "account_type: Input should be"),
        (
            "invoice_add",
            {
                "customer_ref": {"full_name": "A"},
                "lines": [{"item_ref": {"full_name": "I"}, "amount": "1.005"}],
            },
            "lines.0.amount: must have at most 2 decimal places",
        ),
        (
            "invoice_add",
            {"customer_ref": {"full_name": "A"}, "lines": [{"quantity": "2"}]},
            "lines.0.item_ref: give an item, or a desc",
        ),
        (
            "invoice_add",
            {"customer_ref": {"full_name": "A"}, "lines": [{"desc": "d", "amount": "2"}]},
            "lines.0.item_ref: a line with amount needs an item",
        ),
        (
            "invoice_add",
            {
                "customer_ref": {"full_name": "A"},
                "lines": [{"item_ref": {"full_name": "I"}, "rate": "1", "rate_percent": "5"}],
            },
            "lines.0.rate_percent: cannot be combined with rate",
        ),
        (
            "invoice_add",
            {"customer_ref": {"full_name": "A"}},
            "lines: an invoice needs at least one line",
        ),
        (
            "invoice_add",
            {"customer_ref": {}, "lines": [{"desc": "x"}]},
            "customer_ref.list_id: give list_id or full_name",
        ),
        ("item_service_add", {"name": "S"}, "sales_or_purchase: give one of"),
        (
            "item_service_add",
            {"name": "S", "sales_or_purchase": {}, "sales_and_purchase": {}},
            "sales_and_purchase: cannot be combined with sales_or_purchase",
        ),
        (
            "customer_query",
            {"list_ids": ["1"], "max_returned": 5},
            "max_returned: cannot be combined with list_ids",
        ),
        ("customer_query", {"iterator": "Continue"}, "iterator_id: needed with iterator=Continue"),
        ("customer_query", {"iterator_id": "{x}"}, "iterator_id: only goes with iterator=Continue"),
        (
            "invoice_query",
            {"txn_ids": ["1"], "paid_status": "PaidOnly"},
            "paid_status: cannot be combined with txn_ids",
        ),
        (
            "customer_add",
            {"name": "A", "external_guid": "not-a-guid"},
            "external_guid: String should match",
        ),
        (
            "payment_add",
            {
                "customer_ref": {"full_name": "A"},
                "total_amount": "10.00",
                "applied_to": [{"txn_id": "1", "payment_amount": "10.01"}],
            },
            "applied_to: applies 10.01, more than total_amount 10.00",
        ),
        (
            "payment_add",
            {
                "customer_ref": {"full_name": "A"},
                "is_auto_apply": True,
                "applied_to": [{"txn_id": "1"}],
            },
            "is_auto_apply: leave it out",
        ),
        (
            "sales_tax_group_item_add",
            {"name": "G", "item_sales_tax_refs": []},
            "item_sales_tax_refs: Tuple should have at least 1 item",
        ),
    ],
)
def test_refused_with_field_path(kind: str, data: dict[str, Any], expected: str) -> None:
    """An invalid payload is refused with a sentence that starts with the field's path."""
    errors = errors_of(kind, data)
    assert any(e.startswith(expected) for e in errors), errors


def test_unbalanced_journal_entry_is_refused() -> None:
    """A journal entry whose debits and credits differ never reaches QuickBooks."""
    lines = [
        {"side": "debit", "account_ref": {"full_name": "Cash"}, "amount": "100.00"},
        {"side": "credit", "account_ref": {"full_name": "Sales"}, "amount": "99.99"},
    ]
    errors = errors_of("journal_entry_add", {"lines": lines})
    assert errors == ["lines: debits total 100.00 but credits total 99.99; a journal entry must balance"]
    with pytest.raises(pydantic.ValidationError, match="must balance"):
        JournalEntryAdd.model_validate({"lines": lines})


def test_unbalanced_journal_mod_is_refused() -> None:
    """Replacing a journal entry's lines also has to balance."""
    errors = errors_of(
        "journal_entry_mod",
        {
            "txn_id": "1",
            "edit_sequence": "2",
            "lines": [
                {"txn_line_id": "-1", "journal_line_type": "Debit", "amount": "5"},
                {"txn_line_id": "-1", "journal_line_type": "Credit", "amount": "4"},
            ],
        },
    )
    assert errors[0].startswith("lines: debits total 5.00 but credits total 4.00")


def test_negative_journal_amount_is_refused() -> None:
    """Journal line amounts are non-negative; the side says debit or credit."""
    errors = errors_of(
        "journal_entry_add",
        {
            "lines": [
                {"side": "debit", "account_ref": {"full_name": "A"}, "amount": "-1"},
                {"side": "credit", "account_ref": {"full_name": "B"}, "amount": "-1"},
            ]
        },
    )
    assert errors[0].startswith("lines.0.amount: Input should be greater than or equal to 0")


def test_all_errors_are_reported_at_once() -> None:
    """Several faults give several sentences, each naming its own field."""
    errors = errors_of("customer_add", {"name": "", "phone": "1" * 22, "credit_limit": "x"})
    paths = [e.split(":")[0] for e in errors]
    assert paths == ["name", "phone", "credit_limit"]


def test_models_are_frozen() -> None:
    """A validated payload cannot be changed afterwards."""
    customer = CustomerAdd(name="Acme")
    with pytest.raises(pydantic.ValidationError):
        customer.name = "Other"  # type: ignore[misc]


def test_money_renders_with_two_places() -> None:
    """Money is rendered with exactly two decimals, whatever way it was written."""
    data = {
        "customer_ref": {"full_name": "A"},
        "lines": [{"item_ref": {"full_name": "I"}, "amount": 7}],
    }
    element = build_request("invoice_add", data)
    assert element.findtext("InvoiceAdd/InvoiceLineAdd/Amount") == "7.00"
    data["lines"] = [{"item_ref": {"full_name": "I"}, "amount": 7.1, "rate": "1.50000"}]
    element = build_request("invoice_add", data)
    assert element.findtext("InvoiceAdd/InvoiceLineAdd/Amount") == "7.10"
    assert element.findtext("InvoiceAdd/InvoiceLineAdd/Rate") == "1.5"


def test_large_rates_render_without_exponent() -> None:
    """A price such as 1E+3 renders as plain digits, as PRICETYPE requires."""
    element = build_request("item_service_add", {"name": "S", "sales_or_purchase": {"price": Decimal("1E+3")}})
    assert element.findtext("ItemServiceAdd/SalesOrPurchase/Price") == "1000"


def test_money_too_large_is_refused() -> None:
    """Amounts beyond AMTTYPE's 13 integer digits are refused."""
    errors = errors_of("customer_add", {"name": "A", "credit_limit": "10000000000000"})
    assert errors[0].startswith("credit_limit: must be less than 10^13")


def test_dates_render_iso() -> None:
    """Dates and modified-since timestamps are ISO 8601, without microseconds."""
    element = build_request("customer_query", {"from_modified_date": "2024-05-01T08:30:00.123456-05:00"})
    assert element.findtext("FromModifiedDate") == "2024-05-01T08:30:00-05:00"
    element = build_request("invoice_add", EXAMPLES["invoice_add"])
    assert element.findtext("InvoiceAdd/TxnDate") == "2024-05-02"


def test_iterator_becomes_attributes() -> None:
    """Iterator and iteratorID are attributes of the query element, with MaxReturned inside."""
    element = build_request("customer_query", {"iterator": "Start", "max_returned": 250, "active_status": "All"})
    assert dict(element.attrib) == {"iterator": "Start"}
    assert [c.tag for c in element] == ["MaxReturned", "ActiveStatus"]
    element = build_request("customer_query", {"iterator": "Continue", "iterator_id": "{1-2}"})
    assert dict(element.attrib) == {"iterator": "Continue", "iteratorID": "{1-2}"}


def test_unapplied_payment_sends_is_auto_apply_false() -> None:
    """A payment applied to nothing stays an unapplied credit: IsAutoApply is false."""
    element = build_request("payment_add", {"customer_ref": {"full_name": "A"}, "total_amount": "5"})
    assert element.findtext("ReceivePaymentAdd/IsAutoApply") == "false"
    applied = build_request("payment_add", EXAMPLES["payment_add"])
    assert applied.find("ReceivePaymentAdd/IsAutoApply") is None
    assert applied.findtext("ReceivePaymentAdd/AppliedToTxnAdd/PaymentAmount") == "291.00"


def test_text_is_escaped_and_unicode_survives() -> None:
    """Markup characters are escaped by lxml and non-ASCII text arrives intact."""
    document = preview("customer_add", {"name": "<b>Ça & Zoë</b> 中文 😀"})
    assert b"&lt;b&gt;" in document
    assert b"&amp;" in document
    root = etree.fromstring(document)
    assert root.findtext(".//CustomerAdd/Name") == "<b>Ça & Zoë</b> 中文 😀"


@pytest.mark.parametrize(
    ("kind", "data", "version", "country", "message"),
    [
        (
            "customer_add",
            {"name": "A", "class_ref": {"full_name": "East"}},
            "11.0",
            "US",
            "class_ref: ClassRef needs qbXML 12.0",
        ),
        (
            "customer_add",
            {"name": "A", "external_guid": "{6B29FC40-CA47-1067-B31D-00DD010662DA}"},
            "7.0",
            "US",
            "external_guid: ExternalGUID needs qbXML 8.0",
        ),
        (
            "customer_add",
            {"name": "A", "bill_address": {"addr5": "x"}},
            "5.0",
            "US",
            "bill_address.addr5: Addr5 needs qbXML 6.0",
        ),
        (
            "customer_add",
            {"name": "A", "tax_registration_number": "GB123"},
            "13.0",
            "US",
            "tax_registration_number: TaxRegistrationNumber does not exist in QuickBooks US",
        ),
        (
            "customer_add",
            {"name": "A", "item_sales_tax_ref": {"full_name": "T"}},
            "13.0",
            "CA",
            "item_sales_tax_ref: ItemSalesTaxRef does not exist in QuickBooks CA",
        ),
        (
            "invoice_add",
            {**EXAMPLES["invoice_add"], "is_tax_included": True},
            "13.0",
            "US",
            "is_tax_included: IsTaxIncluded does not exist",
        ),
        (
            "vendor_add",
            {"name": "HMRC", "is_sales_tax_agency": True},
            "13.0",
            "US",
            "is_sales_tax_agency: IsSalesTaxAgency does not exist",
        ),
        (
            "customer_query",
            {"iterator": "Start"},
            "4.0",
            "US",
            "iterator: iterator needs qbXML 5.0",
        ),
        (
            "sales_tax_code_add",
            {"name": "T", "is_taxable": True},
            "6.0",
            "US",
            "sales_tax_code_add: SalesTaxCodeAddRq needs qbXML 7.0",
        ),
    ],
)
def test_version_and_country_gates(kind: str, data: dict[str, Any], version: str, country: str, message: str) -> None:
    """Asking an older version or another edition for an element it lacks raises VersionError."""
    with pytest.raises(VersionError) as caught:
        build_request(kind, data, version=version, country=country)
    assert str(caught.value).startswith(message), str(caught.value)


def test_country_fields_allowed_where_they_exist() -> None:
    """The CA/UK-only fields build for a Canadian or UK edition."""
    element = build_request(
        "vendor_add",
        {"name": "Receiver General", "is_sales_tax_agency": True, "reporting_period": "Quarterly"},
        country="CA",
    )
    assert element.findtext("VendorAdd/IsSalesTaxAgency") == "true"
    element = build_request(
        "invoice_add",
        {**EXAMPLES["invoice_add"], "item_sales_tax_ref": None, "is_tax_included": True},
        country="UK",
    )
    assert element.findtext("InvoiceAdd/IsTaxIncluded") == "true"


def test_old_version_without_new_fields_builds() -> None:
    """A payload using only old elements builds for an old version, declared in the PI."""
    document = preview("customer_add", {"name": "A", "bill_address": {"addr1": "1 Main"}}, version="2.1")
    assert b'<?qbxml version="2.1"?>' in document


def test_unknown_version_and_country_are_refused() -> None:
    """Versions QuickBooks never shipped and unknown editions are refused by name."""
    with pytest.raises(VersionError, match="version"):
        build_request("customer_add", {"name": "A"}, version="9.0")
    with pytest.raises(VersionError, match="country"):
        build_request("customer_add", {"name": "A"}, country="AU")


def test_unknown_kind_is_refused() -> None:
    """An unknown kind name is refused with the list of known ones."""
    with pytest.raises(BuilderError, match="customer_add"):
        get_kind("customer_create")


def test_build_refuses_another_kinds_payload() -> None:
    """A kind's build() takes only its own payload model."""
    with pytest.raises(BuilderError, match="takes a CustomerAdd"):
        KINDS["customer_add"].build(JournalEntryAdd.model_validate(EXAMPLES["journal_entry_add"]))


def test_registry_names_and_shapes() -> None:
    """Kinds are snake_case, carry a description and a frozen model, and request tags end in Rq."""
    required = {
        "customer_add", "customer_mod", "customer_query", "invoice_add", "sales_tax_item_add",
        "account_add", "item_service_add", "payment_add", "journal_entry_add",
        "company_query", "preferences_query", "host_query", "sales_tax_code_add",
        "sales_tax_group_item_add", "vendor_add", "sales_receipt_add",
    }  # fmt: skip
    assert required <= set(KINDS)
    for name, kind in KINDS.items():
        assert name == kind.name
        assert name == name.lower()
        assert kind.request_tag.endswith("Rq")
        assert kind.description
        assert kind.payload_model.model_config.get("frozen") is True


def test_json_schema_published_for_every_kind() -> None:
    """Every kind publishes a JSON Schema whose enums use QuickBooks' own values."""
    schemas = kinds_json_schema()
    assert set(schemas) == set(KINDS)
    account = schemas["account_add"]
    enum = account["$defs"]["AccountType"]["enum"]
    assert "OtherCurrentLiability" in enum
    assert "CostOfGoodsSold" in enum
    assert account["properties"]["name"]["maxLength"] == 31
    assert set(account["required"]) == {"name", "account_type"}


@pytest.mark.parametrize(
    ("kind", "reference"),
    [
        ("customer_add", "Acme Café"),
        ("invoice_add", "INV-10042"),
        ("customer_mod", "Acme Café"),
        ("invoice_mod", "1A2-1700000000"),
        ("item_non_inventory_query", "Gift card"),
        ("host_query", None),
    ],
)
def test_reference(kind: str, reference: str | None) -> None:
    """Each payload gives support staff a short reference: name, RefNumber or ID."""
    spec = KINDS[kind]
    assert spec.reference(validate_payload(kind, EXAMPLES[kind])) == reference


def test_preview_is_a_complete_document() -> None:
    """preview() wraps one request with requestID 1 under the qbxml instruction."""
    document = preview("host_query", {}, version="16.0")
    root = etree.fromstring(document)
    assert document.startswith(b"<?xml version='1.0' encoding='utf-8'?>\n<?qbxml version=\"16.0\"?>")
    request = root.find("QBXMLMsgsRq/HostQueryRq")
    assert request is not None
    assert request.get("requestID") == "1"


def test_validate_payload_accepts_models() -> None:
    """A ready model passes through validate_payload unchanged."""
    model = CustomerAdd(name="A")
    assert validate_payload("customer_add", model) is model


@pytest.mark.parametrize("kind", sorted(EXAMPLES))
def test_a_stored_payload_reads_back_as_the_same_model_and_builds_the_same_request(kind: str) -> None:
    """validate_payload(stored=True) of a payload's JSON dump gives the model full validation gives, and its XML."""
    dumped = validate_payload(kind, EXAMPLES[kind]).model_dump(mode="json", exclude_none=True)
    stored, full = validate_payload(kind, dumped, stored=True), validate_payload(kind, dumped)
    assert stored == full
    assert etree.tostring(build_request(kind, stored)) == etree.tostring(build_request(kind, full))


def test_a_stored_payload_is_still_checked_for_types_and_lengths_but_not_for_rules_again() -> None:
    """Reading back skips only the checks a dump keeps: a rule across fields, not a length or a type."""
    with pytest.raises(PayloadValidationError, match="name: must be at most 41 characters"):
        validate_payload("customer_add", {"name": "x" * 42}, stored=True)
    with pytest.raises(PayloadValidationError, match="total_amount"):
        validate_payload("payment_add", {"customer_ref": {"full_name": "A"}, "total_amount": "lots"}, stored=True)
    ref_rule = {"customer_ref": {}, "total_amount": "1.00"}  # a Ref names neither list_id nor full_name
    assert errors_of("payment_add", ref_rule) == ["customer_ref.list_id: give list_id or full_name"]
    assert validate_payload("payment_add", ref_rule, stored=True)
