"""``qbwc-service qbxml``: preview the qbXML the service sends and read QuickBooks' answers."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from qbwc_service.cli.payload import read_payload
from qbwc_service.cli.state import CliState, Group, pass_state
from qbxml_builders import (
    BuilderError,
    PayloadValidationError,
    parse_response,
    preview,
    response_to_json,
)


@click.group(cls=Group)
def qbxml() -> None:
    """Preview the qbXML the service sends and read QuickBooks' answers."""


@qbxml.command("kinds")
@pass_state
def qbxml_kinds(state: CliState) -> None:
    """List the job kinds the queue accepts (with --json: each kind's payload JSON Schema).

    Every typed request of the builders, the multi-step kinds (``…_ensure``; a ``…_mod``
    without EditSequence; a ``…_query`` with ``iterate``), the workflows' kinds (imports,
    list counts) and ``qbxml``.
    """
    from qbwc_service import workflows
    from qbwc_service.queue.kinds import registry

    workflows.install()
    found = sorted(registry().items())
    lines = [f"{name:<28} {kind.description}" for name, kind in found]
    schemas = {name: kind.schema() if kind.schema else {"type": "object"} for name, kind in found}
    state.emit(schemas, "\n".join(lines))


@qbxml.command("build")
@click.argument("kind")
@click.option("--payload", "source", required=True, help="JSON file with the payload, or - for stdin.")
@click.option("--version", default="13.0", show_default=True, help="qbXML version to build for.")
@click.option("--country", type=click.Choice(["US", "CA", "UK"]), default="US", show_default=True)
@pass_state
def qbxml_build(state: CliState, kind: str, source: str, version: str, country: str) -> None:
    """Print the complete qbXML document a job of KIND would send."""
    payload = read_payload(source, kind)
    try:
        document = preview(kind, payload, version=version, country=country).decode("utf-8")
    except PayloadValidationError as exc:
        state.fail_fields(str(exc), exc.errors)
    except BuilderError as exc:
        state.fail(str(exc))
    state.emit({"kind": kind, "version": version, "country": country, "qbxml": document}, document)


@qbxml.command("parse")
@click.argument("source", metavar="FILE|-")
@pass_state
def qbxml_parse(state: CliState, source: str) -> None:
    """Print a qbXML response as JSON: per request its status, classification and objects."""
    data = sys.stdin.buffer.read() if source == "-" else Path(source).read_bytes()
    try:
        parsed = response_to_json(parse_response(data))
    except BuilderError as exc:
        state.fail(str(exc))
    click.echo(json.dumps(parsed, indent=None if state.as_json else 2, default=str, ensure_ascii=False))
