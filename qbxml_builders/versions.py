"""qbXML versions and countries the builders know, and how to pick one."""

from __future__ import annotations

from enum import StrEnum

from .errors import VersionError

#: Versions whose schema ships with the SDK copy in ``shared/spec`` (13.0 is the default).
SCHEMA_VERSIONS: tuple[str, ...] = ("13.0", "16.0")
#: Versions a document may declare; older ones are produced by leaving out what they lack.
KNOWN_VERSIONS: tuple[str, ...] = (
    "2.0", "2.1", "3.0", "4.0", "4.1", "5.0", "6.0", "7.0", "8.0",
    "10.0", "11.0", "12.0", "13.0", "14.0", "15.0", "16.0",
)  # fmt: skip
DEFAULT_VERSION = "13.0"


class Country(StrEnum):
    """The QuickBooks editions by country, as QBWC reports them in ``qbXMLCountry``."""

    US = "US"
    CA = "CA"
    UK = "UK"


def version_tuple(version: str) -> tuple[int, int]:
    """Return ``(major, minor)`` for a version string such as ``"13.0"``."""
    try:
        major, _, minor = version.partition(".")
        return int(major), int(minor or 0)
    except ValueError:
        raise VersionError("version", f"{version!r} is not a qbXML version like 13.0") from None


def normalize_version(version: str) -> str:
    """Return the canonical ``"M.m"`` spelling of a known version, or raise."""
    major, minor = version_tuple(version)
    canonical = f"{major}.{minor}"
    if canonical not in KNOWN_VERSIONS:
        raise VersionError("version", f"qbXML {version} is not a version QuickBooks ships")
    return canonical


def negotiate(major: int | None, minor: int | None, *, ceiling: str = "16.0") -> str:
    """Pick the version to speak with a QuickBooks that supports up to ``major.minor``.

    The highest known version not above both what QuickBooks reported and ``ceiling``;
    the default version when QuickBooks reported nothing.
    """
    if not major:
        return DEFAULT_VERSION
    limit = min((major, minor or 0), version_tuple(ceiling))
    usable = [v for v in KNOWN_VERSIONS if version_tuple(v) <= limit]
    return usable[-1] if usable else KNOWN_VERSIONS[0]
