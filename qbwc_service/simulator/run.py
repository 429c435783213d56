"""A whole simulation: companies, a realistic mix of jobs, QBWC runs, and what came of it."""

from __future__ import annotations

import random
import statistics
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any
from xml.sax.saxutils import escape

from sqlalchemy import Engine, select

from qbwc_service import companies, jobs
from qbwc_service.models import Job, JobState

from .company import CompanyFacts, Edition
from .emulator import QuickBooksEmulator
from .faults import FaultInjector, FaultPlan
from .store import Duplicate
from .webconnector import Outcome, SessionReport, WebConnector

FINAL = (JobState.DONE, JobState.FAILED, JobState.CANCELLED)


@dataclass(frozen=True, slots=True)
class PlannedJob:
    """One job to enqueue: a raw qbXML request and how to find its effect in QuickBooks."""

    key: str
    request: str
    #: ``(kind, name or RefNumber)`` that must exist in QuickBooks once the job is done.
    expect: tuple[str, str] | None
    depends_on: str | None = None


def _ref(tag: str, name: str) -> str:
    return f"<{tag}><FullName>{escape(name)}</FullName></{tag}>"


def workload(prefix: str, rng: random.Random, *, customers: int = 3, invoices: int = 2) -> list[PlannedJob]:
    """Tax setup, accounts, items, customers, invoices with lines and payments, in order."""
    plan = [
        PlannedJob(
            "tax",
            "<ItemSalesTaxAddRq><ItemSalesTaxAdd><Name>State</Name><TaxRate>6.25</TaxRate>"
            "</ItemSalesTaxAdd></ItemSalesTaxAddRq>",
            ("ItemSalesTax", "State"),
        ),
        PlannedJob(
            "account",
            "<AccountAddRq><AccountAdd><Name>Sales</Name><AccountType>Income</AccountType></AccountAdd></AccountAddRq>",
            ("Account", "Sales"),
            "tax",
        ),
        PlannedJob(
            "service",
            "<ItemServiceAddRq><ItemServiceAdd><Name>Consulting</Name>"
            + _ref("SalesTaxCodeRef", "Tax")
            + "<SalesOrPurchase><Price>120.00</Price>"
            + _ref("AccountRef", "Sales")
            + "</SalesOrPurchase></ItemServiceAdd></ItemServiceAddRq>",
            ("ItemService", "Consulting"),
            "account",
        ),
        PlannedJob(
            "widget",
            "<ItemNonInventoryAddRq><ItemNonInventoryAdd><Name>Widget</Name>"
            + _ref("SalesTaxCodeRef", "Tax")
            + "<SalesOrPurchase><Price>19.99</Price>"
            + _ref("AccountRef", "Sales")
            + "</SalesOrPurchase></ItemNonInventoryAdd></ItemNonInventoryAddRq>",
            ("ItemNonInventory", "Widget"),
            "service",
        ),
    ]
    for c in range(1, customers + 1):
        name = f"{prefix} Customer {c}"
        plan.append(
            PlannedJob(
                f"customer{c}",
                f"<CustomerAddRq><CustomerAdd><Name>{escape(name)}</Name>"
                f"<CompanyName>{escape(name)} LLC</CompanyName>"
                + _ref("ItemSalesTaxRef", "State")
                + "</CustomerAdd></CustomerAddRq>",
                ("Customer", name),
                "widget",
            )
        )
        total = Decimal(0)
        for i in range(1, invoices + 1):
            ref_number = f"{c}-{i}"
            hours, widgets = rng.randint(1, 8), rng.randint(0, 5)
            total += Decimal(hours * 120) + Decimal("19.99") * widgets
            lines = (
                "<InvoiceLineAdd>" + _ref("ItemRef", "Consulting") + f"<Quantity>{hours}</Quantity></InvoiceLineAdd>"
            )
            if widgets:
                lines += (
                    "<InvoiceLineAdd>" + _ref("ItemRef", "Widget") + f"<Quantity>{widgets}</Quantity></InvoiceLineAdd>"
                )
            plan.append(
                PlannedJob(
                    f"invoice{c}-{i}",
                    "<InvoiceAddRq><InvoiceAdd>"
                    + _ref("CustomerRef", name)
                    + f"<RefNumber>{ref_number}</RefNumber>"
                    + lines
                    + "</InvoiceAdd></InvoiceAddRq>",
                    ("Invoice", ref_number),
                    f"customer{c}" if i == 1 else f"invoice{c}-{i - 1}",
                )
            )
        paid = (total / 2).quantize(Decimal("0.01"))
        plan.append(
            PlannedJob(
                f"payment{c}",
                "<ReceivePaymentAddRq><ReceivePaymentAdd>"
                + _ref("CustomerRef", name)
                + f"<RefNumber>P{c}</RefNumber><TotalAmount>{paid}</TotalAmount>"
                "<IsAutoApply>true</IsAutoApply></ReceivePaymentAdd></ReceivePaymentAddRq>",
                ("ReceivePayment", f"P{c}"),
                f"invoice{c}-{invoices}",
            )
        )
    return plan


