"""Load on PostgreSQL: N companies with a day of work each, 4 gunicorn workers, Web Connectors simulated in processes.

Each company gets a shop's day (``--mix documents``, the default): company setup (the
preferences check and an ensure per profile entry), ``--invoices`` ``shop_invoice`` documents
among ``--customers`` customers, each queued as its customer's ensure, the invoice and its
payments, and a customer import. ``--mix day`` queues the typed jobs of the same day
instead (set-up ensures, customers, invoices each paid by a payment naming it, an iterated
query). The work is enqueued by the simulating processes (the companies split between
them), then each Web Connector starts at its own seeded time within ``--spread`` seconds
(600 by default: every company's whole day offered within 10 minutes, about 350 jobs/s at
200 companies), as Web Connectors polling on their own schedules do, and runs sessions
until its company has nothing left. That is a load the service carries, and the run
measures its latency (it prints how many Web Connectors were at work on average). With
``--spread 0`` all start together, at most ``--concurrency`` at work at once: the service
at its capacity, where every call waits for a core, which measures throughput.
The emulated QuickBooks skip the schema check of each request
unless ``--validate`` (it is the client's CPU, which the service shares here), and the
simulating processes run at ``--nice`` 10 once the work is queued, for the same reason.
It prints the CPU time the service, PostgreSQL (when it runs on this machine) and the
simulating processes used during the run, against what the cores had to give. It prints
the machine's speed (:func:`fleet.reference_ms`), read before the work is queued and again
once the run is over: runs on other days compare in proportion to it, and two readings far
apart say the machine changed speed during the run.

Prints jobs/s, round trips per 1,000 jobs, latency p50/p95/p99 per QBWC method (on the wire,
from the HTTP request sent to the reply read; at the simulated Web Connector, zeep's SOAP
work included; and inside the worker from gunicorn's access log), the peak of database
connections (pg_stat_activity), the service's RSS, and the lost and duplicated
counts. Targets: 0 lost, 0 duplicated, p95 < 50 ms per call. The database (``--database``,
on ``--server``) is created and dropped; nothing else on the server is touched.

    .venv/bin/python bench/load.py                  # 200 companies, 50 customers, 500 invoices, over 600 s
    .venv/bin/python bench/load.py --companies 20 --customers 5 --invoices 20 --spread 60
    .venv/bin/python bench/load.py --spread 0       # the same day's work all at once: the service's capacity
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import fleet

from qbwc_service.simulator.service import ServedService


def arguments(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--companies", type=int, default=200)
    parser.add_argument("--customers", type=int, default=50, help="per company")
    parser.add_argument("--invoices", type=int, default=500, help="per company, each with its payment")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn workers")
    parser.add_argument(
        "--processes", type=int, default=8,
        help="simulating processes: each runs its companies' Web Connectors in threads, which share its GIL, so two "
        "at work in one process delay each other's reading of a reply; fewer companies a process measure truer",
    )  # fmt: skip
    parser.add_argument(
        "--concurrency", type=int, default=None,
        help="Web Connectors at work at once, in all (default 16; with --spread, every company's)",
    )  # fmt: skip
    parser.add_argument(
        "--spread", type=float, default=600.0,
        help="seconds over which the Web Connectors start, each at a seeded random time, as they do polling on "
        "their own schedules: a day's load, below the service's capacity (0: all at once, at capacity)",
    )  # fmt: skip
    parser.add_argument("--batch-size", type=int, default=50)
    parser.add_argument("--server", default=fleet.SERVER, help="PostgreSQL server (an existing database on it)")
    parser.add_argument("--database", default="qbwc_load", help="the database created and dropped")
    parser.add_argument("--keep", action="store_true", help="leave the database for a look afterwards")
    parser.add_argument("--validate", action="store_true", help="the emulator checks each request's schema")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--nice", type=int, default=10,
        help="niceness of the simulating processes while they run: the Web Connectors and QuickBooks stand for "
        "other machines, so on a small box they leave the CPU to the service and its database first (0: no)",
    )  # fmt: skip
    parser.add_argument(
        "--mix",
        choices=("documents", "day"),
        default="documents",
        help="documents: setup, shop_invoice documents, an import; day: the typed jobs of each",
    )
    parser.add_argument("--json", action="store_true", help="print the figures as one JSON document too")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = arguments(argv)
    if args.concurrency is None:
        args.concurrency = args.companies if args.spread > 0 else 16
    processes = max(1, min(args.processes, args.companies))
    args.reference_ms = fleet.reference_ms()  # before anything else runs
    fleet.create_database(args.server, args.database)
    service_url = fleet.database_url(args.server, args.database, fleet.SERVICE_APP)
    bench_url = fleet.database_url(args.server, args.database, fleet.BENCH_APP)
    access_log = Path(tempfile.mkdtemp(prefix="qbwc-load-")) / "access.log"
    env = {"QBWC_BATCH_SIZE": str(args.batch_size)}
    try:
        with ServedService(
            service_url, workers=args.workers, env=env, access_log=access_log, access_format=fleet.ACCESS_FORMAT
        ) as server:
            results, elapsed, sampler = run(args, processes, server, bench_url)
            args.reference_after_ms = fleet.reference_ms()  # the simulators are done, the workers idle
    finally:
        if not args.keep:
            fleet.drop_database(args.server, args.database)
    figures = report(args, processes, results, elapsed, sampler, fleet.server_times(access_log))
    if args.json:
        print(json.dumps(figures))
    return 0 if figures["lost"] == 0 and figures["duplicated"] == 0 else 1


def run(
    args: argparse.Namespace, processes: int, server: ServedService, bench_url: str
) -> tuple[list[dict[str, Any]], float, fleet.Sampler]:
    """Set up and run the simulating processes; their results, the run's wall time, the sampler."""
    ctx = multiprocessing.get_context("spawn")
    barrier, out = ctx.Barrier(processes + 1), ctx.Queue()
    share, extra = divmod(args.companies, processes)
    per_process = max(1, -(-args.concurrency // processes))
    tasks = [
        {
            "db": bench_url, "url": server.url, "companies": share + (1 if n < extra else 0),
            "customers": args.customers, "invoices": args.invoices, "prefix": f"load{n}", "seed": args.seed,
            "validate": args.validate, "sessions": 1000, "concurrency": per_process, "mix": args.mix,
            "nice": args.nice, "spread": args.spread,
        }
        for n in range(processes)
    ]  # fmt: skip
    procs = [ctx.Process(target=fleet.simulate, args=(task, barrier, out)) for task in tasks]
    for proc in procs:
        proc.start()
    sampler = fleet.Sampler(args.server, args.database, server).start()
    barrier.wait(timeout=None)
    analyzed = fleet.analyze(args.server, args.database)
    if analyzed:
        print("autovacuum is off on this server: the database was analyzed after the work was queued", flush=True)
    barrier.wait(timeout=None)
    started = time.perf_counter()
    sampler.mark()
    results = [out.get() for _ in procs]
    elapsed = time.perf_counter() - started
    sampler.stop()
    for proc in procs:
        proc.join(60)
    return results, elapsed, sampler


def report(
    args: argparse.Namespace,
    processes: int,
    results: list[dict[str, Any]],
    elapsed: float,
    sampler: fleet.Sampler,
    inside: dict[str, list[float]],
) -> dict[str, Any]:
    """Print the figures; return them."""
    jobs = sum(r["enqueued"] for r in results)
    done = sum(r["jobs"].get("done", 0) for r in results)
    failed = sum(r["jobs"].get("failed", 0) for r in results)
    trips = sum(r["round_trips"] for r in results)
    lost = sum(len(r["lost"]) for r in results)
    entered_twice = sum(len(r["duplicates"]) for r in results)
    applied_twice = sum(len(r["twice"]) for r in results)
    setup = max(r["setup_s"] for r in results)
    calls: dict[str, list[float]] = {}
    wire: dict[str, list[float]] = {}
    for r in results:
        for method, seconds in r["calls"].items():
            calls.setdefault(method, []).extend(seconds)
        for method, seconds in r["wire"].items():
            wire.setdefault(method, []).extend(seconds)
    calls_made = sum(len(v) for v in inside.values())
    service_peak, database_peak = sampler.peak_connections()
    largest, total = sampler.peak_rss_mib()
    last = sampler.samples[-1].rss if sampler.samples else {}
    skip = ("serverVersion", "clientVersion")
    wc = {m: fleet.percentiles(v) for m, v in sorted(calls.items()) if m not in skip}
    on_wire = {m: fleet.percentiles(v) for m, v in sorted(wire.items()) if m not in skip}
    worker = {m: fleet.percentiles(v) for m, v in sorted(inside.items())}
    per_company = round(jobs / max(1, args.companies))
    load = os.getloadavg()
    work = (f"company setup, {args.invoices} shop_invoice documents among {args.customers} customers (customer "
            "ensure, invoice, payments each), a customer import" if args.mix == "documents" else
            f"6 ensures, {args.customers} customers, {args.invoices} invoices each paid by a payment naming it, "
            "1 iterated query")  # fmt: skip
    print(
        f"conditions: {args.companies} companies x {per_company} jobs ({work}); {args.workers} gunicorn "
        f"workers, batch size {args.batch_size}; at most {args.concurrency} Web Connectors at once in {processes} "
        f"processes at nice {args.nice}, "
        f"{f'starting over {args.spread:.0f} s' if args.spread > 0 else 'all starting together'}; "
        f"emulator schema check {'on' if args.validate else 'off'}; "
        f"{os.cpu_count()} cores, load average {load[0]:.1f} {load[1]:.1f} {load[2]:.1f}; the machine's speed: "
        f"{args.reference_ms:.1f} ms for the reference work before the run, {args.reference_after_ms:.1f} ms after "
        "(fleet.reference_ms)"
    )
    print(f"setup: {jobs} jobs enqueued in {setup:.1f} s ({jobs / max(setup, 1e-9):.0f} jobs/s, {processes} processes)")
    print(f"run: {elapsed:.1f} s, {done} done, {failed} failed: {done / max(elapsed, 1e-9):.1f} jobs/s")
    print(f"round trips: {trips}, {trips * 1000 / max(jobs, 1):.1f} per 1,000 jobs")
    at_work = sum(r["busy_s"] for r in results) / max(elapsed, 1e-9)
    print(f"Web Connectors at work: {at_work:.1f} on average (their time at work / the run's)")
    for title, table in (
        ("on the wire (request sent to reply read, as the Web Connector's machine sees the service)", on_wire),
        ("at the simulated Web Connector (zeep's envelope and parse too, in processes at nice)", wc),
        ("inside the worker", worker),
    ):
        print(f"latency {title}, ms:")
        for method, cut in table.items():
            print(f"  {method:<20} p50 {cut['p50']:7.1f}  p95 {cut['p95']:7.1f}  p99 {cut['p99']:7.1f}")
    cpu = {**sampler.cpu_seconds(), "simulators": sum(r["cpu_s"] for r in results)}
    cores = os.cpu_count() or 1
    print(
        f"CPU during the run: service {cpu['service']:.1f} s, PostgreSQL {cpu['database']:.1f} s, simulating "
        f"processes {cpu['simulators']:.1f} s: {sum(cpu.values()) / (cores * max(elapsed, 1e-9)) * 100:.0f} % of "
        f"{cores} cores over {elapsed:.0f} s; the service {cpu['service'] * 1000 / max(calls_made, 1):.1f} ms and "
        f"PostgreSQL {cpu['database'] * 1000 / max(calls_made, 1):.1f} ms a call"
    )
    print(f"peak database connections: service {service_peak}, everyone on the database {database_peak}")
    print(
        f"service RSS: peak {largest:.1f} MiB in one process, {total:.1f} MiB master and workers together; "
        f"at the end {', '.join(f'{kib / 1024:.1f}' for kib in last.values())} MiB"
    )
    print(
        f"lost {lost}, duplicated {entered_twice + applied_twice} (entered twice {entered_twice}, "
        f"applied twice {applied_twice}), failed {failed}"
    )
    for r in results:
        for reason, count in r["failed_reasons"].items():
            print(f"  failed x{count}: {reason}")
    levels = (("on the wire", on_wire), ("at the simulated Web Connector", wc), ("inside the worker", worker))
    worst = {name: max((cut["p95"] for cut in table.values()), default=0.0) for name, table in levels}
    print(
        f"targets: lost 0: {'met' if lost == 0 else 'MISSED'}; duplicated 0: "
        f"{'met' if entered_twice + applied_twice == 0 else 'MISSED'}; p95 < 50 ms per call: "
        + ", ".join(f"{name} {'met' if p95 < 50 else 'MISSED'} (worst {p95:.1f} ms)" for name, p95 in worst.items())
    )
    return {
        "companies": args.companies, "jobs": jobs, "done": done, "failed": failed, "elapsed_s": round(elapsed, 2),
        "jobs_per_s": round(done / max(elapsed, 1e-9), 1), "round_trips": trips,
        "round_trips_per_1000_jobs": round(trips * 1000 / max(jobs, 1), 1), "latency_ms": wc,
        "latency_wire_ms": on_wire,
        "latency_in_worker_ms": worker, "peak_connections": service_peak, "peak_database_connections": database_peak,
        "rss_peak_mib": round(largest, 1), "rss_total_peak_mib": round(total, 1), "lost": lost,
        "duplicated": entered_twice + applied_twice, "setup_s": round(setup, 1), "spread_s": args.spread,
        "reference_ms": round(args.reference_ms, 2), "reference_after_ms": round(args.reference_after_ms, 2),
        "connectors_at_work": round(at_work, 2), "cpu_s": {k: round(v, 1) for k, v in cpu.items()},
    }  # fmt: skip


if __name__ == "__main__":
    sys.exit(main())
