"""QBWC sessions in the database: the only writer of ``qbwc_session``.

A session is opened by ``authenticate``, touched by every answered call, and ended by
``closeConnection``, ``connectionError``, by a new ``authenticate`` of its company that
supersedes it (:func:`judge`, :func:`take_over`) or, when its Web Connector went quiet, by
:func:`requeue_stalled`. Nothing about it lives in process memory.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, and_, bindparam, exists, func, insert, or_, select, update

from qbwc_service.accounts.credentials import new_ticket
from qbwc_service.db import prepared
from qbwc_service.db.models import Company, Job, JobDependency, JobState, QbwcSession, SessionState, utcnow
from qbwc_service.queue import jobs

S = QbwcSession.metadata.tables["qbwc_session"]
J = Job.metadata.tables["job"]
D = JobDependency.metadata.tables["job_dependency"]
C = Company.metadata.tables["company"]

#: How long a second Web Connector, once seen, keeps a company's sessions from being superseded.
RIVAL_MEMORY = timedelta(hours=1)

#: ``getLastError`` of a session a new authenticate took over.
SUPERSEDED_TEXT = (
    "This Web Connector run was taken over by a newer run for the same company, and its "
    "requests were handed out again; nothing was lost."
)
#: ``getLastError`` of a superseded session that called again: two Web Connectors poll the company.
RIVAL_TEXT = (
    "Two Web Connectors are polling this company: the same application was added to the "
    "Web Connector on two PCs, and this run was refused so that no work is sent twice. "
    "Remove the application from the Web Connector on the PC that should not sync; "
    "nothing was lost."
)


@dataclass(frozen=True, slots=True)
class Facts:
    """What the first ``sendRequestXML`` of a session tells about QuickBooks."""

    version: str
    country: str
    company_file: str | None
    #: The HCP facts kept on the company (see :func:`.handshake.host_info`), when readable.
    host_info: dict[str, Any] | None


@dataclass(frozen=True, slots=True)
class Tally:
    """What one ``receiveResponseXML`` settled, added to the session's counters."""

    sent: int
    done: int
    failed: int
    retried: int
    error: str | None


# -- statements of the hot path (built once, see qbwc_service.db.prepared) --------------


@functools.cache
def _session_stmt() -> Any:
    return select(S.c.company_id, S.c.hcp_seen).where(
        S.c.ticket == bindparam("p_ticket"), S.c.state == SessionState.OPEN
    )


@functools.cache
def _held_stmt() -> Any:
    """The open session of ``:p_ticket`` with each job it holds in flight.

    One row per job and dependency of it (``dep_id``, None when it has none) held in the
    same message (``dep_in_message``) or named by a ``{"job": N}`` ref (``dep_ref``, with
    its ``dep_state`` and ``dep_result``, to resolve the ref when the answer is read); the
    rows of one job together.
    """
    held = J.c.ticket == S.c.ticket, J.c.state == JobState.IN_FLIGHT
    dep, here = J.alias("dep"), J.alias("here")
    # The edges by the primary key (job_id, ...), each dependency by its id: an OR over the
    # joined dependency would make SQLite scan every edge.
    in_message = exists().where(here.c.id == D.c.depends_on_id, here.c.ticket == S.c.ticket,
                                here.c.state == JobState.IN_FLIGHT)  # fmt: skip
    return (
        select(
            S.c.company_id, S.c.planned, S.c.done, S.c.failed,
            J.c.id, J.c.kind, J.c.payload, J.c.step, J.c.attempts, J.c.max_attempts, J.c.progress,
            D.c.depends_on_id.label("dep_id"), D.c.ref.label("dep_ref"),
            and_(dep.c.state == JobState.IN_FLIGHT, dep.c.ticket == S.c.ticket).label("dep_in_message"),
            dep.c.state.label("dep_state"), dep.c.result.label("dep_result"),
        )
        .select_from(
            S.outerjoin(J, and_(*held))
            .outerjoin(D, and_(D.c.job_id == J.c.id, or_(D.c.ref, in_message)))
            .outerjoin(dep, dep.c.id == D.c.depends_on_id)
        )
        .where(S.c.ticket == bindparam("p_ticket"), S.c.state == SessionState.OPEN)
        .order_by(J.c.id, D.c.depends_on_id)
    )  # fmt: skip


