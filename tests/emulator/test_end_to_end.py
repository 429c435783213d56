"""The simulator against the real service over HTTP: typed work lands in QuickBooks exactly once."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner
from flask import Flask
from sqlalchemy import Engine, func, select

from qbwc_service.accounts import companies
from qbwc_service.cli import main
from qbwc_service.db.models import Job, JobEvent, JobState, QbwcSession, SessionState
from qbwc_service.db.types import utcnow
from qbwc_service.queue import jobs
from qbwc_service.queue.retry import RetryPolicy
from qbwc_service.simulator import CompanyFacts, FaultInjector, QuickBooksEmulator, TransportFault
from qbwc_service.simulator.run import CompanyRun, Simulation, Summary, check_amount, start_delay
from qbwc_service.simulator.webconnector import Outcome, WebConnector
from qbwc_service.simulator.workload import BEANS, STOCK, customer_name
from tests.conftest import LiveServer, make_test_app
from tests.emulator.conftest import needs_spec
from tests.helpers import last_xml

pytestmark = needs_spec

TXN_KINDS = ("Invoice", "ReceivePayment", "SalesReceipt", "JournalEntry")
#: Jobs of the workload: 13 set-up jobs, per customer 1 + invoices + 1, a sales receipt, a journal entry.
SETUP_JOBS = 13


def planned_jobs(customers: int, invoices: int) -> int:
    """How many jobs the workload enqueues per company."""
    return SETUP_JOBS + customers * (invoices + 2) + 2


@pytest.fixture
def service(sqlite_url: str) -> Iterator[tuple[Flask, str]]:
    """The service on SQLite over HTTP: quiet sessions abandoned after 1 s, retries at once, 8 jobs a message.

    Small messages: a workload's whole chain would go in one or two messages, and faults
    injected per round trip need round trips.
    """
    app = make_test_app(sqlite_url, session_timeout=1, busy_retry_seconds=1, batch_size=8)
    app.extensions["qbwc_protocol"].policy = RetryPolicy(base_delay=timedelta(0))
    with LiveServer(app) as server:
        yield app, server.url + "/qbwc"
    app.extensions["qbwc"].engine.dispose()


def engine_of(app: Flask) -> Engine:
    """The service's database engine."""
    found: Engine = app.extensions["qbwc"].engine
    return found


def _money(value: object) -> Decimal:
    assert isinstance(value, str), value
    return Decimal(value)


def assert_books(run: CompanyRun) -> None:
    """The company's QuickBooks holds every planned record exactly once, with the planned amounts and balances."""
    qb = run.quickbooks
    for planned in run.jobs.values():
        assert planned.expect is not None
        kind, key = planned.expect
        field = "RefNumber" if kind in TXN_KINDS else "Name"
        matches = [r for r in qb.records(kind) if r.get(field) == key]
        assert len(matches) == 1, f"{kind} {key} is in QuickBooks {len(matches)} times"
        assert check_amount(planned, matches[0]) is None, check_amount(planned, matches[0])
    owed: dict[str, Decimal] = {}
    beans_sold = Decimal(0)
    for planned in run.jobs.values():
        customer = planned.payload.get("customer_ref", {}).get("full_name")
        if planned.kind == "invoice_add":
            assert planned.amount is not None
            owed[customer] = owed.get(customer, Decimal(0)) + planned.amount
            beans_sold += sum(
                (
                    Decimal(line["quantity"])
                    for line in planned.payload["lines"]
                    if line.get("item_ref") == {"full_name": BEANS.name}
                ),
                Decimal(0),
            )
        elif planned.kind == "payment_add":
            assert planned.amount is not None
            owed[customer] = owed.get(customer, Decimal(0)) - planned.amount
    for name, balance in owed.items():
        record = qb.find("Customer", name)
        assert record is not None and _money(record["Balance"]) == balance, (name, record)
        open_invoices = [
            _money(i["BalanceRemaining"])
            for i in qb.records("Invoice")
            if isinstance(i["CustomerRef"], dict) and i["CustomerRef"]["FullName"] == name
        ]
        assert sum(open_invoices, Decimal(0)) == balance
    beans = qb.find("ItemInventory", BEANS.name)
    assert beans is not None and _money(beans["QuantityOnHand"]) == STOCK - beans_sold
    assert not qb.duplicates()


