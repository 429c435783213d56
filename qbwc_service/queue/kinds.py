"""The job-kind registry: how a job's payload is validated when queued, and each step when sent.

A kind is a small state machine (its types are in :mod:`.steps`, re-exported here).
:attr:`JobKind.next_request` builds the request of the job's current step (from its payload
and ``progress``) and :attr:`JobKind.take_answer` reads QuickBooks' answer to it: the job is
done, goes on to another step (:class:`Next`), or has failed (:class:`Failed`).
The queue and the protocol know kinds only through this registry: the built-in ones (every
typed request of :mod:`qbxml_builders` and raw ``qbxml``) and those that workflows
:func:`register`. Neither imports a workflow.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

from lxml import etree

from qbwc_service.errors import PayloadError, UnknownKind
from qbwc_service.queue import ensure, iterate, mod_query
from qbwc_service.queue.refs import JobRef, job_refs, names_referred_to, resolve_refs, stand_in
from qbwc_service.queue.steps import (
    Done,
    Failed,
    JobKind,
    Later,
    Next,
    PageSink,
    SinkFull,
    Step,
    StepState,
    typed_clean,
    typed_model,
)
from qbxml_builders import BuilderError, ResponseError, parse_untrusted
from qbxml_builders.kinds import KINDS, RequestKind

__all__ = [
    "Done",
    "Failed",
    "JobKind",
    "JobRef",
    "Later",
    "Next",
    "PageSink",
    "SinkFull",
    "Step",
    "StepState",
    "build_request",
    "get_kind",
    "has_kind",
    "job_refs",
    "names_referred_to",
    "next_request",
    "raw_request",
    "register",
    "registry",
    "resolve_refs",
]

#: Largest ready-made request a ``qbxml`` job may carry.
MAX_RAW_REQUEST_BYTES = 1024 * 1024


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


def _creates_raw(payload: Mapping[str, Any]) -> str | None:
    try:
        element = _raw_request(payload)
    except PayloadError:
        return None
    if not str(element.tag).endswith("AddRq"):
        return None
    body = next((c for c in element if isinstance(c.tag, str)), element)
    name = body.findtext("Name")
    if not name:
        return None
    parent = body.find("ParentRef")
    if parent is None:
        return name
    parent_name = parent.findtext("FullName")
    return f"{parent_name}:{name}" if parent_name else None


RAW_QBXML = JobKind(
    name="qbxml",
    description="A ready-made qbXML request element (…Rq), sent as it is.",
    validate=_validate_raw,
    build=_build_raw,
    reference=_reference_raw,
    creates=_creates_raw,
    schema=lambda: {
        "type": "object",
        "properties": {"request": {"type": "string", "description": "One qbXML request element (…Rq)."}},
        "required": ["request"],
        "additionalProperties": False,
    },
)


@functools.cache
def _builtin(name: str) -> JobKind | None:
    """The built-in kind called ``name``, or None; only that kind's payload models are loaded."""
    if name == RAW_QBXML.name:
        return RAW_QBXML
    if name in KINDS:
        return _builder_kind(name)
    return ensure.ensure_kind_named(name)


#: Kinds added by :func:`register` (workflows), by name.
_registered: dict[str, JobKind] = {}


def register(kind: JobKind) -> JobKind:
    """Add a kind to the registry (a workflow's kinds register when the workflow is set up).

    Registering the same kind again is harmless; another kind under a taken name is refused.
    """
    taken = _builtin(kind.name) or _registered.get(kind.name)
    if taken is not None and taken is not kind:
        raise ValueError(f"a job kind named {kind.name!r} is already registered")
    _registered[kind.name] = kind
    return kind


def has_kind(name: str) -> bool:
    """Whether a kind called ``name`` is built in or registered (loading only that kind)."""
    return name in _registered or _builtin(name) is not None


def registry() -> dict[str, JobKind]:
    """Every job kind by name (this loads every payload model: :func:`get_kind` loads one)."""
    builtin = [RAW_QBXML, *map(_builder_kind, KINDS), *ensure.ensure_kinds()]
    return {**{kind.name: kind for kind in builtin}, **_registered}


def _list_name_rule(payload: Mapping[str, Any]) -> str | None:
    """FullName of the entry an Add creates: ``name``, or ``Parent:name`` under a parent named by FullName."""
    name = payload.get("name")
    if not isinstance(name, str) or not name:
        return None
    parent = payload.get("parent_ref")
    if parent is None:
        return name
    parent_name = parent.get("full_name") if isinstance(parent, Mapping) and "list_id" not in parent else None
    return f"{parent_name}:{name}" if isinstance(parent_name, str) else None


def creates(kind: str, payload: Mapping[str, Any]) -> str | None:
    """The FullName (as given) that a job of ``kind`` will create, or None (see docs/architecture.md)."""
    job_kind = get_kind(kind)
    if job_kind.creates is not None:
        return job_kind.creates(payload)
    return _list_name_rule(payload) if kind.endswith(("_add", "_ensure")) else None


def _typed_kind(spec: RequestKind) -> JobKind:
    """A job kind over one typed request kind of :mod:`qbxml_builders`.

    A ref may name another job (``{"job": N}``, see :mod:`.refs`): validated with a
    placeholder in its place, stored as given, and resolved to the job's recorded id when sent.
    """

    def validate(payload: Mapping[str, Any]) -> dict[str, Any]:
        # Stored as JSON (money as strings, dates ISO) and validated again when sent.
        return typed_clean(spec, payload)

    def build(payload: Mapping[str, Any], version: str, country: str) -> etree._Element:
        return spec.build(typed_model(spec, payload, stored=True), version=version, country=country)

    def reference(payload: Mapping[str, Any]) -> str | None:
        return spec.reference(typed_model(spec, stand_in(payload)[0]))

    return JobKind(spec.name, spec.description, validate, build, reference, schema=spec.payload_model.model_json_schema)


@functools.cache
def _builder_kind(name: str) -> JobKind:
    """The job kind over the typed request kind ``name`` of :mod:`qbxml_builders` (``customer_add``, ...).

    A ``…_mod`` kind may leave out the EditSequence (:mod:`.mod_query`), a ``…_query`` kind
    may iterate (:mod:`.iterate`); each list family also has an ``…_ensure`` kind
    (:mod:`.ensure`).
    """
    spec = KINDS[name]
    if mod_query.applies(spec):
        return mod_query.mod_kind(spec)
    if iterate.applies(spec):
        return iterate.query_kind(spec)
    return _typed_kind(spec)


def get_kind(name: str) -> JobKind:
    """The job kind called ``name``, or :class:`UnknownKind`."""
    found = _registered.get(name) or _builtin(name)
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
