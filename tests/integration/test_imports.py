"""Imports through the Protocol against the emulator: pages into qb_record, resume, incremental, never deleting."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import Engine, func, select

from qbwc_service.accounts.companies import NewCompany
from qbwc_service.config import Settings, load_settings
from qbwc_service.db.models import Job, JobState, QbRecord
from qbwc_service.qbwc.protocol import Protocol
from qbwc_service.simulator import CompanyFacts, Edition, QuickBooksEmulator
from qbwc_service.workflows import imports
from qbwc_service.workflows.imports import counts
from tests.emulator.conftest import FakeClock, needs_spec
from tests.emulator.driver import Session

pytestmark = needs_spec


@pytest.fixture
def settings() -> Settings:
    """Quiet settings, pages of 500."""
    return load_settings({"log_level": "WARNING", "iterator_page": 500}, environ={})


@pytest.fixture
def protocol(engine: Engine, settings: Settings) -> Protocol:
    """The QBWC operations on the test database."""
    return Protocol(engine, settings)


@pytest.fixture
def clock() -> FakeClock:
    """The emulated QuickBooks' clock."""
    return FakeClock()


@pytest.fixture
def qb(clock: FakeClock) -> QuickBooksEmulator:
    """An emulated Enterprise company (no 14,500 limit)."""
    return QuickBooksEmulator(CompanyFacts(edition=Edition.ENTERPRISE), clock=clock)


def customers(qb: QuickBooksEmulator, count: int, start: int = 0) -> None:
    qb.bulk_add("Customer", ({"Name": f"Customer {n:05d}", "CompanyName": f"Firm {n}"} for n in range(start, count)))


def start(engine: Engine, list_name: str = "customers", *, full: bool = False) -> imports.Started:
    with engine.begin() as conn:
        return imports.start_import(conn, "acme", list_name, full=full, actor="test")


def rows(engine: Engine, list_name: str = "customers") -> list[Any]:
    with engine.connect() as conn:
        return list(
            conn.execute(select(QbRecord).where(QbRecord.list == list_name).order_by(QbRecord.name_key))
        )  # fmt: skip


def job(engine: Engine, job_id: int) -> Any:
    with engine.connect() as conn:
        return conn.execute(select(Job).where(Job.id == job_id)).one()


def status(engine: Engine, company: NewCompany, list_name: str = "customers") -> imports.ImportStatus:
    with engine.connect() as conn:
        return imports.status(conn, company.id, list_name)


def test_twenty_thousand_customers_over_pages_with_a_session_cut_halfway(
    engine: Engine, company: NewCompany, protocol: Protocol, qb: QuickBooksEmulator
) -> None:
    """The import resumes in the next session after the last name: every customer once, none lost."""
    customers(qb, 20_000)
    started = start(engine)
    assert started.full and started.created
    first = Session(protocol, company, qb)
    for _ in range(20):
        first.round_trip()
    first.close()
    halfway = status(engine, company)
    assert halfway.running and halfway.pages == 20 and halfway.rows == 10_000
    assert halfway.remaining is None or halfway.remaining == 10_000
    assert len(rows(engine)) == 10_000
    Session(protocol, company, qb).run(limit=60)
    done = job(engine, started.job_id)
    assert done.state == JobState.DONE, done.error
    kept = rows(engine)
    assert len(kept) == 20_000
    assert {r.list_id for r in kept} == {c["ListID"] for c in qb.records("Customer")}
    with engine.connect() as conn:
        distinct = conn.execute(select(func.count(func.distinct(QbRecord.name_key)))).scalar_one()
    assert distinct == 20_000
    one = kept[0]
    assert one.full_name == "Customer 00000" and one.record_type == "Customer" and one.active
    assert one.fields["company_name"] == "Firm 0" and one.data["CompanyName"] == "Firm 0"
    assert one.time_modified is not None and one.edit_sequence
    final = status(engine, company)
    assert final.state == "done" and final.rows >= 20_000 and final.share == 1.0 and final.records == 20_000


