"""The job queue: enqueue work, lease it to QBWC sessions, record what came back.

This is the only module that writes ``job.state``. Every transition is a guarded
compare-and-set UPDATE and appends a :class:`JobEvent`. The functions on the QBWC hot
path speak SQLAlchemy Core on a :class:`Connection`; callers holding an ORM ``Session``
pass ``session.connection()``.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, and_, bindparam, exists, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from qbwc_service.db import prepared, tables
from qbwc_service.db.prepared import Executor
from qbwc_service.db.types import JobState, SessionState, utcnow
from qbwc_service.errors import CompanyNotFound, JobNotFound, JobStateError, PayloadError
from qbwc_service.queue.kinds import JobKind, creates, get_kind, job_refs, names_referred_to


@dataclass(frozen=True, slots=True)
class Enqueued:
    """The outcome of :func:`enqueue`."""

    job_id: int
    state: JobState
    #: False when the idempotency key matched a job enqueued before.
    created: bool
    #: A document kind's: every job it was queued as, its id, and what a person should know.
    jobs: tuple[int, ...] = ()
    document_id: int | None = None
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class LeasedJob:
    """A job handed to a QBWC session."""

    id: int
    kind: str
    payload: dict[str, Any]
    attempts: int
    max_attempts: int
    step: int
    progress: dict[str, Any] | None
    #: Its dependencies not done yet: each goes earlier in the same message.
    after: tuple[int, ...] = ()
    #: What each ``{"job": N}`` ref of the payload resolves to (see :func:`.kinds.resolve_refs`):
    #: the dependency's recorded result, or ``{"FullName": ...}`` when it goes earlier in the message.
    known: Mapping[int, Mapping[str, Any]] | None = None


#: The ``progress`` key that marks a job whose last request may have been applied in
#: QuickBooks without its reply reaching us (see :mod:`qbwc_service.qbwc.lost_replies`).
LOST_REPLY = "verify"


def lost_reply_mark() -> dict[str, Any]:
    """The ``progress`` of a job requeued after its reply was lost: look it up before sending it again."""
    return {LOST_REPLY: True}


J, S, C, D = tables.job, tables.qbwc_session, tables.company, tables.job_dependency

_EVENT_FIELDS = (
    "job_id", "at", "ticket", "message", "from_state", "to_state", "actor", "request_xml", "response_xml",
)  # fmt: skip


def events(conn: Executor, rows: Iterable[Mapping[str, Any]]) -> None:
    """Append job events (``job_id``, ``from_state``, ``to_state``, ``ticket``, ``actor``, ``message``).

    The event of a job sent carries the step's request (``request_xml``), the event of its
    answer the response (``response_xml``): every step shows in the history, and the job's
    last request and response are the last its events carry (:func:`.views.last_xml`). The
    job row holds no copy: each lease and outcome rewrites the row, and would rewrite the XML.
    """
    now = utcnow()
    defaults = {
        "at": now, "ticket": None, "message": None, "from_state": None, "to_state": None, "actor": "system",
        "request_xml": None, "response_xml": None,
    }  # fmt: skip
    batch = [{f"p_{k}": v for k, v in {**defaults, **row}.items()} for row in rows]
    prepared.execute_rows(conn, _event_insert(), batch)


@functools.cache
def _event_insert() -> prepared.PerRow:
    table = tables.job_event
    return prepared.PerRow(
        lambda row: insert(table).from_select(_EVENT_FIELDS, select(*(row(f"p_{name}") for name in _EVENT_FIELDS))),
        **{f"p_{name}": table.c[name].type for name in _EVENT_FIELDS},
    )


def company_id_by_name(conn: Connection, name: str) -> int:
    """The id of the company called ``name``."""
    found = conn.execute(select(C.c.id).where(C.c.name == name)).scalar_one_or_none()
    if found is None:
        raise CompanyNotFound(name)
    return int(found)


def enqueue(
    conn: Connection,
    company: str | int,
    kind: str,
    payload: Mapping[str, Any],
    *,
    idempotency_key: str | None = None,
    priority: int = 0,
    depends_on: int | Sequence[int] | None = None,
    max_attempts: int = 5,
    actor: str = "api",
) -> Enqueued:
    """Validate ``payload`` for ``kind`` and queue it for ``company`` (a name or an id).

    The job waits for every job of ``depends_on`` (one id or several), for every job a ref
    of its payload names (``{"job": N}``), and for every queued or in-flight job of the
    company that will create a name its refs give (an implicit dependency; see
    docs/architecture.md). With an ``idempotency_key`` already used for the company,
    nothing is queued and the earlier job is returned (``created=False``).
    """
    company_id = company if isinstance(company, int) else company_id_by_name(conn, company)
    if not isinstance(payload, Mapping):
        raise PayloadError(kind, ["payload: must be a JSON object"])
    job_kind = get_kind(kind)
    clean = job_kind.validate(payload)
    if job_kind.expand is not None:
        return _expand(conn, company_id, job_kind, clean, idempotency_key, depends_on, priority, max_attempts, actor)
    if idempotency_key is not None:
        earlier = _by_idempotency_key(conn, company_id, idempotency_key)
        if earlier is not None:
            return earlier
    explicit = [depends_on] if isinstance(depends_on, int) else list(dict.fromkeys(depends_on or ()))
    refs = job_refs(clean)
    dependencies = _dependencies(conn, company_id, kind, clean, explicit, refs)
    made = creates(kind, clean)
    now = utcnow()
    values = {
        "company_id": company_id,
        "kind": kind,
        "payload": clean,
        "idempotency_key": idempotency_key,
        "reference": job_kind.reference(clean),
        "priority": priority,
        "state": JobState.QUEUED,
        "attempts": 0,
        "max_attempts": max_attempts,
        "creates": made.casefold()[:209] if made else None,
        "step": 0,
        "send_alone": False,
        "created_at": now,
        "updated_at": now,
    }
    add = insert(J).values(**values).returning(J.c.id)
    if idempotency_key is None:  # nothing unique to race on: no savepoint to pay for
        job_id = conn.execute(add).scalar_one()
    else:
        try:
            with conn.begin_nested():
                job_id = conn.execute(add).scalar_one()
        except IntegrityError:  # another transaction queued the same key first
            earlier = _by_idempotency_key(conn, company_id, idempotency_key)
            if earlier is None:
                raise
            return earlier
    if dependencies:
        by_ref = {r.job_id for r in refs}
        conn.execute(
            insert(D),
            [{"job_id": job_id, "depends_on_id": d, "ref": d in by_ref} for d in dependencies],
        )
    events(
        conn,
        [{"job_id": job_id, "to_state": JobState.QUEUED, "actor": actor, "message": "enqueued"
          + (f", after job{'s' if len(dependencies) > 1 else ''} {', '.join(map(str, dependencies))}"
             if dependencies else "")}],
    )  # fmt: skip
    return Enqueued(job_id, JobState.QUEUED, True)


def _expand(
    conn: Connection, company_id: int, job_kind: JobKind, clean: dict[str, Any], idempotency_key: str | None,
    depends_on: int | Sequence[int] | None, priority: int, max_attempts: int, actor: str,
) -> Enqueued:  # fmt: skip
    """Queue a document kind's jobs (:attr:`JobKind.expand`)."""
    problems = []
    if idempotency_key is not None:
        problems.append("idempotency_key: a document posts once by its own key (its number, its day); leave it out")
    if depends_on:
        problems.append("depends_on: a document's jobs depend on each other only; leave it out")
    if problems:
        raise PayloadError(job_kind.name, problems)
    assert job_kind.expand is not None
    done = job_kind.expand(conn, company_id, clean, actor, priority, max_attempts)
    state = JobState.QUEUED
    if not done.created:
        state = conn.execute(select(J.c.state).where(J.c.id == done.job_id)).scalar() or JobState.QUEUED
    return Enqueued(done.job_id, state, done.created, done.jobs, done.document_id, done.warnings)


