"""The database schema: typed SQLAlchemy 2.0 models. Alembic migrations create it."""

from __future__ import annotations

from datetime import datetime, time
from typing import Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    Time,
    UniqueConstraint,
    desc,
    false,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from qbwc_service.db.types import (
    Channel,
    DeliveryState,
    IncidentRule,
    JobState,
    Notice,
    Role,
    SessionState,
    SyncMode,
    UTCDateTime,
    enum_type,
    utcnow,
)

__all__ = [
    "NAMING_CONVENTION",
    "ApiKey",
    "Base",
    "Channel",
    "Company",
    "CompanyReset",
    "DeliveryState",
    "Incident",
    "IncidentDelivery",
    "IncidentEvent",
    "IncidentRule",
    "IntegrationProfile",
    "Job",
    "JobEvent",
    "JobState",
    "Lease",
    "LoginFailure",
    "Notice",
    "QbRecord",
    "QbwcSession",
    "ResolvedEntry",
    "Role",
    "SessionState",
    "SetupRun",
    "SetupStep",
    "StaffUser",
    "SyncMode",
    "UTCDateTime",
    "utcnow",
]

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Declarative base with named constraints."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: UTCDateTime(), dict[str, Any]: JSON()}


class Company(Base):
    """A QuickBooks company file reached through one QBWC user name."""

    __tablename__ = "company"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    #: argon2 hash of the QBWC password (the token); the token itself is never stored.
    token_hash: Mapped[str] = mapped_column(String(255))
    enabled: Mapped[bool] = mapped_column(default=True)
    owner_id: Mapped[str] = mapped_column(String(38))
    file_id: Mapped[str] = mapped_column(String(38))
    #: Company file QBWC is asked to open; ``None``: the one open in QuickBooks.
    company_file: Mapped[str | None] = mapped_column(String(500))
    poll_minutes: Mapped[int] = mapped_column(Integer, default=5)
    read_only: Mapped[bool] = mapped_column(default=False)
    #: What QBWC last reported.
    qbwc_version: Mapped[str | None] = mapped_column(String(32))
    qbxml_version: Mapped[str | None] = mapped_column(String(8))
    qbxml_country: Mapped[str | None] = mapped_column(String(4))
    reported_company_file: Mapped[str | None] = mapped_column(String(500))
    #: Facts from the first (HCP) response: product, edition, versions, sales tax on.
    host_info: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_poll_at: Mapped[datetime | None]
    #: When a second Web Connector was last seen polling this company (a misconfiguration), and what it did.
    rival_seen_at: Mapped[datetime | None]
    rival_detail: Mapped[str | None] = mapped_column(Text)
    #: The sync schedule (``accounts/schedule.py``): when queued work may go to QuickBooks.
    sync_mode: Mapped[SyncMode] = mapped_column(
        enum_type(SyncMode, "sync_mode"), default=SyncMode.EVERY_POLL, server_default=SyncMode.EVERY_POLL.value
    )
    #: A daily schedule's time of day and the IANA time zone it is read in.
    sync_at: Mapped[time | None] = mapped_column(Time)
    sync_time_zone: Mapped[str | None] = mapped_column(String(64))
    #: When someone last asked to sync now.
    sync_requested_at: Mapped[datetime | None]
    #: When the work released last (by the daily time or a sync now) was found drained, or
    #: the schedule was set: a release older than this has been served.
    sync_drained_at: Mapped[datetime | None]

    jobs: Mapped[list[Job]] = relationship(back_populates="company", lazy="raise_on_sql")
    __table_args__ = (
        CheckConstraint("poll_minutes > 0", name="poll_positive"),
        CheckConstraint(
            "sync_mode != 'daily' OR (sync_at IS NOT NULL AND sync_time_zone IS NOT NULL)", name="daily_has_time"
        ),
    )


