"""``qbwc-service apikey``: keys for the JSON API."""

from __future__ import annotations

import click
from sqlalchemy import insert
from sqlalchemy.exc import IntegrityError

from qbwc_service.accounts.credentials import new_api_key
from qbwc_service.cli.state import CliState, Group, pass_state
from qbwc_service.db.models import ApiKey, utcnow


@click.group(cls=Group)
def apikey() -> None:
    """Keys for the JSON API."""


@apikey.command("create")
@click.argument("name")
@pass_state
def apikey_create(state: CliState, name: str) -> None:
    """Create an API key and print it, once."""
    key, prefix, digest = new_api_key()
    try:
        with state.engine.begin() as conn:
            conn.execute(insert(ApiKey).values(name=name, prefix=prefix, key_hash=digest, created_at=utcnow()))
    except IntegrityError:
        state.fail(f"an API key named {name!r} already exists")
    state.emit({"name": name, "key": key}, f"API key {name} (shown once):\n{key}")
