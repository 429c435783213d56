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