@dataclass(slots=True)
class CompanyRun:
    """One simulated company: its connection, its QuickBooks and its jobs."""

    name: str
    username: str
    token: str
    quickbooks: QuickBooksEmulator
    jobs: dict[int, PlannedJob] = field(default_factory=dict)
    reports: list[SessionReport] = field(default_factory=list)


@dataclass(slots=True)
class Summary:
    """What a simulation found."""

    round_trips: int
    sessions: int
    outcomes: dict[str, int]
    jobs: dict[str, int]
    duplicates: list[tuple[str, Duplicate]]
    #: Jobs not finished, or marked done with no trace in QuickBooks: ``(company, job id, why)``.
    lost: list[tuple[str, int, str]]
    latencies: list[float]
    faults: dict[str, int]

    @property
    def ok(self) -> bool:
        """Nothing duplicated and nothing lost."""
        return not self.duplicates and not self.lost

    def percentile(self, p: float) -> float:
        """A latency percentile in seconds (0 when there were no round trips)."""
        if not self.latencies:
            return 0.0
        if len(self.latencies) == 1:
            return self.latencies[0]
        cuts = statistics.quantiles(self.latencies, n=100, method="inclusive")
        return cuts[min(98, max(0, round(p) - 1))]

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready summary."""
        return {
            "ok": self.ok,
            "round_trips": self.round_trips,
            "sessions": self.sessions,
            "outcomes": self.outcomes,
            "jobs": self.jobs,
            "duplicates": [{"company": c, "kind": d.kind, "ids": list(d.ids)} for c, d in self.duplicates],
            "lost": [{"company": c, "job_id": j, "why": w} for c, j, w in self.lost],
            "latency_ms": {f"p{p}": round(self.percentile(p) * 1000, 2) for p in (50, 95, 99)},
            "faults": self.faults,
        }

    def text(self) -> str:
        """A human summary."""
        lines = [
            f"sessions: {self.sessions} ({', '.join(f'{k} {v}' for k, v in sorted(self.outcomes.items()))})",
            f"round trips: {self.round_trips}",
            "jobs: " + ", ".join(f"{k} {v}" for k, v in sorted(self.jobs.items())),
            f"duplicates in QuickBooks: {len(self.duplicates)}",
            f"jobs lost: {len(self.lost)}",
            "round-trip latency: " + ", ".join(f"p{p} {self.percentile(p) * 1000:.1f} ms" for p in (50, 95, 99)),
        ]
        if self.faults:
            lines.append("faults injected: " + ", ".join(f"{k} {v}" for k, v in sorted(self.faults.items())))
        for company, dup in self.duplicates:
            lines.append(f"  duplicate {dup.kind} in {company}: {', '.join(dup.ids)}")
        for company, job_id, why in self.lost:
            lines.append(f"  lost job {job_id} of {company}: {why}")
        return "\n".join(lines)


class Simulation:
    """Companies created through the service's API, each fed by its own Web Connector."""

    def __init__(
        self,
        engine: Engine,
        url: str,
        *,
        companies: int = 1,
        faults: FaultPlan | str | None = None,
        seed: int = 0,
        customers: int = 3,
        invoices: int = 2,
        prefix: str = "sim",
    ) -> None:
        self.engine, self.url, self.seed = engine, url, seed
        self.plan = faults if isinstance(faults, FaultPlan) else FaultPlan.parse(faults)
        self.customers, self.invoices = customers, invoices
        self.count, self.prefix = companies, prefix
        self.runs: list[CompanyRun] = []
        self.injectors: list[FaultInjector] = []

    def setup(self) -> None:
        """Create the companies and enqueue each one's work."""
        editions = list(Edition)
        for n in range(1, self.count + 1):
            name = f"{self.prefix}-{self.seed}-{n}"
            rng = random.Random(f"{self.seed}:{n}")  # noqa: S311 (reproducible data, not secrets)
            injector = FaultInjector(self.plan, seed=self.seed * 1000 + n)
            facts = CompanyFacts(name=name, edition=editions[n % len(editions)])
            quickbooks = QuickBooksEmulator(facts, faults=injector)
            with self.engine.begin() as conn:
                created = companies.create_company(conn, name, f"{name}-qbwc")
                run = CompanyRun(name, created.username, created.token, quickbooks)
                ids: dict[str, int] = {}
                for planned in workload(name, rng, customers=self.customers, invoices=self.invoices):
                    job = jobs.enqueue(
                        conn,
                        created.id,
                        "qbxml",
                        {"request": planned.request},
                        idempotency_key=f"{name}:{planned.key}",
                        depends_on=ids.get(planned.depends_on) if planned.depends_on else None,
                        actor="simulator",
                    )
                    ids[planned.key] = job.job_id
                    run.jobs[job.job_id] = planned
            self.runs.append(run)
            self.injectors.append(injector)

    def run(
        self,
        sessions: int,
        *,
        every: float = 0.0,
        on_session: Callable[[], None] | None = None,
    ) -> Summary:
        """Run up to ``sessions`` QBWC runs per company, companies in parallel threads."""

        def drive(run: CompanyRun, injector: FaultInjector) -> None:
            connector = WebConnector(self.url, run.username, run.token, run.quickbooks, faults=injector)
            try:
                for index in range(sessions):
                    report = connector.run_session()
                    run.reports.append(report)
                    if on_session is not None:
                        on_session()
                    if report.outcome == Outcome.NONE and self._all_final(run):
                        for _ in range(index + 1, sessions):
                            if on_session is not None:
                                on_session()
                        return
                    if every:
                        connector.sleep(every)
            finally:
                connector.close()

        threads = [
            threading.Thread(target=drive, args=(run, inj), daemon=True)
            for run, inj in zip(self.runs, self.injectors, strict=True)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        return self.summary()

    def _all_final(self, run: CompanyRun) -> bool:
        with self.engine.connect() as conn:
            states = conn.execute(select(Job.state).where(Job.id.in_(list(run.jobs)))).scalars()
            return all(s in FINAL for s in states)

    def summary(self) -> Summary:
        """Compare the queue with what landed in each QuickBooks."""
        job_states: Counter[str] = Counter()
        outcomes: Counter[str] = Counter()
        faults: Counter[str] = Counter()
        lost: list[tuple[str, int, str]] = []
        duplicates: list[tuple[str, Duplicate]] = []
        latencies: list[float] = []
        with self.engine.connect() as conn:
            for run, injector in zip(self.runs, self.injectors, strict=True):
                rows = conn.execute(select(Job.id, Job.state).where(Job.id.in_(list(run.jobs))))
                for job_id, state in rows:
                    job_states[str(state)] += 1
                    planned = run.jobs[job_id]
                    if state not in FINAL:
                        lost.append((run.name, job_id, f"still {state} after the last session"))
                    elif state == JobState.DONE and planned.expect and not self._landed(run, planned):
                        lost.append((run.name, job_id, "done, but not in QuickBooks"))
                duplicates.extend((run.name, d) for d in run.quickbooks.duplicates())
                for report in run.reports:
                    outcomes[report.outcome] += 1
                    latencies.extend(report.latencies)
                faults.update(injector.counts)
        return Summary(
            round_trips=len(latencies),
            sessions=sum(outcomes.values()),
            outcomes=dict(outcomes),
            jobs=dict(job_states),
            duplicates=duplicates,
            lost=lost,
            latencies=latencies,
            faults=dict(faults),
        )

    @staticmethod
    def _landed(run: CompanyRun, planned: PlannedJob) -> bool:
        assert planned.expect is not None
        kind, key = planned.expect
        if kind in ("Invoice", "ReceivePayment"):
            return any(r.get("RefNumber") == key for r in run.quickbooks.records(kind))
        return run.quickbooks.find(kind, key) is not None

    def snapshot(self) -> dict[str, Any]:
        """Every company's QuickBooks, by company name."""
        return {run.name: run.quickbooks.snapshot() for run in self.runs}
