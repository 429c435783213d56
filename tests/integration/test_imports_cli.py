"""``qbwc-service import`` and ``records`` against the emulator: one JSON document each, a progress line."""

from __future__ import annotations

import json
from types import SimpleNamespace
from typing import Any

import pytest
from click.testing import CliRunner

from qbwc_service.cli import main
from qbwc_service.cli.imports import progress_line
from qbwc_service.config import load_settings
from qbwc_service.db.engine import make_engine
from qbwc_service.qbwc.protocol import Protocol
from qbwc_service.simulator import CompanyFacts, Edition, QuickBooksEmulator
from qbwc_service.workflows.imports.runs import ImportStatus
from tests.emulator.conftest import needs_spec
from tests.emulator.driver import Session

pytestmark = needs_spec


@pytest.fixture
def run(sqlite_url: str, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """Invoke the CLI on the test database; (exit code, stdout, stderr)."""
    monkeypatch.setenv("QBWC_DATABASE_URL", sqlite_url)
    monkeypatch.setenv("QBWC_LOG_LEVEL", "WARNING")
    runner = CliRunner()

    def invoke(*args: str) -> tuple[int, str, str]:
        result = runner.invoke(main, list(args), catch_exceptions=False)
        return result.exit_code, result.stdout, result.stderr

    return invoke


def test_import_then_records_from_the_command_line(run: Any, sqlite_url: str) -> None:
    """`import` queues and prints its status as one JSON document; after a run, `records` pages what came."""
    code, out, _ = run("--json", "company", "create", "acme", "--username", "acme-qbwc")
    company = SimpleNamespace(**json.loads(out))
    code, out, _ = run("--json", "import", "acme", "customers")
    queued = json.loads(out)
    assert code == 0 and queued["state"] == "queued" and queued["full"] and queued["list"] == "customers"
    qb = QuickBooksEmulator(CompanyFacts(edition=Edition.ENTERPRISE))
    qb.bulk_add("Customer", ({"Name": f"Customer {n}"} for n in range(5)))
    engine = make_engine(sqlite_url)
    Session(Protocol(engine, load_settings({"log_level": "WARNING"}, environ={})), company, qb).run()  # type: ignore[arg-type]
    engine.dispose()
    code, out, _ = run("--json", "records", "acme", "customers", "--limit", "3")
    first = json.loads(out)
    assert code == 0 and [r["full_name"] for r in first["records"]] == ["Customer 0", "Customer 1", "Customer 2"]
    code, out, _ = run("--json", "records", "acme", "customers", "--after", str(first["next_after"]))
    assert [r["full_name"] for r in json.loads(out)["records"]] == ["Customer 3", "Customer 4"]
    code, out, _ = run("records", "acme", "customers", "-q", "customer 4")
    assert code == 0 and "Customer 4" in out and "Customer 3" not in out
    code, out, _ = run("--json", "import", "acme", "customers", "--no-wait")
    again = json.loads(out)
    assert again["full"] is False and again["since"] and again["job_id"] != queued["job_id"]
    code, out, err = run("import", "acme", "spaceships")
    assert code == 1 and "there is no list called 'spaceships'" in err
    code, out, err = run("records", "nobody", "customers")
    assert code == 1 and "no company connection is named 'nobody'" in err


def test_the_progress_line_shows_a_bar_rows_pages_and_the_time_left() -> None:
    """With the iterator's remaining count the line has a bar and an estimate; without, rows and pages."""
    running = ImportStatus("customers", 3, "queued", True, None, 4, 2_000, 6_000, 100.0, 60.0, None, None, None, 2_000)
    assert progress_line(running) == f"[{'#' * 7}{'.' * 23}]  25% 2,000 rows, 4 pages, about 61 s left (queued)"
    unknown = ImportStatus("accounts", 3, "in_flight", True, None, 1, 50, None, None, None, None, None, None, 50)
    assert progress_line(unknown) == "50 rows, 1 pages (in_flight)"
