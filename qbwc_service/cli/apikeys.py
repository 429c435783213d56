"""``qbwc-service apikey``: keys for the JSON API."""

from __future__ import annotations

import click

from qbwc_service.cli.state import CliState, Group, pass_state


@click.group(cls=Group)
def apikey() -> None:
    """Keys for the JSON API."""


@apikey.command("create")
@click.argument("name")
@pass_state
def apikey_create(state: CliState, name: str) -> None:
    """Create an API key and print it, once."""
    from qbwc_service.accounts.api_keys import create_api_key

    with state.engine.begin() as conn:
        key = create_api_key(conn, name).key
    state.emit({"name": name, "key": key}, f"API key {name} (shown once):\n{key}")
