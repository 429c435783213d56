"""The QBWC operations as plain methods over the database, free of SOAP.

Every call opens one transaction, reads the session by its ticket and leaves every
piece of state in the database, so any worker process can answer any call.
"""

from __future__ import annotations

import dataclasses
import functools
import logging
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from lxml import etree
from sqlalchemy import Connection, Engine, and_, bindparam, func, insert, select, update

from qbwc_service import __version__
from qbwc_service.accounts.credentials import new_ticket, verify_secret
from qbwc_service.config import Settings
from qbwc_service.db import prepared
from qbwc_service.db.models import Company, Job, JobState, QbwcSession, SessionState, utcnow
from qbwc_service.errors import PayloadError, Unverifiable
from qbwc_service.logs import log
from qbwc_service.qbwc import lost_replies as verify
from qbwc_service.queue import jobs
from qbwc_service.queue.kinds import build_request
from qbwc_service.queue.retry import Action, RetryPolicy
from qbxml_builders import (
    DEFAULT_VERSION,
    SERVICE_ON_ERROR,
    ResponseError,
    join_document,
    negotiate,
    parse_untrusted,
    serialize_request,
)
from qbxml_builders.hcp import HostCompanyPreferences, read_hcp
from qbxml_builders.responses import response_from_element

#: hresult QuickBooks returns when it cannot parse the request document.
HRESULT_PARSE_ERROR = "0x80040400"
#: The version whose warning text QBWC users see from clientVersion.
RECOMMENDED_QBWC_VERSION = "2.1.0.30"

UNKNOWN_TICKET = (
    "This Web Connector session is unknown or has ended. The Web Connector will start "
    "a new one on its next run; nothing was lost."
)


def _version_key(version: str) -> tuple[int, ...]:
    parts = []
    for piece in version.strip().split("."):
        digits = "".join(ch for ch in piece if ch.isdigit())
        parts.append(int(digits) if digits else 0)
    return tuple(parts)


def request_id(job: jobs.LeasedJob) -> str:
    """The requestID a job is sent under: its id, and its step once it has several."""
    return str(job.id) if job.step == 0 else f"{job.id}.{job.step}"


def job_id_of(request_id: str | None) -> int | None:
    """The job id a requestID names, or None when it names none of ours."""
    if not request_id:
        return None
    head = request_id.split(".", 1)[0]
    return int(head) if head.isdigit() else None


S = QbwcSession.metadata.tables["qbwc_session"]


@functools.cache
def _session_stmt() -> Any:
    return select(S.c.company_id, S.c.hcp_seen).where(
        S.c.ticket == bindparam("p_ticket"), S.c.state == SessionState.OPEN
    )