class Job(Base):
    """One unit of work for QuickBooks: a request and what came of it."""

    __tablename__ = "job"

    id: Mapped[int] = mapped_column(primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("company.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(64))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    idempotency_key: Mapped[str | None] = mapped_column(String(200))
    #: Text support staff search for: a name, a RefNumber.
    reference: Mapped[str | None] = mapped_column(String(200))
    priority: Mapped[int] = mapped_column(Integer, default=0)
    state: Mapped[JobState] = mapped_column(enum_type(JobState, "job_state"), default=JobState.QUEUED)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    max_attempts: Mapped[int] = mapped_column(Integer, default=5)
    #: Not handed out before this time (retry back-off); ``None``: at once.
    not_before: Mapped[datetime | None]
    #: The FullName a list Add (or ensure) job will create, case-folded: what a ref by name
    #: of a later job waits for (an implicit dependency; see docs/architecture.md).
    creates: Mapped[str | None] = mapped_column(String(209))
    #: The lease: the QBWC session ticket holding the job, and since when.
    ticket: Mapped[str | None] = mapped_column(String(64))
    leased_at: Mapped[datetime | None]
    #: Round trip within a multi-step job (query, then add or mod; iterator pages).
    step: Mapped[int] = mapped_column(Integer, default=0)
    #: Send this job in a message of its own (it made QuickBooks refuse a whole batch).
    send_alone: Mapped[bool] = mapped_column(default=False)
    #: State a multi-step job carries between round trips (EditSequence, iteratorID).
    progress: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    #: Written by releases before 0014 only: a job's requests and responses are on its events
    #: (:func:`qbwc_service.queue.views.last_xml`). Dropped once no running release writes them.
    request_xml: Mapped[str | None] = mapped_column(Text)
    response_xml: Mapped[str | None] = mapped_column(Text)
    status_code: Mapped[int | None]
    status_severity: Mapped[str | None] = mapped_column(String(8))
    status_message: Mapped[str | None] = mapped_column(Text)
    #: What QuickBooks returned: ListID/TxnID, EditSequence, names.
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    #: Why the job failed or was retried, in words a person can act on.
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]

    company: Mapped[Company] = relationship(back_populates="jobs", lazy="raise_on_sql")
    __table_args__ = (
        UniqueConstraint("company_id", "idempotency_key"),
        CheckConstraint("state != 'in_flight' OR ticket IS NOT NULL", name="in_flight_has_ticket"),
        CheckConstraint("attempts >= 0", name="attempts_nonnegative"),
        # Matches the lease's ORDER BY priority DESC, id: no sort, however deep the queue.
        Index("ix_job_next", "company_id", "state", desc("priority"), "id"),
        # Serves the admin lists by state, and the few jobs in flight (looked up by ticket).
        Index("ix_job_state_id", "state", "id"),
        # The queued or in-flight job that creates a name (implicit dependencies at enqueue).
        Index(
            "ix_job_creates",
            "company_id",
            "creates",
            sqlite_where=text("creates IS NOT NULL"),
            postgresql_where=text("creates IS NOT NULL"),
        ),
        Index("ix_job_created", "created_at", "id"),
    )


class JobDependency(Base):
    """One job that must be done before another is handed out (or sent earlier in its message)."""

    __tablename__ = "job_dependency"

    job_id: Mapped[int] = mapped_column(ForeignKey("job.id", ondelete="CASCADE"), primary_key=True)
    #: The dependency; its dependents are found by this column (failed with it, released by its retry).
    depends_on_id: Mapped[int] = mapped_column(ForeignKey("job.id", ondelete="CASCADE"), primary_key=True, index=True)
    #: The payload names the dependency as ``{"job": N}``: its recorded ListID/TxnID is read at send.
    ref: Mapped[bool] = mapped_column(default=False, server_default=false())


class JobEvent(Base):
    """An append-only record of one thing that happened to a job."""

    __tablename__ = "job_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    job_id: Mapped[int] = mapped_column(ForeignKey("job.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    from_state: Mapped[str | None] = mapped_column(String(16))
    to_state: Mapped[str | None] = mapped_column(String(16))
    ticket: Mapped[str | None] = mapped_column(String(64))
    #: Who did it: ``qbwc``, ``api``, ``cli``, ``system`` or a staff user's e-mail.
    actor: Mapped[str] = mapped_column(String(200), default="system")
    message: Mapped[str | None] = mapped_column(Text)
    #: The request of the step sent (on the event of a job handed to QuickBooks).
    request_xml: Mapped[str | None] = mapped_column(Text)
    #: QuickBooks' answer to it (on the event that settles the step).
    response_xml: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (
        # The dashboard's chart: jobs done and failed per hour. Partial, so only the event that
        # finishes a job pays for it, never the lease and retry events of the hot path.
        Index(
            "ix_job_event_finished",
            "at",
            "to_state",
            sqlite_where=text("to_state IN ('done', 'failed')"),
            postgresql_where=text("to_state IN ('done', 'failed')"),
        ),
    )


class QbwcSession(Base):
    """One Web Connector run, from authenticate to closeConnection, keyed by its ticket."""

    __tablename__ = "qbwc_session"

    ticket: Mapped[str] = mapped_column(String(64), primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("company.id", ondelete="CASCADE"))
    state: Mapped[SessionState] = mapped_column(enum_type(SessionState, "session_state"), default=SessionState.OPEN)
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    ended_at: Mapped[datetime | None]
    #: Jobs queued when the session started (ready or waiting on others): the denominator of its percentage.
    planned: Mapped[int] = mapped_column(Integer, default=0)
    #: Requests handed out and responses processed.
    sent: Mapped[int] = mapped_column(Integer, default=0)
    done: Mapped[int] = mapped_column(Integer, default=0)
    failed: Mapped[int] = mapped_column(Integer, default=0)
    retried: Mapped[int] = mapped_column(Integer, default=0)
    round_trips: Mapped[int] = mapped_column(Integer, default=0)
    #: Whether the first sendRequestXML (with the HCP response) has been answered.
    hcp_seen: Mapped[bool] = mapped_column(default=False)
    qbxml_version: Mapped[str | None] = mapped_column(String(8))
    qbxml_country: Mapped[str | None] = mapped_column(String(4))
    #: What ``getLastError`` tells the user.
    last_error: Mapped[str | None] = mapped_column(Text)
    #: The session that took this one over (``superseded``).
    superseded_by: Mapped[str | None] = mapped_column(String(64))
    #: When an authenticate of the company was last refused because this session was active.
    refused_at: Mapped[datetime | None]

    __table_args__ = (Index("ix_qbwc_session_company_state", "company_id", "state"),)


class StaffUser(Base):
    """A person who uses the admin and support pages."""

    __tablename__ = "staff_user"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[Role] = mapped_column(enum_type(Role, "staff_role"))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_login_at: Mapped[datetime | None]


class LoginFailure(Base):
    """A failed staff login, kept in the database so every worker counts the same failures."""

    __tablename__ = "login_failure"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The e-mail address typed (lower-cased), whether or not such a user exists.
    email: Mapped[str] = mapped_column(String(254))
    ip: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (Index("ix_login_failure_email_ip_at", "email", "ip", "at"),)


class ApiKey(Base):
    """A key for the JSON API, stored hashed; the key itself is shown once."""

    __tablename__ = "api_key"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    #: The first characters of the key, to find its hash without scanning every row.
    prefix: Mapped[str] = mapped_column(String(16), index=True)
    key_hash: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime | None]


