"""The types of the job-kind registry: what a kind sees of a job, and what it makes of an answer.

A kind is a small state machine. :attr:`JobKind.next_request` builds the request of the
job's current step (from its payload and ``progress``) and :attr:`JobKind.take_answer`
reads QuickBooks' answer to it: the job is done (:class:`Done`), goes on to another step
(:class:`Next`), has failed in a way only the kind can tell (:class:`Failed`), or waits for
the next session (:class:`Later`). Answers
with a status code in :attr:`JobKind.reads_status` reach the kind too; every other error is
settled by the retry policy.

These types live apart from :mod:`.kinds` (the registry), so that the built-in multi-step
kinds (:mod:`.ensure`, :mod:`.mod_query`, :mod:`.iterate`) can be defined over them and
included in the registry's table without an import cycle.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from lxml import etree
from pydantic import BaseModel

from qbwc_service.errors import PayloadError
from qbwc_service.queue.refs import restore, stand_in
from qbxml_builders import QBResponse
from qbxml_builders.errors import PayloadValidationError
from qbxml_builders.kinds import RequestKind, validate_payload

if TYPE_CHECKING:
    from sqlalchemy import Connection

    from qbwc_service.db.prepared import Executor

#: MaxReturned of an iterated query's pages when neither the job nor the settings say.
DEFAULT_PAGE_SIZE = 500


@dataclass(frozen=True, slots=True)
class StepState:
    """What a kind sees of a job when it builds a request or reads an answer."""

    payload: Mapping[str, Any]
    #: How many requests the job has been sent as before this one (0 for the first).
    step: int
    #: What the job's earlier steps left for the next one (None at the start).
    progress: Mapping[str, Any] | None
    #: The ticket of the QBWC session the step is sent in (iterators live for one session).
    ticket: str | None = None
    #: The ``…Rs`` element being read, when reading an answer (its nested fields, which
    #: :class:`QBResponse` flattens away).
    answer: etree._Element | None = None
    #: MaxReturned of an iterated query's pages unless the job gives its own.
    page_size: int = DEFAULT_PAGE_SIZE


@dataclass(frozen=True, slots=True)
class Done:
    """The job is done: ``result`` is what it records (ListID, TxnID, EditSequence, ...)."""

    result: dict[str, Any] | None
    message: str | None = None
    #: Records of the last page of an iterated query, for the kind's :class:`PageSink`.
    records: tuple[dict[str, Any], ...] = ()


@dataclass(frozen=True, slots=True)
class Next:
    """The job goes on: ``progress`` is handed to the next step's :attr:`JobKind.next_request`."""

    progress: dict[str, Any]
    message: str
    #: How much of the job is done, from 0 to 1, when the kind can tell (pages of a query):
    #: it moves the session's percentage.
    share: float | None = None
    #: Records of this page of an iterated query, for the kind's :class:`PageSink`.
    records: tuple[dict[str, Any], ...] = ()


@dataclass(frozen=True, slots=True)
class Failed:
    """The job has failed for a reason only its kind can tell (a key field differs); ``error`` says why."""

    error: str


@dataclass(frozen=True, slots=True)
class Later:
    """The job cannot go on before something changes in QuickBooks (a preference only a person can set).

    It goes back to the queue, its attempt not counted, and is sent again in the company's
    next session, not in this one; ``message`` says what the person must do.
    """

    message: str


#: What a kind makes of an answer it reads.
Step = Done | Next | Failed | Later