@functools.cache
def _tally_stmt() -> Any:
    """Touch the session and add up what a response settled."""
    return (
        update(S)
        .where(S.c.ticket == bindparam("p_ticket"), S.c.state == SessionState.OPEN)
        .values(
            last_seen_at=bindparam("p_now", type_=S.c.last_seen_at.type),
            sent=S.c.sent + bindparam("p_sent"),
            round_trips=S.c.round_trips + 1,
            done=S.c.done + bindparam("p_done"),
            failed=S.c.failed + bindparam("p_failed"),
            retried=S.c.retried + bindparam("p_retried"),
            last_error=func.coalesce(bindparam("p_error", type_=S.c.last_error.type), S.c.last_error),
        )
    )


@functools.cache
def _company_facts_stmt(with_info: bool) -> Any:
    """Record on the company what QBWC's first call reported (and the HCP facts, ``with_info``)."""
    c = Company.metadata.tables["company"]
    stmt = (
        update(c)
        .where(c.c.id == bindparam("p_company"))
        .values(
            qbxml_version=bindparam("p_version", type_=c.c.qbxml_version.type),
            qbxml_country=bindparam("p_country", type_=c.c.qbxml_country.type),
            reported_company_file=func.coalesce(
                bindparam("p_file", type_=c.c.reported_company_file.type), c.c.reported_company_file
            ),
        )
    )
    return stmt.values(host_info=bindparam("p_info", type_=c.c.host_info.type)) if with_info else stmt


@functools.cache
def _session_facts_stmt() -> Any:
    return (
        update(S)
        .where(S.c.ticket == bindparam("p_ticket"))
        .values(
            hcp_seen=True,
            qbxml_version=bindparam("p_version", type_=S.c.qbxml_version.type),
            qbxml_country=bindparam("p_country", type_=S.c.qbxml_country.type),
        )
    )


def find_open(conn: prepared.Executor, ticket: str) -> Any | None:
    """The open session ``ticket`` (its ``company_id`` and ``hcp_seen``), or None."""
    rows = prepared.fetch(conn, _session_stmt(), {"p_ticket": ticket})
    return rows[0] if rows else None


def held(conn: prepared.Executor, ticket: str) -> list[Any]:
    """The open session ``ticket`` joined with each job it holds in flight; empty when no such session."""
    return list(prepared.fetch(conn, _held_stmt(), {"p_ticket": ticket}))


def record_facts(conn: prepared.Executor, ticket: str, company_id: int, facts: Facts) -> None:
    """Keep what the first call told on the company, and mark the session as past it."""
    params = {
        "p_company": company_id, "p_ticket": ticket, "p_version": facts.version, "p_country": facts.country,
        "p_file": facts.company_file[:500] if facts.company_file else None, "p_info": facts.host_info,
    }  # fmt: skip
    prepared.execute(conn, _company_facts_stmt(facts.host_info is not None), params)
    prepared.execute(conn, _session_facts_stmt(), params)


def tally(conn: prepared.Executor, ticket: str, counts: Tally) -> None:
    """Touch the session and add what one response settled to its counters."""
    params = {
        "p_ticket": ticket, "p_now": utcnow(), "p_sent": counts.sent, "p_done": counts.done,
        "p_failed": counts.failed, "p_retried": counts.retried, "p_error": counts.error,
    }  # fmt: skip
    prepared.execute(conn, _tally_stmt(), params)


# -- the rest: ordinary connections ------------------------------------------------------


def start(conn: Connection, company_id: int, *, planned: int, now: datetime, superseding: str | None = None) -> str:
    """Open a session for the company with ``planned`` jobs ready; returns its new ticket.

    ``superseding``: the ticket of the session this one took over (see :func:`take_over`).
    """
    ticket = new_ticket()
    conn.execute(
        insert(QbwcSession).values(
            ticket=ticket, company_id=company_id, state=SessionState.OPEN, started_at=now,
            last_seen_at=now, planned=planned, sent=0, done=0, failed=0, retried=0, round_trips=0,
            hcp_seen=False,
        )
    )  # fmt: skip
    if superseding is not None:
        conn.execute(update(S).where(S.c.ticket == superseding).values(superseded_by=ticket))
    return ticket


def end(conn: Connection, ticket: str, state: SessionState, error: str | None) -> Any | None:
    """End the open session ``ticket`` in ``state``; its ``company_id``, ``done``, ``failed``, ``retried``, or None."""
    now = utcnow()
    values: dict[str, Any] = {"state": state, "ended_at": now, "last_seen_at": now}
    if error:
        values["last_error"] = error
    return conn.execute(
        update(QbwcSession)
        .where(QbwcSession.ticket == ticket, QbwcSession.state == SessionState.OPEN)
        .values(**values)
        .returning(QbwcSession.company_id, QbwcSession.done, QbwcSession.failed, QbwcSession.retried)
    ).first()


