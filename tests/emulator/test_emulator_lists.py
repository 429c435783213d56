"""List entries in the emulator: names, EditSequence, references, limits."""

from __future__ import annotations

import pytest

from qbwc_service.simulator import CompanyFacts, Edition, QuickBooksEmulator
from qbxml_builders import OnError
from tests.emulator.conftest import Company, FakeClock, add, el, mod, needs_spec, ref

pytestmark = needs_spec


def test_add_returns_ids_and_stores_the_record(qb: Company) -> None:
    """A CustomerAdd answers status 0 with a ListID and EditSequence and lands in the store."""
    ids = qb.ok(add("Customer", el("Name", "Acme"), el("CompanyName", "Acme Inc")))
    assert ids["ListID"]
    assert ids["EditSequence"]
    assert ids["FullName"] == "Acme"
    stored = qb.qb.find("Customer", "acme")
    assert stored is not None
    assert stored["CompanyName"] == "Acme Inc"


def test_duplicate_name_is_3100_across_customers_and_vendors(qb: Company) -> None:
    """Customers, vendors, employees and other names share one namespace, case-insensitively."""
    qb.ok(add("Customer", el("Name", "Acme")))
    assert qb.one(add("Vendor", el("Name", "ACME"))).status_code == 3100
    assert qb.one(add("OtherName", el("Name", "acme"))).status_code == 3100
    assert qb.one(add("Employee", el("Name", "Acme"))).status_code == 3100


def test_items_have_their_own_namespace(qb: Company) -> None:
    """An item may share a customer's name, but two items of any type may not share one."""
    qb.ok(add("Customer", el("Name", "Widget")))
    qb.ok(add("ItemSalesTax", el("Name", "Widget")))
    assert qb.one(add("ItemSalesTax", el("Name", "widget"))).status_code == 3100


def test_colon_in_a_name_is_3090(qb: Company) -> None:
    """A colon separates levels of a FullName, so a Name with one is refused with 3090."""
    assert qb.one(add("Customer", el("Name", "A:B"))).status_code == 3090


def test_missing_reference_is_3140(qb: Company) -> None:
    """An item pointing at an account that does not exist is refused with 3140."""
    response = qb.one(add("ItemService", el("Name", "X"), el("SalesOrPurchase", ref("AccountRef", "Nope"))))
    assert response.status_code == 3140
    assert "Account" in response.message
    assert "Nope" in response.message
    assert qb.qb.find("ItemService", "X") is None


def test_reference_to_the_wrong_kind_is_3140(qb: Company) -> None:
    """A CustomerRef naming a vendor does not resolve."""
    qb.ok(add("Vendor", el("Name", "Supplier")))
    invoice = add("Invoice", ref("CustomerRef", "Supplier"))
    assert qb.one(invoice).status_code == 3140


def test_references_come_back_with_listid_and_fullname(qb: Company) -> None:
    """A reference sent by FullName is stored and returned with the ListID too."""
    account = qb.ok(add("Account", el("Name", "Sales"), el("AccountType", "Income")))
    qb.ok(add("ItemService", el("Name", "S"), el("SalesOrPurchase", ref("AccountRef", "Sales"))))
    item = qb.qb.find("ItemService", "S")
    assert item is not None
    assert item["SalesOrPurchase"] == {"AccountRef": {"ListID": account["ListID"], "FullName": "Sales"}}


def test_mod_with_current_edit_sequence_changes_it(qb: Company, clock: FakeClock) -> None:
    """A Mod with the current EditSequence succeeds and hands out a new one."""
    ids = qb.ok(add("Customer", el("Name", "Acme")))
    clock.advance(seconds=5)
    after = qb.ok(mod("Customer", ids["ListID"], ids["EditSequence"], el("CompanyName", "New")))
    assert after["EditSequence"] != ids["EditSequence"]
    stored = qb.qb.find("Customer", "Acme")
    assert stored is not None
    assert stored["CompanyName"] == "New"
    assert stored["TimeModified"] != stored["TimeCreated"]


