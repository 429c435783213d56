"""``qbwc-service user``: staff users of the admin and support pages."""

from __future__ import annotations

import sys

import click

from qbwc_service.accounts import staff
from qbwc_service.cli.state import CliState, Group, pass_state
from qbwc_service.db.models import Role


@click.group(cls=Group)
def user() -> None:
    """Staff users of the admin and support pages."""


@user.command("create")
@click.argument("email")
@click.option("--role", required=True, type=click.Choice([r.value for r in Role]), help="admin: everything; "
              "support: read the queue, retry and cancel jobs.")  # fmt: skip
@click.option("--password-stdin", is_flag=True, help="Read the password from the first line of stdin.")
@pass_state
def user_create(state: CliState, email: str, role: str, password_stdin: bool) -> None:
    """Create a staff user; the password is prompted for twice unless --password-stdin."""
    password = _read_password(password_stdin)
    with state.engine.begin() as conn:
        new = staff.create_user(conn, email, password, role)
    state.emit({"id": new.id, "email": new.email, "role": str(new.role)}, f"created {new.role} user {new.email}")


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    password: str = click.prompt("Password", hide_input=True, confirmation_prompt=True, err=True)
    return password


@user.command("list")
@pass_state
def user_list(state: CliState) -> None:
    """Every staff user: e-mail, role, active or disabled, last login."""
    with state.engine.connect() as conn:
        users = staff.list_users(conn)
    lines = [
        f"{u['email']:<40} {u['role']:<8} {'active' if u['active'] else 'disabled':<9} "
        f"last login {u['last_login_at'] or 'never'}"
        for u in users
    ]
    state.emit(users, "\n".join(lines) or "no staff users yet")


@user.command("disable")
@click.argument("email")
@pass_state
def user_disable(state: CliState, email: str) -> None:
    """Lock a user out; pages they have open log out on their next request."""
    _set_active(state, email, False)


@user.command("enable")
@click.argument("email")
@pass_state
def user_enable(state: CliState, email: str) -> None:
    """Let a disabled user log in again."""
    _set_active(state, email, True)


def _set_active(state: CliState, email: str, active: bool) -> None:
    with state.engine.begin() as conn:
        staff.set_active(conn, email, active)
    state.emit({"email": email.strip().lower(), "active": active}, f"{'enabled' if active else 'disabled'} {email}")


@user.command("password")
@click.argument("email")
@click.option("--password-stdin", is_flag=True, help="Read the password from the first line of stdin.")
@pass_state
def user_password(state: CliState, email: str, password_stdin: bool) -> None:
    """Set a new password for a user (prompted for twice unless --password-stdin)."""
    password = _read_password(password_stdin)
    with state.engine.begin() as conn:
        staff.set_password(conn, email, password)
    state.emit({"email": email.strip().lower()}, f"new password set for {email}")