def last_error(conn: Connection, ticket: str) -> tuple[bool, str | None]:
    """Whether the session ``ticket`` exists, and its last error."""
    row = conn.execute(select(QbwcSession.last_error).where(QbwcSession.ticket == ticket)).first()
    return (row is not None, row.last_error if row else None)


def abandon_stalled(
    conn: Connection, *, timeout: timedelta, now: datetime, company_id: int | None = None
) -> Sequence[str]:
    """Mark abandoned the open sessions silent for ``timeout``; returns their tickets.

    A session is silent when neither its last call that answered (``last_seen_at``) nor
    the lease of a job it holds is that recent: ``sendRequestXML`` leaves no other trace.
    """
    cutoff = now - timeout
    leased_since = exists().where(J.c.ticket == S.c.ticket, J.c.state == JobState.IN_FLIGHT, J.c.leased_at >= cutoff)
    stale = update(S).where(S.c.state == SessionState.OPEN, S.c.last_seen_at < cutoff, ~leased_since)
    if company_id is not None:
        stale = stale.where(S.c.company_id == company_id)
    return [
        r.ticket for r in conn.execute(stale.values(state=SessionState.ABANDONED, ended_at=now).returning(S.c.ticket))
    ]


def requeue_stalled(
    conn: Connection, *, timeout: timedelta, company_id: int | None = None, now: datetime | None = None
) -> int:
    """Abandon sessions silent for ``timeout`` and put their in-flight jobs back; returns how many.

    Jobs go back to ``queued`` (or ``failed`` past their attempt limit). QuickBooks may
    have applied a request whose answer never came back; the event says so.
    """
    now = now or utcnow()
    tickets = abandon_stalled(conn, timeout=timeout, now=now, company_id=company_id)
    released = jobs.release(conn, tickets, reason="the Web Connector session went quiet", now=now) if tickets else 0
    return released + release_orphans(conn, now=now, company_id=company_id)


def release_orphans(conn: Connection, *, now: datetime, company_id: int | None = None) -> int:
    """Put back the jobs leased on a session that had ended meanwhile (of one company, or all); returns how many.

    On PostgreSQL a sendRequestXML may lease while a concurrent authenticate supersedes its
    session, whose release then saw no job in flight. Nothing else would ever put those jobs back.
    """
    in_flight = [J.c.state == JobState.IN_FLIGHT]
    if company_id is not None:
        in_flight.append(J.c.company_id == company_id)  # ix_job_next
    orphans = conn.execute(
        select(J.c.ticket).distinct().where(*in_flight, J.c.ticket.in_(
            select(S.c.ticket).where(S.c.state != SessionState.OPEN)))
    ).scalars().all()  # fmt: skip
    if not orphans:
        return 0
    return jobs.release(conn, orphans, reason="its session had ended when the lease was recorded", now=now)


# -- a new authenticate while a session is open -----------------------------------------


@dataclass(frozen=True, slots=True)
class Holder:
    """The open session of a company, as a new ``authenticate`` of that company finds it."""

    ticket: str
    #: Its last call that answered (authenticate, receiveResponseXML).
    last_seen_at: datetime
    #: The latest lease of a job it holds in flight (``sendRequestXML`` leaves no other trace).
    leased_at: datetime | None
    in_flight: int
    #: When an authenticate of the company was last refused because this session was active.
    refused_at: datetime | None

    @property
    def last_active(self) -> datetime:
        """Its last sign of life: a call that answered, or a job it leased."""
        return max(self.last_seen_at, self.leased_at) if self.leased_at else self.last_seen_at


@dataclass(frozen=True, slots=True)
class Verdict:
    """What a new authenticate does about the company's open session."""

    supersede: bool
    #: Seconds until the session may be superseded (``busy`` asks QBWC to wait that long), if known.
    wait: int | None = None
    #: Why two Web Connectors are thought to poll the company, when this authenticate shows it.
    rival: str | None = None


