"""Time the admin jobs list on 100,000 jobs in SQLite: page 1 and deep pages, with and without filters.

Run: ``.venv/bin/python bench/admin_paging.py [--jobs 100000] [--repeat 30]``. Prints the median
and 95th percentile of the list query (``admin.paging.job_page``, the code the page runs)
and of the whole HTTP page rendered through the Flask test client.
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path

from sqlalchemy import Engine, insert, select, text

from qbwc_service import create_app
from qbwc_service.accounts.staff import create_user
from qbwc_service.db import migrate
from qbwc_service.db.engine import make_engine
from qbwc_service.db.models import Company, Job, JobState
from qbwc_service.web.admin.forms import read_job_filters
from qbwc_service.web.admin.paging import job_page

STATES = [JobState.DONE] * 80 + [JobState.FAILED] * 10 + [JobState.QUEUED] * 8 + [JobState.CANCELLED] * 2
#: Companies in the benchmark cannot log in: their token hash is a placeholder.
PLACEHOLDER_HASH = "not an argon2 hash"
NAMES = ["Bob's Garage", "Acme Tools", "Zoë & Co", "Northwind", "Contoso", "Fabrikam", "Tailspin", "Litware"]


def load(engine: Engine, jobs: int, companies: int) -> None:
    """Insert ``companies`` companies and ``jobs`` jobs spread over 90 days, in batches."""
    rnd = random.Random(5)
    start = datetime(2026, 9, 1, tzinfo=UTC)
    with engine.begin() as conn:
        for n in range(companies):
            conn.execute(
                insert(Company).values(
                    name=f"company-{n:02d}", username=f"user-{n:02d}", token_hash=PLACEHOLDER_HASH, enabled=True,
                    owner_id="{0}", file_id="{0}", poll_minutes=5, read_only=False, created_at=start,
                )
            )  # fmt: skip
    batch: list[dict[str, object]] = []
    for n in range(jobs):
        created = start + timedelta(seconds=n * 90 * 86400 // jobs)
        state = rnd.choice(STATES)
        ref = f"INV-{n:06d} {rnd.choice(NAMES)}"
        request = f"<InvoiceAddRq><InvoiceAdd><RefNumber>INV-{n:06d}</RefNumber></InvoiceAdd></InvoiceAddRq>"
        batch.append(
            {"company_id": rnd.randrange(companies) + 1, "kind": "qbxml", "state": state, "reference": ref,
             "payload": {"request": request},
             "error": "QuickBooks status 3140: invalid reference" if state is JobState.FAILED else None,
             "status_code": 3140 if state is JobState.FAILED else 0, "attempts": 1,
             "created_at": created, "updated_at": created}
        )  # fmt: skip
        if len(batch) == 5000:
            with engine.begin() as conn:
                conn.execute(insert(Job), batch)
            batch = []
    if batch:
        with engine.begin() as conn:
            conn.execute(insert(Job), batch)
    with engine.begin() as conn:
        conn.execute(text("ANALYZE"))


def timed(fn: Callable[[], object], repeat: int) -> tuple[float, float]:
    """Median and 95th percentile of ``fn``'s run time, in milliseconds (after one warm-up run)."""
    fn()
    samples = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - t0) * 1000)
    samples.sort()
    return statistics.median(samples), samples[min(len(samples) - 1, int(len(samples) * 0.95))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--jobs", type=int, default=100_000)
    parser.add_argument("--companies", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=30)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'bench.sqlite3'}"
        engine = make_engine(url)
        migrate.upgrade(engine)
        t0 = time.perf_counter()
        load(engine, args.jobs, args.companies)
        print(f"loaded {args.jobs:,} jobs for {args.companies} companies in {time.perf_counter() - t0:.1f} s")
        with engine.begin() as conn:
            create_user(conn, "bench@example.com", "bench password", "support")
            deep = conn.execute(select(Job.id).order_by(Job.id).offset(1000).limit(1)).scalar_one()
            middle = args.jobs // 2

        cases = {
            "page 1, no filter": "",
            "page 1, company + state=failed": "company=7&state=failed",
            "page 1, text search (one match)": "q=INV-042424",
            "page 1, text search (common name)": "q=garage",
            "page 1, date range (one week)": "since=2026-10-01&until=2026-10-07",
            f"middle page (before={middle}), no filter": f"before={middle}",
            f"middle page (before={middle}), company + state=failed": f"company=7&state=failed&before={middle}",
            f"deep page (before={deep}), no filter": f"before={deep}",
            f"deep page (before={deep}), company + state=failed": f"company=7&state=failed&before={deep}",
            f"deep page (before={deep}), state=queued + kind": f"state=queued&kind=qbxml&before={deep}",
            f"deep page (before={deep}), company + text": f"company=3&q=northwind&before={deep}",
        }
        app = create_app({"database_url": url, "secret_key": "bench", "log_level": "ERROR"})
        app.config["WTF_CSRF_ENABLED"] = False
        client = app.test_client()
        client.post("/login", data={"email": "bench@example.com", "password": "bench password"})

        print(f"\n{'case':58} {'rows':>5} {'query ms (median/p95)':>23} {'page ms (median/p95)':>22}")
        for label, query in cases.items():
            filters = read_job_filters(dict(part.split("=", 1) for part in query.split("&") if part))
            with engine.connect() as conn:
                rows = len(job_page(conn, filters).rows)
                q_med, q_p95 = timed(partial(job_page, conn, filters), args.repeat)
            p_med, p_p95 = timed(partial(client.get, f"/jobs?{query}"), args.repeat)
            assert client.get(f"/jobs?{query}").status_code == 200
            print(f"{label:58} {rows:>5} {q_med:>10.2f} / {q_p95:<10.2f} {p_med:>9.2f} / {p_p95:<9.2f}")

        with engine.connect() as conn:
            plan_filters = read_job_filters({"company": "7", "state": "failed", "before": str(deep)})
            from qbwc_service.web.admin.paging import _filtered  # the page's WHERE clause, for its plan

            stmt = _filtered(select(Job.id), plan_filters).where(Job.id < deep).order_by(Job.id.desc()).limit(51)
            compiled = stmt.compile(engine, compile_kwargs={"literal_binds": True})
            plan = conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {compiled}").all()
        print("\nSQLite plan of the filtered deep page:", "; ".join(str(row[-1]) for row in plan))
        app.extensions["qbwc"].engine.dispose()
        engine.dispose()


if __name__ == "__main__":
    main()
