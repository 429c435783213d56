"""A whole simulation: companies, a realistic mix of jobs, QBWC runs, and what came of it."""

from __future__ import annotations

import random
import statistics
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import Connection, Engine, select

from qbwc_service.accounts import companies
from qbwc_service.db.models import Job, JobState
from qbwc_service.queue import jobs
from qbwc_service.simulator.company import CompanyFacts, Edition
from qbwc_service.simulator.days import shop_day
from qbwc_service.simulator.emulator import QuickBooksEmulator
from qbwc_service.simulator.faults import FaultInjector, FaultPlan
from qbwc_service.simulator.store import Duplicate
from qbwc_service.simulator.webconnector import Outcome, SessionReport, WebConnector
from qbwc_service.simulator.workload import PlannedJob, day_of_work, invoice_mix, workload
from qbwc_service.simulator.xmldata import Data

FINAL = (JobState.DONE, JobState.FAILED, JobState.CANCELLED)


@dataclass(slots=True)
class CompanyRun:
    """One simulated company: its connection, its QuickBooks and its jobs."""

    name: str
    username: str
    token: str
    quickbooks: QuickBooksEmulator
    jobs: dict[int, PlannedJob] = field(default_factory=dict)
    reports: list[SessionReport] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Failure:
    """A job that ended failed, and whether QuickBooks holds its record all the same."""

    company: str
    job_id: int
    key: str
    error: str
    #: QuickBooks applied the request even though the job failed (a reply that was lost).
    in_quickbooks: bool


def start_delay(seed: int, company: str, spread: float) -> float:
    """Seconds after the start at which ``company``'s Web Connector first runs: drawn evenly from ``[0, spread)``.

    Drawn from the seed and the company's name, so that simulations splitting one fleet
    between processes (a prefix each) start their companies apart, and a run repeats.
    """
    if spread <= 0:
        return 0.0
    return random.Random(f"{seed}:spread:{company}").uniform(0.0, spread)  # noqa: S311 (reproducible, not secrets)


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
    failed: list[Failure] = field(default_factory=list)
    #: Records in QuickBooks whose amounts are not what the work asked for: ``(company, job id, why)``.
    wrong: list[tuple[str, int, str]] = field(default_factory=list)
    #: Jobs whose Add or Mod QuickBooks applied more than once: ``(company, job id, times)``.
    twice: list[tuple[str, int, int]] = field(default_factory=list)
    #: Seconds each QBWC call took at the Web Connector, by operation (zeep's envelope and parse included).
    calls: dict[str, list[float]] = field(default_factory=dict)
    #: Seconds each QBWC call took on the wire, by operation: from the request sent to the reply read.
    wire: dict[str, list[float]] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """Every job done, each exactly once and with the right amounts."""
        return not (self.duplicates or self.lost or self.failed or self.wrong or self.twice)

    def percentile(self, p: float) -> float:
        """A latency percentile in seconds (0 when there were no round trips)."""
        if not self.latencies:
            return 0.0
        if len(self.latencies) == 1:
            return self.latencies[0]
        cuts = statistics.quantiles(self.latencies, n=100, method="inclusive")
        return cuts[min(98, max(0, round(p) - 1))]

    def failure_reasons(self) -> dict[str, int]:
        """How many jobs failed for each reason (the first sentence of the error)."""
        return dict(Counter(_reason(f.error) + (" [in QuickBooks]" if f.in_quickbooks else "") for f in self.failed))

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
            "failed": [
                {
                    "company": f.company,
                    "job_id": f.job_id,
                    "key": f.key,
                    "error": f.error,
                    "in_quickbooks": f.in_quickbooks,
                }
                for f in self.failed
            ],
            "wrong": [{"company": c, "job_id": j, "why": w} for c, j, w in self.wrong],
            "twice": [{"company": c, "job_id": j, "times": n} for c, j, n in self.twice],
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
            f"jobs applied twice: {len(self.twice)}",
            f"jobs lost: {len(self.lost)}",
            f"jobs failed: {len(self.failed)}",
            f"wrong amounts: {len(self.wrong)}",
            "round-trip latency: " + ", ".join(f"p{p} {self.percentile(p) * 1000:.1f} ms" for p in (50, 95, 99)),
        ]
        if self.faults:
            lines.append("faults injected: " + ", ".join(f"{k} {v}" for k, v in sorted(self.faults.items())))
        for company, dup in self.duplicates:
            lines.append(f"  duplicate {dup.kind} in {company}: {', '.join(dup.ids)}")
        groups: dict[tuple[str, str], list[int]] = {}
        for company, job_id, why in self.lost:
            groups.setdefault((company, why), []).append(job_id)
        for (company, why), ids in groups.items():
            shown = ", ".join(str(i) for i in ids[:5]) + (", ..." if len(ids) > 5 else "")
            lines.append(f"  lost x{len(ids)} in {company} ({why}): job {shown}")
        if any("still in_flight" in why for _, _, why in self.lost) and self.outcomes.get(Outcome.BUSY):
            lines.append(
                "  note: in-flight jobs come back when the Web Connector's next authenticate supersedes their "
                "quiet session (after QBWC_SUPERSEDE_AFTER seconds on the server, 0 by default), or when it times out "
                "(QBWC_SESSION_TIMEOUT); until then the company is busy and the jobs behind them stay queued"
            )
        for reason, count in sorted(self.failure_reasons().items()):
            lines.append(f"  failed x{count}: {reason}")
        for company, job_id, why in self.wrong:
            lines.append(f"  wrong amount, job {job_id} of {company}: {why}")
        return "\n".join(lines)


