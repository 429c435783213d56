"""The QBWC operations as plain methods over the database, free of SOAP.

Every call opens one transaction, reads the session by its ticket and leaves every piece
of state in the database, so any worker process can answer any call. The work is done
elsewhere: :mod:`.handshake` (versions, the first call's facts), :mod:`.sessions` (the
session rows), :mod:`.batches` (a message's requests), :mod:`.outcomes` (what an answer
means for each job) and :mod:`qbwc_service.queue.jobs` (the job rows).
"""

from __future__ import annotations

import contextlib
import functools
import logging
from collections.abc import Callable
from dataclasses import InitVar, dataclass, field
from datetime import datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine, select, update

from qbwc_service.accounts import schedule
from qbwc_service.accounts.credentials import hash_token, token_needs_rehash, verify_token
from qbwc_service.config import Settings
from qbwc_service.db import outages, prepared
from qbwc_service.db.models import Company, JobState, SessionState, utcnow
from qbwc_service.logs import log
from qbwc_service.metrics.instruments import count_hresult, count_statuses
from qbwc_service.qbwc import batches, handshake, outcomes, sessions
from qbwc_service.qbwc.outcomes import Answer
from qbwc_service.queue import jobs
from qbwc_service.queue.kinds import get_kind
from qbwc_service.queue.retry import RetryPolicy
from qbxml_builders import DEFAULT_VERSION, ResponseError, parse_response_elements

UNKNOWN_TICKET = (
    "This Web Connector session is unknown or has ended. The Web Connector will start "
    "a new one on its next run; nothing was lost."
)


F = TypeVar("F", bound=Callable[..., Any])


#: Sessions whose call this process answered for a database outage, kept for getLastError (at most this many).
OUTAGE_NOTES = 1000
#: How many times per ``session_timeout`` one worker sweeps stalled sessions, at most.
SWEEPS_PER_TIMEOUT = 15


def when_database_down(answer: Callable[[Protocol, str], Any], *, ticketed: bool = False) -> Callable[[F], F]:
    """Answer ``answer(protocol, sentence)`` when the database cannot work for now (:mod:`.db.outages`).

    The call's transaction was rolled back whole, so nothing is half-written, and the Web
    Connector gets an answer of its contract instead of a SOAP fault: it ends the run
    and comes back on its schedule. Other errors go on to the SOAP layer's fault.
    ``ticketed``: the first argument is a ticket, and the sentence is kept for that
    session's getLastError (the database may not hold it, and may be readable again).
    """

    def decorate(method: F) -> F:
        @functools.wraps(method)
        def call(self: Protocol, *args: Any, **kwargs: Any) -> Any:
            try:
                return method(self, *args, **kwargs)
            except Exception as exc:
                if not outages.is_outage(exc, self.engine.dialect.loaded_dbapi):
                    raise
                log(logging.ERROR, "database_unavailable", operation=method.__name__, reason=outages.logged(exc))
                sentence = outages.describe(exc)
                if ticketed and args and args[0]:
                    self._note_outage(str(args[0]), sentence)
                return answer(self, sentence)

        return call  # type: ignore[return-value]

    return decorate


