"""What bench/load.py and bench/soak.py share: a database of their own, the sampler, the simulating processes.

Not a benchmark itself. The database is created on the PostgreSQL server given (the
shared one by default) under its own name and dropped afterwards, so the tests that use
that server are not disturbed.
"""

from __future__ import annotations

import math
import os
import statistics
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy.engine import make_url

from qbwc_service.db import migrate
from qbwc_service.db.engine import make_engine
from qbwc_service.simulator.service import ServedService, cpu_seconds, rss_kib

SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
#: The service's connections say so (pg_stat_activity.application_name); the bench's say qbwc-bench.
SERVICE_APP, BENCH_APP = "qbwc-service", "qbwc-bench"
#: gunicorn's access log line: microseconds in the worker, then the SOAPAction (the QBWC method).
ACCESS_FORMAT = "%(D)s %({soapaction}i)s"


def database_url(server: str, name: str, app: str) -> str:
    """``server`` pointed at database ``name``, its connections named ``app``."""
    url = make_url(server).set(database=name)
    return url.update_query_dict({"application_name": app}).render_as_string(hide_password=False)


def _admin(server: str) -> psycopg.Connection[Any]:
    libpq = make_url(server).set(drivername="postgresql").render_as_string(hide_password=False)
    return psycopg.connect(libpq, autocommit=True)


def create_database(server: str, name: str) -> None:
    """A fresh, migrated database ``name`` (dropped first if a previous run left it)."""
    drop_database(server, name)
    with _admin(server) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    engine = make_engine(database_url(server, name, BENCH_APP))
    migrate.upgrade(engine)
    engine.dispose()


def analyze(server: str, name: str) -> bool:
    """ANALYZE ``name`` when the server's autovacuum is off (it is on this machine): what autovacuum does.

    Without statistics PostgreSQL takes ``job_dependency`` for 200 rows per job and reads the
    whole table where an index finds a job's few edges. True when it ran.
    """
    with _admin(database_url(server, name, BENCH_APP)) as conn:
        row = conn.execute("SHOW autovacuum").fetchone()
        if row is not None and row[0] == "on":
            return False
        conn.execute("ANALYZE")
        return True


def drop_database(server: str, name: str) -> None:
    """Drop ``name``, disconnecting whoever is still on it."""
    with _admin(server) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def percentiles(values: Sequence[float]) -> dict[str, float]:
    """p50/p95/p99 of ``values`` in milliseconds (0 when there are none)."""
    if not values:
        return {"p50": 0.0, "p95": 0.0, "p99": 0.0}
    if len(values) == 1:
        return dict.fromkeys(("p50", "p95", "p99"), round(values[0] * 1000, 2))
    cuts = statistics.quantiles(values, n=100, method="inclusive")
    return {f"p{p}": round(cuts[p - 1] * 1000, 2) for p in (50, 95, 99)}


def reference_ms(rounds: int = 5) -> float:
    """How fast the machine is now: the best of ``rounds`` timings of one fixed piece of the service's own work.

    The work is building the qbXML of 55 requests (5 customers, 5 items, 45 invoices; the
    builders' validation and lxml), in milliseconds. This machine's speed varies from day to
    day; a run's figures compare with another's in proportion to this one.
    """
    import random

    from lxml import etree

    from qbwc_service.simulator.workload import invoice_mix
    from qbxml_builders import build_request

    plan = invoice_mix("reference", random.Random(0), customers=5, invoices=45)
    best = math.inf
    for _ in range(rounds):
        started = time.perf_counter()
        for planned in plan:
            etree.tostring(build_request(planned.kind, planned.payload, version="13.0"))
        best = min(best, time.perf_counter() - started)
    return best * 1000


def server_times(access_log: Path) -> dict[str, list[float]]:
    """Seconds each call took inside a worker, by QBWC method, from the access log (:data:`ACCESS_FORMAT`)."""
    out: dict[str, list[float]] = {}
    if not access_log.exists():
        return out
    for line in access_log.read_text().splitlines():
        micros, _, action = line.partition(" ")
        method = action.replace("\\", "").strip().strip('"').rsplit("/", 1)[-1]
        if micros.isdigit() and method and method != "-":
            out.setdefault(method, []).append(int(micros) / 1e6)
    return out


@dataclass
class Sample:
    """One look at the service: seconds since the start, connections, RSS of each process."""

    at: float
    service_connections: int
    database_connections: int
    #: pid → KiB: the master first, then the workers.
    rss: dict[int, int]


