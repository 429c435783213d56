"""Reading a job payload from a file or stdin."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click


def read_payload(source: str) -> dict[str, Any]:
    """The JSON object in the file ``source`` (``-``: stdin); a bad one is a usage error."""
    text = sys.stdin.read() if source == "-" else Path(source).read_text(encoding="utf-8")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise click.BadParameter(f"not JSON: {exc}", param_hint="--payload") from None
    if not isinstance(data, dict):
        raise click.BadParameter("the payload must be a JSON object", param_hint="--payload")
    return data
