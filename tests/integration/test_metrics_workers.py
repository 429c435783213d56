"""Two gunicorn workers: ``/metrics`` adds up both workers' counts, whichever worker answers the scrape."""

from __future__ import annotations

import os
import signal
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from tests.helpers import soap_post, start_gunicorn

pytestmark = pytest.mark.slow
TOKEN = "two-workers-token-0123456789"
SERVER_VERSION = '<serverVersion xmlns="http://developer.intuit.com/"><strVersion>x</strVersion></serverVersion>'


def served_by(log: Path, path: str) -> list[int]:
    """The worker pid of each request to ``path`` in gunicorn's access log (``%(p)s %(r)s``)."""
    if not log.exists():
        return []
    pids = []
    for line in log.read_text().splitlines():
        pid, _, request = line.partition(" ")
        if request.split(" ")[1:2] == [path]:
            pids.append(int(pid.strip("<>")))
    return pids


def server_version_count(base: str) -> float:
    """``qbwc_call_seconds_count{method="serverVersion"}`` as one scrape of ``/metrics`` tells it."""
    reply = requests.get(base + "/metrics", headers={"Authorization": f"Bearer {TOKEN}"}, timeout=10)
    assert reply.status_code == 200, reply.text
    for family in text_string_to_metric_families(reply.text):
        for sample in family.samples:
            if sample.name == "qbwc_call_seconds_count" and sample.labels == {"method": "serverVersion"}:
                return sample.value
    return 0.0


def call(base: str) -> None:
    reply = soap_post(base + "/qbwc", "serverVersion", SERVER_VERSION)
    assert reply.status_code == 200, reply.text


def test_both_workers_counts_appear_in_every_scrape(sqlite_url: str, tmp_path: Path) -> None:
    """Calls spread over two workers are all counted in each scrape, and a worker killed keeps its counts."""
    log, folder = tmp_path / "access.log", tmp_path / "metrics"
    proc, base = start_gunicorn(sqlite_url, 2, log, QBWC_METRICS_TOKEN=TOKEN, PROMETHEUS_MULTIPROC_DIR=str(folder))
    try:
        calls = 0
        with ThreadPoolExecutor(4) as pool:
            # Sync workers take connections as they come: four at a time reach both soon.
            while len(set(served_by(log, "/qbwc"))) < 2 and calls < 800:
                list(pool.map(lambda _: call(base), range(4)))
                calls += 4
                time.sleep(0.05)  # the access log is written after the answer
        workers = set(served_by(log, "/qbwc"))
        assert len(workers) == 2, "the calls never reached the second worker"
        # Each worker wrote its own files: the counts are not one process's.
        assert {int(p.stem.rsplit("_", 1)[1]) for p in folder.glob("histogram_*.db")} == workers
        for _ in range(6):
            assert server_version_count(base) == calls
        assert set(served_by(log, "/metrics")) <= workers

        victim = min(workers)
        os.kill(victim, signal.SIGTERM)  # gunicorn starts another worker; child_exit marks this one dead
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and set(served_by(log, "/metrics")) <= workers:
            with ThreadPoolExecutor(2) as pool:
                counts = list(pool.map(lambda _: server_version_count(base), range(2)))
            assert counts == [calls, calls]
            time.sleep(0.05)
        newcomers = set(served_by(log, "/metrics")) - workers
        assert newcomers, "the new worker never answered a scrape"
        assert server_version_count(base) == calls  # the dead worker's calls are still counted
    finally:
        proc.terminate()
        proc.wait(30)
