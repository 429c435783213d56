"""Reading qbXML responses: one :class:`QBResponse` per ``…Rs`` with its classification."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from lxml import etree

from ._xml import DEFAULT_MAX_BYTES, parse_untrusted
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

    def ids(self) -> dict[str, str]:
        """The identifiers of the first returned object: ListID/TxnID and EditSequence."""
        if not self.objects:
            return {}
        first = self.objects[0]
        keys = ("ListID", "TxnID", "EditSequence", "FullName", "Name", "RefNumber")
        return {k: str(first[k]) for k in keys if k in first}


def ret_to_dict(ret: etree._Element) -> dict[str, Any]:
    """Flatten a ``…Ret`` element: simple children as text, ``…Ref`` as their FullName/ID."""
    out: dict[str, Any] = {"type": ret.tag}
    for child in ret:
        if not isinstance(child.tag, str):
            continue
        if len(child) == 0:
            out.setdefault(child.tag, child.text or "")
        elif child.tag.endswith("Ref"):
            full = child.findtext("FullName")
            ident = child.findtext("ListID") or child.findtext("TxnID")
            out.setdefault(child.tag, full if full is not None else ident)
    return out


def response_from_element(rs: etree._Element) -> QBResponse:
    """Read one ``…Rs`` element."""
    code_text = rs.get("statusCode")
    try:
        code = int(code_text) if code_text is not None else 0
    except ValueError:
        raise ResponseError(f"{rs.tag!s} has a statusCode that is not a number: {code_text!r}") from None
    remaining = rs.get("iteratorRemainingCount")
    return QBResponse(
        request_id=rs.get("requestID"),
        name=str(rs.tag),
        status_code=code,
        severity=rs.get("statusSeverity", "Info"),
        message=rs.get("statusMessage", ""),
        objects=tuple(ret_to_dict(c) for c in rs if isinstance(c.tag, str) and c.tag.endswith("Ret")),
        iterator_id=rs.get("iteratorID"),
        iterator_remaining=int(remaining) if remaining and remaining.isdigit() else None,
    )


def parse_response(data: bytes | str, *, max_bytes: int = DEFAULT_MAX_BYTES) -> list[QBResponse]:
    """Parse a whole qbXML response document into its responses, in order."""
    root = parse_untrusted(data, max_bytes=max_bytes)
    if root.tag != "QBXML":
        raise ResponseError(f"the response's root element is {root.tag!s}, not QBXML")
    msgs = root.find("QBXMLMsgsRs")
    if msgs is None:
        raise ResponseError("the response has no QBXMLMsgsRs element")
    return [response_from_element(rs) for rs in msgs if isinstance(rs.tag, str)]
