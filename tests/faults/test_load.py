"""bench/load.py, small: 20 companies with a short day of work each, through the same code as the full run."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from tests import pg
from tests.conftest import need_spec

pytestmark = [pytest.mark.postgres, pytest.mark.slow]
BENCH = Path(__file__).resolve().parents[2] / "bench" / "load.py"


def test_the_load_bench_loses_and_duplicates_nothing() -> None:
    """20 shops on 2 workers, each setup, documents and an import: every job done, none lost or twice."""
    need_spec()
    found = pg.detected()
    if found.url is None:
        pytest.skip(found.reason)
    database = f"qbwc_load_test_{uuid.uuid4().hex[:8]}"
    args = [
        sys.executable, str(BENCH), "--companies", "20", "--customers", "2", "--invoices", "3", "--workers", "2",
        "--processes", "2", "--concurrency", "8", "--spread", "0",
        "--server", make_url(found.url).render_as_string(False),
        "--database", database, "--json",
    ]  # fmt: skip
    done = subprocess.run(args, capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    figures = json.loads(lines[-1])
    # Setup (the preferences check, 22 entries), 3 repair orders (each an invoice, most a customer ensure and
    # a payment), a customer import.
    assert figures["jobs"] == figures["done"] >= 20 * (1 + 22 + 3 + 1)
    assert (figures["lost"], figures["duplicated"], figures["failed"]) == (0, 0, 0)
    assert set(figures["latency_ms"]) >= {"authenticate", "sendRequestXML", "receiveResponseXML", "closeConnection"}
    assert set(figures["latency_in_worker_ms"]) >= {"sendRequestXML", "receiveResponseXML"}
    assert set(figures["latency_wire_ms"]) == set(figures["latency_ms"])
    for method, cut in figures["latency_wire_ms"].items():  # each call's wire time is inside its whole time
        assert 0 < cut["p50"] <= figures["latency_ms"][method]["p50"]
    assert 1 <= figures["peak_connections"] <= 2 * 5  # two workers, each one pool
    assert figures["rss_peak_mib"] > 0 and figures["round_trips"] > 0
    assert figures["reference_ms"] > 0 and figures["reference_after_ms"] > 0  # the machine's speed, before and after
    cpu = figures["cpu_s"]  # the run's CPU: workers and simulators always, the database when it is this machine's
    assert cpu["service"] > 0 and cpu["simulators"] > 0
    if make_url(found.url).host in ("127.0.0.1", "localhost", None):
        assert cpu["database"] > 0
    text = "\n".join(lines)
    printed = ("jobs/s", "per 1,000 jobs", "p95", "CPU during the run", "peak database connections", "service RSS")
    for expected in (*printed, "lost 0"):
        assert expected in text
