"""Reading a job's payload from a file or stdin: a JSON object, or a qbxml job's request element."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

#: The kind whose payload is a ready-made request element (``qbwc_service.queue.kinds.RAW_QBXML``).
RAW_KIND = "qbxml"


def read_text(source: str) -> str:
    """The text of the file ``source`` (``-``: stdin), without a byte order mark."""
    text = sys.stdin.read() if source == "-" else Path(source).read_text(encoding="utf-8")
    return text.removeprefix("\ufeff")


def _name(source: str) -> str:
    return "stdin" if source == "-" else source


def read_payload(source: str, kind: str) -> dict[str, Any]:
    """The payload of a ``kind`` job in ``source``: JSON, or for ``qbxml`` XML (text starting with ``<``)."""
    text = read_text(source)
    if text.lstrip().startswith("<"):
        return xml_payload(text, kind, source, "--payload")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise click.BadParameter(
            f"{_name(source)} is not JSON ({exc}); a {RAW_KIND} job also takes the request element itself, "
            "text starting with <",
            param_hint="--payload",
        ) from None
    if not isinstance(data, dict):
        raise click.BadParameter("the payload must be a JSON object", param_hint="--payload")
    return data


def xml_payload(text: str, kind: str, source: str, param_hint: str) -> dict[str, Any]:
    """The payload of a ``qbxml`` job whose request element is ``text``; other kinds refuse XML."""
    if kind != RAW_KIND:
        raise click.BadParameter(
            f"{_name(source)} holds XML, but only a {RAW_KIND} job takes a ready-made request element; "
            f"a {kind} payload is a JSON object (its fields: `qbwc-service qbxml kinds`)",
            param_hint=param_hint,
        )
    return {"request": text}