def with_job_ids(payload: Any, ids: dict[str, int]) -> Any:
    """``payload`` with each ``{"job": key}`` ref of a planned job (:func:`.workload.job_ref`) given its job id."""
    if isinstance(payload, dict):
        if set(payload) == {"job"} and isinstance(payload["job"], str):
            return {"job": ids[payload["job"]]}
        return {k: with_job_ids(v, ids) for k, v in payload.items()}
    if isinstance(payload, list):
        return [with_job_ids(v, ids) for v in payload]
    return payload


def applied_twice(quickbooks: QuickBooksEmulator) -> dict[int, int]:
    """Jobs whose change QuickBooks applied more than once, with how many times (see ``QuickBooksEmulator.applied``).

    The service sends each step of job N under requestID ``N`` or ``N.step``.
    """
    per_job: Counter[int] = Counter()
    for request_id, count in quickbooks.applied().items():
        head = request_id.split(".")[0]
        if head.isdigit():
            per_job[int(head)] += count
    return {job: count for job, count in per_job.items() if count > 1}


def _reason(error: str) -> str:
    """The first sentence of a job's error, without the request's particulars."""
    head = error.split(". ")[0].split("; ")[0]
    return head if len(head) <= 160 else head[:157] + "..."


def _amount(value: object) -> Decimal | None:
    try:
        return Decimal(value) if isinstance(value, str) else None
    except InvalidOperation:
        return None


def _lines(data: Data, tag: str) -> list[Data]:
    value = data.get(tag)
    if isinstance(value, dict):
        return [value]
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def check_amount(planned: PlannedJob, record: Data) -> str | None:
    """Why ``record`` does not carry the amount ``planned`` asked for, or ``None`` when it does."""
    if planned.amount is None or planned.expect is None:
        return None
    kind = planned.expect[0]
    if kind == "Invoice":
        found = (_amount(record.get("Subtotal")) or Decimal(0)) + (_amount(record.get("SalesTaxTotal")) or Decimal(0))
    elif kind == "SalesReceipt":
        found = _amount(record.get("TotalAmount")) or Decimal(0)
    elif kind == "ReceivePayment":
        found = _amount(record.get("TotalAmount")) or Decimal(0)
        applied = sum((_amount(a.get("Amount")) or Decimal(0) for a in _lines(record, "AppliedToTxnRet")), Decimal(0))
        if applied != found:
            return f"payment {planned.expect[1]} of {found} applied only {applied} to invoices"
    elif kind == "JournalEntry":
        found = sum((_amount(a.get("Amount")) or Decimal(0) for a in _lines(record, "JournalDebitLine")), Decimal(0))
    else:
        return None
    if found != planned.amount:
        return f"{kind} {planned.expect[1]} is {found}, not {planned.amount}"
    return None


