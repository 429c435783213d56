"""Mask secrets and card numbers: in what the admin pages show (pretty-printed) and in log lines."""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterable
from typing import Any

from lxml import etree

from qbxml_builders import ResponseError, parse_untrusted

#: Field names always masked (compared case-insensitively): qbXML elements and payload keys.
BUILTIN_FIELDS = frozenset(
    {
        "creditcardnumber",
        "cardsecuritycode",
        "ssn",
        "strpassword",
        "password",
        "token",
        "api_key",
        "apikey",
        "secret",
    }
)
MASK = "[redacted]"

#: A card number: an unbroken run of 13 to 19 digits, or 4-4-4-4 / 4-6-5 groups split by
#: spaces or dashes. QuickBooks ListIDs (``80000001-1700000000``) do not match.
_CARD_RUNS = (
    re.compile(r"(?<!\d)\d{13,19}(?!\d)"),
    re.compile(r"(?<![\d-])\d{4}([ -])\d{4,6}\1\d{4,5}(?:\1\d{1,4})?(?![\d-])"),
)


def _mask_card(match: re.Match[str]) -> str:
    digits = re.sub(r"\D", "", match.group(0))
    return f"[card number …{digits[-4:]}]"


def _mask_named(match: re.Match[str]) -> str:
    if match.group("tag") is not None:
        return f"{match.group(1)}{MASK}{match.group(3)}"
    return f"{match.group('lead')}{MASK}"


class Redactor:
    """Masks configured field names and card-number-like digit runs."""

    def __init__(self, extra_fields: Iterable[str] = ()) -> None:
        self.fields = BUILTIN_FIELDS | {f.strip().lower() for f in extra_fields if f.strip()}

    @functools.cached_property
    def _named(self) -> re.Pattern[str]:
        """A masked field in free text: an element ``<Name>…</Name>``, ``name=…``, ``"name": "…"``."""
        names = "|".join(sorted(map(re.escape, self.fields), key=len, reverse=True))
        return re.compile(
            rf"(<(?:[\w.-]+:)?(?P<tag>{names})\b[^>]*>).*?(</(?:[\w.-]+:)?(?P=tag)\s*>)"
            rf"|(?P<lead>(?<![\w-])[\"']?(?:{names})[\"']?\s*[=:]\s*)(?P<value>\"[^\"]*\"|'[^']*'|[^\s,;&<>}}]+)",
            re.IGNORECASE | re.DOTALL,
        )

    def line(self, value: str) -> str:
        """Free text (a log line's message or fact) with masked fields and card numbers masked, XML or not."""
        value = self._named.sub(_mask_named, value)
        return self.text(value)

    def is_secret(self, name: str) -> bool:
        """Whether a field or element called ``name`` is always masked."""
        return name.lower() in self.fields

    def text(self, value: str) -> str:
        """``value`` with card-number-like digit runs masked (the last four digits stay)."""
        for pattern in _CARD_RUNS:
            value = pattern.sub(_mask_card, value)
        return value

    def xml(self, document: str | None) -> str:
        """A qbXML fragment, redacted and indented; unreadable XML comes back masked as text."""
        if not document or not document.strip():
            return ""
        try:
            root = parse_untrusted(document)
        except ResponseError:
            return self.text(document)
        for element in root.iter():
            if not isinstance(element.tag, str):
                continue
            if self.is_secret(etree.QName(element).localname):
                if len(element):
                    for child in list(element):
                        element.remove(child)
                element.text = MASK
            elif element.text:
                element.text = self.text(element.text)
            for name, attr in element.attrib.items():
                element.set(name, MASK if self.is_secret(str(name)) else self.text(str(attr)))
        etree.indent(root, space="  ")
        return etree.tostring(root, encoding="unicode")

    def data(self, value: Any) -> Any:
        """A JSON value with secret keys masked, embedded qbXML redacted, and card numbers masked."""
        if isinstance(value, dict):
            return {k: MASK if self.is_secret(str(k)) else self.data(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self.data(v) for v in value]
        if isinstance(value, str):
            if value.lstrip().startswith("<"):
                return self.xml(value)
            return self.text(value)
        return value

    def json(self, value: Any) -> str:
        """A JSON value, redacted and indented."""
        if value is None:
            return ""
        return json.dumps(self.data(value), indent=2, ensure_ascii=False, sort_keys=True)

    def payload(self, payload: dict[str, Any] | None) -> tuple[str, list[tuple[str, str]]]:
        """A payload as redacted JSON plus its top-level qbXML fields as separate indented blocks."""
        if payload is None:
            return "", []
        blocks: list[tuple[str, str]] = []
        rest: dict[str, Any] = {}
        for key, value in payload.items():
            if isinstance(value, str) and value.lstrip().startswith("<") and not self.is_secret(key):
                blocks.append((key, self.xml(value)))
                rest[key] = f"(qbXML, shown below as {key!r})"
            else:
                rest[key] = value
        return self.json(rest), blocks