def assert_every_job_done(sim: Simulation, summary: Summary) -> None:
    """Every job of every company is done, and the summary found nothing wrong."""
    assert summary.ok, summary.text()
    expected = sum(len(run.jobs) for run in sim.runs)
    assert summary.jobs == {"done": expected}, summary.text()


def test_clean_run_lands_every_job_once(service: tuple[Flask, str]) -> None:
    """Without faults every typed job is done and each record is in QuickBooks once, with the right totals."""
    app, url = service
    sim = Simulation(engine_of(app), url, companies=2, seed=1, customers=4, invoices=2)
    sim.setup()
    summary = sim.run(sessions=3)
    assert_every_job_done(sim, summary)
    assert summary.jobs == {"done": 2 * planned_jobs(4, 2)}
    with engine_of(app).connect() as conn:
        kinds = set(conn.execute(select(Job.kind).distinct()).scalars())
    assert kinds == {
        "vendor_add", "sales_tax_item_add", "account_add", "item_service_add", "item_non_inventory_add",
        "item_inventory_add", "item_other_charge_add", "item_discount_add", "customer_add", "invoice_add",
        "payment_add", "sales_receipt_add", "journal_entry_add",
    }  # fmt: skip
    for run in sim.runs:
        assert_books(run)
        qb = run.quickbooks
        assert sorted(str(i["RefNumber"]) for i in qb.records("Invoice")) == [
            f"{c}-{i}" for c in range(1, 5) for i in (1, 2)
        ]
        assert all(h.status_code == 0 for h in qb.history), [h for h in qb.history if h.status_code]
        assert run.reports[0].calls[:3] == ["serverVersion", "clientVersion", "authenticate"]
        assert run.reports[-1].outcome == "none"


def test_spread_starts_each_web_connector_at_its_own_time(service: tuple[Flask, str]) -> None:
    """With ``spread`` the companies' first sessions start apart, inside the window, and their work is still done."""
    app, url = service
    sim = Simulation(engine_of(app), url, companies=3, seed=2, customers=1, invoices=1)
    sim.setup()
    started, clock = utcnow(), time.perf_counter()
    summary = sim.run(sessions=3, spread=1.5)
    elapsed = time.perf_counter() - clock
    assert_every_job_done(sim, summary)
    with engine_of(app).connect() as conn:
        firsts = conn.execute(select(func.min(QbwcSession.started_at)).group_by(QbwcSession.company_id)).scalars().all()
    offsets = sorted((first - started).total_seconds() for first in firsts)
    assert len(offsets) == 3 and offsets[0] >= 0 and offsets[-1] < 1.5 + 1.0
    assert offsets[-1] - offsets[0] > 0.1, f"the starts should be spread out: {offsets}"
    assert 0 < sim.busy < 3 * elapsed  # each was at work for part of the run, not from its start


def test_spread_draws_each_company_its_own_start_across_simulations() -> None:
    """Simulations that split a fleet (one prefix each, one seed) do not start their Nth companies together.

    ``bench/load.py`` runs its companies in several processes, each a :class:`Simulation` of
    the same seed; a start drawn from the seed alone gave every process the same delays, so
    the Web Connectors started in lockstep groups, one from each process.
    """
    seed, spread = 1, 600.0
    names = [f"load{process}-{seed}-{n}" for process in range(4) for n in range(1, 51)]
    delays = [start_delay(seed, name, spread) for name in names]
    assert all(0.0 <= delay < spread for delay in delays)
    assert len({round(delay, 6) for delay in delays}) == len(names), "two companies drew the same start"
    assert [start_delay(seed, name, spread) for name in names] == delays  # reproducible
    assert start_delay(seed + 1, names[0], spread) != delays[0]
    assert start_delay(seed, names[0], 0.0) == 0.0


