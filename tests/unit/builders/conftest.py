"""Fixtures of the builder tests: the official qbXML schemas, compiled once per session."""

from __future__ import annotations

from pathlib import Path

import pytest
from lxml import etree

from qbxml_builders.schema import load_schema

#: The shared specs beside the repository (``../shared/spec``).
SPEC = Path(__file__).resolve().parents[3].parent / "shared" / "spec"
QBXML_DIR = SPEC / "qbxml"


@pytest.fixture(scope="session")
def schemas() -> dict[str, etree.XMLSchema]:
    """The 13.0 and 16.0 qbXML schemas, or a skip when ../shared/spec is absent."""
    if not (QBXML_DIR / "qbxmlops130.xsd").is_file():
        pytest.skip(f"the qbXML schemas are not at {QBXML_DIR}")
    return {version: load_schema(version, QBXML_DIR) for version in ("13.0", "16.0")}
