"""The handshake: our version text, the Web Connector's version check, and what the first call tells."""

from __future__ import annotations

import dataclasses
import logging
from typing import Any

from qbwc_service._version import __version__
from qbwc_service.logs import log
from qbwc_service.qbwc.sessions import Facts
from qbxml_builders import ResponseError, negotiate
from qbxml_builders.hcp import HostCompanyPreferences, read_hcp

#: The version whose warning text QBWC users see from clientVersion.
RECOMMENDED_QBWC_VERSION = "2.1.0.30"


def server_version() -> str:
    """The text QBWC shows as our version."""
    return f"qbwc-service {__version__}"


def version_key(version: str) -> tuple[int, ...]:
    """A dotted version as numbers, for comparison (``2.1.0.30`` → ``(2, 1, 0, 30)``)."""
    parts = []
    for piece in version.strip().split("."):
        digits = "".join(ch for ch in piece if ch.isdigit())
        parts.append(int(digits) if digits else 0)
    return tuple(parts)


def client_version(version: str | None, minimum: str) -> str:
    """``E:`` below ``minimum``, ``W:`` below the recommended version, else ``""``."""
    if not version:
        return ""
    key = version_key(version)
    if key < version_key(minimum):
        return (
            f"E:This service needs QuickBooks Web Connector {minimum} "
            f"or later; you have {version}. Please update the Web Connector."
        )
    if key < version_key(RECOMMENDED_QBWC_VERSION):
        return (
            f"W:QuickBooks Web Connector {version} is old; version {RECOMMENDED_QBWC_VERSION} "
            "or later is recommended. Press OK to continue."
        )
    return ""


def host_info(facts: HostCompanyPreferences) -> dict[str, Any]:
    """The HCP facts kept on the company, JSON-ready, with the edition spelled out."""
    info = dataclasses.asdict(facts)
    info["supported_versions"] = list(facts.supported_versions)
    product = (facts.product_name or "").lower()
    info["edition"] = next(
        (e.capitalize() for e in ("enterprise", "premier", "pro", "accountant") if e in product), None
    )
    return info


def first_call_facts(
    hcp_response: str | None,
    company_file: str | None,
    country: str | None,
    major: int | None,
    minor: int | None,
    *,
    max_bytes: int,
    session: str,
) -> Facts:
    """What the first ``sendRequestXML`` tells: the version both sides know, country, file, HCP facts."""
    version = negotiate(major, minor)
    info: dict[str, Any] | None = None
    if hcp_response and hcp_response.strip():
        try:
            facts = read_hcp(hcp_response, max_bytes=max_bytes)
        except ResponseError as exc:
            log(logging.WARNING, "hcp_unreadable", session=session, error=str(exc))
        else:
            info = host_info(facts)
            if not major:  # QBWC did not say: take the best version the host lists
                version = facts.best_version()
    return Facts(version, (country or "US").upper(), company_file, info)
