"""The CLI loads only what a command needs: commands are imported on first use, by name."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from qbwc_service.cli import COMMANDS, main
from qbwc_service.cli.lazy import LazyGroup

#: Runs one command in a fresh interpreter, then writes the heavy packages it imported.
PROBE = """
import json, sys
from qbwc_service.cli import main
try:
    main(sys.argv[2:], prog_name="qbwc-service")
except SystemExit as exc:
    if exc.code:
        raise
heavy = (
    "flask", "werkzeug", "spyne", "zeep", "argon2", "sqlalchemy.orm", "pydantic", "qbxml_builders", "alembic", "lxml",
    "structlog", "qbwc_service.db.models", "qbwc_service.workflows",
)
loaded = sorted(name for name in sys.modules if name.startswith(heavy))
with open(sys.argv[1], "w") as out:
    json.dump(loaded, out)
"""
#: The modules of payload models of qbxml_builders but the customers' (and the shared queries').
OTHER_MODELS = [
    f"qbxml_builders.{name}"
    for name in ("accounts", "company", "items", "journal", "payments", "sales", "salestax", "vendors")
]


@pytest.fixture
def probe(sqlite_url: str, tmp_path: Path):  # type: ignore[no-untyped-def]
    """Run a CLI command in a subprocess on a database with company ``acme`` and job 1."""
    env = {**os.environ, "QBWC_DATABASE_URL": sqlite_url, "QBWC_LOG_LEVEL": "WARNING"}
    payload = tmp_path / "customer.json"
    payload.write_text(json.dumps({"name": "Ann"}), encoding="utf-8")
    result = tmp_path / "loaded.json"

    def run(*args: str, stdin: str | None = None) -> list[str]:
        argv = [a.replace("PAYLOAD", str(payload)) for a in args]
        subprocess.run(
            [sys.executable, "-c", PROBE, str(result), *argv],
            env=env, input=stdin, text=True, check=True, capture_output=True,
        )  # fmt: skip
        loaded: list[str] = json.loads(result.read_text())
        return loaded

    run("company", "create", "acme", "--username", "acme")
    run("enqueue", "acme", "customer_add", "--payload", "PAYLOAD")
    return run


def test_listing_and_showing_jobs_load_no_orm_no_builders_no_web(probe) -> None:  # type: ignore[no-untyped-def]
    """`jobs` and `job show` import SQLAlchemy Core and click only: no web stack, ORM, pydantic, lxml or workflow."""
    assert probe("--json", "jobs") == []
    assert probe("--json", "job", "show", "1") == []


def test_enqueue_loads_the_builder_module_of_its_kind_only(probe) -> None:  # type: ignore[no-untyped-def]
    """`enqueue` of a customer_add imports the customers' models, no other kind's, no workflow, ORM or web stack."""
    loaded = set(probe("--json", "enqueue", "acme", "customer_add", "--payload", "PAYLOAD"))
    assert {"pydantic", "qbxml_builders.customers"} <= loaded
    assert not {"flask", "werkzeug", "spyne", "zeep", "argon2", "sqlalchemy.orm", "qbwc_service.db.models"} & loaded
    workflows = {"qbwc_service.workflows.documents", "qbwc_service.workflows.imports", "qbwc_service.workflows.setup"}
    assert not {*OTHER_MODELS, *workflows} & loaded


def test_enqueue_of_an_ensure_kind_loads_its_family_only(probe) -> None:  # type: ignore[no-untyped-def]
    """`enqueue` of a vendor_ensure imports the vendors' models (and the customers' they share), no other kind's."""
    loaded = set(probe("--json", "enqueue", "acme", "vendor_ensure", "--payload", "PAYLOAD"))
    assert "qbxml_builders.vendors" in loaded
    assert not (set(OTHER_MODELS) - {"qbxml_builders.vendors"}) & loaded


def test_user_create_loads_no_web_stack(probe) -> None:  # type: ignore[no-untyped-def]
    """`user create` hashes with argon2 and imports neither Flask, Spyne nor zeep."""
    loaded = probe("user", "create", "ada@example.com", "--role", "admin", "--password-stdin",
                   stdin="a long enough password\n")  # fmt: skip
    assert "argon2" in loaded and not {"flask", "werkzeug", "spyne", "zeep"} & set(loaded)


def test_help_lists_every_command_without_importing_them() -> None:
    """--help shows each command with its short help from the table, in a process that loads none of them."""
    code = "import sys; from qbwc_service.cli import main\ntry: main(['--help'])\nexcept SystemExit: pass\n"
    code += "print(sorted(m for m in sys.modules if m.startswith('qbwc_service.cli.')))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.splitlines()[-1] == "['qbwc_service.cli.lazy', 'qbwc_service.cli.state']"
    flat = " ".join(out.split())
    for name, (_, short_help) in COMMANDS.items():
        assert f"{name} {short_help}" in flat


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_the_table_agrees_with_each_command(name: str) -> None:
    """Each entry names a click command whose own short help is the one --help prints for it."""
    assert isinstance(main, LazyGroup)
    command = main.load(name)
    assert isinstance(command, click.Command)
    assert command.get_short_help_str(limit=1000) == COMMANDS[name][1]


def test_a_subcommand_help_loads_it_and_runs_in_process() -> None:
    """`company --help` imports the companies module and lists its commands."""
    result = CliRunner().invoke(main, ["company", "--help"])
    assert result.exit_code == 0 and "Rotate the token" in result.output
