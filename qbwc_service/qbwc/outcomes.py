"""What becomes of each job of a message, from QuickBooks' answer: pure functions, no database.

:func:`of_message` matches every ``…Rs`` to the job held under its requestID and decides
its :class:`~qbwc_service.queue.jobs.Outcome`; :func:`of_hresult` does so when QuickBooks
refused the whole message. The caller records the outcomes (:func:`.jobs.settle`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from lxml import etree

from qbwc_service.db.models import JobState
from qbwc_service.errors import PayloadError, UnknownKind
from qbwc_service.qbwc import lost_replies
from qbwc_service.queue.jobs import Outcome, dependency_failed, lost_reply_mark
from qbwc_service.queue.kinds import Done, Failed, JobKind, Later, Next, StepState, creates, get_kind, resolve_refs
from qbwc_service.queue.retry import Action, RetryPolicy
from qbwc_service.queue.steps import DEFAULT_PAGE_SIZE
from qbxml_builders import QBResponse

#: hresult QuickBooks returns when it cannot parse the request document.
HRESULT_PARSE_ERROR = "0x80040400"
NO_ANSWER = "QuickBooks returned no answer for this request"


@dataclass(frozen=True, slots=True)
class HeldJob:
    """A job in flight for the session, as the answer finds it."""

    id: int
    kind: str
    payload: Mapping[str, Any]
    step: int
    attempts: int
    max_attempts: int
    progress: Mapping[str, Any] | None = None
    #: Its dependencies held in the same message (sent before it).
    after: tuple[int, ...] = ()
    #: The dependencies its payload names as ``{"job": N}``.
    named: frozenset[int] = frozenset()
    #: The recorded result of each of those that is done, to resolve the refs with.
    known: Mapping[int, Mapping[str, Any]] | None = None


def held_jobs(rows: Iterable[Any]) -> dict[int, HeldJob]:
    """The jobs of :func:`.sessions.held`'s rows (one per job and dependency edge), by id."""
    held: dict[int, HeldJob] = {}
    edges: dict[int, tuple[list[int], set[int], dict[int, Any]]] = {}
    for r in rows:
        if r.id is None:
            continue
        if r.id not in held:
            held[r.id] = HeldJob(r.id, r.kind, r.payload, r.step, r.attempts, r.max_attempts, r.progress)
        if r.dep_id is None:
            continue
        after, named, known = edges.setdefault(r.id, ([], set(), {}))
        if r.dep_in_message:
            after.append(r.dep_id)
        if r.dep_ref:
            named.add(r.dep_id)
            if r.dep_state == JobState.DONE:
                known[r.dep_id] = r.dep_result or {}
    for job_id, (after, named, known) in edges.items():
        held[job_id] = dataclasses.replace(
            held[job_id], after=tuple(after), named=frozenset(named), known=known or None
        )
    return held


@dataclass(frozen=True, slots=True)
class Answer:
    """One ``…Rs`` of the response: the element as received and what it says."""

    element: etree._Element
    response: QBResponse


@dataclass(frozen=True, slots=True)
class Decided:
    """The outcomes of one response, and the answers that matched no job of the session."""

    outcomes: list[Outcome]
    unexpected: list[QBResponse] = field(default_factory=list)


def request_id(job_id: int, step: int) -> str:
    """The requestID a job is sent under: its id, and its step once it has several."""
    return str(job_id) if step == 0 else f"{job_id}.{step}"


def job_id_of(request_id: str | None) -> int | None:
    """The job id a requestID names, or None when it names none of ours."""
    if not request_id:
        return None
    head = request_id.split(".", 1)[0]
    return int(head) if head.isdigit() else None


def of_message(
    held: Mapping[int, HeldJob],
    answers: Sequence[Answer],
    *,
    policy: RetryPolicy,
    now: datetime,
    kind_of: Callable[[str], JobKind] = get_kind,
    ticket: str | None = None,
    page_size: int = DEFAULT_PAGE_SIZE,
) -> Decided:
    """Decide every held job from its answer; a job left unanswered is retried or failed.

    ``ticket``: the session the answers came in (a kind's iterator belongs to it);
    ``page_size``: MaxReturned of an iterated query's pages unless the job gives its own.
    """
    decided = Decided([])
    answered: set[int] = set()
    results: dict[int, Mapping[str, Any]] = {}
    for answer in answers:
        job_id = job_id_of(answer.response.request_id)
        if job_id is None or job_id not in held or job_id in answered:
            decided.unexpected.append(answer.response)
            continue
        answered.add(job_id)
        job = held[job_id]
        if job.named:
            job = _resolved(job, held, results)
        outcome = of_answer(job, answer, policy=policy, now=now, kind_of=kind_of, ticket=ticket, page_size=page_size)
        if outcome.to_state is JobState.DONE and outcome.result:
            results[job_id] = outcome.result
        decided.outcomes.append(outcome)
    for job_id, job in held.items():
        if job_id not in answered:
            decided.outcomes.append(of_transport_failure(job, NO_ANSWER, policy=policy, now=now))
    decided.outcomes[:] = put_down_to_dependencies(held, decided.outcomes)
    return decided