class AppSecret(Base):
    """A secret the service generated once, kept here so every worker and host uses the same one."""

    __tablename__ = "app_secret"

    #: What the secret is for (``session_signing_key``: Flask's session cookies and CSRF tokens).
    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class IntegrationProfile(Base):
    """One version of a company's integration profile (what setup makes sure QuickBooks has).

    Every change is a new row: the highest ``version`` is the profile in force.
    """

    __tablename__ = "integration_profile"

    id: Mapped[int] = mapped_column(primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("company.id", ondelete="CASCADE"))
    version: Mapped[int] = mapped_column(Integer)
    #: The profile, as its JSON Schema describes it (``qbwc-service profile schema``).
    body: Mapped[dict[str, Any]] = mapped_column(JSON)
    #: Who saved it: ``cli``, ``api:<key name>`` or a staff user's e-mail.
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (UniqueConstraint("company_id", "version"),)


class SetupRun(Base):
    """One run of company setup: the jobs that make sure each entry of the profile is in QuickBooks."""

    __tablename__ = "setup_run"

    id: Mapped[int] = mapped_column(primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("company.id", ondelete="CASCADE"), index=True)
    #: The profile version the run was planned from.
    profile_version: Mapped[int | None] = mapped_column(Integer)
    started_by: Mapped[str] = mapped_column(String(200))
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: The reset that set this run aside (its ListIDs no longer count); None while it counts.
    reset_id: Mapped[int | None] = mapped_column(ForeignKey("company_reset.id", ondelete="SET NULL"))


