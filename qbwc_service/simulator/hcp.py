"""HostQuery, CompanyQuery and PreferencesQuery answers: what QBWC sends on its first call."""

from __future__ import annotations

from lxml import etree

from qbwc_service.simulator.company import CompanyFacts
from qbwc_service.simulator.schema import content_order
from qbwc_service.simulator.store import Store
from qbwc_service.simulator.xmldata import Data, to_element


def build(query: str, facts: CompanyFacts, store: Store) -> etree._Element:
    """The ``…Ret`` element answering ``HostQuery``, ``CompanyQuery`` or ``PreferencesQuery``."""
    data = {"HostQuery": host, "CompanyQuery": company, "PreferencesQuery": preferences}[query](facts, store)
    tag = query.replace("Query", "Ret")
    element = to_element(tag, data, content_order("13.0"), f"el:{tag}")
    joined = element.find("SupportedQBXMLVersion")
    if joined is not None:
        # Stored joined by commas; QuickBooks writes one element per version.
        for version in reversed((joined.text or "").split(",")):
            joined.addnext(_leaf("SupportedQBXMLVersion", version))
        element.remove(joined)
    return element


def _leaf(tag: str, text: str) -> etree._Element:
    leaf = etree.Element(tag)
    leaf.text = text
    return leaf


def host(facts: CompanyFacts, store: Store) -> Data:
    """The product, its version, country and the qbXML versions it speaks."""
    out: Data = {
        "ProductName": facts.product_name,
        "MajorVersion": str(facts.product_version),
        "MinorVersion": "0",
        "Country": facts.country,
    }
    out["SupportedQBXMLVersion"] = ",".join(facts.qbxml_versions)
    out["IsAutomaticLogin"] = "false"
    out["QBFileMode"] = "SingleUser"
    return out


def company(facts: CompanyFacts, store: Store) -> Data:
    """The company's name and address."""
    return {
        "IsSampleCompany": "false",
        "CompanyName": facts.name,
        "LegalCompanyName": facts.name,
        "Address": dict(facts.address),
        "Phone": "555-0100",
    }


def preferences(facts: CompanyFacts, store: Store) -> Data:
    """Preferences; ``SalesTaxPreferences`` only when sales tax is turned on."""
    out: Data = {
        "AccountingPreferences": {
            "IsUsingAccountNumbers": "false",
            "IsRequiringAccounts": "true",
            "IsUsingClassTracking": "false",
            "IsUsingAuditTrail": "true",
            "IsAssigningJournalEntryNumbers": "true",
        },
        "PurchasesAndVendorsPreferences": {
            "IsUsingInventory": "true",
            "DaysBillsAreDue": "10",
            "IsAutomaticallyUsingDiscounts": "false",
        },
    }
    if facts.sales_tax:
        tax_items = list(store.records["ItemSalesTax"].values())
        codes = {str(c["Name"]): c for c in store.records["SalesTaxCode"].values()}
        taxable = next((c for c in codes.values() if c.get("IsTaxable") == "true"), None)
        exempt = next((c for c in codes.values() if c.get("IsTaxable") != "true"), None)
        if tax_items and taxable and exempt:
            out["SalesTaxPreferences"] = {
                "DefaultItemSalesTaxRef": _ref(tax_items[0]),
                "PaySalesTax": "Monthly",
                "DefaultTaxableSalesTaxCodeRef": _ref(taxable),
                "DefaultNonTaxableSalesTaxCodeRef": _ref(exempt),
            }
    return out


def _ref(data: Data) -> Data:
    return {"ListID": str(data["ListID"]), "FullName": str(data.get("FullName") or data["Name"])}
