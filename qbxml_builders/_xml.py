"""Hardened lxml parsing shared by every reader of untrusted XML."""

from __future__ import annotations

import threading
from typing import Final, TypedDict

from lxml import etree

from .errors import ResponseError

#: Refuse documents larger than this many bytes unless a caller says otherwise.
DEFAULT_MAX_BYTES = 64 * 1024 * 1024


class _Hardening(TypedDict):
    resolve_entities: bool
    no_network: bool
    load_dtd: bool
    dtd_validation: bool
    huge_tree: bool
    remove_blank_text: bool


#: The lxml options of every reader of untrusted XML: :func:`hardened_parser` and the
#: streaming ``iterparse`` of :func:`~qbxml_builders.iter_responses` both take them from here.
HARDENED_OPTIONS: Final[_Hardening] = {
    "resolve_entities": False,
    "no_network": True,
    "load_dtd": False,
    "dtd_validation": False,
    "huge_tree": False,
    "remove_blank_text": True,
}


def hardened_parser() -> etree.XMLParser:
    """Return a parser that resolves no entity, loads no DTD and reaches no network.

    The one parser factory for XML from outside (requests, responses, SOAP bodies): every
    module that parses such XML takes its parser from here, never from its own settings.
    """
    return etree.XMLParser(**HARDENED_OPTIONS)


_local = threading.local()


def _thread_parser() -> etree.XMLParser:
    """This thread's hardened parser: lxml parsers are reusable, but not across threads."""
    parser: etree.XMLParser | None = getattr(_local, "parser", None)
    if parser is None:
        parser = _local.parser = hardened_parser()
    return parser


def excerpt(data: bytes, limit: int = 80) -> str:
    """Return the start of ``data`` as one printable line for an error message."""
    text = data[:limit].decode("utf-8", "replace")
    return " ".join(text.split()) + ("..." if len(data) > limit else "")


def parse_untrusted(data: bytes | str, *, max_bytes: int = DEFAULT_MAX_BYTES) -> etree._Element:
    """Parse ``data`` defensively and return its root element.

    Raises :class:`ResponseError` for an empty, oversized, malformed document or one
    that carries a DTD (the vehicle of entity-expansion and external-entity attacks).
    """
    raw = data.encode("utf-8") if isinstance(data, str) else data
    if not raw.strip():
        raise ResponseError("the XML document is empty")
    if len(raw) > max_bytes:
        raise ResponseError(f"the XML document is {len(raw)} bytes, over the {max_bytes} limit")
    if isinstance(data, str):
        # lxml refuses str input that carries an encoding declaration: strip it by hand.
        raw = drop_xml_declaration(raw)
    try:
        root = etree.fromstring(raw, parser=_thread_parser())
    except etree.XMLSyntaxError as exc:
        raise ResponseError(f"not well-formed XML ({exc.msg}) near {excerpt(raw)!r}") from exc
    if root.getroottree().docinfo.doctype:
        raise ResponseError("XML documents with a DTD are refused")
    return root


def drop_xml_declaration(raw: bytes) -> bytes:
    stripped = raw.lstrip()
    if stripped.startswith((b"<?xml ", b"<?xml\t")):
        end = stripped.find(b"?>")
        if end != -1:
            return stripped[end + 2 :]
    return raw
