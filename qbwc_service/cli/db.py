"""``qbwc-service db``: the database schema."""

from __future__ import annotations

import click

from qbwc_service.cli.state import CliState, Group, pass_state
from qbwc_service.db import migrate


@click.group(cls=Group)
def db() -> None:
    """Database schema commands."""


@db.command("upgrade")
@pass_state
def db_upgrade(state: CliState) -> None:
    """Apply every migration not yet applied."""
    migrate.upgrade(state.engine)
    state.emit({"upgraded": True}, "database is at the latest migration")


@db.command("check")
@pass_state
def db_check(state: CliState) -> None:
    """Fail when the models need a migration that does not exist yet."""
    migrate.check(state.engine)
    state.emit({"ok": True}, "the schema matches the models")
