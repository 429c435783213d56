"""``qbwc-service profile`` and ``qbwc-service setup``: a company's integration profile and its setup runs."""

from __future__ import annotations

import json
from typing import Any

import click

from qbwc_service.cli.state import CliState, Group, pass_state


@click.group(cls=Group)
def profile() -> None:
    """A company's integration profile: line kinds, account roles and sales tax."""


@profile.command("show")
@click.argument("name")
@pass_state
def profile_show(state: CliState, name: str) -> None:
    """Print the profile in force (the default when none was saved) as JSON."""
    from qbwc_service.workflows.setup import profile as model
    from qbwc_service.workflows.setup import profiles

    with state.engine.connect() as conn:
        company = profiles.company_row(conn, name)
        version, found = profiles.current(conn, company.id)
        history = profiles.history(conn, company.id)
    data = {"company": company.name, "version": version, "profile": model.to_json(found), "history": history}
    state.emit(data, json.dumps(model.to_json(found), indent=2, ensure_ascii=False))
    if not state.as_json:
        saved = f"version {version}" if version else "the default (no profile saved yet)"
        click.echo(f"{company.name}: {saved}", err=True)


@profile.command("set")
@click.argument("name")
@click.argument("source", type=click.File("r", encoding="utf-8"), default="-")
@pass_state
def profile_set(state: CliState, name: str, source: Any) -> None:
    """Save a new version of the profile from a JSON file (or standard input)."""
    from qbwc_service.workflows.setup import profiles
    from qbwc_service.workflows.setup.profile import ProfileError

    try:
        data = json.load(source)
    except json.JSONDecodeError as exc:
        state.fail(f"the profile is not JSON: {exc}")
    try:
        with state.engine.begin() as conn:
            company = profiles.company_row(conn, name)
            version, changed = profiles.save(conn, company.id, data, actor="cli")
    except ProfileError as exc:
        state.fail_fields(str(exc), exc.errors)
    text = f"{name}: profile version {version} saved" if changed else f"{name}: unchanged (version {version})"
    state.emit({"company": name, "version": version, "changed": changed}, text)


@profile.command("schema")
@pass_state
def profile_schema(state: CliState) -> None:
    """Print the profile's JSON Schema."""
    from qbwc_service.workflows.setup.profile import schema

    click.echo(json.dumps(schema(), indent=None if state.as_json else 2, ensure_ascii=False))


@click.group(cls=Group)
def setup() -> None:
    """Company setup: make sure QuickBooks has what the profile names."""


@setup.command("run")
@click.argument("name")
@pass_state
def setup_run(state: CliState, name: str) -> None:
    """Queue a setup run of the company; the Web Connector's next run carries it out."""
    from qbwc_service.workflows.setup import runs
    from qbwc_service.workflows.setup.profile import ProfileError

    try:
        with state.engine.begin() as conn:
            run_id = runs.start(conn, name, actor="cli", max_attempts=state.settings.max_attempts)
            shown = runs.show(conn, name)
    except ProfileError as exc:
        state.fail_fields(str(exc), exc.errors)
    state.emit(shown, f"setup run {run_id} of {name} queued: {len(shown['steps'])} steps")


@setup.command("show")
@click.argument("name")
@pass_state
def setup_show(state: CliState, name: str) -> None:
    """Each step of the company's setup with its state, message and ListID."""
    from qbwc_service.workflows.setup import runs

    with state.engine.connect() as conn:
        shown = runs.show(conn, name)
    run = shown["run"]
    if run is None:
        head = f"{name}: setup required, never run" + (" since the last reset" if shown["last_reset"] else "")
    else:
        progress = run["progress"]
        head = f"{name}: run {run['id']} {run['state']} ({progress['finished']}/{progress['total']} steps)"
        if shown["setup_required"]:
            head += ", setup required"
    lines = [head] + [
        f"{s['position']:>3} {s['state']:<13} {s['name']}: {s['message']}"
        + (f" [{s['list_id']}]" if s["list_id"] else "")
        for s in shown["steps"]
    ]
    state.emit(shown, "\n".join(lines))