def _dependencies(
    conn: Connection,
    company_id: int,
    kind: str,
    payload: Mapping[str, Any],
    explicit: Sequence[int],
    refs: Sequence[Any],
) -> list[int]:
    """The jobs a new job waits for: given, named by its refs, and creating a name it refers to."""
    named = [r.job_id for r in refs]
    wanted = list(dict.fromkeys([*explicit, *named]))
    if any(type(j) is not int for j in wanted):
        raise PayloadError(kind, ["depends_on: job ids are whole numbers"])
    found = set()
    if wanted:
        found = set(conn.execute(select(J.c.id).where(J.c.id.in_(wanted), J.c.company_id == company_id)).scalars())
    problems = [f"depends_on: job {j} is not a job of this company" for j in explicit if j not in found]
    problems += [f"{r.field}: job {r.job_id} is not a job of this company" for r in refs if r.job_id not in found]
    if problems:
        raise PayloadError(kind, list(dict.fromkeys(problems)))
    names = names_referred_to(payload)
    implicit: list[int] = []
    if names:
        implicit = list(
            conn.execute(
                select(J.c.id)
                .where(
                    J.c.company_id == company_id,
                    J.c.creates.in_(sorted(n[:209] for n in names)),
                    J.c.state.in_([JobState.QUEUED, JobState.IN_FLIGHT]),
                )
                .order_by(J.c.id)
            ).scalars()
        )
    return list(dict.fromkeys([*wanted, *implicit]))


def _by_idempotency_key(conn: Connection, company_id: int, key: str) -> Enqueued | None:
    row = conn.execute(
        select(J.c.id, J.c.state).where(J.c.company_id == company_id, J.c.idempotency_key == key)
    ).first()
    return Enqueued(row.id, JobState(row.state), False) if row else None


# -- the hot path: statements built once, executed with bound parameters -----------------

_QUEUED, _IN_FLIGHT, _DONE = JobState.QUEUED, JobState.IN_FLIGHT, JobState.DONE


