"""Secrets the service makes itself: the session signing key, generated once and kept in the database.

Every gunicorn worker and every host builds its own application. Without ``QBWC_SECRET_KEY``
they would each draw a key, and a sign-in would fail whenever its next request reached
another worker. The database is the one place they all share, so the first to start stores
a key there and the others read it.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass, field
from enum import StrEnum

from sqlalchemy import Connection, Engine, insert, inspect, select
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from qbwc_service.db.models import AppSecret, utcnow
from qbwc_service.logs import log

#: The ``app_secret`` row of the key that signs session cookies and CSRF tokens.
SESSION_SIGNING_KEY = "session_signing_key"


class KeySource(StrEnum):
    """Where the session signing key came from."""

    #: ``QBWC_SECRET_KEY`` is set: it wins over the stored key.
    CONFIGURED = "configured"
    #: Generated once and kept in the ``app_secret`` table, shared by every worker and host.
    DATABASE = "database"
    #: Drawn by this process alone (the database is not migrated or not reachable): sign-ins
    #: fail whenever a request reaches another worker.
    PROCESS = "process"

    @property
    def note(self) -> str:
        """What the admin pages say of the key."""
        return _NOTES[self]


_NOTES = {
    KeySource.CONFIGURED: "from QBWC_SECRET_KEY",
    KeySource.DATABASE: "generated and kept in the database (set QBWC_SECRET_KEY to override)",
    KeySource.PROCESS: (
        "random for this worker only, so sign-ins fail between workers: "
        "run qbwc-service db upgrade and restart, or set QBWC_SECRET_KEY"
    ),
}


@dataclass(frozen=True, slots=True)
class SigningKey:
    """The session signing key and where it came from (the key stays out of ``repr``)."""

    value: str = field(repr=False)
    source: KeySource


def stored_secret(conn: Connection, name: str) -> tuple[str, bool]:
    """The secret ``name`` and whether this call created it; two first starts at once agree on one."""
    found = conn.execute(select(AppSecret.value).where(AppSecret.name == name)).scalar_one_or_none()
    if found is not None:
        return found, False
    value = secrets.token_hex(32)
    try:
        with conn.begin_nested():
            conn.execute(insert(AppSecret).values(name=name, value=value, created_at=utcnow()))
    except IntegrityError:
        # Another worker inserted it first (PostgreSQL made us wait for its commit): use its key.
        return conn.execute(select(AppSecret.value).where(AppSecret.name == name)).scalar_one(), False
    return value, True


def has_stored_key(conn: Connection) -> bool:
    """Whether the database keeps a session signing key already (read only: nothing is created)."""
    if not inspect(conn).has_table(AppSecret.__tablename__):
        return False
    found = conn.execute(select(AppSecret.name).where(AppSecret.name == SESSION_SIGNING_KEY)).first()
    return found is not None


def session_signing_key(engine: Engine, configured: str = "") -> SigningKey:
    """``configured`` (``QBWC_SECRET_KEY``) when set, else the key kept in the database, else a random one."""
    if configured:
        log(logging.INFO, "session_signing_key_configured", source="QBWC_SECRET_KEY")
        return SigningKey(configured, KeySource.CONFIGURED)
    try:
        with engine.begin() as conn:
            if inspect(conn).has_table(AppSecret.__tablename__):
                value, created = stored_secret(conn, SESSION_SIGNING_KEY)
                log(
                    logging.INFO, "session_signing_key_from_database", created=created,
                    note="kept in the database for every worker and host; set QBWC_SECRET_KEY to override",
                )  # fmt: skip
                return SigningKey(value, KeySource.DATABASE)
        problem = "the database is not migrated (it has no app_secret table)"
        fix = "run `qbwc-service db upgrade`, then restart the service"
    except SQLAlchemyError as exc:  # the engine's URL may carry a password: only the error's kind is told
        problem = f"the database could not be read ({exc.__class__.__name__})"
        fix = "check QBWC_DATABASE_URL and that the database answers, then restart the service"
    log(
        logging.WARNING, "session_signing_key_per_process", problem=problem, fix=fix,
        consequence="each worker signs with its own key, so sign-ins fail between workers",
    )  # fmt: skip
    return SigningKey(secrets.token_hex(32), KeySource.PROCESS)