@dataclass
class Sampler:
    """A thread that looks at pg_stat_activity and the service's processes every ``every`` seconds."""

    server: str
    database: str
    service: ServedService
    every: float = 0.25
    #: Seconds between ANALYZEs of the database when autovacuum is off (0: none).
    analyze_every: float = 0.0
    samples: list[Sample] = field(default_factory=list)
    #: pid → (``"service"`` or ``"database"``, its CPU seconds at the mark, at the last look).
    cpu: dict[int, tuple[str, float, float]] = field(default_factory=dict)
    _marked: bool = False
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def start(self) -> Sampler:
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(10)

    def mark(self) -> None:
        """Count CPU time from now on (:meth:`cpu_seconds`): the run begins."""
        self._marked = True

    def _run(self) -> None:
        started = analyzed = time.monotonic()
        query = (
            "SELECT count(*) FILTER (WHERE application_name = %s), count(*) - 1 "
            "FROM pg_stat_activity WHERE datname = %s"
        )
        # The database's backends and the server's own processes (WAL writer, checkpointer, ...).
        backends = "SELECT pid FROM pg_stat_activity WHERE datname = %s OR datname IS NULL"
        with _admin(self.server) as conn:
            conn.execute("SELECT set_config('application_name', 'qbwc-sampler', false)")
            mine = conn.info.backend_pid
            while not self._stop.is_set():
                row = conn.execute(query, (SERVICE_APP, self.database)).fetchone()
                service, everyone = (int(row[0]), int(row[1])) if row else (0, 0)
                pids = [self.service.process.pid, *self.service.worker_pids()]
                rss = {pid: rss_kib(pid) for pid in pids}
                self.samples.append(Sample(time.monotonic() - started, service, everyone, rss))
                # A server on another host: its pids are not this machine's, and none is a postgres here.
                database = [int(r[0]) for r in conn.execute(backends, (self.database,)) if r[0] != mine]
                self._look_at_cpu("service", pids)
                self._look_at_cpu("database", [pid for pid in database if _is_postgres(pid)])
                if self.analyze_every and time.monotonic() - analyzed >= self.analyze_every:
                    analyzed = time.monotonic()
                    analyze(self.server, self.database)
                self._stop.wait(self.every)

    def _look_at_cpu(self, group: str, pids: list[int]) -> None:
        for pid in pids:
            now, seen = cpu_seconds(pid), self.cpu.get(pid)
            if not self._marked:
                self.cpu[pid] = (group, now, now)  # the baseline moves until the run begins
            elif seen is None:
                self.cpu[pid] = (group, 0.0, now)  # started during the run: all its time is the run's
            else:
                self.cpu[pid] = (group, seen[1], max(now, seen[2]))  # 0 once it is gone: keep its last

    def cpu_seconds(self) -> dict[str, float]:
        """CPU seconds since :meth:`mark` of the service (master and workers) and of the database server.

        Read from ``/proc`` at every look, so a process's last fraction of a look's interval
        before it exits is not counted; a database server on another host counts 0.
        """
        out = {"service": 0.0, "database": 0.0}
        for group, first, last in self.cpu.values():
            out[group] += last - first
        return out

    def peak_connections(self) -> tuple[int, int]:
        """The most connections the service held at once, and the most on the database in all."""
        return (
            max((s.service_connections for s in self.samples), default=0),
            max((s.database_connections for s in self.samples), default=0),
        )

    def peak_rss_mib(self) -> tuple[float, float]:
        """The service's peak RSS in MiB: the largest process, and master and workers together."""
        largest = max((max(s.rss.values(), default=0) for s in self.samples), default=0)
        total = max((sum(s.rss.values()) for s in self.samples), default=0)
        return largest / 1024, total / 1024


def _is_postgres(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/comm").read_text().startswith("postgres")
    except OSError:
        return False


def slope_mib_per_hour(points: Sequence[tuple[float, int]]) -> float:
    """The least-squares slope of ``(seconds, KiB)`` points, in MiB per hour (0 with fewer than 2)."""
    if len(points) < 2:
        return 0.0
    xs, ys = [p[0] for p in points], [p[1] / 1024 for p in points]
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    den = sum((x - mx) ** 2 for x in xs)
    if math.isclose(den, 0.0):
        return 0.0
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / den * 3600


def simulate(task: dict[str, Any], barrier: Any, out: Any) -> None:
    """One simulating process: create its companies and their work, wait for the others, run, report."""
    from qbwc_service.simulator.run import Simulation

    engine = make_engine(task["db"])
    sim = Simulation(
        engine, task["url"], companies=task["companies"], mix=task.get("mix", "day"), customers=task["customers"],
        invoices=task["invoices"], prefix=task["prefix"], seed=task["seed"], validate=task["validate"],
        faults=task.get("faults") or None,
    )  # fmt: skip
    started = time.perf_counter()
    sim.setup()
    setup = time.perf_counter() - started
    barrier.wait()  # every process has queued its work
    barrier.wait()  # and the database is analyzed: go
    os.nice(task.get("nice", 0))  # they stand for the customers' PCs: the service has the CPU first
    started, cpu = time.perf_counter(), time.process_time()
    summary = sim.run(
        task["sessions"], concurrency=task["concurrency"], every=task.get("every", 0.0), spread=task.get("spread", 0.0)
    )
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    engine.dispose()
    result = summary.as_dict()
    result.update(
        setup_s=setup,
        run_s=elapsed,
        cpu_s=cpu,
        enqueued=sum(len(r.jobs) for r in sim.runs),
        busy_s=sim.busy,
        calls=summary.calls,
        wire=summary.wire,
        failed_reasons=summary.failure_reasons(),
    )
    out.put(result)
