"""The database cannot answer for now: which errors mean that, and how to say it in one line.

A restarted or unreachable PostgreSQL, a statement timeout, a full SQLite disk or a
locked SQLite file are conditions of the moment: every transaction rolls back whole
(nothing is half-written), and the caller answers cleanly and tries again later. Other
database errors (a constraint, a missing table) are defects and are not among them.
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

_CONNECTION_WORDS = re.compile(
    r"connection (failed|refused|is closed|to server)|server closed the connection|terminating connection|"
    r"consuming input failed|the connection is lost",
    re.I,
)

#: What a client is told; ``{reason}`` is :func:`reason`.
UNAVAILABLE = (
    "The service's database is unavailable right now ({reason}). Nothing was lost: "
    "the Web Connector will try again on its next run."
)
#: What a producer (the JSON API) is told.
STORE_LATER = (
    "The service's database is unavailable right now ({reason}). Nothing was stored; send the request again later."
)


def is_outage(exc: BaseException, dbapi: Any = None) -> bool:
    """Whether ``exc`` says the database cannot work for now, rather than that a statement is wrong.

    ``dbapi`` is the driver module: a connection the pool makes afresh (after its pre-ping
    found the old one dead) raises the driver's own error, not SQLAlchemy's.
    """
    if isinstance(exc, DBAPIError):
        return isinstance(exc, OperationalError | InterfaceError) or exc.connection_invalidated
    return dbapi is not None and isinstance(exc, dbapi.OperationalError | dbapi.InterfaceError)


def reason(exc: BaseException) -> str:
    """The driver's first line, short and without the statement (no values, no secrets)."""
    orig = exc.orig if isinstance(exc, DBAPIError) else exc
    first = (str(orig).strip().splitlines() or [""])[0].strip()
    if "disk is full" in first or "No space left" in first:
        return "its disk is full"
    if "timeout" in first.lower() or "canceling statement" in first:
        return "a statement took too long"
    if isinstance(orig, Exception) and _CONNECTION_WORDS.search(first):
        return "its server cannot be reached"
    return (first or type(orig).__name__)[:200]


def logged(exc: BaseException) -> str:
    """The driver's first line as the log keeps it (the statement and its values left out)."""
    orig = exc.orig if isinstance(exc, DBAPIError) else exc
    return (str(orig).strip().splitlines() or [type(orig).__name__])[0][:300]


def describe(exc: BaseException, template: str = UNAVAILABLE) -> str:
    """The sentence a client gets for ``exc``: ``template`` with its :func:`reason`."""
    return template.format(reason=reason(exc))
