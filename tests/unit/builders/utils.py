"""Test helpers: canonical tree comparison against golden files."""

from __future__ import annotations

from pathlib import Path

from lxml import etree

from qbxml_builders import hardened_parser

GOLDEN = Path(__file__).resolve().parent / "golden"


def canonical(document: bytes) -> bytes:
    """The document's C14N 2.0 form without whitespace-only text, PIs kept."""
    root = etree.fromstring(document, parser=hardened_parser())
    return etree.tostring(root.getroottree(), method="c14n2", strip_text=True)


def assert_matches_golden(name: str, document: bytes, *, update: bool = False) -> None:
    """Compare ``document`` with ``golden/<name>.xml`` structurally (write it when updating)."""
    path = GOLDEN / f"{name}.xml"
    if update or not path.exists():
        pretty = etree.tostring(
            etree.fromstring(document).getroottree(),
            pretty_print=True,
            xml_declaration=True,
            encoding="utf-8",
        )
        path.write_bytes(pretty)
    assert canonical(document) == canonical(path.read_bytes()), f"{name} differs from {path}"
