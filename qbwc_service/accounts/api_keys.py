"""Keys for the JSON API: created once (the key is shown once, its SHA-256 kept), checked on each request."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, insert, select, update
from sqlalchemy.exc import IntegrityError

from qbwc_service.accounts.credentials import digest_matches, new_api_key
from qbwc_service.db.models import ApiKey, utcnow
from qbwc_service.errors import Conflict


@dataclass(frozen=True, slots=True)
class NewApiKey:
    """A created key; ``key`` is the only time it is ever available."""

    name: str
    key: str


def create_api_key(conn: Connection, name: str) -> NewApiKey:
    """Create the API key ``name``; a name already taken is a :class:`Conflict`."""
    key, prefix, digest = new_api_key()
    try:
        with conn.begin_nested():
            conn.execute(insert(ApiKey).values(name=name, prefix=prefix, key_hash=digest, created_at=utcnow()))
    except IntegrityError:
        raise Conflict(f"an API key named {name!r} already exists") from None
    return NewApiKey(name, key)


def api_key_owner(conn: Connection, key: str) -> str | None:
    """The name of the API key ``key`` matches (and note its use), or None."""
    for row in conn.execute(select(ApiKey.id, ApiKey.name, ApiKey.key_hash).where(ApiKey.prefix == key[:12])):
        if digest_matches(row.key_hash, key):
            conn.execute(update(ApiKey).where(ApiKey.id == row.id).values(last_used_at=utcnow()))
            return str(row.name)
    return None