def test_a_later_import_is_incremental_and_picks_up_a_rename_and_a_new_customer(
    engine: Engine, company: NewCompany, protocol: Protocol, qb: QuickBooksEmulator, clock: FakeClock
) -> None:
    """Only what QuickBooks changed since the last import (with an overlap) comes; the renamed row keeps its id."""
    customers(qb, 29)
    clock.advance(hours=1)
    customers(qb, 30, start=29)  # the newest TimeModified of the first import
    start(engine)
    Session(protocol, company, qb).run()
    before = {r.list_id: r for r in rows(engine)}
    assert len(before) == 30
    clock.advance(days=1)
    renamed = qb.modify("Customer", "Customer 00005", Name="Zed's Garage")
    qb.bulk_add("Customer", [{"Name": "Newcomer"}])
    started = start(engine)
    assert not started.full and started.since is not None
    Session(protocol, company, qb).run()
    done = job(engine, started.job_id)
    # The rename, the new one, and Customer 00029, modified within the overlap before the newest time.
    assert done.state == JobState.DONE and done.result["count"] == 3
    assert done.payload["from_modified_date"] == started.since
    after = {r.list_id: r for r in rows(engine)}
    assert len(after) == 31  # nothing deleted, one added
    moved = after[renamed["ListID"]]
    assert moved.full_name == "Zed's Garage" and moved.id == before[renamed["ListID"]].id
    assert moved.first_seen_at == before[renamed["ListID"]].first_seen_at
    assert moved.last_seen_at > before[renamed["ListID"]].last_seen_at
    assert any(r.full_name == "Newcomer" for r in after.values())


def test_full_forces_a_full_import(
    engine: Engine, company: NewCompany, protocol: Protocol, qb: QuickBooksEmulator
) -> None:
    """With full, the import asks for every record again, whatever was imported before."""
    customers(qb, 3)
    start(engine)
    Session(protocol, company, qb).run()
    started = start(engine, full=True)
    assert started.full and "from_modified_date" not in job(engine, started.job_id).payload
    Session(protocol, company, qb).run()
    assert job(engine, started.job_id).result["count"] == 3


def test_an_inactive_customer_is_kept_inactive_and_a_deleted_one_is_kept_as_not_seen(
    engine: Engine, company: NewCompany, protocol: Protocol, qb: QuickBooksEmulator, clock: FakeClock
) -> None:
    """Made inactive in QuickBooks: kept with active false; gone from a full import: kept, marked not seen since."""
    customers(qb, 5)
    start(engine)
    Session(protocol, company, qb).run()
    clock.advance(hours=2)
    qb.modify("Customer", "Customer 00001", IsActive="false")
    assert not start(engine).full
    Session(protocol, company, qb).run()
    by_name = {r.full_name: r for r in rows(engine)}
    assert by_name["Customer 00001"].active is False and len(by_name) == 5
    qb.delete("Customer", "Customer 00002")
    start(engine, full=True)
    Session(protocol, company, qb).run()
    assert len(rows(engine)) == 5
    with engine.connect() as conn:
        page = imports.records(conn, company.id, "customers")
        inactive = imports.records(conn, company.id, "customers", active=False)
        offered = imports.names(conn, company.id, "customers")
    seen = {r["full_name"]: r["seen_in_last_full_import"] for r in page.records}
    assert seen == {"Customer 00000": True, "Customer 00001": True, "Customer 00002": False,
                    "Customer 00003": True, "Customer 00004": True}  # fmt: skip
    assert [r["full_name"] for r in inactive.records] == ["Customer 00001"]
    assert offered == ["Customer 00000", "Customer 00002", "Customer 00003", "Customer 00004"]