def judge(holder: Holder, now: datetime, *, supersede_after: timedelta, rival_seen_at: datetime | None) -> Verdict:
    """Whether a new authenticate of the company supersedes its open session ``holder`` (pure).

    A Web Connector runs one session at a time, so its new authenticate means its old
    session is over. The rule, in order:

    1. The session called (answered or leased) after an authenticate was refused for it:
       authenticates keep arriving while it keeps calling, so two Web Connectors poll the
       company. Not superseded; the rival is reported.
    2. A second Web Connector was seen within :data:`RIVAL_MEMORY`: not superseded (only
       ``QBWC_SESSION_TIMEOUT`` ends it).
    3. It holds nothing in flight: superseded (it has nothing to lose).
    4. Neither a call answered nor a job leased for ``supersede_after``: superseded.
    5. Otherwise QuickBooks may still be working on its message: not superseded, and
       ``wait`` says when rule 4 will hold.
    """
    if holder.refused_at is not None and holder.last_active > holder.refused_at:
        seen = holder.refused_at.strftime("%Y-%m-%d %H:%M:%S UTC")
        return Verdict(
            False,
            rival=f"a Web Connector authenticated at {seen} and again now while session {holder.ticket[:8]} "
            "kept calling in between",
        )
    if rival_seen_at is not None and now - rival_seen_at < RIVAL_MEMORY:
        return Verdict(False)
    if holder.in_flight == 0:
        return Verdict(True)
    quiet = now - holder.last_active
    if quiet >= supersede_after:
        return Verdict(True)
    return Verdict(False, wait=max(1, math.ceil((supersede_after - quiet).total_seconds())))


def holder(conn: Connection, company_id: int) -> Holder | None:
    """The company's open session with what :func:`judge` weighs, or None."""
    in_flight = and_(J.c.ticket == S.c.ticket, J.c.state == JobState.IN_FLIGHT)
    row = conn.execute(
        select(
            S.c.ticket, S.c.last_seen_at, S.c.refused_at,
            select(func.max(J.c.leased_at)).where(in_flight).scalar_subquery().label("leased_at"),
            select(func.count()).select_from(J).where(in_flight).scalar_subquery().label("in_flight"),
        ).where(S.c.company_id == company_id, S.c.state == SessionState.OPEN)
    ).first()  # fmt: skip
    if row is None:
        return None
    return Holder(row.ticket, row.last_seen_at, row.leased_at, int(row.in_flight), row.refused_at)


def refuse(conn: Connection, ticket: str, now: datetime) -> None:
    """Note that an authenticate was refused while the open session ``ticket`` was active."""
    conn.execute(update(S).where(S.c.ticket == ticket, S.c.state == SessionState.OPEN).values(refused_at=now))


def take_over(conn: Connection, ticket: str, now: datetime) -> bool:
    """Supersede the open session ``ticket`` and put its in-flight jobs back, marked for a lookup.

    Returns False when the session is no longer open (another call ended it first).
    """
    done = conn.execute(
        update(S)
        .where(S.c.ticket == ticket, S.c.state == SessionState.OPEN)
        .values(state=SessionState.SUPERSEDED, ended_at=now, last_error=SUPERSEDED_TEXT)
    )
    if done.rowcount != 1:
        return False
    jobs.release(conn, [ticket], reason="the Web Connector came back with a new session before answering", now=now)
    return True


def record_rival(conn: prepared.Executor, company_id: int, detail: str, now: datetime) -> None:
    """Keep on the company that a second Web Connector polls it, when, and what it did."""
    params = {"p_company": company_id, "p_now": now, "p_detail": detail[:1000]}
    prepared.execute(conn, _rival_stmt(), params)


@functools.cache
def _rival_stmt() -> Any:
    return (
        update(C)
        .where(C.c.id == bindparam("p_company"))
        .values(
            rival_seen_at=bindparam("p_now", type_=C.c.rival_seen_at.type),
            rival_detail=bindparam("p_detail", type_=C.c.rival_detail.type),
        )
    )


@functools.cache
def _superseded_stmt() -> Any:
    return select(S.c.company_id, S.c.superseded_by).where(
        S.c.ticket == bindparam("p_ticket"), S.c.state == SessionState.SUPERSEDED
    )


@functools.cache
def _rival_error_stmt() -> Any:
    return update(S).where(S.c.ticket == bindparam("p_ticket")).values(last_error=RIVAL_TEXT)


def superseded_call(conn: prepared.Executor, ticket: str, operation: str) -> bool:
    """Whether ``ticket`` is a superseded session; if so, its call shows two Web Connectors, recorded.

    The Web Connector that came back runs one session at a time, so the old ticket calling
    again after it was superseded is another Web Connector's. Nothing is leased or settled:
    the caller answers as for an ended session, and ``getLastError`` says what is wrong.
    """
    rows = prepared.fetch(conn, _superseded_stmt(), {"p_ticket": ticket})
    if not rows:
        return False
    now = utcnow()
    by = f" while session {rows[0].superseded_by[:8]} was running" if rows[0].superseded_by else ""
    detail = (
        f"session {ticket[:8]} called {operation} at {now:%Y-%m-%d %H:%M:%S} UTC after a newer "
        f"authenticate had taken its work over{by}"
    )
    record_rival(conn, rows[0].company_id, detail, now)
    prepared.execute(conn, _rival_error_stmt(), {"p_ticket": ticket})
    return True
