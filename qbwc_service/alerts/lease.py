"""A named lease in the ``lease`` table: one holder at a time across processes and hosts.

A row, not a PostgreSQL advisory lock, so SQLite serves alike; and a lease with an end, not
a lock held by a connection, so no transaction stays open while a sweep waits on a webhook.
A holder that dies leaves it to whoever asks after ``held_until``.
"""

from __future__ import annotations

import os
import socket
import threading
from datetime import datetime, timedelta

from sqlalchemy import Engine, insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from qbwc_service.db.models import Lease


def holder_name() -> str:
    """This host, process and thread: who a lease row names."""
    return f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}"


def acquire(engine: Engine, name: str, holder: str, now: datetime, *, hold: timedelta,
            every: timedelta | None = None) -> bool:  # fmt: skip
    """Take the lease ``name`` until ``now + hold``; false when another holds it.

    With ``every``, also false until that long after the last holder finished, so that
    workers offering a sweep each interval run one between them, not one each.
    """
    free = or_(Lease.held_until.is_(None), Lease.held_until <= now)
    due = free if every is None else free & or_(Lease.last_run_at.is_(None), Lease.last_run_at <= now - every)
    take = update(Lease).where(Lease.name == name, due).values(holder=holder, held_until=now + hold)
    with engine.begin() as conn:
        if conn.execute(take).rowcount == 1:
            return True
        if conn.execute(select(Lease.name).where(Lease.name == name)).first() is not None:
            return False
    try:
        with engine.begin() as conn:
            conn.execute(insert(Lease).values(name=name, holder=holder, held_until=now + hold))
    except IntegrityError:  # another process made the row first: it holds the lease
        return False
    return True


def release(engine: Engine, name: str, holder: str, finished_at: datetime) -> None:
    """Give the lease back (only if ``holder`` still holds it) and record when its run finished."""
    with engine.begin() as conn:
        conn.execute(
            update(Lease)
            .where(Lease.name == name, Lease.holder == holder)
            .values(holder=None, held_until=None, last_run_at=finished_at)
        )