def _has_dependency(dep: Any, condition: Any) -> Any:
    """EXISTS a dependency ``dep`` of the job (``J``) meeting ``condition``, looked up job by job.

    PostgreSQL turns a NOT EXISTS into an anti-join. Planned on statistics taken while
    nearly every job was queued, that join estimated the jobs blocking others (in flight,
    backing off) at one row, and found them by reading the whole table, history included, in
    every call: 20-58 ms per sendRequestXML at 21,000 jobs. ``OFFSET 0`` keeps the subquery
    a subplan run for each job the statement reads, through the primary keys of
    ``job_dependency`` and ``job`` (SQLite runs it so anyway).
    """
    edges = select(D.c.depends_on_id).select_from(D.join(dep, dep.c.id == D.c.depends_on_id))
    return edges.where(D.c.job_id == J.c.id, condition).offset(0).exists()


@functools.cache
def _ready_clause() -> Any:
    """Jobs of ``:p_company`` that may be handed out at ``:p_now``.

    Queued, past their back-off, and every dependency done (no dependency that is not).
    """
    dep = J.alias("dep")
    return and_(
        J.c.company_id == bindparam("p_company"),
        J.c.state == _QUEUED,
        or_(J.c.not_before.is_(None), J.c.not_before <= bindparam("p_now", type_=J.c.not_before.type)),
        ~_has_dependency(dep, dep.c.state != _DONE),
    )


@functools.cache
def _outlook_stmt() -> Any:
    queued = select(func.count()).select_from(J).where(J.c.company_id == bindparam("p_company"), J.c.state == _QUEUED)
    return select(exists().where(_ready_clause()), queued.scalar_subquery())


def _not_held_back(table: Any = J) -> Any:
    """Not held back from the session ``:p_ticket``: a queued job keeps the ticket of the session
    it waits out (:class:`Outcome` ``hold``), and goes again in the next one."""
    return or_(table.c.ticket.is_(None), table.c.ticket != bindparam("p_ticket"))


@functools.cache
def _has_work_stmt() -> Any:
    held = exists().where(J.c.state == _IN_FLIGHT, J.c.ticket == bindparam("p_ticket"))
    return select(or_(exists().where(_ready_clause(), _not_held_back()), held))


@functools.cache
def _candidates_stmt(dialect: str, strict: bool = False) -> Any:
    """Candidate jobs of the company of the open session ``:p_ticket``, highest priority first, then oldest.

    A window of ``:p_window`` queued jobs past their back-off whose every dependency is done
    or itself queued and past its back-off (so it may go earlier in the same message);
    ``strict``: only jobs whose every dependency is done (ready ones). Each
    row is led by the session's columns and followed by one dependency edge of the job: one
    not done yet, or one its payload names as ``{"job": N}`` (with that job's result); a
    job has as many rows as such edges, at least one. No row when no job is a candidate or
    no such session is open.
    """
    now = bindparam("p_now", type_=J.c.not_before.type)
    company = select(S.c.company_id).where(S.c.ticket == bindparam("p_ticket"), S.c.state == SessionState.OPEN)
    blocker = J.alias("blocker")
    may_go = or_(blocker.c.state == _DONE, and_(blocker.c.state == _QUEUED, or_(
        blocker.c.not_before.is_(None), blocker.c.not_before <= now)))  # fmt: skip
    window = (
        select(J.c.id, J.c.company_id, J.c.priority, J.c.send_alone, J.c.kind, J.c.payload, J.c.attempts,
               J.c.max_attempts, J.c.step, J.c.progress)
        .where(
            J.c.company_id == company.scalar_subquery(), J.c.state == _QUEUED,
            or_(J.c.not_before.is_(None), J.c.not_before <= now), _not_held_back(),
            ~_has_dependency(blocker, blocker.c.state != _DONE if strict else ~may_go),
        )
        .order_by(J.c.priority.desc(), J.c.id)
        .limit(bindparam("p_window"))
    )  # fmt: skip
    if dialect == "postgresql":
        window = window.with_for_update(skip_locked=True, of=J)
    w = window.subquery("w")
    edge, dep, pending = D.alias("edge"), J.alias("dep"), J.alias("pending")
    # Each candidate's edges by the primary key (job_id, ...), then each dependency by its id:
    # a condition on the joined dependency (edge JOIN dep) made SQLite scan every edge of
    # the table for each candidate.
    not_done = exists().where(pending.c.id == edge.c.depends_on_id, pending.c.state != _DONE)
    return (
        select(
            S.c.company_id, S.c.hcp_seen, S.c.qbxml_version, S.c.qbxml_country,
            w.c.id, w.c.send_alone, w.c.kind, w.c.payload, w.c.attempts, w.c.max_attempts, w.c.step, w.c.progress,
            edge.c.depends_on_id.label("dep_id"), edge.c.ref.label("dep_ref"), dep.c.state.label("dep_state"),
            dep.c.result.label("dep_result"),
        )
        .select_from(
            S.join(w, w.c.company_id == S.c.company_id)
            .outerjoin(edge, and_(edge.c.job_id == w.c.id, or_(edge.c.ref, not_done)))
            .outerjoin(dep, dep.c.id == edge.c.depends_on_id)
        )
        .where(S.c.ticket == bindparam("p_ticket"), S.c.state == SessionState.OPEN)
        .order_by(w.c.priority.desc(), w.c.id, edge.c.depends_on_id)
    )  # fmt: skip


