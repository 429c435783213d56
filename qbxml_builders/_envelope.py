"""The qbXML request document: ``<?qbxml?>``, ``QBXML``, ``QBXMLMsgsRq``."""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum

from lxml import etree

from ._xml import hardened_parser
from .errors import BuilderError
from .versions import DEFAULT_VERSION, normalize_version


class OnError(StrEnum):
    """What QuickBooks does with the rest of a message after a request fails."""

    STOP = "stopOnError"
    CONTINUE = "continueOnError"
    ROLLBACK = "rollbackOnError"


def build_document(
    requests: Iterable[tuple[str, etree._Element]],
    *,
    version: str = DEFAULT_VERSION,
    on_error: OnError = OnError.CONTINUE,
) -> bytes:
    """Wrap ``(requestID, *Rq element)`` pairs into one complete qbXML request document.

    Each element gets its ``requestID`` attribute set; the elements are moved into the
    new document, so pass copies when you mean to keep them.
    """
    version = normalize_version(version)
    root = etree.Element("QBXML")
    msgs = etree.SubElement(root, "QBXMLMsgsRq", onError=str(on_error))
    count = 0
    for request_id, element in requests:
        tag = element.tag if isinstance(element.tag, str) else repr(element.tag)
        if not tag.endswith("Rq"):
            raise BuilderError(f"{tag} is not a qbXML request element (…Rq)")
        element.set("requestID", str(request_id))
        msgs.append(element)
        count += 1
    if not count:
        raise BuilderError("a qbXML message needs at least one request")
    tree = etree.ElementTree(root)
    root.addprevious(etree.ProcessingInstruction("qbxml", f'version="{version}"'))
    return bytes(etree.tostring(tree, xml_declaration=True, encoding="utf-8"))


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
