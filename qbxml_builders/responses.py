"""Reading qbXML responses: one :class:`QBResponse` per ``…Rs`` with its classification."""

from __future__ import annotations

import contextlib
import io
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, BinaryIO

from lxml import etree

from ._xml import DEFAULT_MAX_BYTES, HARDENED_OPTIONS, drop_xml_declaration, parse_untrusted
from .errors import ResponseError


class Severity(StrEnum):
    """``statusSeverity`` as QuickBooks writes it."""

    INFO = "Info"
    WARN = "Warn"
    ERROR = "Error"


class Classification(StrEnum):
    """What a status code means for the job that sent the request."""

    #: The request did what it asked (warnings and "no match" included).
    SUCCESS = "success"
    #: An object with that name already exists (3100).
    ALREADY_EXISTS = "already_exists"
    #: A referenced object (customer, item, account, ...) does not exist (3140).
    MISSING_REFERENCE = "missing_reference"
    #: The EditSequence sent is out of date: query again and resend (3200).
    STALE_EDIT_SEQUENCE = "stale_edit_sequence"
    #: Worth sending again later: QuickBooks was busy, or the request was not processed.
    RETRYABLE = "retryable"
    #: Sending it again will fail the same way: a person must change something.
    PERMANENT = "permanent"


@dataclass(frozen=True, slots=True)
class StatusInfo:
    """The meaning of one QuickBooks status code."""

    classification: Classification
    explanation: str


#: Known status codes. Severity ``Warn`` and anything not listed fall back to the rules in
#: :func:`classify`.
STATUS_TABLE: dict[int, StatusInfo] = {
    0: StatusInfo(Classification.SUCCESS, "QuickBooks processed the request."),
    1: StatusInfo(Classification.SUCCESS, "The query matched nothing; that is an empty result."),
    500: StatusInfo(
        Classification.SUCCESS,
        "QuickBooks processed the request but some objects could not be returned.",
    ),
    530: StatusInfo(
        Classification.SUCCESS,
        "QuickBooks ignored a field it does not support and still processed the request.",
    ),
    3000: StatusInfo(
        Classification.PERMANENT,
        "An ID in the request is not valid: check the ListID or TxnID stored for it.",
    ),
    3040: StatusInfo(
        Classification.PERMANENT,
        "An amount in the request is not one QuickBooks accepts (too large or badly written): correct the amount.",
    ),
    3070: StatusInfo(
        Classification.PERMANENT,
        "A text in the request is longer than QuickBooks allows for that field: shorten it.",
    ),
    3090: StatusInfo(
        Classification.PERMANENT,
        "A name contains a character QuickBooks does not allow (such as a colon): rename it.",
    ),
    3100: StatusInfo(
        Classification.ALREADY_EXISTS,
        "The name is already used by another list entry in QuickBooks (names are shared "
        "between customers, vendors, employees and other names).",
    ),
    3120: StatusInfo(
        Classification.PERMANENT,
        "QuickBooks has no object with that ID: it may have been deleted there.",
    ),
    3140: StatusInfo(
        Classification.MISSING_REFERENCE,
        "The request refers to something QuickBooks does not have (a customer, item, "
        "account, class or tax code): create it first or correct the reference.",
    ),
    3170: StatusInfo(
        Classification.RETRYABLE,
        "QuickBooks could not change the object, often because a user has it open: it will be tried again.",
    ),
    3175: StatusInfo(
        Classification.RETRYABLE,
        "QuickBooks could not lock the object because someone is editing it: it will be tried again.",
    ),
    3176: StatusInfo(
        Classification.RETRYABLE,
        "QuickBooks could not lock the object because someone is editing it: it will be tried again.",
    ),
    3180: StatusInfo(
        Classification.RETRYABLE,
        "QuickBooks could not save the object: it will be tried again.",
    ),
    3200: StatusInfo(
        Classification.STALE_EDIT_SEQUENCE,
        "Someone changed the record in QuickBooks since it was read (stale EditSequence): "
        "it must be read again before the change is sent.",
    ),
    3210: StatusInfo(
        Classification.PERMANENT,
        "QuickBooks refused the transaction; its message says which field to correct.",
    ),
    3231: StatusInfo(
        Classification.RETRYABLE,
        "QuickBooks did not process the request because an earlier one in the same "
        "message failed: it will be sent again.",
    ),
    3250: StatusInfo(
        Classification.PERMANENT,
        "The feature is turned off in this company file (for example sales tax or "
        "inventory): turn it on in QuickBooks' preferences.",
    ),
    3260: StatusInfo(
        Classification.PERMANENT,
        "The QuickBooks user lacks the permission for this request: grant it in the integrated application's settings.",
    ),
    3261: StatusInfo(
        Classification.PERMANENT,
        "The QuickBooks user lacks the permission for this request: grant it in the integrated application's settings.",
    ),
    3391: StatusInfo(
        Classification.RETRYABLE,
        "The query iterator expired (iterators live for one QuickBooks session): the query will start again.",
    ),
    9001: StatusInfo(
        Classification.RETRYABLE,
        "QuickBooks reported an internal error: it will be tried again.",
    ),
}