def test_invoices_carry_tax_addresses_and_description_lines(service: tuple[Flask, str]) -> None:
    """Customers keep their addresses and tax item; invoices keep description-only lines and are taxed by customer."""
    app, url = service
    sim = Simulation(engine_of(app), url, companies=1, seed=5, customers=4, invoices=1)
    sim.setup()
    assert_every_job_done(sim, sim.run(sessions=2))
    (run,) = sim.runs
    qb = run.quickbooks
    for c in range(1, 5):
        customer = qb.find("Customer", customer_name(run.name, c))
        assert customer is not None
        assert isinstance(customer["BillAddress"], dict) and customer["BillAddress"]["Addr1"] == f"{c} Main Street"
        (invoice,) = [i for i in qb.records("Invoice") if i["RefNumber"] == f"{c}-1"]
        lines = invoice["InvoiceLineRet"]
        assert isinstance(lines, list)
        assert any("ItemRef" not in line and str(line.get("Desc", "")).startswith("Order ") for line in lines)
        tax = invoice["ItemSalesTaxRef"]
        assert isinstance(tax, dict)
        expected_tax = "POS Tax 0%" if c == 3 else "State Tax 6.25%"
        assert tax["FullName"] == expected_tax
        if c in (3, 4):  # POS at 0 %, and a tax-exempt customer
            assert invoice["SalesTaxTotal"] == "0.00"
    (receipt,) = qb.records("SalesReceipt")
    assert (receipt["Subtotal"], receipt["SalesTaxTotal"], receipt["TotalAmount"]) == ("35.98", "2.25", "38.23")
    (entry,) = qb.records("JournalEntry")
    assert entry["RefNumber"] == "JE-1"


def test_raw_option_sends_the_same_work_as_qbxml_jobs(service: tuple[Flask, str]) -> None:
    """With raw=True the same work goes as ready-made qbxml jobs and ends in the same books."""
    app, url = service
    sim = Simulation(engine_of(app), url, companies=1, seed=1, customers=2, invoices=2, raw=True)
    sim.setup()
    assert_every_job_done(sim, sim.run(sessions=2))
    with engine_of(app).connect() as conn:
        assert set(conn.execute(select(Job.kind).distinct()).scalars()) == {"qbxml"}
    assert_books(sim.runs[0])


def test_hcp_facts_reach_the_service(service: tuple[Flask, str]) -> None:
    """The first sendRequestXML's HCP response is recorded on the company, and typed jobs are built for it."""
    from qbwc_service.db.models import Company

    app, url = service
    sim = Simulation(engine_of(app), url, companies=1, seed=2, customers=1, invoices=1)
    sim.setup()
    sim.run(sessions=2)
    with engine_of(app).connect() as conn:
        row = conn.execute(select(Company.qbxml_version, Company.qbxml_country, Company.host_info)).one()
        added = conn.execute(select(Job.id).where(Job.kind == "customer_add")).scalar_one()
    sent, _ = last_xml(engine_of(app), added)
    assert row.qbxml_country == "US"
    assert row.qbxml_version == "16.0"
    assert row.host_info
    assert sent is not None and sent.startswith("<CustomerAddRq")


@pytest.mark.parametrize(
    "faults",
    [
        "hresult=0.2",
        "drop=0.15",
        "slow=0.3,slow-seconds=0.02",
        "warn=0.3",
        "status=3180@3,status=3170@20",
        "hresult=0.1,drop=0.1,slow=0.1,slow-seconds=0.01,warn=0.2,status=3180@7",
    ],
)
def test_faults_short_of_lost_replies_lose_and_duplicate_nothing(service: tuple[Flask, str], faults: str) -> None:
    """hresults, dropped connections, slow answers, warnings and busy statuses still end with every job done once."""
    app, url = service
    sim = Simulation(engine_of(app), url, companies=2, seed=3, customers=3, invoices=2, faults=faults)
    sim.setup()
    summary = sim.run(sessions=40)
    assert summary.faults, "the plan should have injected faults"
    assert_every_job_done(sim, summary)
    for run in sim.runs:
        assert_books(run)


