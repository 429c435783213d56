"""Every request kind builds documents that the official qbXML schema accepts."""

from __future__ import annotations

import pytest
from lxml import etree

from qbxml_builders import check_document
from qbxml_builders.examples import EXAMPLES, MINIMAL
from qbxml_builders.kinds import KINDS, preview

CASES = [(kind, "full", data) for kind, data in EXAMPLES.items()] + [
    (kind, "minimal", data) for kind, data in MINIMAL.items()
]


def test_every_kind_has_an_example() -> None:
    """Each registered kind has a full example payload, so each is schema-tested."""
    assert set(EXAMPLES) == set(KINDS)
    assert set(MINIMAL) <= set(KINDS)


@pytest.mark.parametrize("version", ["13.0", "16.0"])
@pytest.mark.parametrize(("kind", "label", "data"), CASES, ids=lambda v: v if isinstance(v, str) else "")
def test_example_validates(
    schemas: dict[str, etree.XMLSchema],
    kind: str,
    label: str,
    data: dict[str, object],
    version: str,
) -> None:
    """The example document validates against the XSD of the version it declares."""
    document = preview(kind, data, version=version)
    assert check_document(document) == version
    schema = schemas[version]
    assert schema.validate(etree.fromstring(document)), schema.error_log.last_error
