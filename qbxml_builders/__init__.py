"""qbXML builders: typed payloads in, schema-valid qbXML out; qbXML responses back in.

A pure library: no database, no web framework. Start at :mod:`qbxml_builders.kinds`
(``KINDS``, ``build_request``, ``preview``) and :func:`parse_response` /
:func:`iter_responses`. Any other reader of XML from outside parses it with
:func:`parse_untrusted` or a :func:`hardened_parser`, never with lxml's defaults.
"""

from __future__ import annotations

from ._envelope import (
    SERVICE_ON_ERROR,
    OnError,
    build_document,
    check_document,
    join_document,
    serialize_request,
)
from ._xml import hardened_parser, parse_untrusted
from .errors import (
    BuilderError,
    PayloadValidationError,
    ResponseError,
    ValidationError,
    VersionError,
)
from .hcp import SALES_TAX_OFF_MESSAGE, HostCompanyPreferences, read_hcp, sales_tax_enabled
from .kinds import (
    KINDS,
    RequestKind,
    build_request,
    get_kind,
    kinds_json_schema,
    preview,
    validate_payload,
)
from .responses import (
    Classification,
    QBResponse,
    Severity,
    StatusInfo,
    classify,
    iter_responses,
    parse_response,
    parse_response_elements,
    response_to_json,
)
from .versions import DEFAULT_VERSION, Country, negotiate, normalize_version

__all__ = [
    "DEFAULT_VERSION",
    "KINDS",
    "SALES_TAX_OFF_MESSAGE",
    "SERVICE_ON_ERROR",
    "BuilderError",
    "Classification",
    "Country",
    "HostCompanyPreferences",
    "OnError",
    "PayloadValidationError",
    "QBResponse",
    "RequestKind",
    "ResponseError",
    "Severity",
    "StatusInfo",
    "ValidationError",
    "VersionError",
    "build_document",
    "build_request",
    "check_document",
    "classify",
    "get_kind",
    "hardened_parser",
    "iter_responses",
    "join_document",
    "kinds_json_schema",
    "negotiate",
    "normalize_version",
    "parse_response",
    "parse_response_elements",
    "parse_untrusted",
    "preview",
    "read_hcp",
    "response_to_json",
    "sales_tax_enabled",
    "serialize_request",
    "validate_payload",
]
