"""The simulator against the real service over HTTP: work lands in QuickBooks exactly once."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from flask import Flask
from sqlalchemy import Engine

from qbwc_service.cli import main
from qbwc_service.retry import RetryPolicy
from qbwc_service.simulator.run import Simulation
from tests.conftest import LiveServer, make_test_app

from .conftest import needs_spec

pytestmark = needs_spec


@pytest.fixture
def service(sqlite_url: str) -> Iterator[tuple[Flask, str]]:
    """The service on SQLite over HTTP: quiet sessions abandoned after 1 s, retries at once."""
    app = make_test_app(sqlite_url, session_timeout=1, busy_retry_seconds=1)
    app.extensions["qbwc"].protocol.policy = RetryPolicy(base_delay=timedelta(0))
    with LiveServer(app) as server:
        yield app, server.url + "/qbwc"
    app.extensions["qbwc"].engine.dispose()


def engine_of(app: Flask) -> Engine:
    """The service's database engine."""
    found: Engine = app.extensions["qbwc"].engine
    return found


def test_clean_run_lands_every_job_once(service: tuple[Flask, str]) -> None:
    """Without faults every job is done, each record is in QuickBooks, and nothing is duplicated."""
    app, url = service
    sim = Simulation(engine_of(app), url, companies=2, seed=1, customers=2, invoices=2)
    sim.setup()
    summary = sim.run(sessions=3)
    assert summary.ok, summary.text()
    assert summary.jobs == {"done": 2 * (4 + 2 * 4)}
    assert summary.round_trips >= 2
    for run in sim.runs:
        invoices = run.quickbooks.records("Invoice")
        assert sorted(str(i["RefNumber"]) for i in invoices) == ["1-1", "1-2", "2-1", "2-2"]
        assert len(run.quickbooks.records("ReceivePayment")) == 2
        assert run.reports[0].calls[:3] == ["serverVersion", "clientVersion", "authenticate"]
        assert run.reports[-1].outcome == "none"


def test_hcp_facts_reach_the_service(service: tuple[Flask, str]) -> None:
    """The first sendRequestXML's HCP response is recorded on the company."""
    from sqlalchemy import select

    from qbwc_service.models import Company

    app, url = service
    sim = Simulation(engine_of(app), url, companies=1, seed=2, customers=1, invoices=1)
    sim.setup()
    sim.run(sessions=2)
    with engine_of(app).connect() as conn:
        row = conn.execute(select(Company.qbxml_version, Company.qbxml_country, Company.host_info)).one()
    assert row.qbxml_country == "US"
    assert row.qbxml_version == "16.0"
    assert row.host_info


def test_quickbooks_errors_fail_or_retry_jobs_but_lose_none(service: tuple[Flask, str]) -> None:
    """hresults, warnings and forced statuses leave every job finished and nothing duplicated."""
    app, url = service
    sim = Simulation(
        engine_of(app),
        url,
        companies=2,
        seed=3,
        customers=2,
        invoices=2,
        faults="hresult=0.2,warn=0.2,status=3180@3",
    )
    sim.setup()
    summary = sim.run(sessions=25)
    assert summary.faults, "the plan should have injected faults"
    assert not summary.lost, summary.text()
    assert not summary.duplicates, summary.text()


def test_lost_replies_are_found_not_hidden(service: tuple[Flask, str]) -> None:
    """After replies are lost the summary's duplicates are exactly the emulator's duplicates."""
    app, url = service
    sim = Simulation(engine_of(app), url, companies=1, seed=7, customers=2, invoices=3, faults="lost-reply=0.5")
    sim.setup()
    summary = sim.run(sessions=40, every=1.1)
    assert summary.faults.get("lost-reply", 0) >= 1
    expected = sum(len(run.quickbooks.duplicates()) for run in sim.runs)
    assert len(summary.duplicates) == expected
    assert not [lost for lost in summary.lost if "still" in lost[2]], summary.text()


def test_simulate_command_reports_and_snapshots(service: tuple[Flask, str], sqlite_url: str, tmp_path: Path) -> None:
    """`qbwc-service --json simulate` prints a clean summary and writes the snapshot."""
    _app, url = service
    out = tmp_path / "qb.json"
    result = CliRunner().invoke(
        main,
        ["--json", "simulate", "--url", url, "--companies", "2", "--sessions", "3",
         "--customers", "1", "--invoices", "1", "--seed", "11", "--snapshot", str(out)],
        env={"QBWC_DATABASE_URL": sqlite_url},
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    assert summary["ok"] is True
    assert summary["jobs"] == {"done": 2 * 7}
    assert set(summary["latency_ms"]) == {"p50", "p95", "p99"}
    companies = json.loads(out.read_text())
    assert sorted(companies) == ["sim-11-1", "sim-11-2"]
    assert len(companies["sim-11-1"]["records"]["Invoice"]) == 1


def test_simulate_command_fails_when_work_is_lost(service: tuple[Flask, str], sqlite_url: str) -> None:
    """When QuickBooks never answers and the runs end, the jobs left over make the exit status 1."""
    _app, url = service
    result = CliRunner().invoke(
        main,
        ["simulate", "--url", url, "--companies", "1", "--sessions", "1", "--faults", "drop=1"],
        env={"QBWC_DATABASE_URL": sqlite_url},
    )
    assert result.exit_code == 1
    assert "jobs lost: " in result.stdout
    assert "jobs lost: 0" not in result.stdout
