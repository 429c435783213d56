"""Soak on PostgreSQL: M minutes of polling with random faults; every worker's RSS slope and the connections over time.

4 gunicorn workers serve simulating processes that, until the time is up, each create a
company with a short day of work (fleet.simulate; ``--mix documents``: company setup,
``shop_invoice`` documents and a customer import; ``--mix day``: ensures, customers, invoices
paid by payments naming them, an iterated query) and run its Web Connector through random faults
(lost replies, dropped requests, hresults, slow answers, closed runs) until nothing is
left, then start the next. Every ``--kill-every`` seconds a random worker is killed with
SIGKILL (gunicorn starts another). Every second the sampler reads pg_stat_activity and
each process's RSS. At the end it prints, per worker process, its life and RSS slope in
MiB/hour, the live workers' mean RSS slope over the whole run, the connection count per
minute (min-max), and the lost and duplicated counts. Both must be flat.

    .venv/bin/python bench/soak.py                 # 30 minutes
    .venv/bin/python bench/soak.py --minutes 5
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import random
import signal
import sys
import time
from collections import defaultdict
from typing import Any

import fleet

from qbwc_service.simulator.service import ServedService

#: Seconds of a worker's life left out of its slope: loading the application, the first calls.
WARM_UP = 60.0
FAULTS = "lost-reply=0.05,drop=0.03,hresult=0.02,slow=0.05,close=0.03"


def keep_polling(task: dict[str, Any], deadline: float, out: Any) -> None:
    """One simulating process: company after company until ``deadline`` (time.time())."""
    rounds = 0
    while time.time() < deadline:
        rounds += 1
        part = {**task, "prefix": f"{task['prefix']}r{rounds}", "seed": task["seed"] * 1000 + rounds}
        fleet.simulate(part, _NoBarrier(), out)


class _NoBarrier:
    def wait(self, timeout: float | None = None) -> None:
        return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=30.0)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--processes", type=int, default=4, help="simulating processes, one company at a time each")
    parser.add_argument("--customers", type=int, default=5)
    parser.add_argument("--invoices", type=int, default=20)
    parser.add_argument("--faults", default=FAULTS)
    parser.add_argument("--kill-every", type=float, default=60.0, help="seconds between SIGKILLs of a worker; 0: none")
    parser.add_argument("--server", default=fleet.SERVER)
    parser.add_argument("--database", default="qbwc_soak")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--retry-seconds", type=int, default=1, help="QBWC_RETRY_BASE_SECONDS of the service")
    parser.add_argument(
        "--mix",
        choices=("documents", "day"),
        default="documents",
        help="documents: setup, shop_invoice documents, an import; day: the typed jobs of each",
    )
    args = parser.parse_args(argv)
    fleet.create_database(args.server, args.database)
    service_url = fleet.database_url(args.server, args.database, fleet.SERVICE_APP)
    bench_url = fleet.database_url(args.server, args.database, fleet.BENCH_APP)
    deadline = time.time() + args.minutes * 60
    kills = 0
    try:
        # Retries come after a second, not 30 s: each company's Web Connector polls until its work is done.
        env = {"QBWC_RETRY_BASE_SECONDS": str(args.retry_seconds)}
        with ServedService(service_url, workers=args.workers, env=env) as server:
            sampler = fleet.Sampler(args.server, args.database, server, every=1.0, analyze_every=60.0).start()
            ctx = multiprocessing.get_context("spawn")
            out = ctx.Queue()
            tasks = [
                {"db": bench_url, "url": server.url, "companies": 1, "customers": args.customers,
                 "invoices": args.invoices, "prefix": f"soak{n}", "seed": args.seed + n, "validate": False,
                 "sessions": 200, "concurrency": 1, "faults": args.faults, "every": 0.2, "mix": args.mix}
                for n in range(args.processes)
            ]  # fmt: skip
            procs = [ctx.Process(target=keep_polling, args=(task, deadline, out)) for task in tasks]
            for proc in procs:
                proc.start()
            rng = random.Random(args.seed)
            results: list[dict[str, Any]] = []
            next_kill = time.time() + args.kill_every if args.kill_every else float("inf")
            while any(p.is_alive() for p in procs) or not out.empty():
                drain(out, results)
                if time.time() >= next_kill and time.time() < deadline:
                    pids = server.worker_pids()
                    if pids:
                        os.kill(rng.choice(pids), signal.SIGKILL)
                        kills += 1
                    next_kill += args.kill_every
                time.sleep(0.5)
            drain(out, results)
            sampler.stop()
    finally:
        fleet.drop_database(args.server, args.database)
    report(args, results, sampler, server.process.pid, kills)
    lost = sum(len(r["lost"]) for r in results)
    duplicated = sum(len(r["duplicates"]) + len(r["twice"]) for r in results)
    return 0 if lost == 0 and duplicated == 0 else 1


def drain(out: Any, results: list[dict[str, Any]]) -> None:
    """Move the finished companies' results off the queue."""
    while True:
        try:
            results.append(out.get(timeout=0.05))
        except Exception:  # queue.Empty, from the multiprocessing queue
            return