def test_stale_edit_sequence_is_3200_with_the_current_record(qb: Company) -> None:
    """A Mod with an old EditSequence fails with 3200 and the Rs carries the current record."""
    ids = qb.ok(add("Customer", el("Name", "Acme")))
    current = qb.ok(mod("Customer", ids["ListID"], ids["EditSequence"], el("Notes", "first")))
    response = qb.one(mod("Customer", ids["ListID"], ids["EditSequence"], el("Notes", "second")))
    assert response.status_code == 3200
    assert response.severity == "Error"
    assert response.ids()["EditSequence"] == current["EditSequence"]
    assert response.objects[0]["Notes"] == "first"


def test_mod_of_an_unknown_list_id_is_3120(qb: Company) -> None:
    """Modifying a ListID QuickBooks does not have is refused with 3120."""
    assert qb.one(mod("Customer", "80000999-1", "1", el("Notes", "x"))).status_code == 3120


def test_rename_to_a_taken_name_is_3100(qb: Company) -> None:
    """Renaming a customer to a vendor's name is refused."""
    qb.ok(add("Vendor", el("Name", "Taken")))
    ids = qb.ok(add("Customer", el("Name", "Acme")))
    response = qb.one(mod("Customer", ids["ListID"], ids["EditSequence"], el("Name", "taken")))
    assert response.status_code == 3100


def test_rename_moves_the_fullname_of_jobs_and_references(qb: Company) -> None:
    """Renaming a parent renames its sub-customers, and references show the new name."""
    parent = qb.ok(add("Customer", el("Name", "Acme")))
    qb.ok(add("Customer", el("Name", "Job 1"), ref("ParentRef", "Acme")))
    job = qb.qb.find("Customer", "Acme:Job 1")
    assert job is not None
    assert job["Sublevel"] == "1"
    qb.ok(mod("Customer", parent["ListID"], parent["EditSequence"], el("Name", "Acme Corp")))
    assert qb.qb.find("Customer", "Acme Corp:Job 1") is not None
    assert qb.qb.find("Customer", "Acme:Job 1") is None
    invoice = qb.one(add("Invoice", ref("CustomerRef", "Acme Corp:Job 1")))
    assert invoice.objects[0]["CustomerRef"] == "Acme Corp:Job 1"


def test_same_job_name_under_two_parents_is_allowed(qb: Company) -> None:
    """Uniqueness is on the FullName, so two customers may each have a job called Job."""
    qb.ok(add("Customer", el("Name", "A")))
    qb.ok(add("Customer", el("Name", "B")))
    qb.ok(add("Customer", el("Name", "Job"), ref("ParentRef", "A")))
    qb.ok(add("Customer", el("Name", "Job"), ref("ParentRef", "B")))


def test_every_item_type_can_be_added(qb: Company) -> None:
    """Service, non-inventory, inventory, other charge, discount, tax item and tax group."""
    qb.ok(add("Account", el("Name", "Income"), el("AccountType", "Income")))
    qb.ok(add("Account", el("Name", "COGS"), el("AccountType", "CostOfGoodsSold")))
    qb.ok(add("Account", el("Name", "Stock"), el("AccountType", "OtherCurrentAsset")))
    sales = el("SalesOrPurchase", el("Price", "1.00"), ref("AccountRef", "Income"))
    qb.ok(add("ItemService", el("Name", "Svc"), sales))
    qb.ok(
        add(
            "ItemNonInventory",
            el("Name", "NonInv"),
            el("SalesOrPurchase", ref("AccountRef", "Income")),
        )
    )
    qb.ok(
        add(
            "ItemInventory",
            el("Name", "Inv"),
            ref("IncomeAccountRef", "Income"),
            ref("COGSAccountRef", "COGS"),
            ref("AssetAccountRef", "Stock"),
        )
    )
    qb.ok(
        add(
            "ItemOtherCharge",
            el("Name", "Freight"),
            el("SalesOrPurchase", ref("AccountRef", "Income")),
        )
    )
    qb.ok(
        add(
            "ItemDiscount",
            el("Name", "Promo"),
            el("DiscountRatePercent", "10"),
            ref("AccountRef", "Income"),
        )
    )
    qb.ok(add("ItemSalesTax", el("Name", "City"), el("TaxRate", "1.5")))
    qb.ok(add("ItemSalesTax", el("Name", "State"), el("TaxRate", "6.25")))
    group = qb.ok(
        add(
            "ItemSalesTaxGroup",
            el("Name", "Combined"),
            ref("ItemSalesTaxRef", "City"),
            ref("ItemSalesTaxRef", "State"),
        )
    )
    assert group["Name"] == "Combined"
    items = qb.send(el("ItemQueryRq"))[0]
    assert {o["type"] for o in items.objects} >= {
        "ItemServiceRet",
        "ItemNonInventoryRet",
        "ItemInventoryRet",
        "ItemOtherChargeRet",
        "ItemDiscountRet",
        "ItemSalesTaxRet",
        "ItemSalesTaxGroupRet",
    }