@dataclass
class Protocol:
    """The Web Connector's operations, answered from the database."""

    engine: Engine
    settings: Settings
    #: How retryable answers are retried; by default ``QBWC_RETRY_BASE_SECONDS`` doubled at each attempt.
    retry_policy: InitVar[RetryPolicy | None] = None
    policy: RetryPolicy = field(init=False)
    _transactions: prepared.Transactions = field(init=False, repr=False)
    #: ticket → the outage sentence its last call was answered with (see :func:`when_database_down`).
    _outages: dict[str, str] = field(init=False, repr=False, default_factory=dict)
    #: When this process last swept stalled sessions (see :meth:`_sweep`).
    _swept_at: datetime | None = field(init=False, repr=False, default=None)

    def __post_init__(self, retry_policy: RetryPolicy | None) -> None:
        self._transactions = prepared.Transactions(self.engine)
        self.policy = retry_policy or RetryPolicy(base_delay=timedelta(seconds=self.settings.retry_base_seconds))

    def _note_outage(self, ticket: str, sentence: str) -> None:
        if len(self._outages) >= OUTAGE_NOTES:
            with contextlib.suppress(RuntimeError, StopIteration, KeyError):  # another thread changed it meanwhile
                self._outages.pop(next(iter(self._outages)))
        self._outages[ticket] = sentence

    def _sweep(self, conn: Connection, company_id: int, now: datetime) -> None:
        """Requeue the jobs of every company's stalled session, at most every ``session_timeout / 15``.

        Logins sweep, so no job stays in flight after its Web Connector went away; a job waits
        at most a fifteenth longer than the timeout for it. More often would only repeat two
        statements in every ``authenticate`` for sessions that stall once in a long while. In
        between, the logging-in company's own orphaned leases are put back (one indexed read),
        and its open session is judged by :func:`.sessions.judge`.
        """
        timeout = timedelta(seconds=self.settings.session_timeout)
        if self._swept_at is not None and timedelta(0) <= now - self._swept_at < timeout / SWEEPS_PER_TIMEOUT:
            sessions.release_orphans(conn, now=now, company_id=company_id)
            return
        sessions.requeue_stalled(conn, timeout=timeout, now=now)
        self._swept_at = now

    # -- handshake -------------------------------------------------------------------

    def server_version(self) -> str:
        """The text QBWC shows as our version."""
        return handshake.server_version()

    def client_version(self, version: str | None) -> str:
        """Refuse Web Connectors older than the minimum, warn below the recommended one."""
        return handshake.client_version(version, self.settings.min_qbwc_version)

    @when_database_down(lambda self, _: ["", "busy", str(self.settings.busy_retry_seconds)])
    def authenticate(self, username: str | None, password: str | None) -> list[str]:
        """``[ticket, status, ...]``: a new session, or ``nvu``, ``none``, ``busy``."""
        username = (username or "").strip()
        with self.engine.begin() as conn:
            company = conn.execute(
                select(
                    Company.id, Company.name, Company.token_hash, Company.enabled, Company.company_file,
                    Company.rival_seen_at, Company.poll_minutes, Company.sync_mode, Company.sync_at,
                    Company.sync_time_zone, Company.sync_requested_at, Company.sync_drained_at,
                ).where(Company.username == username)
            ).first()  # fmt: skip
            valid = verify_token(company.token_hash if company else None, password or "")
            if valid and company is not None and token_needs_rehash(company.token_hash):
                conn.execute(
                    update(Company).where(Company.id == company.id).values(token_hash=hash_token(password or ""))
                )
            if company is None or not valid or not company.enabled:
                why = "unknown user" if company is None else ("disabled" if valid else "wrong token")
                log(logging.WARNING, "authenticate_refused", username=username, reason=why)
                return ["", "nvu"]
            now = utcnow()
            self._sweep(conn, company.id, now)
            conn.execute(update(Company).where(Company.id == company.id).values(last_poll_at=now))
            superseding = None
            holder = sessions.holder(conn, company.id)
            if holder is not None:
                verdict = sessions.judge(
                    holder, now, supersede_after=timedelta(seconds=self.settings.supersede_after),
                    rival_seen_at=company.rival_seen_at,
                )  # fmt: skip
                if verdict.rival:
                    sessions.record_rival(conn, company.id, verdict.rival, now)
                    log(logging.WARNING, "two_web_connectors", company=company.name, detail=verdict.rival)
                if not verdict.supersede or not sessions.take_over(conn, holder.ticket, now):
                    sessions.refuse(conn, holder.ticket, now)
                    wait = min(verdict.wait or self.settings.busy_retry_seconds, self.settings.busy_retry_seconds)
                    log(logging.INFO, "authenticate_busy", company=company.name, wait=wait)
                    return ["", "busy", str(max(1, wait))]
                superseding = holder.ticket
                log(logging.INFO, "session_superseded", company=company.name, session=holder.ticket[:8])
            queue = jobs.outlook(conn, company.id, now)
            # The schedule is decided here, once per run, never per job (docs/architecture.md, step 2).
            door = schedule.gate(
                schedule.read_schedule(company), now, poll_seconds=company.poll_minutes * 60,
                manual_recheck=self.settings.manual_recheck_seconds,
            )  # fmt: skip
            if queue.ready and not door.open:
                log(
                    logging.INFO, "authenticate_waiting", company=company.name, queued=queue.queued,
                    postpone=door.postpone,
                )  # fmt: skip
                return ["", "none"] if door.postpone is None else ["", "none", str(door.postpone)]
            if not queue.ready:
                if door.closes:
                    schedule.mark_drained(conn, company.id, now)
                log(logging.INFO, "authenticate_none", company=company.name)
                answer = ["", "none"]
                if self.settings.postpone_seconds > 0:
                    answer.append(str(self.settings.postpone_seconds))
                return answer
            ticket = sessions.start(conn, company.id, planned=queue.queued, now=now, superseding=superseding)
            log(logging.INFO, "session_started", company=company.name, session=ticket[:8])
            return [ticket, company.company_file or ""]

    # -- the exchange ----------------------------------------------------------------

    @when_database_down(lambda _self, _: "", ticketed=True)
    def send_request_xml(
        self,
        ticket: str | None,
        hcp_response: str | None,
        company_file: str | None,
        country: str | None,
        major: int | None,
        minor: int | None,
    ) -> str:
        """The next qbXML request document of the session, or ``""`` when nothing is left.

        The session and its next jobs are read in one statement. Only when no job is ready
        is the session read alone: to tell an unknown ticket, and to record the first
        call's facts. The session's activity shows in its jobs' leases (see
        :func:`.sessions.abandon_stalled`), so the session row itself is not written.
        """
        if not ticket:
            return ""
        first = (hcp_response, company_file, country, major, minor)
        with self._transactions.begin() as conn:
            now = utcnow()
            session, found = jobs.session_candidates(conn, ticket, limit=self.settings.batch_size, now=now)
            if session is None:
                alone = sessions.find_open(conn, ticket)
                if alone is None:
                    self._ended(conn, ticket, "sendRequestXML")
                elif not alone.hcp_seen:
                    self._first_call(conn, ticket, alone.company_id, *first)
                return ""
            version, qb_country = session.qbxml_version, session.qbxml_country
            if not session.hcp_seen:
                version, qb_country = self._first_call(conn, ticket, session.company_id, *first)
            batch = batches.assemble(
                found, version or DEFAULT_VERSION, qb_country or "US", max_bytes=self.settings.batch_bytes,
                ticket=ticket, page_size=self.settings.iterator_page,
            )  # fmt: skip
            for job_id, reason in batch.unbuildable:
                jobs.fail_queued(conn, job_id, reason, ticket=ticket)
            if not batch.requests:
                return ""
            jobs.claim(conn, ticket, batch.requests, checks=batch.checks, now=now)
            return batch.document()

    @staticmethod
    def _ended(conn: prepared.Executor, ticket: str, operation: str) -> None:
        """A call on a ticket with no open session: a superseded one shows a second Web Connector."""
        if sessions.superseded_call(conn, ticket, operation):
            log(logging.WARNING, "two_web_connectors", session=ticket[:8], operation=operation)
        else:
            log(logging.WARNING, "unknown_ticket", session=ticket[:8])

    def _first_call(
        self,
        conn: prepared.Executor,
        ticket: str,
        company_id: int,
        hcp_response: str | None,
        company_file: str | None,
        country: str | None,
        major: int | None,
        minor: int | None,
    ) -> tuple[str, str]:
        """Record what the first sendRequestXML tells: version, country, file, HCP facts."""
        facts = handshake.first_call_facts(
            hcp_response, company_file, country, major, minor, max_bytes=self.settings.max_body_bytes,
            session=ticket[:8],
        )  # fmt: skip
        sessions.record_facts(conn, ticket, company_id, facts)
        return facts.version, facts.country

    @when_database_down(lambda _self, _: -1, ticketed=True)
    def receive_response_xml(
        self, ticket: str | None, response: str | None, hresult: str | None, message: str | None
    ) -> int:
        """Record QuickBooks' answers; return percent done, or -1 to end the session."""
        if not ticket:
            return -1
        with self._transactions.begin() as conn:
            rows = sessions.held(conn, ticket)
            if not rows:
                self._ended(conn, ticket, "receiveResponseXML")
                return -1
            session = rows[0]
            held = outcomes.held_jobs(rows)
            now = utcnow()
            fatal: str | None = None
            if hresult and hresult.strip():
                count_hresult(hresult)
                found, fatal = outcomes.of_hresult(
                    held, hresult.strip(), (message or "").strip(), policy=self.policy, now=now
                )
            elif not response or not response.strip():
                found, fatal = [], "The Web Connector sent an empty response without an error code."
            else:
                try:
                    answers = [Answer(el, rs) for el, rs in parse_response_elements(
                        response, max_bytes=self.settings.max_body_bytes)]  # fmt: skip
                except ResponseError as exc:
                    found, fatal = [], f"The response from QuickBooks could not be read: {exc}"
                else:
                    count_statuses((a.response.status_code, a.response.severity) for a in answers)
                    decided = outcomes.of_message(held, answers, policy=self.policy, now=now, ticket=ticket,
                                                  page_size=self.settings.iterator_page)  # fmt: skip
                    for rs in decided.unexpected:
                        log(logging.WARNING, "unexpected_response", session=ticket[:8], request_id=rs.request_id,
                            name=rs.name)  # fmt: skip
                    found = decided.outcomes
            settled = set(jobs.settle(conn, ticket, found))
            counts = dict.fromkeys(JobState, 0)
            shares = 0.0
            for o in found:
                if o.job_id in settled:
                    if not o.advance:  # a job gone on to its next step is not a retry
                        counts[o.to_state] += 1
                    if o.to_state is JobState.FAILED:
                        log(logging.WARNING, "job_failed", session=ticket[:8], job=o.job_id, status=o.status_code,
                            error=o.error)  # fmt: skip
                    shares += o.share or 0.0
                    if o.records:
                        sink = get_kind(held[o.job_id].kind).sink
                        if sink is not None:
                            sink.store(conn, o.job_id, o.records)
            tally = sessions.Tally(
                len(held), counts[JobState.DONE], counts[JobState.FAILED], counts[JobState.QUEUED], fatal
            )
            sessions.tally(conn, ticket, tally)
            if fatal:
                log(logging.WARNING, "session_error", session=ticket[:8], error=fatal)
                return -1
            if not jobs.has_work(conn, session.company_id, ticket):
                return 100
            processed = session.done + session.failed + counts[JobState.DONE] + counts[JobState.FAILED]
            # Of the jobs queued at authenticate; jobs queued since only hold it below 100. A job
            # going on to another step (a page of a query) counts for the share it has done.
            done = processed + shares
            return int(min(99, done * 100 // max(session.planned, done + 1)))

    # -- endings ---------------------------------------------------------------------

    @when_database_down(lambda _self, _: "done")
    def connection_error(self, ticket: str | None, hresult: str | None, message: str | None) -> str:
        """QBWC could not reach QuickBooks: end the session, requeue its jobs, answer ``done``."""
        if not ticket:
            return "done"
        with self.engine.begin() as conn:
            text = f"The Web Connector could not reach QuickBooks ({hresult or 'no code'}): {message or 'no message'}"
            if sessions.end(conn, ticket, SessionState.FAILED, text) is not None:
                jobs.release(conn, [ticket], reason=text)
                log(logging.WARNING, "connection_error", session=ticket[:8], hresult=hresult, message=message)
            else:
                self._ended(conn, ticket, "connectionError")
        return "done"

    @when_database_down(lambda _self, sentence: sentence)
    def get_last_error(self, ticket: str | None) -> str:
        """The last error of the session, in words a person can act on."""
        if not ticket:
            return UNKNOWN_TICKET
        if self._outages and (outage := self._outages.pop(ticket, None)):
            return outage
        with self.engine.begin() as conn:
            known, error = sessions.last_error(conn, ticket)
        if not known:
            return UNKNOWN_TICKET
        return error or "No errors: there is no more work for QuickBooks right now."

    @when_database_down(lambda _self, sentence: sentence)
    def close_connection(self, ticket: str | None) -> str:
        """End the session; jobs still in flight go back to the queue. Returns a summary."""
        if not ticket:
            return "Session closed."
        with self.engine.begin() as conn:
            row = sessions.end(conn, ticket, SessionState.CLOSED, None)
            if row is None:
                self._ended(conn, ticket, "closeConnection")
                _known, error = sessions.last_error(conn, ticket)
                return error if error == sessions.RIVAL_TEXT else "Session closed."
            requeued = jobs.release(conn, [ticket], reason="the Web Connector closed the session before answering")
            # A scheduled company's release ends with the session that drained its queue.
            if schedule.scheduled(conn, row.company_id) and not jobs.outlook(conn, row.company_id).ready:
                schedule.mark_drained(conn, row.company_id, utcnow())
        log(logging.INFO, "session_closed", session=ticket[:8], done=row.done, failed=row.failed)
        summary = f"qbwc-service: {row.done} done, {row.failed} failed"
        waiting = row.retried + requeued
        if waiting:
            summary += f", {waiting} to retry"
        if row.failed:
            summary += ". Failed jobs are listed in the support console."
        with self.engine.connect() as conn:
            waiting = jobs.held_back(conn, row.company_id, ticket)  # only a person can change it in QuickBooks
        return summary + "." + (f" {waiting}" if waiting else "")

    # -- interactive mode (not used by this service, but answered) -----------------------

    def get_interactive_url(self, ticket: str | None, session_id: str | None) -> str:
        """No interactive step is needed: an empty URL."""
        return ""

    def interactive_done(self, ticket: str | None) -> str:
        """Acknowledge the end of an interactive step."""
        return "Done"

    def interactive_rejected(self, ticket: str | None, reason: str | None) -> str:
        """Acknowledge that the user declined an interactive step."""
        return "Interactive mode is not used by this service; nothing to do."