def report(args: argparse.Namespace, results: list[dict[str, Any]], sampler: fleet.Sampler, master: int,
           kills: int) -> None:  # fmt: skip
    """Print the RSS slopes, the connections over time, and what the work came to."""
    load = os.getloadavg()
    print(
        f"soak: {args.minutes:g} minutes, {args.workers} workers, {args.processes} Web Connectors at once, faults "
        f"{args.faults}, a worker killed every {args.kill_every:g} s ({kills} kills); {os.cpu_count()} cores, load "
        f"average {load[0]:.1f} {load[1]:.1f} {load[2]:.1f}"
    )
    series: dict[int, list[tuple[float, int]]] = defaultdict(list)
    for s in sampler.samples:
        for pid, kib in s.rss.items():
            if pid != master and kib:
                series[pid].append((s.at, kib))
    # Each worker's samples once it is warm; the mean over the warm workers alive at each moment.
    warm = {pid: [p for p in points if p[0] - points[0][0] >= WARM_UP] for pid, points in series.items()}
    by_moment: dict[float, list[int]] = defaultdict(list)
    for points in warm.values():
        for at, kib in points:
            by_moment[at].append(kib)
    mean = [(at, sum(v) // len(v)) for at, v in sorted(by_moment.items())]
    print(f"worker RSS (each process: life, first and last MiB, least-squares slope after its first {WARM_UP:g} s):")
    for pid, points in series.items():
        life = points[-1][0] - points[0][0]
        slope = f"{fleet.slope_mib_per_hour(warm[pid]):+8.1f} MiB/h" if len(warm[pid]) >= 30 else "too short-lived"
        print(f"  pid {pid}: {life:6.0f} s, {points[0][1] / 1024:6.1f} -> {points[-1][1] / 1024:6.1f} MiB, {slope}")
    master_points = [(s.at, s.rss.get(master, 0)) for s in sampler.samples]
    print(f"master RSS slope {fleet.slope_mib_per_hour(master_points):+.2f} MiB/h")
    print(f"warm workers' mean RSS slope over the run {fleet.slope_mib_per_hour(mean):+.1f} MiB/h")
    half = [p for p in mean if p[0] >= (mean[-1][0] / 2 if mean else 0)]
    print(f"  ... over its second half {fleet.slope_mib_per_hour(half):+.1f} MiB/h")
    print("database connections per minute (service min-max, everyone on the database min-max):")
    minutes: dict[int, list[fleet.Sample]] = defaultdict(list)
    for s in sampler.samples:
        minutes[int(s.at // 60)].append(s)
    for minute, samples in sorted(minutes.items()):
        svc = [s.service_connections for s in samples]
        everyone = [s.database_connections for s in samples]
        print(f"  minute {minute:3d}: service {min(svc)}-{max(svc)}, everyone {min(everyone)}-{max(everyone)}")
    jobs = sum(r["enqueued"] for r in results)
    done = sum(r["jobs"].get("done", 0) for r in results)
    failed = sum(r["jobs"].get("failed", 0) for r in results)
    lost = sum(len(r["lost"]) for r in results)
    entered, applied = sum(len(r["duplicates"]) for r in results), sum(len(r["twice"]) for r in results)
    faults: dict[str, int] = defaultdict(int)
    for r in results:
        for name, count in r["faults"].items():
            faults[name] += count
    print(
        f"companies {len(results)}, jobs {jobs}: done {done}, failed {failed}, lost {lost}, duplicated "
        f"{entered + applied} (entered twice {entered}, applied twice {applied}); faults "
        + ", ".join(f"{k} {v}" for k, v in sorted(faults.items()))
    )
    reasons: dict[str, int] = defaultdict(int)
    for r in results:
        for reason, count in r["failed_reasons"].items():
            reasons[reason] += count
    for reason, count in sorted(reasons.items()):
        print(f"  failed x{count}: {reason}")
    why_lost: dict[str, int] = defaultdict(int)
    for r in results:
        for entry in r["lost"]:
            why_lost[entry["why"]] += 1
    for why, count in sorted(why_lost.items()):
        print(f"  lost x{count}: {why}")


if __name__ == "__main__":
    sys.exit(main())
