"""End-to-end benchmark: N companies x M jobs through simulated Web Connectors and the service.

Starts ``qbwc-service serve`` (gunicorn) on a free localhost port with a fresh SQLite file,
runs the typed workload (customer_add, invoice_add, payment_add, ... enqueued through the
job queue; ``--raw`` sends the same requests as ready-made qbxml jobs) over HTTP and prints
jobs/s, round trips per 1,000 jobs, round-trip latency percentiles and the service's peak RSS.

It also splits the time: the service's share (the Web Connector's wall time of each
sendRequestXML + receiveResponseXML, which leaves QuickBooks out) and the time spent
inside the emulator (``process_request``), both per job. Then it runs the same work for one
company in-process (the protocol's methods called directly on a fresh SQLite file, no HTTP
and no SOAP) and prints the service's own time per job beside the emulator's.

    .venv/bin/python bench/e2e.py --companies 4 --customers 10 --invoices 5
    .venv/bin/python bench/e2e.py --mix invoices --companies 1   # 20 customers, 5 items, 975 invoices
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from qbwc_service.db import migrate
from qbwc_service.db.engine import make_engine
from qbwc_service.simulator.emulator import QuickBooksEmulator
from qbwc_service.simulator.run import Simulation


def free_port() -> int:
    """A free TCP port on localhost."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def tree_peak_rss_kib(pid: int) -> int:
    """Sum of VmHWM (peak resident set) over a process and its children, in KiB."""
    total = 0
    pids = [pid]
    children = Path(f"/proc/{pid}/task/{pid}/children")
    if children.exists():
        pids += [int(p) for p in children.read_text().split()]
    for p in pids:
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    total += int(line.split()[1])
        except OSError:
            continue
    return total


def _time_emulator(quickbooks: QuickBooksEmulator, total: list[float]) -> None:
    """Add the time each ``process_request`` of ``quickbooks`` takes to ``total[0]``."""
    inner = quickbooks.process_request

    def timed(request: str | bytes) -> str:
        started = time.perf_counter()
        try:
            return inner(request)
        finally:
            total[0] += time.perf_counter() - started

    quickbooks.process_request = timed  # type: ignore[method-assign]


def in_process(args: argparse.Namespace) -> tuple[int, int, float, float]:
    """One company's work through :class:`Protocol` directly: (jobs, round trips, service s, emulator s)."""
    import random

    from qbwc_service.accounts import companies
    from qbwc_service.config import load_settings
    from qbwc_service.qbwc.protocol import Protocol
    from qbwc_service.queue import jobs
    from qbwc_service.simulator.company import CompanyFacts
    from qbwc_service.simulator.workload import invoice_mix, workload

    url = f"sqlite:///{Path(tempfile.mkdtemp(prefix='qbwc-bench-')) / 'inproc.sqlite3'}"
    engine = make_engine(url)
    migrate.upgrade(engine)
    settings = load_settings({"log_level": "WARNING", "database_url": url, "batch_size": args.batch_size}, environ={})
    protocol = Protocol(engine, settings)
    name = f"bench-{args.seed}-1"
    rng = random.Random(f"{args.seed}:1")
    plan = (invoice_mix if args.mix == "invoices" else workload)(
        name, rng, customers=args.customers, invoices=args.invoices
    )
    with engine.begin() as conn:
        company = companies.create_company(conn, name, f"{name}-qbwc")
        ids: dict[str, int] = {}
        for planned in plan:
            depends = ids[planned.depends_on] if planned.depends_on else None
            ids[planned.key] = jobs.enqueue(conn, company.id, planned.kind, planned.payload, depends_on=depends).job_id
    quickbooks = QuickBooksEmulator(CompanyFacts(name=name))
    service = emulator = 0.0
    trips = 0
    for _ in range(50):
        ticket, status = protocol.authenticate(company.username, company.token)[:2]
        if status == "none" or not ticket:
            break
        quickbooks.open_session()
        hcp = quickbooks.hcp_response()
        while True:
            started = time.perf_counter()
            request = protocol.send_request_xml(ticket, hcp, "", "US", 13, 0)
            service += time.perf_counter() - started
            hcp = ""
            if not request:
                break
            started = time.perf_counter()
            response = quickbooks.process_request(request)
            emulator += time.perf_counter() - started
            started = time.perf_counter()
            percent = protocol.receive_response_xml(ticket, response, "", "")
            service += time.perf_counter() - started
            trips += 1
            if percent >= 100:
                break
        protocol.close_connection(ticket)
        quickbooks.close_session()
    engine.dispose()
    return len(plan), trips, service, emulator


