"""``qbwc-service import`` and ``records``: imports from QuickBooks and the records they keep."""

from __future__ import annotations

import sys
import time
from datetime import UTC, datetime
from typing import Any

import click

from qbwc_service.cli.state import CliState, pass_state

#: Seconds between two looks at a followed import.
POLL_SECONDS = 1.0
BAR_WIDTH = 30


def progress_line(status: Any) -> str:
    """One line of a followed import: a bar when the share is known, pages, rows and the time left."""
    share = status.share
    bar = ""
    if share is not None:
        filled = int(share * BAR_WIDTH)
        bar = f"[{'#' * filled}{'.' * (BAR_WIDTH - filled)}] {share:4.0%} "
    left = ""
    if status.eta_seconds is not None and status.state != "done":
        left = f", about {int(status.eta_seconds) + 1} s left"
    return f"{bar}{status.rows:,} rows, {status.pages} pages{left} ({status.state})"


def _summary(status: Any, company: str) -> str:
    what = "full" if status.full else f"changes since {status.since}"
    if status.state == "done":
        return f"Import of {status.list} for {company} done (job {status.job_id}, {what}): {status.rows:,} rows " \
               f"received, {status.records:,} records kept."  # fmt: skip
    if status.state == "failed":
        return f"Import of {status.list} for {company} failed (job {status.job_id}): {status.error}"
    return (
        f"Import of {status.list} for {company} {status.state} as job {status.job_id} ({what}); it runs at the "
        "Web Connector's next session."
    )


@click.command("import")
@click.argument("company_name", metavar="NAME")
@click.argument("list_name", metavar="LIST")
@click.option("--full", is_flag=True, help="Read every record again (the first import of a list is always full).")
@click.option("--wait/--no-wait", default=None,
              help="Follow the import until it ends (default: when stdout is a terminal).")  # fmt: skip
@pass_state
def import_list(state: CliState, company_name: str, list_name: str, full: bool, wait: bool | None) -> None:
    """Import a list of a company from QuickBooks (never deletes).

    LIST is customers, items, vendors, accounts, sales_tax_items, sales_tax_codes, terms,
    classes or payment_methods. The first
    import of a list reads every record; later imports bring what changed since the last one.
    A terminal shows a progress bar until
    the import ends (Ctrl-C stops watching, not the import); --json prints one JSON document.
    """
    from qbwc_service import workflows
    from qbwc_service.queue import jobs
    from qbwc_service.workflows import imports

    workflows.install()
    with state.engine.begin() as conn:
        imports.start_import(conn, company_name, list_name, full=full, actor="cli",
                             max_attempts=state.settings.max_attempts)  # fmt: skip
        company_id = jobs.company_id_by_name(conn, company_name)

    def look() -> Any:
        with state.engine.connect() as conn:
            return imports.status(conn, company_id, list_name)

    status = look()
    terminal = sys.stdout.isatty() and not state.as_json
    if wait if wait is not None else terminal:
        try:
            while status.running:
                if terminal:
                    click.echo("\r" + progress_line(status).ljust(78), nl=False)
                time.sleep(POLL_SECONDS)
                status = look()
        except KeyboardInterrupt:
            if terminal:
                click.echo()
            click.echo("Stopped watching; the import goes on.", err=True)
        if terminal:
            click.echo("\r" + progress_line(status).ljust(78))
    state.emit(status.to_json(), _summary(status, company_name))
    if status.state == "failed":
        sys.exit(1)


@click.command("records")
@click.argument("company_name", metavar="NAME")
@click.argument("list_name", metavar="LIST")
@click.option("-q", "--search", "q", default=None, help="Names containing this text (any case).")
@click.option("--modified-since", default=None, help="Records QuickBooks changed at or after this ISO time.")
@click.option("--active/--inactive", default=None, help="Only active, or only inactive, records.")
@click.option("--after", type=int, default=None, help="The cursor (next_after) of the previous page.")
@click.option("--limit", type=click.IntRange(1, 1000), default=100, show_default=True)
@pass_state
def records(
    state: CliState, company_name: str, list_name: str, q: str | None, modified_since: str | None,
    active: bool | None, after: int | None, limit: int,
) -> None:  # fmt: skip
    """List the imported records of a company's list.

    In import order, a page at a time: --after takes the cursor the previous page ends with.
    """
    from qbwc_service.queue import jobs
    from qbwc_service.workflows import imports

    since = None
    if modified_since:
        try:
            since = datetime.fromisoformat(modified_since)
        except ValueError:
            state.fail(f"--modified-since must be an ISO date or date-time, not {modified_since!r}")
        since = since if since.tzinfo else since.replace(tzinfo=UTC)
    with state.engine.connect() as conn:
        page = imports.records(conn, jobs.company_id_by_name(conn, company_name), list_name, q=q,
                               modified_since=since, active=active, after=after, limit=limit)  # fmt: skip
    lines = [
        f"{r['id']:>7}  {r['full_name']:<40} {r['type']:<18} {'active' if r['active'] else 'inactive':<8} "
        f"{r['time_modified'] or ''}"
        for r in page.records
    ]
    if page.next_after is not None:
        lines.append(f"more: --after {page.next_after}")
    state.emit({"records": page.records, "next_after": page.next_after}, "\n".join(lines) or "No records.")