def expected(job_id: int, kind: str, payload: dict[str, Any]) -> PlannedJob:
    """What a job queued by a workflow (a document's, setup's) must leave in QuickBooks, read from its payload."""
    expect: tuple[str, str] | None = None
    amount = None
    if kind == "invoice_add":
        expect = ("Invoice", str(payload["ref_number"]))
        amount = sum((Decimal(str(line.get("amount", "0"))) for line in payload.get("lines", ())), Decimal(0))
    elif kind == "payment_add":
        expect, amount = ("ReceivePayment", str(payload["ref_number"])), Decimal(str(payload["total_amount"]))
    elif kind == "customer_ensure":
        expect = ("Customer", str(payload["name"]))
    return PlannedJob(f"job{job_id}", kind, payload, expect, None, amount)


class Simulation:
    """Companies created through the service's API, each fed by its own Web Connector.

    The work is enqueued as a producer would: typed jobs (``customer_add``, ``invoice_add``,
    ...) through :func:`qbwc_service.queue.jobs.enqueue`, customer -> invoices -> payment chained
    with ``depends_on``. With ``raw`` the same requests go as ready-made ``qbxml`` jobs.
    """

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
        raw: bool = False,
        mix: str = "business",
        validate: bool = True,
    ) -> None:
        self.engine, self.url, self.seed = engine, url, seed
        self.plan = faults if isinstance(faults, FaultPlan) else FaultPlan.parse(faults)
        self.customers, self.invoices = customers, invoices
        self.count, self.prefix, self.raw = companies, prefix, raw
        #: ``business`` (:func:`.workload.workload`), ``invoices`` (:func:`.workload.invoice_mix`, where
        #: ``customers`` and ``invoices`` are per company), ``day`` (:func:`.workload.day_of_work`, likewise)
        #: or ``documents`` (company setup, ``invoices`` ``shop_invoice`` documents of :func:`.days.shop_day`
        #: among ``customers`` customers, and a customer import: what a shop system queues).
        self.mix = mix
        #: Whether each emulated QuickBooks checks every request against the qbXML schema.
        self.validate = validate
        self.runs: list[CompanyRun] = []
        self.injectors: list[FaultInjector] = []
        #: Seconds the Web Connectors of the last :meth:`run` were at work, summed over the companies.
        self.busy = 0.0

    def setup(self) -> None:
        """Create the companies and enqueue each one's work."""
        editions = list(Edition)
        for n in range(1, self.count + 1):
            name = f"{self.prefix}-{self.seed}-{n}"
            rng = random.Random(f"{self.seed}:{n}")  # noqa: S311 (reproducible data, not secrets)
            injector = FaultInjector(self.plan, seed=self.seed * 1000 + n)
            facts = CompanyFacts(name=name, edition=editions[n % len(editions)])
            quickbooks = QuickBooksEmulator(facts, faults=injector, validate=self.validate)
            with self.engine.begin() as conn:
                created = companies.create_company(conn, name, f"{name}-qbwc")
                run = CompanyRun(name, created.username, created.token, quickbooks)
                if self.mix == "documents":
                    self._documents(conn, created, run, self.seed * 1000 + n)
                    self.runs.append(run)
                    self.injectors.append(injector)
                    continue
                ids: dict[str, int] = {}
                make = {"invoices": invoice_mix, "day": day_of_work}.get(self.mix, workload)
                plan = make(name, rng, customers=self.customers, invoices=self.invoices)
                for planned in plan:
                    kind, payload = ("qbxml", planned.raw()) if self.raw else (planned.kind, planned.payload)
                    payload = with_job_ids(payload, ids)
                    job = jobs.enqueue(
                        conn,
                        created.id,
                        kind,
                        payload,
                        idempotency_key=f"{name}:{planned.key}",
                        depends_on=ids[planned.depends_on] if planned.depends_on else None,
                        actor="simulator",
                    )
                    ids[planned.key] = job.job_id
                    run.jobs[job.job_id] = planned
            self.runs.append(run)
            self.injectors.append(injector)

    def _documents(self, conn: Connection, company: companies.NewCompany, run: CompanyRun, seed: int) -> None:
        """A shop's day as its system posts it: setup, ``invoices`` repair orders (with payments), an import."""
        from qbwc_service.workflows import install
        from qbwc_service.workflows.imports import start_import
        from qbwc_service.workflows.setup import runs

        install()
        runs.start(conn, company.id, actor="simulator")
        for doc in shop_day(self.invoices, seed=seed, customers=self.customers):
            jobs.enqueue(conn, company.id, "shop_invoice", doc, actor="simulator")
        start_import(conn, company.id, "customers", actor="simulator")
        rows = conn.execute(select(Job.id, Job.kind, Job.payload).where(Job.company_id == company.id))
        for job_id, kind, payload in rows:
            run.jobs[job_id] = expected(job_id, kind, payload)

    def run(
        self,
        sessions: int,
        *,
        every: float = 0.0,
        on_session: Callable[[], None] | None = None,
        concurrency: int | None = None,
        spread: float = 0.0,
    ) -> Summary:
        """Run up to ``sessions`` QBWC runs per company, companies in parallel threads.

        ``concurrency``: at most that many companies' Web Connectors at work at once (each
        company runs all its sessions in its turn); all of them when None. ``spread``: each
        company's Web Connector starts after a delay drawn evenly from ``[0, spread)`` seconds
        (seeded), as Web Connectors polling on their own schedules do; 0 starts them all at once.
        :attr:`busy` is then the seconds they were at work, summed over the companies.
        """
        slots = threading.BoundedSemaphore(concurrency or max(1, len(self.runs)))
        delays = [start_delay(self.seed, run.name, spread) for run in self.runs]
        lock = threading.Lock()
        self.busy = 0.0

        def drive(run: CompanyRun, injector: FaultInjector, delay: float) -> None:
            if delay:
                time.sleep(delay)
            with slots:
                started = time.perf_counter()
                try:
                    work(run, injector)
                finally:
                    with lock:
                        self.busy += time.perf_counter() - started

        def work(run: CompanyRun, injector: FaultInjector) -> None:
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
                    # As QBWC does, a wait authenticate asks for (busy, none) replaces the schedule's once.
                    wait = float(report.postpone) if report.postpone is not None else every
                    if wait:
                        connector.sleep(wait)
            finally:
                connector.close()

        threads = [
            threading.Thread(target=drive, args=(run, inj, delay), daemon=True)
            for run, inj, delay in zip(self.runs, self.injectors, delays, strict=True)
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
        failed: list[Failure] = []
        wrong: list[tuple[str, int, str]] = []
        twice: list[tuple[str, int, int]] = []
        calls: dict[str, list[float]] = {}
        wire: dict[str, list[float]] = {}
        duplicates: list[tuple[str, Duplicate]] = []
        latencies: list[float] = []
        with self.engine.connect() as conn:
            for run, injector in zip(self.runs, self.injectors, strict=True):
                rows = conn.execute(select(Job.id, Job.state, Job.error).where(Job.id.in_(list(run.jobs))))
                for job_id, state, error in rows:
                    job_states[str(state)] += 1
                    planned = run.jobs[job_id]
                    record = self.landed(run, planned)
                    if state not in FINAL:
                        lost.append((run.name, job_id, f"still {state} after the last session"))
                    elif state == JobState.FAILED:
                        failed.append(Failure(run.name, job_id, planned.key, error or "", record is not None))
                    elif state == JobState.DONE and planned.expect and record is None:
                        lost.append((run.name, job_id, "done, but not in QuickBooks"))
                    elif state == JobState.DONE and record is not None:
                        why = check_amount(planned, record)
                        if why:
                            wrong.append((run.name, job_id, why))
                duplicates.extend((run.name, d) for d in run.quickbooks.duplicates())
                twice.extend((run.name, j, n) for j, n in applied_twice(run.quickbooks).items() if j in run.jobs)
                for report in run.reports:
                    outcomes[report.outcome] += 1
                    latencies.extend(report.latencies)
                    for operation, seconds in report.call_times:
                        calls.setdefault(operation, []).append(seconds)
                    for operation, seconds in report.wire_times:
                        wire.setdefault(operation, []).append(seconds)
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
            failed=failed,
            wrong=wrong,
            twice=twice,
            calls=calls,
            wire=wire,
        )

    @staticmethod
    def landed(run: CompanyRun, planned: PlannedJob) -> Data | None:
        """The record a job made in QuickBooks (the first, for a transaction), or ``None``."""
        if planned.expect is None:
            return None
        kind, key = planned.expect
        if kind in ("Invoice", "ReceivePayment", "SalesReceipt", "JournalEntry"):
            return next((r for r in run.quickbooks.records(kind) if r.get("RefNumber") == key), None)
        return run.quickbooks.find(kind, key)

    def snapshot(self) -> dict[str, Any]:
        """Every company's QuickBooks, by company name."""
        return {run.name: run.quickbooks.snapshot() for run in self.runs}
