"""The committed request-kind reference matches the registry."""

from __future__ import annotations

from pathlib import Path

from qbxml_builders import KINDS
from qbxml_builders._docgen import render

DOC = Path(__file__).resolve().parents[3] / "docs" / "qbxml.md"


def test_docs_are_current() -> None:
    """docs/qbxml.md is what the generator writes today (regenerate it after model changes)."""
    assert DOC.read_text(encoding="utf-8") == render(), (
        "run: .venv/bin/python -m qbxml_builders._docgen > docs/qbxml.md"
    )


def test_docs_list_every_kind() -> None:
    """Every kind has its own section with its payload fields."""
    text = DOC.read_text(encoding="utf-8")
    for name in KINDS:
        assert f"\n### {name}\n" in text