def main() -> int:
    """Run the benchmark and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--companies", type=int, default=4)
    parser.add_argument("--customers", type=int, default=10, help="per company")
    parser.add_argument("--invoices", type=int, default=5, help="per customer")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=50)
    parser.add_argument("--faults", default="")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--raw", action="store_true", help="qbxml jobs instead of typed jobs")
    parser.add_argument(
        "--mix", choices=["business", "invoices"], default="business",
        help="business: the simulator's chained workload; invoices: 20 customers, 5 items and 975 invoices "
        "per company (--customers and --invoices default to 20 and 975 then)",
    )  # fmt: skip
    args = parser.parse_args()
    if args.mix == "invoices":
        given = set(sys.argv)
        args.customers = args.customers if "--customers" in given else 20
        args.invoices = args.invoices if "--invoices" in given else 975

    workdir = Path(tempfile.mkdtemp(prefix="qbwc-bench-"))
    url = f"sqlite:///{workdir / 'bench.sqlite3'}"
    engine = make_engine(url)
    migrate.upgrade(engine)
    port = free_port()
    env = {
        **os.environ,
        "QBWC_DATABASE_URL": url,
        "QBWC_LOG_LEVEL": "WARNING",
        "QBWC_BATCH_SIZE": str(args.batch_size),
        "QBWC_SECRET_KEY": "bench",
    }
    cli = Path(sys.executable).parent / "qbwc-service"
    server = subprocess.Popen(
        [str(cli), "serve", "--bind", f"127.0.0.1:{port}", "--workers", str(args.workers)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2):
                    break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    print("the service did not start", file=sys.stderr)
                    return 2
                time.sleep(0.2)
        sim = Simulation(
            engine,
            f"http://127.0.0.1:{port}/qbwc",
            companies=args.companies,
            customers=args.customers,
            invoices=args.invoices,
            faults=args.faults,
            seed=args.seed,
            prefix="bench",
            raw=args.raw,
            mix=args.mix,
        )
        enqueue_started = time.perf_counter()
        sim.setup()
        enqueue = time.perf_counter() - enqueue_started
        emulator = [0.0]
        for run in sim.runs:
            _time_emulator(run.quickbooks, emulator)
        jobs = sum(len(run.jobs) for run in sim.runs)
        started = time.perf_counter()
        summary = sim.run(sessions=1000)
        elapsed = time.perf_counter() - started
        rss = tree_peak_rss_kib(server.pid)
    finally:
        server.terminate()
        server.wait(10)
    done = summary.jobs.get("done", 0)
    kind = "raw qbxml" if args.raw else "typed"
    print(f"companies {args.companies}, {kind} jobs {jobs} ({done} done), batch size {args.batch_size}")
    print(f"setup {enqueue:.2f} s (companies created with hashed tokens, payloads validated and enqueued)")
    print(f"elapsed {elapsed:.2f} s, {done / elapsed:.1f} jobs/s")
    print(f"round trips {summary.round_trips}, {summary.round_trips * 1000 / max(jobs, 1):.1f} per 1,000 jobs")
    service = sum(summary.latencies)
    per = max(done, 1)
    print(
        f"service (sendRequestXML + receiveResponseXML over HTTP, QuickBooks left out) {service * 1000 / per:.3f} ms "
        f"per job, {service * 1000 / max(summary.round_trips, 1):.1f} ms per round trip; "
        f"inside the emulator {emulator[0] * 1000 / per:.3f} ms per job"
    )
    print("round-trip latency " + ", ".join(f"p{p} {summary.percentile(p) * 1000:.1f} ms" for p in (50, 95, 99)))
    print(f"service peak RSS (gunicorn master + workers) {rss / 1024:.1f} MiB")
    print(
        f"duplicates {len(summary.duplicates)}, lost {len(summary.lost)}, failed {len(summary.failed)}, "
        f"wrong amounts {len(summary.wrong)}"
    )
    count, trips, own, inside = in_process(args)
    print(
        f"in-process, one company ({count} jobs, {trips} round trips, {count / max(trips, 1):.0f} jobs a message): "
        f"service {own * 1000 / count:.3f} ms per job, emulator {inside * 1000 / count:.3f} ms per job"
    )
    return 0 if summary.ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