@functools.cache
def _counted_stmt() -> Any:
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
def _session_and_held_stmt() -> Any:
    """The open session of ``:p_ticket`` with each job it holds in flight (one row per job)."""
    j = Job.metadata.tables["job"]
    held = j.c.ticket == S.c.ticket, j.c.state == JobState.IN_FLIGHT
    return (
        select(S.c.company_id, S.c.planned, S.c.done, S.c.failed, j.c.id, j.c.attempts, j.c.max_attempts, j.c.progress)
        .select_from(S.outerjoin(j, and_(*held)))
        .where(S.c.ticket == bindparam("p_ticket"), S.c.state == SessionState.OPEN)
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


def host_info(facts: HostCompanyPreferences) -> dict[str, Any]:
    """The HCP facts kept on the company, JSON-ready, with the edition spelled out."""
    info = dataclasses.asdict(facts)
    info["supported_versions"] = list(facts.supported_versions)
    product = (facts.product_name or "").lower()
    info["edition"] = next(
        (e.capitalize() for e in ("enterprise", "premier", "pro", "accountant") if e in product), None
    )
    return info


@dataclass
class Protocol:
    """The Web Connector's operations, answered from the database."""

    engine: Engine
    settings: Settings
    policy: RetryPolicy = field(default_factory=RetryPolicy)
    _transactions: prepared.Transactions = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._transactions = prepared.Transactions(self.engine)

    # -- handshake -------------------------------------------------------------------

    def server_version(self) -> str:
        """The text QBWC shows as our version."""
        return f"qbwc-service {__version__}"

    def client_version(self, version: str | None) -> str:
        """Refuse Web Connectors older than the minimum, warn below the recommended one."""
        if not version:
            return ""
        key = _version_key(version)
        if key < _version_key(self.settings.min_qbwc_version):
            return (
                f"E:This service needs QuickBooks Web Connector {self.settings.min_qbwc_version} "
                f"or later; you have {version}. Please update the Web Connector."
            )
        if key < _version_key(RECOMMENDED_QBWC_VERSION):
            return (
                f"W:QuickBooks Web Connector {version} is old; version {RECOMMENDED_QBWC_VERSION} "
                "or later is recommended. Press OK to continue."
            )
        return ""

    def authenticate(self, username: str | None, password: str | None) -> list[str]:
        """``[ticket, status, ...]``: a new session, or ``nvu``, ``none``, ``busy``."""
        username = (username or "").strip()
        with self.engine.begin() as conn:
            company = conn.execute(
                select(Company.id, Company.name, Company.token_hash, Company.enabled, Company.company_file)
                .where(Company.username == username)
            ).first()  # fmt: skip
            valid = verify_secret(company.token_hash if company else None, password or "")
            if company is None or not valid or not company.enabled:
                why = "unknown user" if company is None else ("disabled" if valid else "wrong token")
                log(logging.WARNING, "authenticate_refused", username=username, reason=why)
                return ["", "nvu"]
            now = utcnow()
            timeout = timedelta(seconds=self.settings.session_timeout)
            # Every login sweeps all companies, so no job stays in flight after its QBWC went away.
            jobs.requeue_stalled(conn, timeout=timeout, now=now)
            conn.execute(update(Company).where(Company.id == company.id).values(last_poll_at=now))
            active = conn.execute(
                select(QbwcSession.ticket).where(
                    QbwcSession.company_id == company.id, QbwcSession.state == SessionState.OPEN
                )
            ).first()
            if active is not None:
                log(logging.INFO, "authenticate_busy", company=company.name)
                return ["", "busy", str(self.settings.busy_retry_seconds)]
            planned = jobs.count_ready(conn, company.id, now)
            if planned == 0:
                log(logging.INFO, "authenticate_none", company=company.name)
                answer = ["", "none"]
                if self.settings.postpone_seconds > 0:
                    answer.append(str(self.settings.postpone_seconds))
                return answer
            ticket = new_ticket()
            conn.execute(
                insert(QbwcSession).values(
                    ticket=ticket, company_id=company.id, state=SessionState.OPEN, started_at=now,
                    last_seen_at=now, planned=planned, sent=0, done=0, failed=0, retried=0, round_trips=0,
                    hcp_seen=False,
                )
            )  # fmt: skip
            log(logging.INFO, "session_started", company=company.name, session=ticket[:8])
            return [ticket, company.company_file or ""]

    # -- the exchange ----------------------------------------------------------------

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
        :func:`.jobs.requeue_stalled`), so the session row itself is not written.
        """
        if not ticket:
            return ""
        first = (hcp_response, company_file, country, major, minor)
        with self._transactions.begin() as conn:
            now = utcnow()
            session, found = jobs.session_candidates(conn, ticket, limit=self.settings.batch_size, now=now)
            if session is None:
                alone = prepared.fetch(conn, _session_stmt(), {"p_ticket": ticket})
                if not alone:
                    log(logging.WARNING, "unknown_ticket", session=ticket[:8])
                elif not alone[0].hcp_seen:
                    self._first_call(conn, ticket, alone[0].company_id, *first)
                return ""
            version, qb_country = session.qbxml_version, session.qbxml_country
            if not session.hcp_seen:
                version, qb_country = self._first_call(conn, ticket, session.company_id, *first)
            requests: list[tuple[jobs.LeasedJob, str]] = []
            checks: dict[int, dict[str, Any]] = {}
            size = 0
            for job in found:
                if requests and size >= self.settings.batch_bytes:
                    break  # the rest waits for the next message
                try:
                    check = self._check(job, version, qb_country)
                    if check is not None:
                        element = check.query
                        checks[job.id] = verify.progress_of(check)
                        job = dataclasses.replace(job, step=job.step + 1)
                    else:
                        element = build_request(job.kind, job.payload, version or DEFAULT_VERSION, qb_country or "US")
                except (PayloadError, Unverifiable) as exc:
                    jobs.fail_queued(conn, job.id, str(exc), ticket=ticket)
                    continue
                element.set("requestID", request_id(job))
                xml = serialize_request(element)
                size += len(xml)
                requests.append((job, xml))
            if not requests:
                return ""
            jobs.claim(conn, ticket, requests, checks=checks, now=now)
            return join_document(
                [xml for _, xml in requests], version=version or DEFAULT_VERSION, on_error=SERVICE_ON_ERROR
            )

    @staticmethod
    def _check(job: jobs.LeasedJob, version: str | None, country: str | None) -> verify.Check | None:
        """The lost-reply check to send instead of the job's request, if it needs one."""
        if not verify.needs_check(job.progress):
            return None
        return verify.check_for(job.kind, job.payload, version or DEFAULT_VERSION, country or "US")

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
        version = negotiate(major, minor)
        qb_country = (country or "US").upper()
        info: dict[str, Any] | None = None
        if hcp_response and hcp_response.strip():
            try:
                facts = read_hcp(hcp_response, max_bytes=self.settings.max_body_bytes)
            except ResponseError as exc:
                log(logging.WARNING, "hcp_unreadable", session=ticket[:8], error=str(exc))
            else:
                info = host_info(facts)
                if not major:  # QBWC did not say: take the best version the host lists
                    version = facts.best_version()
        params = {
            "p_company": company_id, "p_ticket": ticket, "p_version": version,
            "p_country": qb_country, "p_file": company_file[:500] if company_file else None, "p_info": info,
        }  # fmt: skip
        prepared.execute(conn, _company_facts_stmt(info is not None), params)
        prepared.execute(conn, _session_facts_stmt(), params)
        return version, qb_country

    def receive_response_xml(
        self, ticket: str | None, response: str | None, hresult: str | None, message: str | None
    ) -> int:
        """Record QuickBooks' answers; return percent done, or -1 to end the session."""
        if not ticket:
            return -1
        with self._transactions.begin() as conn:
            rows = prepared.fetch(conn, _session_and_held_stmt(), {"p_ticket": ticket})
            if not rows:
                log(logging.WARNING, "unknown_ticket", session=ticket[:8])
                return -1
            session = rows[0]
            in_flight = {r.id: r for r in rows if r.id is not None}
            if hresult and hresult.strip():
                outcomes, fatal = self._hresult_outcomes(in_flight, hresult.strip(), (message or "").strip())
            elif not response or not response.strip():
                outcomes, fatal = (
                    [],
                    "The Web Connector sent an empty response without an error code.",
                )
            else:
                outcomes, fatal = self._response_outcomes(ticket, in_flight, response)
            settled = set(jobs.settle(conn, ticket, outcomes))
            counts = dict.fromkeys(JobState, 0)
            for o in outcomes:
                if o.job_id in settled:
                    counts[o.to_state] += 1
            prepared.execute(
                conn,
                _counted_stmt(),
                {"p_ticket": ticket, "p_now": utcnow(), "p_sent": len(in_flight), "p_done": counts[JobState.DONE],
                 "p_failed": counts[JobState.FAILED], "p_retried": counts[JobState.QUEUED], "p_error": fatal},
            )  # fmt: skip
            if fatal:
                log(logging.WARNING, "session_error", session=ticket[:8], error=fatal)
                return -1
            if not jobs.has_work(conn, session.company_id, ticket):
                return 100
            processed = session.done + session.failed + counts[JobState.DONE] + counts[JobState.FAILED]
            # Of the work planned at authenticate; jobs queued since only hold it below 100.
            return int(min(99, processed * 100 // max(session.planned, processed + 1)))

    def _hresult_outcomes(
        self, in_flight: dict[int, Any], hresult: str, message: str
    ) -> tuple[list[jobs.Outcome], str | None]:
        """QuickBooks refused the whole message: find the job at fault, or end the session."""
        text = f"QuickBooks returned error {hresult}: {message or 'no message'}"
        if hresult.lower() == HRESULT_PARSE_ERROR:
            if len(in_flight) == 1:
                (job_id,) = in_flight
                return [
                    jobs.Outcome(
                        job_id, JobState.FAILED, error=text + ". The request is not valid qbXML for this "
                        "QuickBooks version; correct the payload and retry.",
                    )
                ], None  # fmt: skip
            return [
                jobs.Outcome(
                    job_id, JobState.QUEUED, count_attempt=False, send_alone=True,
                    message=text + "; each job of the message will be sent alone to find the one at fault",
                )
                for job_id in in_flight
            ], None  # fmt: skip
        # Any other error may have come after QuickBooks applied part of the message: like
        # a lost reply, each job requeued is marked so that an Add is looked up first.
        outcomes = []
        for job_id, row in in_flight.items():
            decision = self.policy.decide_transport(row.attempts, row.max_attempts)
            if decision.action is Action.RETRY:
                outcomes.append(
                    jobs.Outcome(
                        job_id, JobState.QUEUED, error=text, not_before=utcnow() + decision.delay,
                        message=text + "; QuickBooks may have applied it, so an Add is looked up before it goes again",
                        set_progress=True, progress={"verify": True},
                    )
                )  # fmt: skip
            else:
                outcomes.append(
                    jobs.Outcome(
                        job_id,
                        JobState.FAILED,
                        error=text + f" (gave up after {row.attempts} attempts)",
                    )
                )
        return outcomes, text + ". The jobs of this run will be sent again on the next run."

    def _response_outcomes(
        self, ticket: str, in_flight: dict[int, Any], response: str
    ) -> tuple[list[jobs.Outcome], str | None]:
        """Match every ``…Rs`` to its job and decide what becomes of each job."""
        try:
            root = parse_untrusted(response, max_bytes=self.settings.max_body_bytes)
            msgs = root.find("QBXMLMsgsRs") if root.tag == "QBXML" else None
            if msgs is None:
                raise ResponseError(f"expected QBXML/QBXMLMsgsRs, found <{root.tag!s}>")
            answers = [(rs, response_from_element(rs)) for rs in msgs if isinstance(rs.tag, str)]
        except ResponseError as exc:
            return [], f"The response from QuickBooks could not be read: {exc}"
        outcomes: list[jobs.Outcome] = []
        answered: set[int] = set()
        now = utcnow()
        for element, rs in answers:
            job_id = job_id_of(rs.request_id)
            if job_id not in in_flight or job_id in answered:
                log(
                    logging.WARNING,
                    "unexpected_response",
                    session=ticket[:8],
                    request_id=rs.request_id,
                    name=rs.name,
                )
                continue
            answered.add(job_id)
            row = in_flight[job_id]
            info = rs.info
            decision = self.policy.decide(info.classification, row.attempts, row.max_attempts)
            common: dict[str, Any] = {
                "status_code": rs.status_code,
                "status_severity": rs.severity,
                "status_message": rs.message,
                "response_xml": etree.tostring(element, encoding="unicode"),
            }
            if verify.checking(row.progress) and decision.action is Action.DONE:
                outcomes.append(self._check_outcome(job_id, element, row.progress, common))
            elif decision.action is Action.DONE:
                # A marked job that needed no lookup (a Mod, a query) is settled: drop the mark.
                marked = verify.needs_check(row.progress)
                outcomes.append(
                    jobs.Outcome(job_id, JobState.DONE, result=rs.ids() or None, set_progress=marked, **common)
                )
            elif decision.action is Action.RETRY:
                outcomes.append(
                    jobs.Outcome(
                        job_id,
                        JobState.QUEUED,
                        error=info.explanation,
                        not_before=now + decision.delay,
                        **common,
                    )
                )
            else:
                error = f"QuickBooks status {rs.status_code}: {rs.message}. {info.explanation}"
                outcomes.append(jobs.Outcome(job_id, JobState.FAILED, error=error, **common))
        for job_id, row in in_flight.items():
            if job_id in answered:
                continue
            decision = self.policy.decide_transport(row.attempts, row.max_attempts)
            text = "QuickBooks returned no answer for this request"
            if decision.action is Action.RETRY:
                outcomes.append(jobs.Outcome(job_id, JobState.QUEUED, error=text, not_before=now + decision.delay))
            else:
                outcomes.append(jobs.Outcome(job_id, JobState.FAILED, error=text))
        return outcomes, None

    @staticmethod
    def _check_outcome(job_id: int, element: etree._Element, progress: Any, common: dict[str, Any]) -> jobs.Outcome:
        """A lost-reply check answered: done with the record found, or queued to send the Add now."""
        found = verify.found_in(element, progress)
        if found is not None:
            ids = ", ".join(f"{k} {found[k]}" for k in ("ListID", "TxnID") if k in found)
            message = (
                f"found already in QuickBooks ({ids or 'no id returned'}): the reply to the earlier attempt "
                "was lost, so it is not sent again"
            )
            return jobs.Outcome(job_id, JobState.DONE, result=found, message=message, set_progress=True, **common)
        return jobs.Outcome(
            job_id, JobState.QUEUED, count_attempt=False, set_progress=True,
            message="not in QuickBooks: the earlier attempt was not applied, so it is sent again now", **common,
        )  # fmt: skip

    # -- endings ---------------------------------------------------------------------

    def _end(self, conn: Connection, ticket: str, state: SessionState, error: str | None) -> Any:
        values: dict[str, Any] = {"state": state, "ended_at": utcnow(), "last_seen_at": utcnow()}
        if error:
            values["last_error"] = error
        return conn.execute(
            update(QbwcSession)
            .where(QbwcSession.ticket == ticket, QbwcSession.state == SessionState.OPEN)
            .values(**values)
            .returning(QbwcSession.done, QbwcSession.failed, QbwcSession.retried)
        ).first()

    def connection_error(self, ticket: str | None, hresult: str | None, message: str | None) -> str:
        """QBWC could not reach QuickBooks: end the session, requeue its jobs, answer ``done``."""
        if not ticket:
            return "done"
        with self.engine.begin() as conn:
            text = f"The Web Connector could not reach QuickBooks ({hresult or 'no code'}): {message or 'no message'}"
            if self._end(conn, ticket, SessionState.FAILED, text) is not None:
                jobs.release(conn, [ticket], reason=text)
                log(
                    logging.WARNING,
                    "connection_error",
                    session=ticket[:8],
                    hresult=hresult,
                    message=message,
                )
        return "done"

    def get_last_error(self, ticket: str | None) -> str:
        """The last error of the session, in words a person can act on."""
        if not ticket:
            return UNKNOWN_TICKET
        with self.engine.begin() as conn:
            row = conn.execute(
                select(QbwcSession.last_error, QbwcSession.state).where(QbwcSession.ticket == ticket)
            ).first()
        if row is None:
            return UNKNOWN_TICKET
        return row.last_error or "No errors: there is no more work for QuickBooks right now."

    def close_connection(self, ticket: str | None) -> str:
        """End the session; jobs still in flight go back to the queue. Returns a summary."""
        if not ticket:
            return "Session closed."
        with self.engine.begin() as conn:
            row = self._end(conn, ticket, SessionState.CLOSED, None)
            if row is None:
                return "Session closed."
            requeued = jobs.release(conn, [ticket], reason="the Web Connector closed the session before answering")
        log(logging.INFO, "session_closed", session=ticket[:8], done=row.done, failed=row.failed)
        summary = f"qbwc-service: {row.done} done, {row.failed} failed"
        waiting = row.retried + requeued
        if waiting:
            summary += f", {waiting} to retry"
        if row.failed:
            summary += ". Failed jobs are listed in the support console."
        return summary + "."

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