def test_a_name_reused_after_a_rename_is_reported_not_merged(
    engine: Engine, company: NewCompany, protocol: Protocol, qb: QuickBooksEmulator, clock: FakeClock
) -> None:
    """A new customer taking a renamed one's old name is a second row; until the rename arrives both are reported."""
    customers(qb, 2)
    start(engine)
    Session(protocol, company, qb).run()
    with engine.begin() as conn:
        # The local row of Customer 00001 still has the old name: QuickBooks gave it to a new customer.
        conn.execute(QbRecord.__table__.update().where(QbRecord.full_name == "Customer 00001")
                     .values(full_name="Customer 00000", name_key="customer 00000"))  # fmt: skip
        conflicts = imports.name_conflicts(conn, company.id)
    assert [(c.list, c.full_name, len(c.record_ids)) for c in conflicts] == [("customers", "Customer 00000", 2)]
    assert len(rows(engine)) == 2


def test_a_local_entry_without_a_list_id_is_matched_by_full_name(
    engine: Engine, company: NewCompany, protocol: Protocol, qb: QuickBooksEmulator
) -> None:
    """A record entered here before it was imported takes the ListID of the QuickBooks entry of its name."""
    from qbwc_service.db.models import utcnow

    now = utcnow()
    with engine.begin() as conn:
        conn.execute(QbRecord.__table__.insert().values(
            company_id=company.id, list="customers", list_id=None, full_name="Customer 00001",
            name_key="customer 00001", record_type="Customer", active=True, fields={}, data={},
            first_seen_at=now, last_seen_at=now,
        ))  # fmt: skip
    customers(qb, 3)
    start(engine)
    Session(protocol, company, qb).run()
    kept = rows(engine)
    assert len(kept) == 3 and all(r.list_id for r in kept)
    adopted = next(r for r in kept if r.full_name == "Customer 00001")
    assert adopted.first_seen_at == now and adopted.list_id == qb.find("Customer", "Customer 00001")["ListID"]


@pytest.mark.parametrize(
    "list_name",
    ["items", "vendors", "accounts", "sales_tax_items", "sales_tax_codes", "terms", "classes", "payment_methods"],
)
def test_every_list_imports(
    engine: Engine, company: NewCompany, protocol: Protocol, qb: QuickBooksEmulator, list_name: str
) -> None:
    """Each list is read into its own rows with its type; accounts and codes page by name (no iterators)."""
    qb.bulk_add("Account", [{"Name": "Sales", "AccountType": "Income"}])
    qb.bulk_add("Vendor", [{"Name": "Board of Equalization", "IsSalesTaxAgency": "true"}])
    qb.bulk_add("ItemService", [{"Name": "Consulting", "SalesOrPurchase": {"Price": "150.00",
                                 "AccountRef": {"FullName": "Sales"}}}])  # fmt: skip
    qb.bulk_add("ItemInventory", [{"Name": "Widget", "IncomeAccountRef": {"FullName": "Sales"}}])
    qb.bulk_add("DateDrivenTerms", [{"Name": "10th of the month", "DayOfMonthDue": "10"}])
    qb.bulk_add("Class", [{"Name": "East"}, {"Name": "West", "IsActive": "false"}])
    start(engine, list_name)
    Session(protocol, company, qb).run()
    kept = {r.full_name: r for r in rows(engine, list_name)}
    expected = {
        "items": {"Consulting": "ItemService", "Widget": "ItemInventory", "Out of State": "ItemSalesTax"},
        "vendors": {"Board of Equalization": "Vendor"},
        "accounts": {"Sales": "Account"},
        "sales_tax_items": {"Out of State": "ItemSalesTax"},
        "sales_tax_codes": {"Tax": "SalesTaxCode", "Non": "SalesTaxCode"},
        "terms": {"Net 30": "StandardTerms", "10th of the month": "DateDrivenTerms"},
        "classes": {"East": "Class", "West": "Class"},
        "payment_methods": {"Cash": "PaymentMethod", "Visa": "PaymentMethod"},
    }[list_name]
    assert {name: r.record_type for name, r in kept.items() if name in expected} == expected
    assert set(expected) <= set(kept)
    if list_name == "items":
        assert kept["Consulting"].fields["price"] == "150.00"
    if list_name == "terms":
        assert kept["Net 30"].fields == {"due_days": "30"}
    if list_name == "classes":
        assert kept["West"].active is False


