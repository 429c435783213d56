"""The setup commands: profile show|set|schema, setup run|show, company reset, with --json output."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from qbwc_service.cli import main
from qbwc_service.workflows.setup import profile


@pytest.fixture
def run(sqlite_url: str, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("QBWC_DATABASE_URL", sqlite_url)
    runner = CliRunner()

    def invoke(*args: str, stdin: str | None = None) -> tuple[int, str, str]:
        result = runner.invoke(main, list(args), input=stdin, catch_exceptions=False)
        return result.exit_code, result.stdout, result.stderr

    assert invoke("company", "create", "garage", "--username", "garage")[0] == 0
    return invoke


def test_profile_show_set_and_versions(run) -> None:  # type: ignore[no-untyped-def]
    """show gives the default until a profile is saved; set keeps each change as a new version with who made it."""
    code, out, _ = run("--json", "profile", "show", "garage")
    shown = json.loads(out)
    assert code == 0 and shown["version"] is None and shown["profile"]["line_kinds"]["labor"]["name"] == "Labor"
    body = shown["profile"]
    body["item_prefix"] = "Acme "
    code, out, _ = run("--json", "profile", "set", "garage", stdin=json.dumps(body))
    assert code == 0 and json.loads(out) == {"company": "garage", "version": 1, "changed": True}
    code, out, _ = run("--json", "profile", "set", "garage", stdin=json.dumps(body))
    assert json.loads(out)["changed"] is False
    code, out, _ = run("--json", "profile", "show", "garage")
    shown = json.loads(out)
    assert shown["version"] == 1 and shown["profile"]["item_prefix"] == "Acme "
    assert [(h["version"], h["created_by"]) for h in shown["history"]] == [(1, "cli")]


def test_profile_set_refuses_bad_profiles_field_by_field(run) -> None:  # type: ignore[no-untyped-def]
    """A profile with a bad account type and an unknown role is refused with one line per problem; nothing is saved."""
    body = profile.to_json(profile.default_profile())
    body["accounts"]["income"]["type"] = "Nope"
    body["line_kinds"]["labor"]["income_account"] = "salary"
    code, out, err = run("--json", "profile", "set", "garage", stdin=json.dumps(body))
    assert code == 1
    errors = json.loads(out)["errors"]
    assert any(e.startswith("accounts.income.type:") for e in errors)
    assert any(e.startswith("line_kinds.labor.income_account:") for e in errors)
    assert "error: accounts.income.type:" in err
    code, out, _ = run("profile", "set", "garage", stdin="{not json")
    assert code == 1
    assert json.loads(run("--json", "profile", "show", "garage")[1])["version"] is None
    code, out, _ = run("profile", "schema")
    assert code == 0 and json.loads(out)["$id"] == "urn:qbwc-service:integration-profile"


def test_setup_run_show_and_company_reset(run) -> None:  # type: ignore[no-untyped-def]
    """setup run queues the steps; show lists each with name, state, message and ListID; reset sets them aside."""
    code, out, _ = run("--json", "setup", "run", "garage")
    assert code == 0
    shown = json.loads(out)
    assert shown["run"]["state"] == "waiting" and shown["setup_required"]
    step = shown["steps"][1]
    assert {"name", "state", "message", "list_id"} <= step.keys() and step["state"] == "waiting"
    code, _, err = run("setup", "run", "garage")
    assert code == 1 and "already running" in err
    code, out, _ = run("setup", "show", "garage")
    assert code == 0 and "waiting" in out and "Shop Labor" in out
    code, _, err = run("company", "reset", "garage", "--reason", "  ")
    assert code == 1 and "needs a reason" in err
    code, out, _ = run("--json", "company", "reset", "garage", "--reason", "wrong company file")
    done = json.loads(out)
    assert code == 0 and done["cancelled"] == len(shown["steps"]) and done["actor"] == "cli"
    shown = json.loads(run("--json", "setup", "show", "garage")[1])
    assert shown["run"] is None and shown["setup_required"] and shown["last_reset"]["reason"] == "wrong company file"
