"""Built documents match the reviewed golden files, element for element."""

from __future__ import annotations

import os

import pytest

from qbxml_builders import build_document, build_request, preview
from qbxml_builders.examples import EXAMPLES
from tests.unit.builders.utils import GOLDEN, assert_matches_golden

UPDATE = os.environ.get("QBXML_UPDATE_GOLDEN") == "1"


@pytest.mark.parametrize("kind", sorted(EXAMPLES))
def test_example_matches_golden(kind: str) -> None:
    """Each kind's example previews exactly as its golden file: the message the service would send."""
    document = preview(kind, EXAMPLES[kind])
    if not UPDATE:
        assert (GOLDEN / f"{kind}.xml").exists(), "run with QBXML_UPDATE_GOLDEN=1 to create it"
    assert_matches_golden(kind, document, update=UPDATE)


def test_hcp_document_matches_golden() -> None:
    """The first exchange's three queries go out in one message with requestIDs 0, 1, 2."""
    requests = [
        ("0", build_request("host_query", {})),
        ("1", build_request("company_query", {})),
        ("2", build_request("preferences_query", {})),
    ]
    document = build_document(requests)
    if not UPDATE:
        assert (GOLDEN / "hcp.xml").exists()
    assert_matches_golden("hcp", document, update=UPDATE)