def test_a_list_without_iterators_pages_by_name(engine: Engine, company: NewCompany, qb: QuickBooksEmulator) -> None:
    """AccountQuery has no iterator: pages of MaxReturned go by NameRangeFilter from the last name, none lost."""
    qb.bulk_add("Account", ({"Name": f"Account {n}", "AccountType": "Expense"} for n in range(7)))
    protocol = Protocol(engine, load_settings({"log_level": "WARNING", "iterator_page": 3}, environ={}))
    started = start(engine, "accounts")
    Session(protocol, company, qb).run()
    assert job(engine, started.job_id).state == JobState.DONE
    assert [r.full_name for r in rows(engine, "accounts")] == [f"Account {n}" for n in range(7)]
    sent = [h for h in qb.history if h.request == "AccountQueryRq"]
    assert len(sent) == 4  # 3 + 3 + 3 (the last name of each page comes again) + 1


@pytest.mark.parametrize(("edition", "warned"), [(Edition.PRO, True), (Edition.ENTERPRISE, False)])
def test_list_counts_against_the_editions_limit(
    engine: Engine, company: NewCompany, protocol: Protocol, clock: FakeClock, edition: Edition, warned: bool
) -> None:
    """MetaDataOnly counts per list; a Pro file at 80 % of 14,500 names warns, near the list limit; Enterprise not."""
    from sqlalchemy.orm import Session as DbSession

    from qbwc_service.db.models import Company
    from qbwc_service.web.admin.health import Health, assess, company_facts

    qb = QuickBooksEmulator(CompanyFacts(edition=edition), clock=clock)
    qb.bulk_add("Customer", ({"Name": f"C{n:05d}"} for n in range(11_000)))
    qb.bulk_add("Vendor", ({"Name": f"V{n:04d}", "IsActive": "false"} for n in range(600)))
    qb.bulk_add("OtherName", [{"Name": "Petty cash"}])
    with engine.begin() as conn:
        assert counts.refresh_if_stale(conn, company.id)
        assert not counts.refresh_if_stale(conn, company.id)  # one is queued already
    Session(protocol, company, qb, hcp=True).run()
    asked = [h for h in qb.history if h.request.endswith("QueryRq")]
    assert [h.request for h in asked] == [
        "CustomerQueryRq", "VendorQueryRq", "EmployeeQueryRq", "OtherNameQueryRq", "ItemQueryRq"]  # fmt: skip
    with engine.begin() as conn:
        sizes = imports.list_sizes(conn, company.id)
        assert not counts.refresh_if_stale(conn, company.id)  # counted less than a day ago
    with DbSession(engine) as db:
        row = db.get(Company, company.id)
        assert row is not None
        facts = company_facts(db.connection(), [row])[company.id]
    assert sizes is not None and sizes.edition == edition.value
    assert sizes.counts == {"customers": 11_000, "vendors": 600, "employees": 0, "other_names": 1, "items": 1}
    names = next(u for u in sizes.usage if u.what == "names")
    assert names.count == 11_601
    if warned:
        assert names.limit == 14_500 and names.near
        assert sizes.warnings[0].startswith("names: 11,601 of 14,500 (80%)")
        assert "customers: 11,000 of 10,500" in sizes.warnings[1]
        health = assess(facts, facts.last_poll_at)  # type: ignore[arg-type]
        assert health.health is Health.NEAR_LIMIT and health.reason == sizes.warnings[0]
    else:
        assert names.limit is None and sizes.warnings == ()
        assert facts.near_limit is None