class PageSink(Protocol):
    """Where an iterated query's pages go, chosen by its kind.

    :meth:`keep` is pure: it folds a page into what the job's ``progress`` carries (the
    result sink collects the records there; a table sink keeps only counts).
    :meth:`store` runs inside the receiveResponseXML transaction with each settled page's
    records (a table sink writes them there, page by page, in bounded memory).
    :meth:`result` is what the job records when the last page is in.
    """

    def keep(self, kept: Mapping[str, Any] | None, records: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
        """What ``progress`` carries after this page (raise :class:`SinkFull` to fail the job)."""
        ...

    def store(self, conn: Executor, job_id: int, records: Sequence[Mapping[str, Any]]) -> None:
        """Write one page's records, inside the receive transaction."""
        ...

    def result(self, kept: Mapping[str, Any] | None) -> dict[str, Any]:
        """The job's result once every page is in."""
        ...


class SinkFull(Exception):
    """The sink cannot take more records; the message says what to do instead."""


@dataclass(frozen=True, slots=True)
class Expanded:
    """What a document kind queued in place of one job (see :attr:`JobKind.expand`)."""

    #: Its main job (the invoice, the first sales receipt), which the front doors show.
    job_id: int
    #: False when the same document had been posted already (nothing new was queued).
    created: bool
    #: Every job it stands for, in the order they were queued.
    jobs: tuple[int, ...]
    document_id: int | None = None
    #: What a person should know (a list nearing the edition's limit).
    warnings: tuple[str, ...] = ()


#: ``(connection, company id, validated payload, actor, priority, max_attempts)`` → :class:`Expanded`.
Expand = Callable[["Connection", int, dict[str, Any], str, int, int], Expanded]


def _single_step(state: StepState, response: QBResponse) -> Step:
    """A one-request job: done with the identifiers QuickBooks returned."""
    return Done(response.ids() or None)


@dataclass(frozen=True, slots=True)
class JobKind:
    """One kind of job the queue accepts."""

    name: str
    description: str
    #: Check a payload and return it normalised (JSON-serialisable); raise PayloadError.
    validate: Callable[[Mapping[str, Any]], dict[str, Any]]
    #: Build the first ``…Rq`` element for the qbXML version and country of the company.
    build: Callable[[Mapping[str, Any], str, str], etree._Element]
    #: A short text support staff search for (a name, a RefNumber), or None.
    reference: Callable[[Mapping[str, Any]], str | None]
    #: Build the request of the job's current step; by default the first one, from the payload.
    steps: Callable[[StepState, str, str], etree._Element] | None = None
    #: Read a successful answer to the current step, or one whose status is in :attr:`reads_status`.
    take_answer: Callable[[StepState, QBResponse], Step] = _single_step
    #: Error status codes whose answers go to :attr:`take_answer` instead of the retry policy
    #: (3100 on an ensure's Add, 3200 on a Mod, 3391 on an iterator).
    reads_status: frozenset[int] = frozenset()
    #: Where the pages of an iterated query go (None: the kind returns no pages).
    sink: PageSink | None = None
    #: The JSON Schema of the payload, when the kind publishes one.
    schema: Callable[[], dict[str, Any]] | None = field(default=None, compare=False)
    #: The FullName (as given) of the list entry the job will create, or None; by default
    #: the name rule of :func:`.kinds.creates` for ``…_add`` and ``…_ensure`` kinds.
    creates: Callable[[Mapping[str, Any]], str | None] | None = field(default=None, compare=False)
    #: A document kind (a shop invoice, a POS day) is not queued as one job: :func:`.jobs.enqueue`
    #: hands its validated payload to ``expand``, which queues the jobs it stands for.
    expand: Expand | None = field(default=None, compare=False)

    def next_request(self, state: StepState, version: str, country: str) -> etree._Element:
        """The ``…Rq`` element of the job's current step."""
        if self.steps is None:
            return self.build(state.payload, version, country)
        return self.steps(state, version, country)


def typed_model(
    spec: RequestKind, payload: Mapping[str, Any], *, as_kind: str | None = None, stored: bool = False
) -> BaseModel:
    """The payload validated as ``spec``'s model; faults become :class:`PayloadError` (named ``as_kind``).

    ``stored``: the payload is as :func:`typed_clean` stored it (its ``{"job": N}`` refs
    resolved, if any), so the checks a stored payload passed already are not run again
    (``validate_payload(stored=True)``). Types and lengths are checked all the same.
    """
    try:
        return validate_payload(spec.name, dict(payload), stored=stored)
    except PayloadValidationError as exc:
        raise PayloadError(as_kind or spec.name, exc.errors) from exc


def typed_dump(model: BaseModel) -> dict[str, Any]:
    """A validated payload as it is stored: JSON (money as strings, dates ISO), without empty fields."""
    return model.model_dump(mode="json", exclude_none=True)


def typed_clean(spec: RequestKind, payload: Mapping[str, Any], *, as_kind: str | None = None) -> dict[str, Any]:
    """A payload checked as ``spec``'s model and normalised as it is stored (:func:`typed_dump`).

    The one rule for ``{"job": N}`` refs (:mod:`.refs`) of every typed kind: each is
    validated as a placeholder id, so that every other field is checked and reported as
    usual, and is stored as given, to be resolved when the job is sent.
    """
    checked, refs = stand_in(payload)
    clean = typed_dump(typed_model(spec, checked, as_kind=as_kind))
    return restore(clean, refs) if refs else clean