class SetupStep(Base):
    """One step of a setup run: a profile entry and the job that makes sure of it."""

    __tablename__ = "setup_step"

    run_id: Mapped[int] = mapped_column(ForeignKey("setup_run.id", ondelete="CASCADE"), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, primary_key=True)
    #: The profile entry (``preferences``, ``account:income``, ``line_kind:labor``, ``sales_tax:agency``).
    entry: Mapped[str] = mapped_column(String(80))
    label: Mapped[str] = mapped_column(String(200))
    job_id: Mapped[int] = mapped_column(ForeignKey("job.id", ondelete="CASCADE"), index=True)


class ResolvedEntry(Base):
    """The company's resolved mapping: the QuickBooks list entry a profile entry stands for.

    Written when a setup step is done (in the same transaction), forgotten by a reset.
    Business documents post against these ListIDs (:mod:`qbwc_service.workflows.setup.mapping`).
    """

    __tablename__ = "resolved_entry"

    company_id: Mapped[int] = mapped_column(ForeignKey("company.id", ondelete="CASCADE"), primary_key=True)
    entry: Mapped[str] = mapped_column(String(80), primary_key=True)
    list_id: Mapped[str | None] = mapped_column(String(40))
    full_name: Mapped[str | None] = mapped_column(String(209))
    #: The job that found or created it.
    job_id: Mapped[int | None] = mapped_column(ForeignKey("job.id", ondelete="SET NULL"))
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)


class CompanyReset(Base):
    """A reset of a company's integration: who did it, why, and what it set aside (history is kept)."""

    __tablename__ = "company_reset"

    id: Mapped[int] = mapped_column(primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("company.id", ondelete="CASCADE"), index=True)
    actor: Mapped[str] = mapped_column(String(200))
    reason: Mapped[str] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    #: Queued jobs cancelled and mapping entries forgotten.
    cancelled: Mapped[int] = mapped_column(Integer, default=0)
    forgotten: Mapped[int] = mapped_column(Integer, default=0)


class Incident(Base):
    """Something wrong with a company connection, from when a sweep saw it until it cleared."""

    __tablename__ = "incident"

    id: Mapped[int] = mapped_column(primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("company.id", ondelete="CASCADE"))
    rule: Mapped[IncidentRule] = mapped_column(enum_type(IncidentRule, "incident_rule"))
    opened_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: When a sweep found the condition gone; ``None`` while the incident is open.
    closed_at: Mapped[datetime | None]
    #: What was wrong, as the banner, the webhook and the e-mail say it.
    summary: Mapped[str] = mapped_column(Text)
    #: What the sweep that closed it saw.
    recovery: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (
        # At most one open incident per company and rule, whatever number of sweeps race.
        Index(
            "ix_incident_open",
            "company_id",
            "rule",
            unique=True,
            sqlite_where=text("closed_at IS NULL"),
            postgresql_where=text("closed_at IS NULL"),
        ),
        Index("ix_incident_opened_at", "opened_at"),
    )


class IncidentEvent(Base):
    """An append-only line of an incident's history: opened, a message sent or not, recovered."""

    __tablename__ = "incident_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incident.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    message: Mapped[str] = mapped_column(Text)
    #: Set when the line is about a delivery on that channel.
    channel: Mapped[Channel | None] = mapped_column(enum_type(Channel, "incident_channel"))
    #: Set on a delivery that failed: the line is an error.
    error: Mapped[bool] = mapped_column(default=False)


