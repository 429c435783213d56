"""Validate built documents against Intuit's qbXML XSD (kept outside this package).

The XSD does not check the ``<?qbxml?>`` instruction or the root element:
:func:`validate_document` runs :func:`~qbxml_builders.check_document` for those.
"""

from __future__ import annotations

import functools
from pathlib import Path

from lxml import etree

from ._envelope import check_document
from ._xml import hardened_parser
from .errors import BuilderError
from .versions import SCHEMA_VERSIONS, normalize_version, version_tuple


@functools.cache
def load_schema(version: str, directory: Path | str) -> etree.XMLSchema:
    """Compile ``qbxmlops<NN>0.xsd`` from ``directory`` once (about 0.2 s) and keep it."""
    version = normalize_version(version)
    if version not in SCHEMA_VERSIONS:
        raise BuilderError(f"no qbXML schema ships for version {version}")
    path = Path(directory) / f"qbxmlops{version.replace('.', '')}.xsd"
    if not path.is_file():
        raise BuilderError(f"the qbXML {version} schema is not at {path}")
    return etree.XMLSchema(etree.parse(str(path), parser=hardened_parser()))


def schema_version_for(version: str) -> str:
    """The shipped XSD that judges a document declaring ``version``: the oldest not older than it.

    13.0 judges 13.0 and every older version (each is a subset of the next); 16.0 judges
    14.0, 15.0 and 16.0, whose documents may use elements added after 13.0. The builders
    and the QuickBooks emulator both ask this function, so they never disagree.
    """
    declared = version_tuple(normalize_version(version))
    for candidate in sorted(SCHEMA_VERSIONS, key=version_tuple):
        if version_tuple(candidate) >= declared:
            return candidate
    raise BuilderError(f"no shipped qbXML schema covers version {version}")


def validate_document(document: bytes, directory: Path | str) -> str:
    """Check the envelope and validate against the XSD; return the declared version.

    Raises BuilderError listing the first schema violations.
    """
    version = check_document(document)
    schema = load_schema(schema_version_for(version), directory)
    root = etree.fromstring(document, parser=hardened_parser())
    if not schema.validate(root):
        problems = "; ".join(f"line {e.line}: {e.message}" for e in list(schema.error_log)[:5])
        raise BuilderError(f"the document breaks the qbXML {version} schema: {problems}")
    return version