@pytest.mark.parametrize("raw", [False, True], ids=["typed", "raw"])
def test_lost_replies_lose_and_duplicate_nothing(service: tuple[Flask, str], raw: bool) -> None:
    """After lost replies every job ends done and each record is in QuickBooks once, typed or raw qbXML."""
    app, url = service
    sim = Simulation(
        engine_of(app), url, companies=1, seed=7, customers=3, invoices=3, faults="lost-reply=0.3", raw=raw
    )
    sim.setup()
    summary = sim.run(sessions=40, every=1.1)
    assert summary.faults.get("lost-reply", 0) >= 1
    assert not summary.lost, summary.text()
    assert (summary.failed, summary.duplicates) == ([], []), summary.text()
    assert_every_job_done(sim, summary)
    for run in sim.runs:
        assert_books(run)
    with engine_of(app).connect() as conn:
        found = conn.execute(
            select(func.count()).select_from(JobEvent).where(JobEvent.message.like("found already in QuickBooks%"))
        ).scalar_one()
    assert found >= 1, "at least one lost reply should have been settled by finding the record"


class LoseReplies(FaultInjector):
    """Loses QuickBooks' reply to the given request documents (1-based), and nothing else."""

    def __init__(self, *documents: int) -> None:
        super().__init__()
        self.lose, self.seen = set(documents), 0

    def transport(self) -> TransportFault:
        """The reply to a chosen document never reaches the service."""
        self.seen += 1
        lost = self.seen in self.lose
        if lost:
            self.counts["lost-reply"] = self.counts.get("lost-reply", 0) + 1
        return TransportFault(lost_reply=lost)


def _customer_then_invoice(app: Flask, url: str, lose: int) -> tuple[QuickBooksEmulator, list[int]]:
    """A customer and an invoice that waits for it, sent by a Web Connector losing reply ``lose``; the job ids.

    The two go in one message, so with ``lose=2`` the invoice is queued only once the
    customer's message has been answered: its own message is the second.
    """
    engine = engine_of(app)
    invoice_payload = {"customer_ref": {"full_name": "Acme"}, "ref_number": "A-1", "lines": [{"desc": "Work"}]}
    with engine.begin() as conn:
        company = companies.create_company(conn, "lossy", "lossy-qbwc")
        customer = jobs.enqueue(conn, company.id, "customer_add", {"name": "Acme"}, actor="test")

    def enqueue_invoice() -> int:
        with engine.begin() as conn:
            return jobs.enqueue(
                conn, company.id, "invoice_add", invoice_payload, depends_on=customer.job_id, actor="test"
            ).job_id

    invoice = enqueue_invoice() if lose == 1 else None
    qb = QuickBooksEmulator(CompanyFacts())
    connector = WebConnector(url, company.username, company.token, qb, faults=LoseReplies(lose))
    try:
        reports = [connector.run_session()]
        if invoice is None:
            assert reports[0].outcome == Outcome.DONE
            invoice = enqueue_invoice()
            reports.append(connector.run_session())
        assert reports[-1].outcome == Outcome.LOST_REPLY
        for _ in range(3):
            connector.sleep(1.1)  # the service gives the quiet session up after 1 s
            reports.append(connector.run_session())
    finally:
        connector.close()
    return qb, [customer.job_id, invoice]


def _states(app: Flask, ids: list[int]) -> list[str]:
    with engine_of(app).connect() as conn:
        states = {row.id: str(row.state) for row in conn.execute(select(Job.id, Job.state).where(Job.id.in_(ids)))}
    return [states[i] for i in ids]


def test_lost_reply_to_a_customer_add_does_not_fail_its_invoices(service: tuple[Flask, str]) -> None:
    """When the reply to a customer add is lost, the customer job still ends done and its invoice is entered."""
    app, url = service
    qb, ids = _customer_then_invoice(app, url, lose=1)
    assert len(qb.records("Customer")) == 1
    assert _states(app, ids) == [JobState.DONE, JobState.DONE]
    assert [i["RefNumber"] for i in qb.records("Invoice")] == ["A-1"]


def test_lost_reply_to_an_invoice_add_does_not_enter_it_twice(service: tuple[Flask, str]) -> None:
    """When the reply to an invoice add is lost, the invoice is in QuickBooks once and its job ends done."""
    app, url = service
    qb, ids = _customer_then_invoice(app, url, lose=2)
    assert _states(app, ids) == [JobState.DONE, JobState.DONE]
    assert [i["RefNumber"] for i in qb.records("Invoice")] == ["A-1"]