def test_tax_group_refuses_a_group_member(qb: Company) -> None:
    """A sales tax group holds tax items only, never another group."""
    qb.ok(add("ItemSalesTax", el("Name", "T"), el("TaxRate", "1")))
    qb.ok(add("ItemSalesTaxGroup", el("Name", "G"), ref("ItemSalesTaxRef", "T")))
    response = qb.one(add("ItemSalesTaxGroup", el("Name", "G2"), ref("ItemSalesTaxRef", "G")))
    assert response.status_code == 3140


def test_sales_tax_items_need_sales_tax_turned_on(clock: FakeClock) -> None:
    """With sales tax off, a tax item is refused with 3250 and no Tax/Non codes exist."""
    qb = Company(QuickBooksEmulator(CompanyFacts(sales_tax=False), clock=clock))
    assert qb.one(add("ItemSalesTax", el("Name", "T"), el("TaxRate", "1"))).status_code == 3250
    assert qb.qb.records("SalesTaxCode") == []


def test_pro_edition_name_limit_is_3180(clock: FakeClock) -> None:
    """Past the edition's name-and-item limit, adds fail with 3180 (Enterprise has none here)."""
    facts = CompanyFacts(edition=Edition.PRO, sales_tax=False, name_limit=2)
    qb = Company(QuickBooksEmulator(facts, clock=clock))
    qb.ok(add("Customer", el("Name", "A")))
    qb.ok(add("OtherName", el("Name", "B")))
    assert qb.one(add("Vendor", el("Name", "C"))).status_code == 3180
    assert CompanyFacts(edition=Edition.ENTERPRISE).effective_name_limit is None
    assert CompanyFacts(edition=Edition.PREMIER).effective_name_limit == 14_500


def test_stop_on_error_leaves_the_rest_unprocessed(qb: Company) -> None:
    """After a failure under stopOnError the remaining requests come back 3231 and do nothing."""
    qb.ok(add("Customer", el("Name", "Acme")))
    responses = qb.send(
        add("Customer", el("Name", "New 1")),
        add("Customer", el("Name", "Acme")),
        add("Customer", el("Name", "New 2")),
    )
    assert [r.status_code for r in responses] == [0, 3100, 3231]
    assert responses[2].message == "The request has not been processed."
    assert qb.qb.find("Customer", "New 2") is None


def test_continue_on_error_processes_each_request(qb: Company) -> None:
    """Under continueOnError every request stands alone."""
    qb.ok(add("Customer", el("Name", "Acme")))
    responses = qb.send(
        add("Customer", el("Name", "Acme")),
        add("Customer", el("Name", "New")),
        on_error=OnError.CONTINUE,
    )
    assert [r.status_code for r in responses] == [3100, 0]
    assert [r.request_id for r in responses] == ["1", "2"]


@pytest.mark.parametrize("kind", ["Customer", "Vendor", "Account", "OtherName"])
def test_inactive_entries_hide_from_default_queries(qb: Company, kind: str) -> None:
    """A list query returns active entries only unless ActiveStatus says All."""
    fields = [el("Name", "Old"), el("IsActive", "false")]
    if kind == "Account":
        fields.append(el("AccountType", "Income"))
    qb.ok(add(kind, *fields))
    assert qb.one(el(f"{kind}QueryRq")).status_code == 1
    everything = qb.one(el(f"{kind}QueryRq", el("ActiveStatus", "All")))
    assert [o["Name"] for o in everything.objects] == ["Old"]
    assert qb.one(el(f"{kind}QueryRq", el("FullName", "Old"))).status_code == 0
