"""The qbXML request document: ``<?qbxml?>``, ``QBXML``, ``QBXMLMsgsRq``."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from enum import StrEnum
from typing import Final

from lxml import etree

from ._xml import hardened_parser
from .errors import BuilderError
from .versions import DEFAULT_VERSION, normalize_version


class OnError(StrEnum):
    """What QuickBooks does with the rest of a message after a request fails."""

    STOP = "stopOnError"
    CONTINUE = "continueOnError"
    ROLLBACK = "rollbackOnError"


#: The ``onError`` of every message the service sends: each request stands alone, so one
#: job's failure never holds back the others. The default of :func:`build_document`,
#: :func:`join_document` and :func:`~qbxml_builders.preview`, and what the QBWC protocol
#: passes, so a preview shows exactly what is sent.
SERVICE_ON_ERROR: Final = OnError.CONTINUE


def build_document(
    requests: Iterable[tuple[str, etree._Element]],
    *,
    version: str = DEFAULT_VERSION,
    on_error: OnError = SERVICE_ON_ERROR,
) -> bytes:
    """Wrap ``(requestID, *Rq element)`` pairs into one complete qbXML request document.

    Each element gets its ``requestID`` attribute set; the elements are moved into the
    new document, so pass copies when you mean to keep them. (One tree serialized once is
    faster than :func:`join_document` over each element's text, when there is no text yet.)
    """
    version = normalize_version(version)
    root = etree.Element("QBXML")
    msgs = etree.SubElement(root, "QBXMLMsgsRq", onError=str(OnError(on_error)))
    for request_id, element in requests:
        tag = element.tag if isinstance(element.tag, str) else repr(element.tag)
        if not tag.endswith("Rq"):
            raise BuilderError(f"{tag} is not a qbXML request element (…Rq)")
        element.set("requestID", str(request_id))
        element.tail = None
        msgs.append(element)
    if not len(msgs):
        raise BuilderError("a qbXML message needs at least one request")
    root.addprevious(etree.ProcessingInstruction("qbxml", f'version="{version}"'))
    return bytes(etree.tostring(etree.ElementTree(root), xml_declaration=True, encoding="utf-8"))


def serialize_request(element: etree._Element) -> str:
    """One ``…Rq`` element as text, ready for :func:`join_document`."""
    return etree.tostring(element, encoding="unicode", with_tail=False)


def join_document(
    requests: Sequence[str], *, version: str = DEFAULT_VERSION, on_error: OnError = SERVICE_ON_ERROR
) -> str:
    """The qbXML request document around ``…Rq`` elements already serialized.

    Each item is the output of :func:`serialize_request` for an element that carries its
    ``requestID``. A caller that keeps the text of every request (the service stores what
    it sent) builds the document from that text instead of serializing twice. The result is
    byte for byte what :func:`build_document` makes of the same elements.
    """
    if not requests:
        raise BuilderError("a qbXML message needs at least one request")
    return (
        f"<?xml version='1.0' encoding='utf-8'?>\n<?qbxml version=\"{normalize_version(version)}\"?>"
        f'<QBXML><QBXMLMsgsRq onError="{OnError(on_error)}">{"".join(requests)}</QBXMLMsgsRq></QBXML>'
    )


def check_document(document: bytes) -> str:
    """Check what the XSD does not: the ``<?qbxml?>`` instruction and the ``QBXML`` root.

    Also refuses a namespace declaration and a missing or unknown ``onError``. Returns the
    version the instruction declares.
    """
    try:
        root = etree.fromstring(document, parser=hardened_parser())
    except etree.XMLSyntaxError as exc:
        raise BuilderError(f"the qbXML document is not well-formed XML: {exc.msg}") from exc
    if root.tag != "QBXML":
        raise BuilderError(f"the root element is {root.tag!r}, not QBXML")
    if root.nsmap:
        raise BuilderError("qbXML has no namespace: the document must not declare one")
    pi = root.getprevious()
    while pi is not None and not (isinstance(pi, etree._ProcessingInstruction) and pi.target == "qbxml"):
        pi = pi.getprevious()
    if pi is None:
        raise BuilderError("the <?qbxml version=...?> instruction is missing before <QBXML>")
    version = pi.get("version")
    if not version:
        raise BuilderError("the <?qbxml?> instruction has no version")
    msgs = root.find("QBXMLMsgsRq")
    if msgs is None:
        raise BuilderError("the document has no QBXMLMsgsRq element")
    on_error = msgs.get("onError")
    if on_error not in {e.value for e in OnError}:
        raise BuilderError(f"QBXMLMsgsRq has onError={on_error!r}; use one of {list(OnError)}")
    return normalize_version(version)