def test_simulate_command_reports_and_snapshots(service: tuple[Flask, str], sqlite_url: str, tmp_path: Path) -> None:
    """`qbwc-service --json simulate` prints a clean summary and writes the snapshot."""
    _app, url = service
    out = tmp_path / "qb.json"
    result = CliRunner().invoke(
        main,
        ["--json", "simulate", "--url", url, "--companies", "2", "--sessions", "3",
         "--customers", "1", "--invoices", "1", "--seed", "11", "--snapshot", str(out)],
        env={"QBWC_DATABASE_URL": sqlite_url},
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    assert summary["ok"] is True
    assert summary["jobs"] == {"done": 2 * planned_jobs(1, 1)}
    assert (summary["failed"], summary["wrong"]) == ([], [])
    assert set(summary["latency_ms"]) == {"p50", "p95", "p99"}
    companies_json = json.loads(out.read_text())
    assert sorted(companies_json) == ["sim-11-1", "sim-11-2"]
    assert len(companies_json["sim-11-1"]["records"]["Invoice"]) == 1


def test_simulate_command_fails_when_work_is_lost(service: tuple[Flask, str], sqlite_url: str) -> None:
    """When QuickBooks never answers and the runs end, the jobs left over make the exit status 1."""
    _app, url = service
    result = CliRunner().invoke(
        main,
        ["simulate", "--url", url, "--companies", "1", "--sessions", "1", "--faults", "drop=1"],
        env={"QBWC_DATABASE_URL": sqlite_url},
    )
    assert result.exit_code == 1
    assert "jobs lost: " in result.stdout
    assert "jobs lost: 0" not in result.stdout


def test_simulate_command_twice_asks_for_another_prefix(service: tuple[Flask, str], sqlite_url: str) -> None:
    """Simulating again with the same seed names the clash and the option that avoids it; a new prefix works."""
    _app, url = service
    args = ["simulate", "--url", url, "--companies", "1", "--sessions", "2", "--customers", "1", "--invoices", "1"]
    env = {"QBWC_DATABASE_URL": sqlite_url}
    assert CliRunner().invoke(main, args, env=env).exit_code == 0
    again = CliRunner().invoke(main, args, env=env)
    assert again.exit_code == 1
    assert "already exists: pick another --prefix or --seed" in again.output
    assert CliRunner().invoke(main, [*args, "--prefix", "again"], env=env).exit_code == 0


@pytest.fixture(params=[None, 4], ids=["default", "batch4"])
def default_service(sqlite_url: str, request: pytest.FixtureRequest) -> Iterator[tuple[Flask, str]]:
    """The service on SQLite over HTTP with its default settings (sessions time out after 900 s).

    With ``batch4`` the messages carry 4 jobs: by default a company's whole workload goes in
    one or two messages, too few round trips for faults drawn per round trip to show.
    """
    app = make_test_app(sqlite_url) if request.param is None else make_test_app(sqlite_url, batch_size=request.param)
    with LiveServer(app) as server:
        yield app, server.url + "/qbwc"
    app.extensions["qbwc"].engine.dispose()


def test_readme_example_resumes_after_lost_replies(default_service: tuple[Flask, str]) -> None:
    """The README's simulate example (3 companies, 6 runs back to back, lost replies, seed 7) loses nothing."""
    app, url = default_service
    sim = Simulation(engine_of(app), url, companies=3, seed=7, faults="lost-reply=0.05,hresult=0.01")
    sim.setup()
    summary = sim.run(sessions=6)
    if app.extensions["qbwc"].settings.batch_size < 50:
        assert summary.faults.get("lost-reply", 0) >= 2, summary.text()
    assert (summary.lost, summary.duplicates, summary.failed) == ([], [], []), summary.text()
    assert Outcome.BUSY not in summary.outcomes, summary.text()
    assert_every_job_done(sim, summary)
    for run in sim.runs:
        assert_books(run)
    with engine_of(app).connect() as conn:
        superseded = conn.execute(
            select(func.count()).select_from(QbwcSession).where(QbwcSession.state == SessionState.SUPERSEDED)
        ).scalar_one()
    assert superseded == summary.faults.get("lost-reply", 0)