def _resolved(job: HeldJob, held: Mapping[int, HeldJob], results: Mapping[int, Mapping[str, Any]]) -> HeldJob:
    """The job with its ``{"job": N}`` refs resolved, as when it was sent, for its kind to read the answer.

    A dependency done before holds its recorded result; one answered earlier in the same
    message, what that answer gave (else the FullName it was to create, as the request
    carried). When one is missing (it failed in this message), the payload stays as stored:
    the job's outcome is put down to that dependency anyway.
    """
    known = dict(job.known or {})
    for dep in job.named - known.keys():
        if dep in results:
            known[dep] = results[dep]
        elif dep in held and (name := creates(held[dep].kind, held[dep].payload)):
            known[dep] = {"FullName": name}
    try:
        return dataclasses.replace(job, payload=resolve_refs(job.kind, job.payload, known))
    except PayloadError:
        return job


def put_down_to_dependencies(held: Mapping[int, HeldJob], found: Sequence[Outcome]) -> list[Outcome]:
    """A job whose dependency in the same message was not done: its own failure is put down to it.

    QuickBooks read the dependent after its dependency failed, so its error (3140, an
    invalid reference, most often) says nothing of its own. It is settled as any dependent
    of that dependency: failed, naming it, when the dependency failed; back to the queue,
    the attempt not counted, when the dependency goes back to the queue. A dependent that
    succeeded all the same is done.
    """
    by_id = {o.job_id: o for o in found}
    changed = True
    while changed:  # dependencies go before their dependents; a chain settles in as many passes
        changed = False
        for job_id, outcome in by_id.items():
            job = held.get(job_id)
            if job is None or not job.after or outcome.to_state is JobState.DONE:
                continue
            blame = next((by_id[d] for d in job.after if d in by_id and by_id[d].to_state is not JobState.DONE), None)
            if blame is None:
                continue
            attributed = _dependency_outcome(outcome, blame)
            if attributed != outcome:
                by_id[job_id] = attributed
                changed = True
    return [by_id[o.job_id] for o in found]


def _dependency_outcome(own: Outcome, blame: Outcome) -> Outcome:
    """The outcome of a dependent whose dependency ``blame`` went before it in the message and was not done."""
    answer = f" (QuickBooks answered it with status {own.status_code})" if own.status_code is not None else ""
    if blame.to_state is JobState.FAILED:
        state, error = JobState.FAILED, f"{dependency_failed(blame.job_id)}{answer}"
    else:
        state, error = (
            JobState.QUEUED,
            (
                f"job {blame.job_id}, which it depends on and which went before it in the same message, goes back "
                f"to the queue; this one waits for it{answer}"
            ),
        )
    return dataclasses.replace(
        own, to_state=state, error=error, message=error, count_attempt=False, not_before=None, send_alone=None,
        result=None, advance=False,
    )  # fmt: skip


