"""Time the dashboard and an alert sweep on 100,000 jobs in SQLite, for few and for many companies.

Run: ``.venv/bin/python bench/dashboard.py [--jobs 100000] [--companies 20 500] [--repeat 20]``.
Jobs are spread over the 90 days to 2026-11-30 (``admin_paging.load``), each finished one with the
event that finished it. Prints the median and 95th percentile of the whole dashboard page,
its live fragment (what htmx fetches every few seconds), the chart's query alone and one
alert sweep, through the Flask test client and the code the pages run.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import timedelta
from functools import partial
from pathlib import Path

from sqlalchemy import insert, select, text

sys.path.insert(0, str(Path(__file__).resolve().parent))
from admin_paging import load, timed

from qbwc_service import create_app
from qbwc_service.accounts.staff import create_user
from qbwc_service.alerts.sweep import sweep
from qbwc_service.config import load_settings
from qbwc_service.db import migrate
from qbwc_service.db.engine import make_engine
from qbwc_service.db.models import Job, JobEvent, JobState, utcnow
from qbwc_service.web.admin.dashboard import per_hour


def run(jobs: int, companies: int, repeat: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'bench.sqlite3'}"
        engine = make_engine(url)
        migrate.upgrade(engine)
        t0 = time.perf_counter()
        load(engine, jobs, companies)
        with engine.begin() as conn:
            rows = conn.execute(select(Job.id, Job.created_at, Job.state)).all()
            finished = [
                {"job_id": r.id, "at": r.created_at + timedelta(minutes=1), "to_state": r.state.value,
                 "from_state": "in_flight", "actor": "qbwc"}
                for r in rows if r.state in (JobState.DONE, JobState.FAILED)
            ]  # fmt: skip
            for i in range(0, len(finished), 5000):
                conn.execute(insert(JobEvent), finished[i : i + 5000])
            create_user(conn, "bench@example.com", "bench password", "support")
            conn.execute(text("ANALYZE"))
        print(f"\n{companies} companies, {jobs:,} jobs, {len(finished):,} finishing events "
              f"(loaded in {time.perf_counter() - t0:.1f} s)")  # fmt: skip
        app = create_app({"database_url": url, "secret_key": "bench", "log_level": "ERROR"})
        app.config["WTF_CSRF_ENABLED"] = False
        client = app.test_client()
        client.post("/login", data={"email": "bench@example.com", "password": "bench password"})
        assert client.get("/dashboard").status_code == 200
        settings = load_settings({"database_url": url, "log_level": "ERROR"}, environ={})
        with engine.connect() as conn:
            week = per_hour(conn, utcnow())
            chart_q = timed(partial(per_hour, conn, utcnow()), repeat)
        cases = {
            "dashboard page": timed(partial(client.get, "/dashboard"), repeat),
            "live fragment (/dashboard/live)": timed(partial(client.get, "/dashboard/live"), repeat),
            f"chart query ({sum(h.done + h.failed for h in week):,} events in 7 days)": chart_q,
            "alert sweep (no channel)": timed(partial(sweep, engine, settings), repeat),
        }
        for label, (med, p95) in cases.items():
            print(f"  {label:52} {med:8.2f} / {p95:<8.2f} ms (median / p95)")
        app.extensions["qbwc"].engine.dispose()
        engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--jobs", type=int, default=100_000)
    parser.add_argument("--companies", type=int, nargs="+", default=[20, 500])
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    for companies in args.companies:
        run(args.jobs, companies, args.repeat)


if __name__ == "__main__":
    main()
