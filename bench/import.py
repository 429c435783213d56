"""Import 100,000 customers through the real protocol: rows per second and the service's peak RSS.

The service runs under gunicorn (1 worker, SQLite) in a process of its own; this process
holds the emulated QuickBooks (Enterprise, so no 14,500 limit) and a simulated Web
Connector that drives one session over HTTP until the import is done. The target is a
service RSS under 200 MB: pages are written to ``qb_record`` as they come, and a job's
progress carries counts, not records. A benchmark, not a test:

    .venv/bin/python bench/import.py [--customers 100000] [--page 500]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import requests
from sqlalchemy import func, select

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
sys.path.insert(0, str(ROOT))

from qbwc_service import workflows  # noqa: E402  (after the path is set)
from qbwc_service.accounts import companies  # noqa: E402
from qbwc_service.db import migrate  # noqa: E402
from qbwc_service.db.engine import make_engine  # noqa: E402
from qbwc_service.db.models import Job, QbRecord  # noqa: E402
from qbwc_service.simulator import CompanyFacts, Edition, QuickBooksEmulator  # noqa: E402
from qbwc_service.simulator.service import free_port  # noqa: E402
from qbwc_service.simulator.webconnector import WebConnector  # noqa: E402
from qbwc_service.workflows import imports  # noqa: E402


def rss_kib(pid: int, field: str) -> int:
    """VmRSS or VmHWM (the peak) of a process, in KiB; 0 when it is gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def children(pid: int) -> list[int]:
    out: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*/children"):
        out += [int(p) for p in task.read_text().split()]
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--page", type=int, default=500, help="QBWC_ITERATOR_PAGE: records per page")
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="qbwc-import-bench-"))
    url = f"sqlite:///{tmp / 'bench.sqlite3'}"
    engine = make_engine(url)
    migrate.upgrade(engine)
    workflows.install()
    with engine.begin() as conn:
        company = companies.create_company(conn, "bench", "bench-qbwc")
        imports.start_import(conn, "bench", "customers", actor="bench")

    started = time.perf_counter()
    qb = QuickBooksEmulator(CompanyFacts(edition=Edition.ENTERPRISE))
    qb.bulk_add("Customer", ({"Name": f"Customer {n:06d}", "CompanyName": f"Firm {n}", "Email": f"c{n}@example.com",
                              "Phone": "555-0100"} for n in range(args.customers)))  # fmt: skip
    print(f"emulator seeded with {args.customers:,} customers in {time.perf_counter() - started:.1f} s")

    port = free_port()
    env = {**os.environ, "QBWC_DATABASE_URL": url, "QBWC_LOG_LEVEL": "WARNING", "QBWC_ITERATOR_PAGE": str(args.page),
           "QBWC_SECRET_KEY": "bench", "QBWC_PUBLIC_URL": f"http://127.0.0.1:{port}"}  # fmt: skip
    server = subprocess.Popen(
        [str(BIN / "gunicorn"), "-c", "python:qbwc_service.gunicorn_conf", "--workers", "1", "--timeout", "300",
         "--bind", f"127.0.0.1:{port}", "--access-logfile", "/dev/null", "qbwc_service:create_app()"],
        env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                requests.get(base + "/healthz", timeout=5)
                break
            except requests.RequestException:
                time.sleep(0.1)
        workers = children(server.pid)
        idle = max((rss_kib(w, "VmRSS") for w in workers), default=0)
        peak = [0]
        done = threading.Event()

        def sample() -> None:
            while not done.wait(0.2):
                for w in children(server.pid):
                    peak[0] = max(peak[0], rss_kib(w, "VmHWM"))

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        connector = WebConnector(base + "/qbwc", company.username, company.token, qb, max_round_trips=1_000_000)
        began = time.perf_counter()
        report = connector.run_session()
        elapsed = time.perf_counter() - began
        done.set()
        sampler.join()
        for w in children(server.pid):
            peak[0] = max(peak[0], rss_kib(w, "VmHWM"))
        connector.close()
    finally:
        server.terminate()
        server.wait(10)

    with engine.connect() as conn:
        held = conn.execute(select(func.count()).select_from(QbRecord)).scalar_one()
        states = dict(conn.execute(select(Job.kind, Job.state)).all())
    engine.dispose()
    print(f"session: {report.outcome}, {report.round_trips} round trips; jobs: {states}")
    print(f"records kept: {held:,} of {args.customers:,}")
    print(f"import: {elapsed:.1f} s, {held / elapsed:,.0f} rows/s (pages of {args.page})")
    print(f"service worker RSS: {idle / 1024:.0f} MB idle, peak {peak[0] / 1024:.0f} MB (target < 200 MB)")


if __name__ == "__main__":
    main()
