"""Reading the first-call HCP response: what QuickBooks tells about itself and the company."""

from __future__ import annotations

from typing import Any

from qbxml_builders import ResponseError
from qbxml_builders._xml import parse_untrusted

#: The HCP response of a large company can be several MB.
MAX_HCP_BYTES = 16 * 1024 * 1024


def parse_hcp(document: str) -> dict[str, Any]:
    """Extract host, company and preference facts from the HCP response.

    Returns a JSON-serialisable mapping; raises :class:`ResponseError` when the document
    cannot be read.
    """
    root = parse_untrusted(document, max_bytes=MAX_HCP_BYTES)
    info: dict[str, Any] = {}
    host = root.find(".//HostRet")
    if host is not None:
        info["product_name"] = host.findtext("ProductName")
        info["major_version"] = host.findtext("MajorVersion")
        info["minor_version"] = host.findtext("MinorVersion")
        info["country"] = host.findtext("Country")
        info["supported_qbxml_versions"] = [v.text for v in host.findall("SupportedQBXMLVersion") if v.text]
        info["file_mode"] = host.findtext("QBFileMode")
        info["edition"] = _edition(info.get("product_name") or "")
    company = root.find(".//CompanyRet")
    if company is not None:
        info["company_name"] = company.findtext("CompanyName")
        info["legal_company_name"] = company.findtext("LegalCompanyName")
    prefs = root.find(".//PreferencesRet")
    if prefs is not None:
        # QuickBooks includes SalesTaxPreferences only when sales tax is turned on.
        info["sales_tax_on"] = prefs.find("SalesTaxPreferences") is not None
        info["inventory_on"] = prefs.findtext("PurchasesAndVendorsPreferences/IsUsingInventory") == "true"
        info["multicurrency_on"] = prefs.findtext("MultiCurrencyPreferences/IsMultiCurrencyOn") == "true"
    if not info:
        raise ResponseError("the HCP response holds no HostRet, CompanyRet or PreferencesRet")
    return info


def _edition(product: str) -> str | None:
    lowered = product.lower()
    for edition in ("enterprise", "premier", "pro", "accountant"):
        if edition in lowered:
            return edition.capitalize()
    return None
