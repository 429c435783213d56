"""Job kinds: how a job's payload is validated at enqueue time and built when sent."""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from lxml import etree
from pydantic import BaseModel

from qbwc_service.errors import PayloadError, UnknownKind
from qbxml_builders import BuilderError, ResponseError, parse_untrusted
from qbxml_builders.errors import PayloadValidationError
from qbxml_builders.kinds import KINDS, RequestKind, validate_payload

#: Largest ready-made request a ``qbxml`` job may carry.
MAX_RAW_REQUEST_BYTES = 1024 * 1024


@dataclass(frozen=True, slots=True)
class JobKind:
    """One kind of job the queue accepts."""

    name: str
    description: str
    #: Check a payload and return it normalised (JSON-serialisable); raise PayloadError.
    validate: Callable[[Mapping[str, Any]], dict[str, Any]]
    #: Build the ``…Rq`` element for the qbXML version and country of the company.
    build: Callable[[Mapping[str, Any], str, str], etree._Element]
    #: A short text support staff search for (a name, a RefNumber), or None.
    reference: Callable[[Mapping[str, Any]], str | None]


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
def registry() -> dict[str, JobKind]:
    """Every job kind by name."""
    kinds = {RAW_QBXML.name: RAW_QBXML}
    kinds.update(_builder_kinds())
    return kinds


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
    kinds = registry()
    try:
        return kinds[name]
    except KeyError:
        raise UnknownKind(name, sorted(kinds)) from None


def build_request(kind: str, payload: Mapping[str, Any], version: str, country: str) -> etree._Element:
    """Build a job's request element; builder errors become :class:`PayloadError`."""
    try:
        return get_kind(kind).build(payload, version, country)
    except BuilderError as exc:
        raise PayloadError(kind, [str(exc)]) from exc