def classify(status_code: int, severity: str = "Info") -> StatusInfo:
    """Return the classification and explanation of a QuickBooks status code."""
    known = STATUS_TABLE.get(status_code)
    if known is not None:
        return known
    if severity in (Severity.INFO, Severity.WARN):
        return StatusInfo(Classification.SUCCESS, "QuickBooks processed the request with a note.")
    return StatusInfo(
        Classification.PERMANENT,
        f"QuickBooks refused the request with status {status_code}; its message says why.",
    )


@dataclass(frozen=True, slots=True)
class QBResponse:
    """One ``…Rs`` element of a response message."""

    request_id: str | None
    name: str
    status_code: int
    severity: str
    message: str
    #: Every returned ``…Ret`` as a flat mapping of its simple child elements.
    objects: tuple[dict[str, Any], ...] = field(default=())
    iterator_id: str | None = None
    iterator_remaining: int | None = None

    @property
    def info(self) -> StatusInfo:
        """The classification of this response's status."""
        return classify(self.status_code, self.severity)

    @property
    def classification(self) -> Classification:
        """Shorthand for ``info.classification``."""
        return self.info.classification

    @property
    def ok(self) -> bool:
        """Whether the request succeeded (warnings and an empty query result included)."""
        return self.classification is Classification.SUCCESS

    @property
    def empty(self) -> bool:
        """Whether this is a query that matched nothing (status 1): a result, not an error."""
        return self.status_code == 1

    @property
    def more(self) -> bool:
        """Whether an iterator has results left to fetch with ``iterator="Continue"``."""
        return bool(self.iterator_id) and bool(self.iterator_remaining)

    def ids(self) -> dict[str, str]:
        """The identifiers of the first returned object: ListID/TxnID and EditSequence."""
        if not self.objects:
            return {}
        first = self.objects[0]
        keys = ("ListID", "TxnID", "EditSequence", "FullName", "Name", "RefNumber")
        return {k: str(first[k]) for k in keys if k in first}

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready summary: status, classification, iterator and returned objects."""
        info = self.info
        return {
            "request_id": self.request_id,
            "name": self.name,
            "status_code": self.status_code,
            "severity": self.severity,
            "message": self.message,
            "classification": info.classification.value,
            "explanation": info.explanation,
            "ok": self.ok,
            "iterator_id": self.iterator_id,
            "iterator_remaining": self.iterator_remaining,
            "objects": [dict(o) for o in self.objects],
        }


def response_to_json(responses: Iterable[QBResponse]) -> list[dict[str, Any]]:
    """The responses as JSON-ready dicts, one per request (for ``qbxml parse``)."""
    return [r.to_json() for r in responses]


def _tag(element: etree._Element) -> str:
    return element.tag if isinstance(element.tag, str) else ""


def ret_to_dict(ret: etree._Element) -> dict[str, Any]:
    """Flatten a ``…Ret`` element: simple children as text, ``…Ref`` as their FullName/ID."""
    out: dict[str, Any] = {"type": _tag(ret)}
    for child in ret:
        tag = _tag(child)
        if not tag:
            continue
        if len(child) == 0:
            out.setdefault(tag, child.text or "")
        elif tag.endswith("Ref"):
            full = child.findtext("FullName")
            ident = child.findtext("ListID") or child.findtext("TxnID")
            out.setdefault(tag, full if full is not None else ident)
    return out


def _response(rs: etree._Element, objects: tuple[dict[str, Any], ...]) -> QBResponse:
    code_text = rs.get("statusCode")
    try:
        code = int(code_text) if code_text is not None else 0
    except ValueError:
        raise ResponseError(f"{_tag(rs)} has a statusCode that is not a number: {code_text!r}") from None
    remaining = rs.get("iteratorRemainingCount")
    return QBResponse(
        request_id=rs.get("requestID"),
        name=_tag(rs),
        status_code=code,
        severity=rs.get("statusSeverity", "Info"),
        message=rs.get("statusMessage", ""),
        objects=objects,
        iterator_id=rs.get("iteratorID"),
        iterator_remaining=int(remaining) if remaining and remaining.isdigit() else None,
    )


def response_from_element(rs: etree._Element) -> QBResponse:
    """Read one ``…Rs`` element."""
    return _response(rs, tuple(ret_to_dict(c) for c in rs if _tag(c).endswith("Ret")))


def parse_response(data: bytes | str, *, max_bytes: int = DEFAULT_MAX_BYTES) -> list[QBResponse]:
    """Parse a whole qbXML response document into its responses, in order.

    Builds the whole tree: for large query answers prefer :func:`iter_responses`.
    """
    return [rs for _, rs in parse_response_elements(data, max_bytes=max_bytes)]


def parse_response_elements(
    data: bytes | str, *, max_bytes: int = DEFAULT_MAX_BYTES
) -> list[tuple[etree._Element, QBResponse]]:
    """Like :func:`parse_response`, with each ``…Rs`` element beside what it says (to keep or read further)."""
    root = parse_untrusted(data, max_bytes=max_bytes)
    if root.tag != "QBXML":
        raise ResponseError(f"the response's root element is {_tag(root)!r}, not QBXML")
    msgs = root.find("QBXMLMsgsRs")
    if msgs is None:
        raise ResponseError("the response has no QBXMLMsgsRs element")
    return [(rs, response_from_element(rs)) for rs in msgs if _tag(rs)]


def iter_responses(
    source: bytes | str | os.PathLike[str] | BinaryIO,
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> Iterator[QBResponse]:
    """Stream a response document, yielding each ``…Rs`` as soon as it ends.

    ``source`` is the document (bytes or str), a path, or a binary file. Each ``…Ret`` is
    flattened and its element freed at once, so memory holds one object's tree plus the
    flattened objects of the current response. Same hardening as :func:`parse_response`:
    no DTD, no entity expansion, no network, no huge text nodes, at most ``max_bytes``.
    """
    with _reader(source, max_bytes) as stream:
        events = etree.iterparse(stream, events=("end",), **HARDENED_OPTIONS)
        checked = seen_msgs = False
        objects: list[dict[str, Any]] = []
        try:
            for _, element in events:
                if not checked:
                    _check_root(element)
                    checked = True
                parent = element.getparent()
                if parent is None:
                    continue
                grandparent = parent.getparent()
                if grandparent is None:
                    # A child of <QBXML>.
                    seen_msgs = seen_msgs or element.tag == "QBXMLMsgsRs"
                elif grandparent.getparent() is None:
                    # A child of <QBXMLMsgsRs>: one response.
                    if parent.tag == "QBXMLMsgsRs" and _tag(element):
                        yield _response(element, tuple(objects))
                        objects = []
                        _free(element)
                elif (
                    grandparent.tag == "QBXMLMsgsRs"
                    and _tag(element).endswith("Ret")
                    and _is_root(grandparent.getparent())
                ):
                    objects.append(ret_to_dict(element))
                    _free(element)
        except etree.XMLSyntaxError as exc:
            if stream.blank:
                raise ResponseError("the XML document is empty") from exc
            raise ResponseError(f"not well-formed XML ({exc.msg})") from exc
        if not seen_msgs:
            raise ResponseError("the response has no QBXMLMsgsRs element")


def _is_root(element: etree._Element | None) -> bool:
    return element is not None and element.getparent() is None


def _check_root(element: etree._Element) -> None:
    """Refuse a DTD and a root other than QBXML (checked at the first parse event)."""
    tree = element.getroottree()
    if tree.docinfo.doctype:
        raise ResponseError("XML documents with a DTD are refused")
    root = tree.getroot()
    if root.tag != "QBXML":
        raise ResponseError(f"the response's root element is {_tag(root)!r}, not QBXML")


def _free(element: etree._Element) -> None:
    """Drop a finished element's content and the finished siblings before it."""
    element.clear(keep_tail=False)
    parent = element.getparent()
    if parent is not None:
        while element.getprevious() is not None:
            del parent[0]


class _Limited(io.RawIOBase):
    """A read-only binary stream that refuses to go past ``limit`` bytes."""

    def __init__(self, inner: BinaryIO, limit: int) -> None:
        self._inner = inner
        self._limit = limit
        self._count = 0
        #: Whether everything read so far is whitespace.
        self.blank = True

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        chunk = self._inner.read(size if size is not None and size >= 0 else self._limit + 1)
        self._count += len(chunk)
        self.blank = self.blank and not chunk.strip()
        if self._count > self._limit:
            raise ResponseError(f"the XML document is over the {self._limit} byte limit")
        return chunk


@contextlib.contextmanager
def _reader(source: bytes | str | os.PathLike[str] | BinaryIO, max_bytes: int) -> Iterator[_Limited]:
    if isinstance(source, str):
        source = drop_xml_declaration(source.encode("utf-8"))
    if isinstance(source, bytes):
        if not source.strip():
            raise ResponseError("the XML document is empty")
        yield _Limited(io.BytesIO(source), max_bytes)
    elif isinstance(source, os.PathLike):
        with open(source, "rb") as handle:
            yield _Limited(handle, max_bytes)
    else:
        yield _Limited(source, max_bytes)
