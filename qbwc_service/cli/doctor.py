"""``qbwc-service doctor``: check the configuration; each problem is printed with its fix."""

from __future__ import annotations

import json
import sys

import click

from qbwc_service.cli.state import CliState, pass_state

MARKS = {"ok": "ok", "warning": "WARNING", "error": "ERROR", "skipped": "skipped"}


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print the findings as one JSON document.")
@pass_state
def doctor(state: CliState, as_json: bool) -> None:
    """Check the configuration: public URL, secret key, database, clock, hosts, poll interval, log folder."""
    from qbwc_service.doctor import Doctor, has_errors

    findings = Doctor(state.settings, state.engine).run()
    failed = has_errors(findings)
    if as_json or state.as_json:
        document = {"ok": not failed, "checks": [f.as_json() for f in findings]}
        click.echo(json.dumps(document, ensure_ascii=False))
    else:
        for f in findings:
            click.echo(f"{MARKS[f.status.value]:<8} {f.check}: {f.summary}")
            if f.fix:
                click.echo(f"{'':<8} fix: {f.fix}")
        problems = sum(f.status.value == "error" for f in findings)
        click.echo(f"{problems} error(s)" if failed else "no errors", err=True)
    if failed:
        sys.exit(1)