class IncidentDelivery(Base):
    """One message (opened or recovered) of one incident on one channel: sent once, or failed with a reason."""

    __tablename__ = "incident_delivery"

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incident.id", ondelete="CASCADE"))
    notice: Mapped[Notice] = mapped_column(enum_type(Notice, "incident_notice"))
    channel: Mapped[Channel] = mapped_column(enum_type(Channel, "incident_channel"))
    state: Mapped[DeliveryState] = mapped_column(
        enum_type(DeliveryState, "delivery_state"), default=DeliveryState.PENDING
    )
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    #: When a sweep claimed it (``sending``): a claim older than the sweep lease is taken again.
    claimed_at: Mapped[datetime | None]
    sent_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (
        UniqueConstraint("incident_id", "notice", "channel"),
        Index("ix_incident_delivery_state", "state"),
    )


class Lease(Base):
    """A named lease held by one process at a time: the alert sweep's lock, on SQLite and PostgreSQL alike."""

    __tablename__ = "lease"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    #: Who holds it (host and process id), and until when; ``None`` when free.
    holder: Mapped[str | None] = mapped_column(String(200))
    held_until: Mapped[datetime | None]
    #: When the last holder finished: workers run the next sweep only an interval later.
    last_run_at: Mapped[datetime | None]


class QbRecord(Base):
    """One list entry read from a company's QuickBooks by an import; never deleted.

    Matched by ListID, then (for an entry entered here and not imported yet, without a
    ListID) by FullName: see docs/imports.md.
    """

    __tablename__ = "qb_record"

    id: Mapped[int] = mapped_column(primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("company.id", ondelete="CASCADE"))
    #: The import list: ``customers``, ``items``, ``vendors``, ... (``workflows.imports.lists``).
    list: Mapped[str] = mapped_column(String(32))
    list_id: Mapped[str | None] = mapped_column(String(40))
    edit_sequence: Mapped[str | None] = mapped_column(String(40))
    full_name: Mapped[str] = mapped_column(String(255))
    #: ``full_name`` case-folded: what matching, the name conflicts and search compare.
    name_key: Mapped[str] = mapped_column(String(255))
    #: QuickBooks' type of the entry: ``Customer``, ``ItemService``, ``ItemInventory``, ...
    record_type: Mapped[str] = mapped_column(String(48))
    active: Mapped[bool]
    #: The list's key fields (company name, account type, price, ...), by our names.
    fields: Mapped[dict[str, Any]] = mapped_column(JSON)
    #: The whole ``…Ret`` as JSON (repeated elements as lists).
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    time_modified: Mapped[datetime | None]
    first_seen_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]

    __table_args__ = (
        UniqueConstraint("company_id", "list", "list_id"),
        Index("ix_qb_record_page", "company_id", "list", "id"),
        Index("ix_qb_record_name", "company_id", "list", "name_key"),
    )


class Document(Base):
    """A business document posted for a company (a shop invoice, a POS day): once per key, as the jobs it became."""

    __tablename__ = "document"

    id: Mapped[int] = mapped_column(primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("company.id", ondelete="CASCADE"))
    #: ``shop_invoice`` or ``pos_day``.
    kind: Mapped[str] = mapped_column(String(32))
    #: What makes it one document (a repair order number; a day and location), case-folded.
    key: Mapped[str] = mapped_column(String(80))
    #: The sales mode it posted in (``detailed``, ``summary``, ``journal``).
    mode: Mapped[str] = mapped_column(String(16))
    #: SHA-256 of the document as validated: posting the same key with other content is refused.
    digest: Mapped[str] = mapped_column(String(64))
    #: The ids of its jobs, in the order they were queued.
    jobs: Mapped[list[int]] = mapped_column(JSON)
    #: The names it has ensured, by list (``customers``, ``items``): what detailed mode adds to QuickBooks.
    names: Mapped[dict[str, list[str]]] = mapped_column(JSON)
    #: Its accounting totals (income per account role, tax, tenders, liabilities), as strings.
    totals: Mapped[dict[str, Any]] = mapped_column(JSON)
    posted_at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(64))

    __table_args__ = (
        UniqueConstraint("company_id", "kind", "key"),
        Index("ix_document_posted", "company_id", "posted_at"),
    )
