"""qbXML builders: typed payloads in, schema-valid qbXML out; qbXML responses back in.

A pure library: no database, no web framework.
"""

from __future__ import annotations

from ._envelope import OnError, build_document, check_document
from .errors import BuilderError, ResponseError, ValidationError, VersionError
from .responses import (
    Classification,
    QBResponse,
    Severity,
    StatusInfo,
    classify,
    parse_response,
)
from .versions import DEFAULT_VERSION, Country, negotiate, normalize_version

__all__ = [
    "DEFAULT_VERSION",
    "BuilderError",
    "Classification",
    "Country",
    "OnError",
    "QBResponse",
    "ResponseError",
    "Severity",
    "StatusInfo",
    "ValidationError",
    "VersionError",
    "build_document",
    "check_document",
    "classify",
    "negotiate",
    "normalize_version",
    "parse_response",
]