def of_answer(
    job: HeldJob,
    answer: Answer,
    *,
    policy: RetryPolicy,
    now: datetime,
    kind_of: Callable[[str], JobKind] = get_kind,
    ticket: str | None = None,
    page_size: int = DEFAULT_PAGE_SIZE,
) -> Outcome:
    """The outcome of one job from its ``…Rs``.

    Its kind reads a success, and the errors whose status it names in
    :attr:`~qbwc_service.queue.steps.JobKind.reads_status`; the retry policy settles the rest.
    """
    rs = answer.response
    info = rs.info
    checking = lost_replies.checking(job.progress)
    try:
        kind: JobKind | None = kind_of(job.kind)
    except UnknownKind:
        kind = None
    read = kind is not None and not checking and rs.status_code in kind.reads_status
    common: dict[str, Any] = {
        "status_code": rs.status_code,
        "status_severity": rs.severity,
        "status_message": rs.message,
        "response_xml": etree.tostring(answer.element, encoding="unicode"),
    }
    if not read:
        decision = policy.decide(info.classification, job.attempts, job.max_attempts)
        if decision.action is Action.RETRY:
            return Outcome(job.id, JobState.QUEUED, error=info.explanation, not_before=now + decision.delay, **common)
        if decision.action is Action.FAIL:
            error = f"QuickBooks status {rs.status_code}: {rs.message}. {info.explanation}"
            return Outcome(job.id, JobState.FAILED, error=error, **common)
    if checking:
        return _of_check(job, answer.element, common)
    if kind is None:
        kind = kind_of(job.kind)  # a success of a kind this process does not know: UnknownKind
    state = StepState(job.payload, job.step, job.progress, ticket=ticket, answer=answer.element, page_size=page_size)
    step = kind.take_answer(state, rs)
    if isinstance(step, Failed):
        return Outcome(job.id, JobState.FAILED, error=step.error, **common)
    if isinstance(step, Later):
        # Back to the queue, held back from this session (see Outcome.hold): the next session sends it again.
        return Outcome(
            job.id, JobState.QUEUED, count_attempt=False, error=step.message, message=step.message, hold=True,
            **common,
        )  # fmt: skip
    if isinstance(step, Next):
        return Outcome(
            job.id, JobState.QUEUED, count_attempt=False, set_progress=True, progress=step.progress,
            advance=True, message=step.message, records=step.records, share=step.share, **common,
        )  # fmt: skip
    assert isinstance(step, Done)
    # A done job keeps no progress: a lost-reply mark that needed no lookup (a Mod, a query) is
    # dropped, and what a multi-step job carried between steps (pages collected) is in its result.
    return Outcome(
        job.id, JobState.DONE, result=step.result, message=step.message, set_progress=job.progress is not None,
        records=step.records, **common,
    )  # fmt: skip


def _of_check(job: HeldJob, element: etree._Element, common: dict[str, Any]) -> Outcome:
    """A lost-reply check answered: done with the record found, or queued to send the Add now."""
    found = lost_replies.found_in(element, job.progress or {})
    if found is not None:
        ids = ", ".join(f"{k} {found[k]}" for k in ("ListID", "TxnID") if k in found)
        message = (
            f"found already in QuickBooks ({ids or 'no id returned'}): the reply to the earlier attempt "
            "was lost, so it is not sent again"
        )
        return Outcome(job.id, JobState.DONE, result=found, message=message, set_progress=True, **common)
    return Outcome(
        job.id, JobState.QUEUED, count_attempt=False, set_progress=True,
        message="not in QuickBooks: the earlier attempt was not applied, so it is sent again now", **common,
    )  # fmt: skip


def of_transport_failure(job: HeldJob, text: str, *, policy: RetryPolicy, now: datetime) -> Outcome:
    """A job whose request got no usable answer: back to the queue after a delay, or failed."""
    decision = policy.decide_transport(job.attempts, job.max_attempts)
    if decision.action is Action.RETRY:
        return Outcome(job.id, JobState.QUEUED, error=text, not_before=now + decision.delay)
    return Outcome(job.id, JobState.FAILED, error=text)


def of_hresult(
    held: Mapping[int, HeldJob], hresult: str, message: str, *, policy: RetryPolicy, now: datetime
) -> tuple[list[Outcome], str | None]:
    """QuickBooks refused the whole message: find the job at fault, or end the session (the text)."""
    text = f"QuickBooks returned error {hresult}: {message or 'no message'}"
    if hresult.lower() == HRESULT_PARSE_ERROR:
        if len(held) == 1:
            (job_id,) = held
            return [
                Outcome(
                    job_id, JobState.FAILED, error=text + ". The request is not valid qbXML for this "
                    "QuickBooks version; correct the payload and retry.",
                )
            ], None  # fmt: skip
        return [
            Outcome(
                job_id, JobState.QUEUED, count_attempt=False, send_alone=True,
                message=text + "; each job of the message will be sent alone to find the one at fault",
            )
            for job_id in held
        ], None  # fmt: skip
    # Any other error may have come after QuickBooks applied part of the message: like
    # a lost reply, each job requeued is marked so that an Add is looked up first.
    outcomes = []
    for job_id, job in held.items():
        decision = policy.decide_transport(job.attempts, job.max_attempts)
        if decision.action is Action.RETRY:
            outcomes.append(
                Outcome(
                    job_id, JobState.QUEUED, error=text, not_before=now + decision.delay,
                    message=text + "; QuickBooks may have applied it, so an Add is looked up before it goes again",
                    set_progress=True, progress=lost_reply_mark(),
                )
            )  # fmt: skip
        else:
            outcomes.append(Outcome(job_id, JobState.FAILED, error=text + f" (gave up after {job.attempts} attempts)"))
    return outcomes, text + ". The jobs of this run will be sent again on the next run."