@functools.cache
def _claim_stmt(checking: bool = False) -> prepared.PerRow:
    """Lease queued jobs to a ticket (the request each is sent as goes on its event).

    ``checking``: the request is the query of a lost-reply check, sent as the job's next step.
    """
    now = bindparam("p_now", type_=J.c.leased_at.type)

    def build(row: prepared.RowValue) -> Any:
        stmt = (
            update(J)
            .where(J.c.id == row("p_id"), J.c.state == _QUEUED)
            .values(
                state=_IN_FLIGHT, ticket=bindparam("p_ticket", type_=J.c.ticket.type), leased_at=now,
                attempts=J.c.attempts + 1, updated_at=now,
            )
        )  # fmt: skip
        if checking:
            stmt = stmt.values(step=J.c.step + 1, progress=row("p_progress"))
        return stmt

    types = {"p_id": J.c.id.type}
    return prepared.PerRow(build, **types, **({"p_progress": J.c.progress.type} if checking else {}))


@functools.cache
def _fail_queued_stmt() -> Any:
    now = bindparam("p_now", type_=J.c.updated_at.type)
    return (
        update(J)
        .where(J.c.id == bindparam("p_id"), J.c.state == _QUEUED)
        .values(
            state=JobState.FAILED, error=bindparam("p_error", type_=J.c.error.type), updated_at=now, finished_at=now
        )
    )


@functools.cache
def _settle_stmt(with_progress: bool = False, advance: bool = False, hold: bool = False) -> prepared.PerRow:
    """One guarded UPDATE for every outcome: in flight for this ticket, to the outcome's state.

    ``with_progress``: the outcome also replaces the job's ``progress``; ``advance``: the job
    goes on to its next step; ``hold``: the queued job keeps the ticket, so that this session
    does not send it again (the next one does).
    """
    now = bindparam("p_now", type_=J.c.updated_at.type)
    ticket = bindparam("p_ticket", type_=J.c.ticket.type)

    def build(row: prepared.RowValue) -> Any:
        stmt = (
            update(J)
            .where(J.c.id == row("p_id"), J.c.state == _IN_FLIGHT, J.c.ticket == ticket)
            .values(
                state=row("p_state"),
                updated_at=now,
                ticket=ticket if hold else None,
                leased_at=None,
                status_code=row("p_code"),
                status_severity=row("p_severity"),
                status_message=row("p_message"),
                error=row("p_error"),
                result=row("p_result"),
                finished_at=row("p_finished"),
                not_before=row("p_not_before"),
                attempts=J.c.attempts - row("p_uncount"),
                send_alone=func.coalesce(row("p_send_alone"), J.c.send_alone),
            )
        )
        if advance:
            stmt = stmt.values(step=J.c.step + 1)
        return stmt.values(progress=row("p_progress")) if with_progress else stmt

    types = {
        "p_id": J.c.id.type, "p_state": J.c.state.type, "p_code": J.c.status_code.type,
        "p_severity": J.c.status_severity.type, "p_message": J.c.status_message.type, "p_error": J.c.error.type,
        "p_result": J.c.result.type, "p_finished": J.c.finished_at.type,
        "p_not_before": J.c.not_before.type, "p_uncount": J.c.attempts.type, "p_send_alone": J.c.send_alone.type,
    }  # fmt: skip
    if with_progress:
        types["p_progress"] = J.c.progress.type
    return prepared.PerRow(build, **types)


@dataclass(frozen=True, slots=True)
class Outlook:
    """A company's queue as a session about to start sees it."""

    #: Some job could be handed out now.
    ready: bool
    #: Queued jobs in all, ready or waiting on others: what the session's progress counts towards.
    queued: int


def outlook(conn: Executor, company_id: int, now: datetime | None = None) -> Outlook:
    """Whether a job of the company is ready now, and how many are queued: one indexed statement.

    Counting only the ready ones read every queued job's dependencies (9 ms at a thousand jobs);
    whether one is ready stops at the first, and the count of queued ones reads ``ix_job_next``.
    """
    (row,) = prepared.fetch(conn, _outlook_stmt(), {"p_company": company_id, "p_now": now or utcnow()})
    return Outlook(bool(row[0]), int(row[1]))


def has_work(conn: Executor, company_id: int, ticket: str) -> bool:
    """Whether the session still has something to do: a job ready now, or one it holds in flight."""
    params = {"p_company": company_id, "p_now": utcnow(), "p_ticket": ticket}
    (row,) = prepared.fetch(conn, _has_work_stmt(), params)
    return bool(row[0])


