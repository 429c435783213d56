"""The SQLite disk full: clean answers and a clear error, nothing half-written, and the work ends done once.

The database lives on a tmpfs of 8 MiB (``mount -t tmpfs -o size=8m``), filled to the last
byte by a file; the WAL is checkpointed empty first, so the next commit needs new space.
Mounting needs root (CAP_SYS_ADMIN); elsewhere the test skips saying so.
"""

from __future__ import annotations

import contextlib
import errno
import shutil
import sqlite3
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select

from qbwc_service.accounts import companies
from qbwc_service.accounts.api_keys import create_api_key
from qbwc_service.config import load_settings
from qbwc_service.db import outages
from qbwc_service.db.models import Job, JobEvent, JobState
from qbwc_service.qbwc.protocol import Protocol
from qbwc_service.queue import jobs
from qbwc_service.simulator import QuickBooksEmulator
from qbwc_service.simulator.run import applied_twice
from tests.conftest import make_test_app, need_spec
from tests.faults.drive import run_until_done

FULL = outages.UNAVAILABLE.format(reason="its disk is full")


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """An 8 MiB tmpfs mounted for the test."""
    mount = tmp_path / "disk"
    mount.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", str(mount)], capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a size-limited tmpfs here (needs root): {done.stderr.strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def fill(disk: Path, database: Path) -> Path:
    """Empty the WAL into the database, then take every free byte of ``disk``; the filler file."""
    with contextlib.closing(sqlite3.connect(database)) as conn:
        busy, _, _ = conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        assert busy == 0
    filler = disk / "filler"
    chunk = b"\0" * 65536
    with filler.open("wb", buffering=0) as out:
        while True:
            try:
                out.write(chunk)
            except OSError as exc:
                if exc.errno != errno.ENOSPC:
                    raise
                break
        while True:  # the last partial chunk
            try:
                out.write(b"\0" * 512)
            except OSError:
                break
    return filler


def counts(engine: Engine) -> tuple[int, int, list[tuple[int, JobState]]]:
    with engine.connect() as conn:
        events = conn.execute(select(func.count()).select_from(JobEvent)).scalar_one()
        rows = conn.execute(select(Job.id, Job.state).order_by(Job.id)).all()
    return len(rows), events, [(r.id, r.state) for r in rows]


def test_a_full_disk_answers_cleanly_writes_nothing_half_and_loses_nothing(
    small_disk: Path, sqlite_template: Path
) -> None:
    """receiveResponseXML on a full disk answers -1 with a clear getLastError; the jobs come back once space is free."""
    need_spec()
    path = small_disk / "qbwc.sqlite3"
    shutil.copy(sqlite_template, path)
    url = f"sqlite:///{path}"
    app = make_test_app(url)
    engine: Engine = app.extensions["qbwc"].engine
    protocol = Protocol(engine, load_settings({"log_level": "WARNING"}, environ={}))
    with engine.begin() as conn:
        company = companies.create_company(conn, "acme", "acme-qbwc")
        key = create_api_key(conn, "shop").key
        customer = jobs.enqueue(conn, "acme", "customer_add", {"name": "Zoë"}).job_id
        service = {"name": "Repairs", "sales_tax_code_ref": {"full_name": "Non"}, "sales_or_purchase": {"price": "90"}}
        jobs.enqueue(conn, "acme", "item_service_add", service)
        line = {"item_ref": {"full_name": "Repairs"}, "quantity": "1"}
        invoice = {"customer_ref": {"job": customer}, "ref_number": "INV-1", "lines": [line]}
        jobs.enqueue(conn, "acme", "invoice_add", invoice)
    quickbooks = QuickBooksEmulator()
    ticket = protocol.authenticate(company.username, company.token)[0]
    quickbooks.open_session()
    request = protocol.send_request_xml(ticket, quickbooks.hcp_response(), "", "US", 13, 0)
    response = quickbooks.process_request(request)
    before = counts(engine)
    filler = fill(small_disk, path)
    try:
        # QuickBooks' answer cannot be recorded: a clean -1, the reason in getLastError, nothing changed.
        assert protocol.receive_response_xml(ticket, response, "", "") == -1
        assert protocol.get_last_error(ticket) == FULL
        assert counts(engine) == before
        # A producer is told, and nothing of the job is stored.
        answer = app.test_client().post(
            "/api/v1/companies/acme/jobs",
            json={"kind": "customer_add", "payload": {"name": "Bob"}},
            headers={"Authorization": f"Bearer {key}"},
        )
        assert answer.status_code == 503
        assert answer.json == {"error": outages.STORE_LATER.format(reason="its disk is full")}
        assert counts(engine) == before
        assert protocol.close_connection(ticket) == FULL
    finally:
        quickbooks.close_session()
        filler.unlink()
    # Space again: the next run looks the Adds up, finds them and enters nothing twice.
    run_until_done(protocol, company, quickbooks)
    assert [state for _, state in counts(engine)[2]] == [JobState.DONE] * 3
    assert applied_twice(quickbooks) == {}
    assert len(quickbooks.records("Customer")) == 1 + sum(1 for c in QuickBooksEmulator().records("Customer"))
    assert len(quickbooks.records("Invoice")) == 1
    engine.dispose()
