"""``qbwc-service sync-now``: release a scheduled company's waiting work at once."""

from __future__ import annotations

import click

from qbwc_service.cli.state import CliState, pass_state


def schedule_text(name: str, shown: dict[str, object]) -> str:
    """A company's schedule in a line or two, as ``company show`` and ``sync-now`` print it."""
    lines = [f"{name} syncs {shown['summary']}; {shown['waiting']} queued job(s)"]
    if shown["mode"] != "every_poll":
        if shown["released"]:
            lines.append("the waiting work goes at the Web Connector's next poll")
        elif shown["next_sync_at"]:
            lines.append(f"next sync at {shown['next_sync_local']} ({shown['next_sync_at']} UTC)")
    return "\n".join(lines)


@click.command("sync-now")
@click.argument("name")
@pass_state
def sync_now(state: CliState, name: str) -> None:
    """Send a company's waiting work at the Web Connector's next poll, whatever its schedule."""
    from qbwc_service.accounts import schedule

    with state.engine.begin() as conn:
        schedule.sync_now(conn, name)
        shown = schedule.show(conn, name)
    state.emit({"name": name, "schedule": shown}, schedule_text(name, shown))