def held_back(conn: Connection, company_id: int, ticket: str) -> str | None:
    """What a job held back from the session ``ticket`` waits for (see :class:`Outcome` ``hold``), if any.

    Read among the company's queued jobs (``ix_job_next``): the ticket alone has no index.
    """
    found = conn.execute(
        select(J.c.error)
        .where(J.c.company_id == company_id, J.c.state == _QUEUED, J.c.ticket == ticket, J.c.error.is_not(None))
        .order_by(J.c.id)
    ).scalar()
    return str(found) if found else None


def session_candidates(
    conn: Executor, ticket: str, *, limit: int, now: datetime | None = None
) -> tuple[Any, list[LeasedJob]]:
    """The next jobs of the company of the open session ``ticket`` for one message, read with the session.

    Highest priority first, then oldest. A job whose dependencies are not all done comes
    when each of them comes earlier in the same message (:func:`in_message`). A job marked
    ``send_alone`` (it broke a batch before) comes by itself. On PostgreSQL the job rows
    are locked until the transaction ends, and rows locked by another transaction are skipped.

    Returns the session's ``company_id``, ``hcp_seen``, ``qbxml_version`` and
    ``qbxml_country`` with the jobs, or ``(None, [])`` when there is no ready job (or no
    such open session).

    One SELECT reads ``limit`` candidates, blocked ones included. Only when none of them can
    go (each waits for a job outside the window, or names one by TxnID) does a second read
    the ready jobs alone, so that blocked jobs never starve ready ones.
    """
    params = {"p_ticket": ticket, "p_now": now or utcnow(), "p_window": limit}
    rows = prepared.fetch(conn, _candidates_stmt(conn.dialect.name), params)
    found = in_message(_candidates(rows), limit=limit)
    if rows and not found:
        rows = prepared.fetch(conn, _candidates_stmt(conn.dialect.name, strict=True), params)
        found = in_message(_candidates(rows), limit=limit)
    return (rows[0] if rows else None), found


@dataclass(frozen=True, slots=True)
class Candidate:
    """A queued job that may go in the next message, with the dependencies that decide whether it does."""

    job: LeasedJob
    send_alone: bool = False
    #: Dependencies not done yet.
    waiting: tuple[int, ...] = ()
    #: The result of each dependency the payload names as ``{"job": N}`` that is done.
    results: Mapping[int, Mapping[str, Any]] | None = None
    #: Dependencies named as ``{"job": N}`` (done or not).
    named: frozenset[int] = frozenset()


def _candidates(rows: Iterable[Any]) -> list[Candidate]:
    """The rows of the candidates' SELECT (one per dependency edge) as one :class:`Candidate` per job."""
    found: list[Candidate] = []
    waiting: list[int] = []
    results: dict[int, Any] = {}
    named: set[int] = set()
    last: Any = None

    def close() -> None:
        job = LeasedJob(last.id, last.kind, last.payload, last.attempts + 1, last.max_attempts, last.step,
                        last.progress)  # fmt: skip
        found.append(Candidate(job, last.send_alone, tuple(waiting), dict(results), frozenset(named)))

    for r in rows:
        if last is not None and r.id != last.id:
            close()
            waiting, results, named = [], {}, set()
        last = r
        if r.dep_id is None:
            continue
        if r.dep_state == _DONE:
            results[r.dep_id] = r.dep_result or {}
        else:
            waiting.append(r.dep_id)
        if r.dep_ref:
            named.add(r.dep_id)
    if last is not None:
        close()
    return found


def in_message(candidates: Sequence[Candidate], *, limit: int) -> list[LeasedJob]:
    """Which candidates go in one message, in an order that puts every dependency before its dependents.

    Pure. QuickBooks processes a message's requests in order, so a job may go after the
    dependencies it waits for. A ``{"job": N}`` ref to a dependency in the same message
    has no id yet: it goes by the FullName that dependency will create, and when it cannot
    (a TxnID, a name not known) the job waits for the next message. A job that must be
    sent alone goes first and by itself, or not at all. Candidates come in priority order;
    one that comes before a dependency waits until that dependency is placed.
    """
    placed: dict[int, LeasedJob] = {}
    order: list[LeasedJob] = []
    pending: list[Candidate] = []
    ids = {c.job.id for c in candidates}

    def place(c: Candidate) -> bool:
        if any(d not in placed for d in c.waiting):
            return False
        known: dict[int, Mapping[str, Any]] = {d: v for d, v in (c.results or {}).items() if d in c.named}
        for d in c.named:
            if d in known:
                continue
            dep = placed.get(d)
            name = creates(dep.kind, dep.payload) if dep is not None else None
            if name is None or any(r.job_id == d and not r.by_name for r in job_refs(c.job.payload)):
                return False
            known[d] = {"FullName": name}
        job = c.job
        if c.waiting or known:
            job = dataclasses.replace(job, after=c.waiting, known=known or None)
        placed[job.id] = job
        order.append(job)
        return True

    for c in candidates:
        if len(order) >= limit:
            break
        if c.send_alone:
            if order:
                break
            if not c.waiting and place(c):
                break
            continue
        if place(c):
            progress = True
            while progress and pending and len(order) < limit:
                progress = False
                for p in list(pending):
                    if len(order) < limit and place(p):
                        pending.remove(p)
                        progress = True
        elif all(d in ids for d in c.waiting):
            pending.append(c)
    return order


