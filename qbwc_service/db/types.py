"""The column types and enums of the schema, importable without the ORM.

:mod:`qbwc_service.db.models` maps them; short-lived readers (the CLI's job listings) use
them with Core tables and never load the ORM.
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum

from sqlalchemy import DateTime, Enum, TypeDecorator
from sqlalchemy.engine import Dialect


def utcnow() -> datetime:
    """The current time, timezone-aware UTC."""
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp stored as UTC and always read back timezone-aware (SQLite forgets)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored; use an aware UTC time")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class JobState(StrEnum):
    """Where a job is in its life."""

    #: Waiting to be handed to a QBWC session.
    QUEUED = "queued"
    #: Sent to QuickBooks in a session that holds its lease; the response is awaited.
    IN_FLIGHT = "in_flight"
    #: QuickBooks processed it; ``result`` holds what it returned.
    DONE = "done"
    #: It will not be sent again without a person retrying it; ``error`` says why.
    FAILED = "failed"
    #: A person or producer withdrew it before it was processed.
    CANCELLED = "cancelled"


class SessionState(StrEnum):
    """Where a QBWC session (one Web Connector run) is in its life."""

    #: Authenticated; QBWC is exchanging requests and responses.
    OPEN = "open"
    #: QBWC called closeConnection.
    CLOSED = "closed"
    #: QBWC reported an error (connectionError or a QuickBooks hresult) and stopped.
    FAILED = "failed"
    #: QBWC went quiet; its jobs went back to the queue.
    ABANDONED = "abandoned"
    #: A new authenticate of the same company took over (the Web Connector came back after
    #: losing a reply); its in-flight jobs went back to the queue, marked for a lookup.
    SUPERSEDED = "superseded"


class SyncMode(StrEnum):
    """When a company's queued work may go to QuickBooks (its sync schedule)."""

    #: At every Web Connector poll, as soon as it is queued (the default, and what every
    #: company did before schedules existed).
    EVERY_POLL = "every_poll"
    #: Once a day: from the first poll after a time of day in the company's time zone until
    #: the queue is drained, and whenever someone asks to sync now.
    DAILY = "daily"
    #: Only when someone asks to sync now.
    MANUAL = "manual"


class Role(StrEnum):
    """What a staff user may do in the admin pages."""

    #: Everything, tokens and company connections included.
    ADMIN = "admin"
    #: Read the queue, retry and cancel jobs; no tokens, no company creation.
    SUPPORT = "support"


def enum_type(cls: type[StrEnum], name: str) -> Enum:
    """A state enum stored by value as a CHECK-constrained string (the same on SQLite and PostgreSQL)."""
    return Enum(
        cls,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=16,
        values_callable=lambda members: [m.value for m in members],
        validate_strings=True,
    )
