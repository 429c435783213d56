"""The job-kind registry: how a job's payload is validated when queued, and each step when sent.

A kind is a small state machine. :attr:`JobKind.next_request` builds the request of the
job's current step (from its payload and ``progress``) and :attr:`JobKind.take_answer`
reads QuickBooks' answer to it: the job is done, or goes on to another step (:class:`Next`).
The queue and the protocol know kinds only through this registry: the built-in ones (every
typed request of :mod:`qbxml_builders` and raw ``qbxml``) and those that workflows
:func:`register`. Neither imports a workflow.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from lxml import etree
from pydantic import BaseModel

from qbwc_service.errors import PayloadError, UnknownKind
from qbxml_builders import BuilderError, QBResponse, ResponseError
from qbxml_builders._xml import parse_untrusted
from qbxml_builders.errors import PayloadValidationError
from qbxml_builders.kinds import KINDS, RequestKind, validate_payload

#: Largest ready-made request a ``qbxml`` job may carry.
MAX_RAW_REQUEST_BYTES = 1024 * 1024


@dataclass(frozen=True, slots=True)
class StepState:
    """What a kind sees of a job when it builds a request or reads an answer."""

    payload: Mapping[str, Any]
    #: How many requests the job has been sent as before this one (0 for the first).
    step: int
    #: What the job's earlier steps left for the next one (None at the start).
    progress: Mapping[str, Any] | None


@dataclass(frozen=True, slots=True)
class Done:
    """The job is done: ``result`` is what it records (ListID, TxnID, EditSequence, ...)."""

    result: dict[str, Any] | None
    message: str | None = None


@dataclass(frozen=True, slots=True)
class Next:
    """The job goes on: ``progress`` is handed to the next step's :attr:`JobKind.next_request`."""

    progress: dict[str, Any]
    message: str


#: What a kind makes of a successful answer.
Step = Done | Next


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
    #: Read a successful answer to the current step (errors are settled by the retry policy).
    take_answer: Callable[[StepState, QBResponse], Step] = _single_step

    def next_request(self, state: StepState, version: str, country: str) -> etree._Element:
        """The ``…Rq`` element of the job's current step."""
        if self.steps is None:
            return self.build(state.payload, version, country)
        return self.steps(state, version, country)


def _raw_request(payload: Mapping[str, Any]) -> etree._Element:
    request = payload.get("request")
    if not isinstance(request, str) or not request.strip():
        raise PayloadError("qbxml", ["request: a qbXML request element (…Rq) as a string is required"])
    try:
        element = parse_untrusted(request, max_bytes=MAX_RAW_REQUEST_BYTES)
    except ResponseError as exc:
        raise PayloadError("qbxml", [f"request: {exc}"]) from exc
    tag = str(element.tag)
    if not tag.endswith("Rq") or tag in ("QBXMLMsgsRq", "QBXML"):
        raise PayloadError("qbxml", [f"request: <{tag}> is not a single qbXML request (…Rq) element"])
    return element


def _validate_raw(payload: Mapping[str, Any]) -> dict[str, Any]:
    unknown = sorted(set(payload) - {"request"})
    if unknown:
        raise PayloadError("qbxml", [f"{name}: not a field of this kind" for name in unknown])
    element = _raw_request(payload)
    return {"request": etree.tostring(element, encoding="unicode")}


def _build_raw(payload: Mapping[str, Any], version: str, country: str) -> etree._Element:
    return _raw_request(payload)


def raw_request(payload: Mapping[str, Any]) -> etree._Element:
    """The request element of a ``qbxml`` job's payload, parsed with the hardened parser."""
    return _raw_request(payload)


def _reference_raw(payload: Mapping[str, Any]) -> str | None:
    try:
        element = _raw_request(payload)
    except PayloadError:
        return None
    for path in (".//RefNumber", ".//Name", ".//FullName"):
        found = element.findtext(path)
        if found:
            return found[:200]
    return str(element.tag)


RAW_QBXML = JobKind(
    name="qbxml",
    description="A ready-made qbXML request element (…Rq), sent as it is.",
    validate=_validate_raw,
    build=_build_raw,
    reference=_reference_raw,
)


@functools.cache
def _builtin() -> dict[str, JobKind]:
    kinds = {RAW_QBXML.name: RAW_QBXML}
    kinds.update(_builder_kinds())
    return kinds


#: Kinds added by :func:`register` (workflows), by name.
_registered: dict[str, JobKind] = {}


def register(kind: JobKind) -> JobKind:
    """Add a kind to the registry (a workflow's kinds register when the workflow is set up).

    Registering the same kind again is harmless; another kind under a taken name is refused.
    """
    taken = _builtin().get(kind.name) or _registered.get(kind.name)
    if taken is not None and taken is not kind:
        raise ValueError(f"a job kind named {kind.name!r} is already registered")
    _registered[kind.name] = kind
    return kind


def registry() -> dict[str, JobKind]:
    """Every job kind by name."""
    return {**_builtin(), **_registered}


def _typed_kind(spec: RequestKind) -> JobKind:
    """A job kind over one typed request kind of :mod:`qbxml_builders`."""

    def model(payload: Mapping[str, Any]) -> BaseModel:
        try:
            return validate_payload(spec.name, dict(payload))
        except PayloadValidationError as exc:
            raise PayloadError(spec.name, exc.errors) from exc

    def validate(payload: Mapping[str, Any]) -> dict[str, Any]:
        # Stored as JSON (money as strings, dates ISO) and validated again when sent.
        return model(payload).model_dump(mode="json", exclude_none=True)

    def build(payload: Mapping[str, Any], version: str, country: str) -> etree._Element:
        return spec.build(model(payload), version=version, country=country)

    def reference(payload: Mapping[str, Any]) -> str | None:
        return spec.reference(model(payload))

    return JobKind(spec.name, spec.description, validate, build, reference)


def _builder_kinds() -> dict[str, JobKind]:
    """Every typed request kind of :mod:`qbxml_builders` (``customer_add``, ``invoice_add``, ...)."""
    return {name: _typed_kind(spec) for name, spec in KINDS.items()}


def get_kind(name: str) -> JobKind:
    """The job kind called ``name``, or :class:`UnknownKind`."""
    found = _registered.get(name) or _builtin().get(name)
    if found is None:
        raise UnknownKind(name, sorted(registry()))
    return found


def build_request(kind: str, payload: Mapping[str, Any], version: str, country: str) -> etree._Element:
    """Build a job's first request element; builder errors become :class:`PayloadError`."""
    return next_request(kind, StepState(payload, 0, None), version, country)


def next_request(kind: str, state: StepState, version: str, country: str) -> etree._Element:
    """Build the request of a job's current step; builder errors become :class:`PayloadError`."""
    try:
        return get_kind(kind).next_request(state, version, country)
    except BuilderError as exc:
        raise PayloadError(kind, [str(exc)]) from exc
