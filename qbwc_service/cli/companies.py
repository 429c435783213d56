"""``qbwc-service company``: company connections, their tokens and ``.qwc`` files."""

from __future__ import annotations

import click
from sqlalchemy import select
from sqlalchemy.orm import Session

from qbwc_service.accounts import companies
from qbwc_service.cli.state import CliState, Group, pass_state
from qbwc_service.db.models import Company


@click.group(cls=Group)
def company() -> None:
    """Company connections: one QuickBooks company file each."""


@company.command("create")
@click.argument("name")
@click.option("--username", required=True, help="The user name QBWC logs in with.")
@click.option("--company-file", default=None, help="Company file to open (default: the one open).")
@click.option("--poll-minutes", default=None, type=int, help="QBWC run interval, 1 to 15 minutes.")
@click.option("--read-only", is_flag=True, help="Mark the connection read-only in the .qwc file.")
@pass_state
def company_create(
    state: CliState,
    name: str,
    username: str,
    company_file: str | None,
    poll_minutes: int | None,
    read_only: bool,
) -> None:
    """Create a connection and print its token, once."""
    with state.engine.begin() as conn:
        new = companies.create_company(
            conn, name, username, company_file=company_file, read_only=read_only,
            poll_minutes=poll_minutes or state.settings.default_poll_minutes,
        )  # fmt: skip
    data = {"id": new.id, "name": new.name, "username": new.username, "token": new.token,
            "owner_id": new.owner_id, "file_id": new.file_id}  # fmt: skip
    state.emit(
        data,
        f"created company {new.name} (QBWC user {new.username})\n"
        f"token (shown once; type it into the Web Connector as the password):\n{new.token}",
    )


@company.command("token")
@click.argument("name")
@pass_state
def company_token(state: CliState, name: str) -> None:
    """Rotate the token of a connection: the old one stops working at once."""
    with state.engine.begin() as conn:
        token = companies.rotate_token(conn, name)
    state.emit({"name": name, "token": token}, f"new token for {name} (shown once):\n{token}")


@company.command("qwc")
@click.argument("name")
@click.option("--output", "-o", type=click.Path(dir_okay=False, writable=True), help="Write to a file.")
@pass_state
def company_qwc(state: CliState, name: str, output: str | None) -> None:
    """Print the .qwc file to open in the Web Connector."""
    from qbwc_service.qbwc.qwc import public_url_warning, qwc_filename, render_qwc

    with state.engine.connect() as conn:
        found = companies.get_company(conn, name)
    xml = render_qwc(found, state.settings)
    warning = public_url_warning(state.settings)
    if warning:
        click.echo(f"warning: {warning}", err=True)
    if output:
        with open(output, "w", encoding="utf-8") as fh:
            fh.write(xml)
    if state.as_json:
        state.emit({"name": name, "filename": qwc_filename(found), "qwc": xml}, "")
    elif not output:
        click.echo(xml, nl=False)


@company.command("list")
@pass_state
def company_list(state: CliState) -> None:
    """List company connections."""
    with Session(state.engine) as db:
        rows = db.execute(select(Company).order_by(Company.name)).scalars().all()
    data = [
        {"id": c.id, "name": c.name, "username": c.username, "enabled": c.enabled,
         "qbxml_version": c.qbxml_version, "last_poll_at": c.last_poll_at}
        for c in rows
    ]  # fmt: skip
    lines = [
        f"{c.name}\t{c.username}\t{'enabled' if c.enabled else 'disabled'}\t{c.last_poll_at or 'never'}" for c in rows
    ]
    state.emit(data, "\n".join(lines) or "no companies")


@company.command("disable")
@click.argument("name")
@pass_state
def company_disable(state: CliState, name: str) -> None:
    """Disable a connection: QBWC's logins are refused (nvu)."""
    with state.engine.begin() as conn:
        companies.set_enabled(conn, name, False)
    state.emit({"name": name, "enabled": False}, f"{name} disabled")


@company.command("enable")
@click.argument("name")
@pass_state
def company_enable(state: CliState, name: str) -> None:
    """Enable a disabled connection."""
    with state.engine.begin() as conn:
        companies.set_enabled(conn, name, True)
    state.emit({"name": name, "enabled": True}, f"{name} enabled")


@company.command("show")
@click.argument("name")
@pass_state
def company_show(state: CliState, name: str) -> None:
    """Show a connection: user, poll interval, versions and its sync schedule."""
    from qbwc_service.accounts import schedule
    from qbwc_service.cli.schedule import schedule_text

    with state.engine.connect() as conn:
        found = companies.get_company(conn, name)
        shown = schedule.show(conn, name)
    data = {
        "id": found.id, "name": found.name, "username": found.username, "enabled": found.enabled,
        "poll_minutes": found.poll_minutes, "company_file": found.company_file, "read_only": found.read_only,
        "qbwc_version": found.qbwc_version, "qbxml_version": found.qbxml_version,
        "last_poll_at": found.last_poll_at, "schedule": shown,
    }  # fmt: skip
    lines = [
        f"{found.name}\tQBWC user {found.username}\t{'enabled' if found.enabled else 'disabled'}",
        f"polls every {found.poll_minutes} minutes; last poll {found.last_poll_at or 'never'}",
        schedule_text(found.name, shown),
    ]
    state.emit(data, "\n".join(lines))


@company.command("schedule")
@click.argument("name")
@click.option("--daily", "at", metavar="HH:MM", default=None, help="Sync once a day from this time (24-hour clock).")
@click.option(
    "--tz", "time_zone", metavar="ZONE", default=None, help="IANA time zone of --daily, e.g. America/Chicago."
)
@click.option("--manual", is_flag=True, help="Sync only when someone runs sync-now (or presses Sync now).")
@click.option("--every-poll", is_flag=True, help="Sync at every poll of the Web Connector (the default).")
@pass_state
def company_schedule(
    state: CliState, name: str, at: str | None, time_zone: str | None, manual: bool, every_poll: bool
) -> None:
    """Set when a connection's queued work goes to QuickBooks: --daily HH:MM --tz ZONE, --manual or --every-poll."""
    from qbwc_service.accounts import schedule
    from qbwc_service.cli.schedule import schedule_text

    chosen = [flag for flag, given in (("--daily", at is not None), ("--manual", manual), ("--every-poll", every_poll))
              if given]  # fmt: skip
    if len(chosen) != 1:
        state.fail("give one of --daily HH:MM (with --tz ZONE), --manual or --every-poll")
    mode = (
        schedule.SyncMode.DAILY
        if at is not None
        else schedule.SyncMode.MANUAL
        if manual
        else schedule.SyncMode.EVERY_POLL
    )
    with state.engine.begin() as conn:
        schedule.set_schedule(conn, name, mode, at=at, time_zone=time_zone)
        shown = schedule.show(conn, name)
    state.emit({"name": name, "schedule": shown}, schedule_text(name, shown))
