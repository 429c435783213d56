"""Read the first exchange of a run: QBWC's ``strHCPResponse`` (Host, Company, Preferences).

Preferences cannot be changed through qbXML. When sales tax is off, tell the user to turn
it on in QuickBooks (Edit > Preferences > Sales Tax > Company Preferences) before
sending sales tax items, codes or taxed invoices.
"""

from __future__ import annotations

from dataclasses import dataclass

from lxml import etree

from ._xml import DEFAULT_MAX_BYTES, parse_untrusted
from .errors import ResponseError, VersionError
from .versions import KNOWN_VERSIONS, negotiate, version_tuple

#: What to tell a user whose company file has sales tax turned off.
SALES_TAX_OFF_MESSAGE = (
    "Sales tax is turned off in this QuickBooks company file, and it cannot be turned on "
    "from here: in QuickBooks choose Edit > Preferences > Sales Tax > Company Preferences, "
    "answer Yes to 'Do you charge sales tax?', then run the sync again."
)


@dataclass(frozen=True, slots=True)
class HostCompanyPreferences:
    """What QuickBooks told about itself in the HCP response."""

    product_name: str | None
    country: str | None
    supported_versions: tuple[str, ...]
    company_name: str | None
    #: ``True`` when the preferences carry SalesTaxPreferences (sales tax turned on),
    #: ``False`` when the preferences came back without them, ``None`` when not asked.
    sales_tax_enabled: bool | None
    is_multi_currency_on: bool | None

    def best_version(self, *, ceiling: str = "16.0") -> str:
        """The highest qbXML version both sides speak."""
        known = [v for v in self.supported_versions if _known(v)]
        if not known:
            return negotiate(None, None, ceiling=ceiling)
        major, minor = max(version_tuple(v) for v in known)
        return negotiate(major, minor, ceiling=ceiling)


def _known(version: str) -> bool:
    try:
        major, minor = version_tuple(version)
    except VersionError:
        return False
    return f"{major}.{minor}" in KNOWN_VERSIONS or major > 16


def read_hcp(data: bytes | str, *, max_bytes: int = DEFAULT_MAX_BYTES) -> HostCompanyPreferences:
    """Read the host, company and preferences answers out of ``strHCPResponse``."""
    root = parse_untrusted(data, max_bytes=max_bytes)
    msgs = root.find("QBXMLMsgsRs")
    if root.tag != "QBXML" or msgs is None:
        raise ResponseError("the HCP response is not a QBXML/QBXMLMsgsRs document")
    host = msgs.find("HostQueryRs/HostRet")
    company = msgs.find("CompanyQueryRs/CompanyRet")
    prefs = msgs.find("PreferencesQueryRs/PreferencesRet")
    return HostCompanyPreferences(
        product_name=_text(host, "ProductName"),
        country=_text(host, "Country"),
        supported_versions=tuple(
            (v.text or "").strip() for v in (host.findall("SupportedQBXMLVersion") if host is not None else [])
        ),
        company_name=_text(company, "CompanyName"),
        sales_tax_enabled=None if prefs is None else prefs.find("SalesTaxPreferences") is not None,
        is_multi_currency_on=_flag(prefs, "MultiCurrencyPreferences/IsMultiCurrencyOn"),
    )


def sales_tax_enabled(data: bytes | str) -> bool | None:
    """Whether the PreferencesQuery answer in ``data`` says sales tax is turned on."""
    return read_hcp(data).sales_tax_enabled


def _text(parent: etree._Element | None, path: str) -> str | None:
    return None if parent is None else parent.findtext(path)


def _flag(parent: etree._Element | None, path: str) -> bool | None:
    value = _text(parent, path)
    return None if value is None else value.strip().lower() == "true"