def claim(
    conn: Executor,
    ticket: str,
    leases: Sequence[tuple[LeasedJob, str | None]],
    *,
    checks: Mapping[int, dict[str, Any]] | None = None,
    now: datetime | None = None,
) -> None:
    """Lease the given candidates to ``ticket``, each with the request it is sent as.

    ``checks`` maps the jobs sent as a lost-reply check (see :mod:`.verify`) to the
    ``progress`` they carry meanwhile; their ``step`` goes up by one.

    The guarded UPDATE runs once for them all; the candidates' row locks (PostgreSQL) or the
    transaction's write lock (SQLite ``BEGIN IMMEDIATE``) mean none can have moved.
    """
    if not leases:
        return
    now = now or utcnow()
    checks = checks or {}
    plain = [{"p_id": job.id, "p_ticket": ticket, "p_now": now} for job, _xml in leases if job.id not in checks]
    claimed = prepared.execute_rows(conn, _claim_stmt(), plain)
    if checks:
        checked = [{"p_id": job.id, "p_ticket": ticket, "p_now": now, "p_progress": checks[job.id]}
                   for job, _xml in leases if job.id in checks]  # fmt: skip
        claimed += prepared.execute_rows(conn, _claim_stmt(checking=True), checked)
    if claimed != len(leases):
        raise JobStateError(leases[0][0].id, "queued")
    events(
        conn,
        (
            {"job_id": job.id, "from_state": _QUEUED, "to_state": _IN_FLIGHT, "ticket": ticket, "actor": "qbwc",
             "message": f"sent, attempt {job.attempts}" if job.id not in checks else
             f"asked QuickBooks whether it already has this (the reply to the last attempt was lost), "
             f"attempt {job.attempts}", "request_xml": xml}
            for job, xml in leases
        ),
    )  # fmt: skip


def fail_queued(conn: Executor, job_id: int, error: str, *, ticket: str | None, actor: str = "qbwc") -> bool:
    """Fail a queued job that cannot be sent (its request cannot be built), and its dependents."""
    if prepared.execute(conn, _fail_queued_stmt(), {"p_id": job_id, "p_error": error, "p_now": utcnow()}) != 1:
        return False
    events(conn, [{"job_id": job_id, "from_state": _QUEUED, "to_state": JobState.FAILED, "ticket": ticket,
                   "actor": actor, "message": error}])  # fmt: skip
    fail_dependents(conn, [job_id], actor=actor)
    return True


@dataclass(frozen=True, slots=True)
class Outcome:
    """What QuickBooks said about one in-flight job, ready to be recorded."""

    job_id: int
    to_state: JobState
    status_code: int | None = None
    status_severity: str | None = None
    status_message: str | None = None
    response_xml: str | None = None
    result: dict[str, Any] | None = None
    error: str | None = None
    not_before: datetime | None = None
    #: Whether the attempt counts towards ``max_attempts`` (not when a batch was refused whole).
    count_attempt: bool = True
    send_alone: bool | None = None
    message: str | None = None
    #: Replace the job's ``progress`` with :attr:`progress` (False: leave it as it is).
    set_progress: bool = False
    progress: dict[str, Any] | None = None
    #: The job goes on to its next step (its ``step`` goes up by one).
    advance: bool = False
    #: Records of a page of an iterated query, for its kind's sink.
    records: tuple[dict[str, Any], ...] = ()
    #: How much of the job is done (0 to 1) when it goes on to another step: the percentage moves.
    share: float | None = None
    #: Back to the queue but not in this session: it waits for something a person changes in
    #: QuickBooks (:class:`~qbwc_service.queue.steps.Later`) and is sent again in the next session.
    hold: bool = False


