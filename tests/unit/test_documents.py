"""Business documents, pure: validation, the split of orders between tenders, RefNumbers, plans by mode."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from qbwc_service.errors import PayloadError
from qbwc_service.workflows.documents import pos, shop
from qbwc_service.workflows.documents.common import Context, Problems, validate_model
from qbwc_service.workflows.setup import mapping
from qbwc_service.workflows.setup.mapping import Resolved
from qbwc_service.workflows.setup.plan import entries as plan_entries
from qbwc_service.workflows.setup.profile import Profile, default_profile, to_json, validate

CENTS = st.integers(min_value=-50_000, max_value=50_000).map(lambda n: Decimal(n) / 100)


def context(profile: Profile, country: str = "US") -> Context:
    """A company whose setup resolved every entry of its profile (ListIDs named after the keys)."""
    resolved = {e.key: Resolved(e.key, f"ID-{e.key}", str(e.fields.get("name")), None) for e in plan_entries(profile)}
    return Context(1, country, profile, resolved)


def with_posting(system: str, **posting: str) -> Profile:
    body = to_json(default_profile(system))
    body["posting"].update(posting)
    return validate(body)


def repair_order(**changes: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "repair_order": "RO1001", "date": "2026-12-01", "customer": {"name": "Smith, Ann", "phone": "555-0100"},
        "vehicle": {"year": 2019, "make": "Honda", "model": "Civic", "vin": "1HGBH41JXMN109186", "odometer": 45210},
        "lines": [{"kind": "labor", "description": "Brake job", "quantity": "1.5", "rate": "120.00"},
                  {"kind": "part", "description": "Pads", "quantity": "2", "rate": "45.50", "taxable": True},
                  {"kind": "discount", "description": "Coupon", "amount": "10.00"}],
        "tax": "6.60", "payments": [{"method": "Visa", "amount": "100.00", "reference": "AUTH1"}],
    }  # fmt: skip
    doc.update(changes)
    return doc


def plan_shop(doc: dict[str, Any], ctx: Context) -> Any:
    problems = Problems()
    found = shop.plan(validate_model(shop.KIND, shop.ShopInvoice, doc), ctx, problems)
    problems.check(shop.KIND)
    return found


def plan_pos(doc: dict[str, Any], ctx: Context) -> Any:
    problems = Problems()
    found = pos.plan(validate_model(pos.KIND, pos.PosDay, doc), ctx, problems)
    problems.check(pos.KIND)
    return found


@given(st.lists(CENTS, min_size=1, max_size=8), st.lists(st.integers(1, 100_000), min_size=1, max_size=4))
def test_an_order_splits_between_its_tenders_to_the_cent(amounts: list[Decimal], weights: list[int]) -> None:
    """Every row adds up to its amount and every column to its tender, whatever the rounding."""
    total = sum(amounts, Decimal(0))
    paid = [Decimal(w) / 100 for w in weights]
    paid[-1] += total - sum(paid, Decimal(0))  # the tenders pay what the entries come to
    rows = pos.allocate(amounts, paid)
    assert [sum(r, Decimal(0)) for r in rows] == amounts
    assert [sum((r[j] for r in rows), Decimal(0)) for j in range(len(paid))] == paid
    assert all(x == x.quantize(Decimal("0.01")) for r in rows for x in r)


def test_summary_ref_numbers_are_stable_short_and_apart() -> None:
    day = date(2026, 12, 1)
    first = pos.ref_number(day, "Main", "sales|cash")
    assert first == pos.ref_number(day, "MAIN", "sales|cash") and len(first) == 11 and first.startswith("261201-")
    others = {pos.ref_number(day, loc, part) for loc in ("Main", "Airport") for part in ("sales|cash", "sales|card")}
    assert len(others) == 4


def test_a_repair_order_is_refused_with_one_error_per_field() -> None:
    bad = repair_order(
        repair_order="RO-2026-000001",
        date="soon",
        lines=[{"kind": "Labor", "rate": "1"}, {"kind": "labor", "rate": "1", "amount": "2"}],
    )
    with pytest.raises(PayloadError) as caught:
        validate_model(shop.KIND, shop.ShopInvoice, bad)
    fields = [e.split(":")[0] for e in caught.value.errors]
    assert fields == ["repair_order", "date", "lines.0.kind", "lines.1"], caught.value.errors


def test_payments_beyond_the_invoice_are_refused() -> None:
    with pytest.raises(PayloadError, match=r"payments: they come to 500.00, more than the invoice's 267.60"):
        validate_model(shop.KIND, shop.ShopInvoice, repair_order(payments=[{"method": "Cash", "amount": "500.00"}]))


def test_an_order_whose_tenders_do_not_pay_it_is_refused() -> None:
    mug = {"product": "Mug", "category": "merchandise", "price": "9.99"}
    order = {"number": "S1", "lines": [mug], "tax": "0.80", "tenders": [{"type": "cash", "amount": "10.00"}]}
    day = {"date": "2026-12-01", "orders": [order]}
    with pytest.raises(PayloadError, match=r"orders.0: .*tenders: they come to 10.00, but .* come to 10.79"):
        validate_model(pos.KIND, pos.PosDay, day)


def test_a_repair_order_posts_as_customer_invoice_and_payment() -> None:
    found = plan_shop(repair_order(), context(default_profile("shop")))
    assert [e.kind for e in found.ensures] == ["customer_ensure"]
    assert found.ensures[0].payload == {"name": "Smith, Ann", "phone": "555-0100"}
    invoice, payment = found.jobs
    assert (invoice.kind, payment.kind) == ("invoice_add", "payment_add")
    body = invoice.payload
    assert body["customer_ref"] == {"full_name": "Smith, Ann"} and body["ref_number"] == "RO1001"
    assert body["memo"] == "2019 Honda Civic · VIN 1HGBH41JXMN109186 · 45,210 mi"
    assert [line["item_ref"]["list_id"] for line in body["lines"]] == [
        "ID-line_kind:labor", "ID-line_kind:part", "ID-line_kind:discount", "ID-sales_tax:item"]  # fmt: skip
    assert [line["amount"] for line in body["lines"]] == ["180.00", "91.00", "-10.00", "6.60"]
    assert body["lines"][1]["sales_tax_code_ref"] == {"list_id": "ID-sales_tax:taxable_code"}
    assert payment.payload["applied_to"] == [{"txn_id": {"planned": "invoice"}, "payment_amount": "100.00"}]
    assert found.totals["total"] == "267.60" and found.totals["open"] == "167.60"


def test_in_summary_mode_a_repair_order_goes_to_the_walk_in_customer_one_line_per_kind() -> None:
    doc = repair_order(lines=[{"kind": "labor", "quantity": "1", "rate": "100"}, {"kind": "labor", "amount": "50"}])
    found = plan_shop(doc, context(with_posting("shop", customers="summary", sales="summary")))
    assert [e.name for e in found.ensures] == ["Walk-in Customer"]
    body = found.jobs[0].payload
    assert body["memo"].startswith("Customer: Smith, Ann · 2019 Honda Civic")
    assert [(line["desc"], line["amount"]) for line in body["lines"][:-1]] == [("Labor (2 lines)", "150.00")]


def test_a_line_kind_the_company_has_not_mapped_is_refused_by_name() -> None:
    doc = repair_order(lines=[{"kind": "alignment", "amount": "80"}, {"kind": "towing", "amount": "60"}], payments=[])
    with pytest.raises(PayloadError) as caught:
        plan_shop(doc, context(default_profile("shop")))
    assert caught.value.errors[0].startswith("lines.0.kind: the line kind 'alignment' is not mapped for this company")
    assert "'towing'" in caught.value.errors[1] and "labor" in caught.value.errors[1]


def test_before_setup_resolved_the_mapping_a_document_is_refused_with_what_to_do() -> None:
    ctx = Context(1, "US", default_profile("shop"), {})
    with pytest.raises(PayloadError, match=r"run setup \(qbwc-service setup run COMPANY\)"):
        plan_shop(repair_order(), ctx)


def test_tax_is_refused_where_quickbooks_works_it_out_itself() -> None:
    with pytest.raises(PayloadError, match=r"tax: QuickBooks CA editions work the tax out"):
        plan_shop(repair_order(), context(default_profile("shop", "CA"), "CA"))


def test_pos_modes_post_the_same_entries() -> None:
    """Detailed: a receipt per order; summary: per tender; journal: one balanced entry. Each adds up alike."""
    mug = {"product": "Mug", "category": "merchandise", "price": "9.99"}
    repair = {"product": "Repair", "category": "services", "price": "30.00", "taxable": False}
    refunded = {**mug, "tax": "0.80"}  # the tax given per line
    day = {
        "date": "2026-12-01",
        "location": "Main",
        "orders": [
            {"number": "S1", "lines": [{**mug, "quantity": "2", "discount": "1.00"}], "tax": "1.52", "tip": "2.00",
             "tenders": [{"type": "cash", "amount": "5.00"}, {"type": "card", "amount": "17.50"}]},
            {"number": "S2", "lines": [repair], "gift_cards_sold": "25.00",
             "tenders": [{"type": "gift_card", "amount": "10.00"}, {"type": "card", "amount": "45.00"}]},
        ],
        "refunds": [{"number": "R1", "order": "S1", "lines": [refunded],
                     "tenders": [{"type": "card", "amount": "10.79"}]}],
    }  # fmt: skip
    detailed = plan_pos(day, context(with_posting("pos", sales="detailed", customers="summary", items="detailed")))
    assert [j.payload["ref_number"] for j in detailed.jobs] == ["S1", "S2", "R1"]
    assert {e.name for e in detailed.ensures} == {"Walk-in Customer", "Mug", "Repair"}
    summary = plan_pos(day, context(with_posting("pos")))
    journal = plan_pos(day, context(with_posting("pos", sales="journal")))

    def receipts(found: Any) -> dict[str, Decimal]:
        out: dict[str, Decimal] = {}
        for job in found.jobs:
            for line in job.payload["lines"]:
                key = line["item_ref"].get("list_id") or "product"
                out[key] = out.get(key, Decimal(0)) + Decimal(line["amount"])
        return out

    by_item = receipts(summary)
    assert by_item == {
        "ID-line_kind:merchandise": Decimal("9.99"), "ID-line_kind:services": Decimal("30.00"),
        "ID-line_kind:discount": Decimal("-1.00"), "ID-sales_tax:item": Decimal("0.72"),
        "ID-line_kind:tips": Decimal("2.00"), "ID-line_kind:gift_cards": Decimal("15.00"),
    }  # fmt: skip
    assert sum(receipts(detailed).values()) == sum(by_item.values())
    tenders = sorted(j.label for j in summary.jobs)
    assert tenders == ["refunds card", "sales card", "sales cash"]
    cash = next(j for j in summary.jobs if j.label == "sales cash")
    assert sum(Decimal(line["amount"]) for line in cash.payload["lines"]) == Decimal("5.00")
    (sales, refunds) = journal.jobs
    for entry in (sales, refunds):
        lines = entry.payload["lines"]
        debit = sum(Decimal(x["amount"]) for x in lines if x["side"] == "debit")
        assert debit == sum(Decimal(x["amount"]) for x in lines if x["side"] == "credit")
    undeposited = mapping.account("undeposited_funds")
    deposits = {
        x["memo"]: x["amount"] for x in sales.payload["lines"] if x["account_ref"]["list_id"] == f"ID-{undeposited}"
    }
    assert deposits == {"cash": "5.00", "card": "62.50"}
