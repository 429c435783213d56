"""One qbXML message: the requests of the jobs handed out together, each under its requestID."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from qbwc_service.errors import PayloadError, Unverifiable
from qbwc_service.qbwc import lost_replies
from qbwc_service.qbwc.outcomes import request_id
from qbwc_service.queue.jobs import LeasedJob
from qbwc_service.queue.kinds import StepState, get_kind, next_request, resolve_refs
from qbwc_service.queue.steps import DEFAULT_PAGE_SIZE
from qbxml_builders import SERVICE_ON_ERROR, join_document, serialize_request


@dataclass
class Batch:
    """The requests of one message, the lost-reply checks among them, and the jobs that cannot be built."""

    version: str
    #: Each job with the serialized ``…Rq`` it is sent as.
    requests: list[tuple[LeasedJob, str]] = field(default_factory=list)
    #: The ``progress`` each job sent as a lost-reply check carries meanwhile, by job id.
    checks: dict[int, dict[str, Any]] = field(default_factory=dict)
    #: ``(job id, reason)`` of jobs whose request cannot be built for this company.
    unbuildable: list[tuple[int, str]] = field(default_factory=list)

    def document(self) -> str:
        """The whole qbXML request document."""
        return join_document([xml for _, xml in self.requests], version=self.version, on_error=SERVICE_ON_ERROR)


def assemble(
    found: Sequence[LeasedJob],
    version: str,
    country: str,
    *,
    max_bytes: int,
    ticket: str | None = None,
    page_size: int = DEFAULT_PAGE_SIZE,
) -> Batch:
    """Build the next request of each job, in order, until the message reaches ``max_bytes``.

    ``ticket`` is the session's (a query's iterator belongs to it); ``page_size`` the
    MaxReturned of an iterated query's pages when the job gives none.

    A job whose reply was lost and that would create a record is sent as the query that
    looks for it first (:func:`.lost_replies.check_for`), as its next step.

    A job that waits for dependencies earlier in the message (``after``) goes only when
    each of them goes as a request that, once it succeeds, leaves its record in QuickBooks
    under the name it creates (:meth:`.JobKind.leads`): a single-step kind's request, or a
    multi-step kind's final step (an ensure's Add; not its query, whose Add comes later).
    Not when one cannot be built, is sent as a lost-reply check, or did not fit. Its
    ``{"job": N}`` refs are resolved first (:func:`.kinds.resolve_refs`); a ref whose job
    recorded no id makes it unbuildable.
    """
    batch = Batch(version)
    size = 0
    sent: set[int] = set()
    for job in found:
        if batch.requests and size >= max_bytes:
            break  # the rest waits for the next message
        if any(d not in sent for d in job.after):
            continue  # waits for the next message (or fails with its dependency)
        try:
            if job.known is not None:
                job = dataclasses.replace(job, payload=resolve_refs(job.kind, job.payload, job.known))
            check = _check(job, version, country)
            if check is not None:
                element = check.query
                batch.checks[job.id] = lost_replies.progress_of(check)
                job = dataclasses.replace(job, step=job.step + 1)
            else:
                state = StepState(job.payload, job.step, job.progress, ticket=ticket, page_size=page_size)
                element = next_request(job.kind, state, version, country)
                if get_kind(job.kind).leads(state):
                    sent.add(job.id)  # a dependent may follow it
        except (PayloadError, Unverifiable) as exc:
            batch.unbuildable.append((job.id, str(exc)))
            continue
        element.set("requestID", request_id(job.id, job.step))
        xml = serialize_request(element)
        size += len(xml)
        batch.requests.append((job, xml))
    return batch


def _check(job: LeasedJob, version: str, country: str) -> lost_replies.Check | None:
    """The lost-reply check to send instead of the job's request, if it needs one."""
    if not lost_replies.needs_check(job.progress):
        return None
    return lost_replies.check_for(job.kind, job.payload, version, country)