def settle(conn: Executor, ticket: str, outcomes: Sequence[Outcome], *, actor: str = "qbwc") -> list[int]:
    """Move in-flight jobs of ``ticket`` to their outcome's state; return the ids settled.

    A job no longer in flight for this ticket (it was requeued after the session went
    quiet, or cancelled) is left alone and not returned. Outcomes of one shape run as one
    guarded UPDATE (:class:`~qbwc_service.db.prepared.PerRow`); only when it changed fewer
    rows than it holds is each of its jobs read back to tell which moved.
    """
    now = utcnow()
    groups: dict[tuple[bool, bool, bool], list[tuple[Outcome, dict[str, Any]]]] = {}
    for o in outcomes:
        done = o.to_state is JobState.DONE
        params: dict[str, Any] = {
            "p_id": o.job_id, "p_ticket": ticket, "p_now": now, "p_state": o.to_state,
            "p_code": o.status_code, "p_severity": o.status_severity, "p_message": o.status_message,
            "p_error": None if done else o.error,
            "p_result": o.result if done else None,
            "p_finished": None if o.to_state is JobState.QUEUED else now,
            "p_not_before": o.not_before if o.to_state is JobState.QUEUED else None,
            "p_uncount": 0 if o.count_attempt else 1, "p_send_alone": o.send_alone,
        }  # fmt: skip
        if o.set_progress:
            params["p_progress"] = o.progress
        groups.setdefault((o.set_progress, o.advance, o.hold and o.to_state is JobState.QUEUED), []).append((o, params))
    moved: set[int] = set()
    for shape, batch in groups.items():
        changed = prepared.execute_rows(conn, _settle_stmt(*shape), [params for _, params in batch])
        if changed == len(batch):
            moved.update(o.job_id for o, _ in batch)
        else:
            moved.update(o.job_id for o, _ in batch if _moved_at(conn, o, now))
    settled = [o.job_id for o in outcomes if o.job_id in moved]
    events(
        conn,
        (
            {"job_id": o.job_id, "from_state": _IN_FLIGHT, "to_state": o.to_state,
             "ticket": ticket, "actor": actor, "message": o.message or o.error,
             "response_xml": o.response_xml}
            for o in outcomes if o.job_id in moved
        ),
    )  # fmt: skip
    failed = [o.job_id for o in outcomes if o.to_state is JobState.FAILED and o.job_id in moved]
    if failed:
        fail_dependents(conn, failed, actor=actor)
    return settled


@functools.cache
def _moved_stmt() -> Any:
    return select(J.c.state, J.c.ticket, J.c.updated_at).where(J.c.id == bindparam("p_id"))


def _moved_at(conn: Executor, outcome: Outcome, now: datetime) -> bool:
    """Whether :func:`settle` just moved this job (read back after a batch changed fewer rows than it held)."""
    rows = prepared.fetch(conn, _moved_stmt(), {"p_id": outcome.job_id})
    row = rows[0] if rows else None
    held = outcome.hold and outcome.to_state is JobState.QUEUED
    return row is not None and row.state == outcome.to_state and (held or row.ticket is None) and row.updated_at == now


def dependency_failed(job_id: int) -> str:
    """The error of a job failed because its dependency ``job_id`` failed (also how :func:`retry` finds it)."""
    return f"job {job_id}, which it depends on, failed; retry that one first"


def fail_dependents(conn: Executor, failed_ids: Sequence[int], *, actor: str) -> int:
    """Fail queued jobs that depend on a failed one (and their dependents in turn), naming it."""
    total = 0
    frontier = list(failed_ids)
    while frontier:
        now = utcnow()
        rows = [
            (job_id, r.id)
            for job_id in frontier
            for r in prepared.fetch(
                conn, _fail_dependents_stmt(), {"p_id": job_id, "p_now": now, "p_error": dependency_failed(job_id)}
            )
        ]
        events(
            conn,
            (
                {"job_id": dependent, "from_state": JobState.QUEUED, "to_state": JobState.FAILED,
                 "actor": actor, "message": dependency_failed(failed)}
                for failed, dependent in rows
            ),
        )  # fmt: skip
        total += len(rows)
        frontier = [dependent for _, dependent in rows]
    return total


@functools.cache
def _fail_dependents_stmt() -> Any:
    now = bindparam("p_now", type_=J.c.updated_at.type)
    dependents = select(D.c.job_id).where(D.c.depends_on_id == bindparam("p_id"))
    return (
        update(J)
        .where(J.c.id.in_(dependents), J.c.state == _QUEUED)
        .values(
            state=JobState.FAILED, finished_at=now, updated_at=now,
            error=bindparam("p_error", type_=J.c.error.type),
        )
        .returning(J.c.id)
    )  # fmt: skip


def dependencies_of(conn: Connection, job_ids: Sequence[int]) -> dict[int, list[int]]:
    """The jobs each of ``job_ids`` depends on, in id order (the admin pages and the API show them)."""
    out: dict[int, list[int]] = {j: [] for j in job_ids}
    if job_ids:
        rows = conn.execute(
            select(D.c.job_id, D.c.depends_on_id).where(D.c.job_id.in_(list(job_ids))).order_by(D.c.depends_on_id)
        )
        for job_id, dep in rows:
            out[job_id].append(dep)
    return out


def release(conn: Connection, tickets: Sequence[str], *, reason: str, now: datetime | None = None) -> int:
    """Return the in-flight jobs of the given sessions to the queue (or fail them).

    QuickBooks may have applied their requests, so the requeued ones are marked
    ``progress = {"verify": true}``: an Add is looked up before it is sent again. A
    multi-step job keeps the rest of its progress (the step it was at, the pages it has).
    """
    now = now or utcnow()
    rows = conn.execute(
        select(J.c.id, J.c.ticket, J.c.attempts, J.c.max_attempts, J.c.progress).where(
            J.c.state == JobState.IN_FLIGHT, J.c.ticket.in_(tickets)
        )
    ).all()
    by_ticket: dict[str, list[Outcome]] = {}
    for r in rows:
        # A lost-reply check in flight starts over; any other step is kept.
        kept = {} if (r.progress or {}).get("checking") else (r.progress or {})
        exhausted = r.attempts >= r.max_attempts
        by_ticket.setdefault(r.ticket, []).append(
            Outcome(
                r.id,
                JobState.FAILED if exhausted else JobState.QUEUED,
                error=f"{reason}; QuickBooks may or may not have applied the request"
                + (f" (gave up after {r.attempts} attempts)" if exhausted else ""),
                set_progress=not exhausted,
                progress=None if exhausted else {**kept, **lost_reply_mark()},
            )
        )
    return sum(len(settle(conn, t, outs, actor="system")) for t, outs in by_ticket.items())


def _transition(
    conn: Connection,
    job_id: int,
    expected: Sequence[JobState],
    values: Mapping[str, Any],
    *,
    actor: str,
    message: str,
) -> JobState:
    """Compare-and-set one job from any of ``expected`` states; returns the state it left."""
    current = conn.execute(select(J.c.state).where(J.c.id == job_id)).scalar_one_or_none()
    if current is None:
        raise JobNotFound(job_id)
    if current not in expected:
        raise JobStateError(job_id, " or ".join(expected), current)
    res = conn.execute(update(J).where(J.c.id == job_id, J.c.state == current).values(updated_at=utcnow(), **values))
    if res.rowcount != 1:
        raise JobStateError(job_id, " or ".join(expected))
    to_state = values.get("state", current)
    events(
        conn,
        [
            {
                "job_id": job_id,
                "from_state": current,
                "to_state": to_state,
                "actor": actor,
                "message": message,
            }
        ],
    )
    return JobState(current)


def cancel(conn: Connection, job_id: int, *, actor: str) -> None:
    """Withdraw a queued job."""
    _transition(
        conn, job_id, [JobState.QUEUED], {"state": JobState.CANCELLED, "finished_at": utcnow()},
        actor=actor, message="cancelled",
    )  # fmt: skip


def retry(conn: Connection, job_id: int, *, actor: str, priority: int | None = None) -> None:
    """Send a failed (or cancelled) job again, with a fresh set of attempts, and release its dependents.

    The dependents that failed because this job failed (their error is
    :func:`dependency_failed` of it) go back to the queue, and theirs in turn. One that
    still has another failed or cancelled dependency stays failed, its error now naming that one.
    """
    values: dict[str, Any] = {
        "state": JobState.QUEUED, "attempts": 0, "not_before": None, "finished_at": None,
        "send_alone": False, "step": 0, "progress": None,
    }  # fmt: skip
    if priority is not None:
        values["priority"] = priority
    _transition(conn, job_id, [JobState.FAILED, JobState.CANCELLED], values, actor=actor, message="retried")
    _release_dependents(conn, job_id, actor=actor)


def _release_dependents(conn: Connection, job_id: int, *, actor: str) -> None:
    """Requeue the jobs that failed only because ``job_id`` failed (see :func:`retry`)."""
    frontier = [job_id]
    dep = J.alias("dep")
    while frontier:
        released: list[int] = []
        for retried in frontier:
            dependents = conn.execute(
                select(J.c.id)
                .where(J.c.id.in_(select(D.c.job_id).where(D.c.depends_on_id == retried)),
                       J.c.state == JobState.FAILED, J.c.error.startswith(dependency_failed(retried), autoescape=True))
                .order_by(J.c.id)
            ).scalars().all()  # fmt: skip
            for dependent in dependents:
                other = conn.execute(
                    select(dep.c.id)
                    .select_from(D.join(dep, dep.c.id == D.c.depends_on_id))
                    .where(D.c.job_id == dependent, dep.c.state.in_([JobState.FAILED, JobState.CANCELLED]))
                    .order_by(dep.c.id)
                ).scalar()
                if other is not None:
                    conn.execute(update(J).where(J.c.id == dependent).values(error=dependency_failed(other)))
                    continue
                _transition(
                    conn, dependent, [JobState.FAILED],
                    {"state": JobState.QUEUED, "error": None, "not_before": None, "finished_at": None},
                    actor=actor, message=f"released: job {retried}, which it depends on, was retried",
                )  # fmt: skip
                released.append(dependent)
        frontier = released


def reprioritize(conn: Connection, job_id: int, priority: int, *, actor: str) -> None:
    """Change the priority of a queued job (and send it at once, ignoring back-off)."""
    _transition(
        conn, job_id, [JobState.QUEUED], {"priority": priority, "not_before": None},
        actor=actor, message=f"priority set to {priority}",
    )  # fmt: skip


def retry_all_failed(conn: Connection, company_id: int, *, actor: str) -> int:
    """Retry every failed job of a company; return how many."""
    ids = conn.execute(
        select(J.c.id).where(J.c.company_id == company_id, J.c.state == JobState.FAILED).order_by(J.c.id)
    ).scalars()
    count = 0
    for job_id in list(ids):
        try:
            retry(conn, job_id, actor=actor)
        except JobStateError:
            continue
        count += 1
    return count
