"""Vendors, including the sales tax agency a sales tax item pays.

In US editions any vendor becomes a tax agency by being the ``tax_vendor_ref`` of a sales
tax item. In Canadian and UK editions the vendor itself says so (``is_sales_tax_agency``)
and carries the tax return settings.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Annotated

from ._fields import (
    NOT_US,
    US_ONLY,
    Address,
    CurrencyRef,
    EditSequence,
    Guid,
    Id,
    Money,
    Name41,
    Payload,
    Ref,
    Str5,
    Str15,
    Str21,
    Str25,
    Str30,
    Str41,
    Str99,
    Str1023,
    Str4095,
    StrAny,
    TaxCodeRef,
    X,
)
from .customers import SalesTaxCountry
from .queries import IteratingListQuery


class ReportingPeriod(StrEnum):
    """How often a tax agency vendor's returns are filed (CA, UK editions)."""

    MONTHLY = "Monthly"
    QUARTERLY = "Quarterly"


class VendorAdd(Payload):
    """A new vendor; set the CA/UK tax fields to make it a sales tax agency there."""

    name: Name41
    is_active: bool | None = None
    class_ref: Annotated[Ref | None, X(since="12.0")] = None
    company_name: Str41 | None = None
    salutation: Str15 | None = None
    first_name: Str25 | None = None
    middle_name: Str5 | None = None
    last_name: Str25 | None = None
    suffix: StrAny | None = None
    job_title: Annotated[Str41 | None, X(since="12.0")] = None
    vendor_address: Address | None = None
    ship_address: Annotated[Address | None, X(since="12.0")] = None
    phone: Str21 | None = None
    mobile: Str21 | None = None
    pager: Str21 | None = None
    alt_phone: Str21 | None = None
    fax: Str21 | None = None
    email: Str1023 | None = None
    cc: Annotated[Str1023 | None, X(since="12.0")] = None
    contact: Str41 | None = None
    alt_contact: Str41 | None = None
    name_on_check: Str41 | None = None
    account_number: Str99 | None = None
    notes: Annotated[Str4095 | None, X(since="3.0")] = None
    vendor_type_ref: Ref | None = None
    terms_ref: Ref | None = None
    credit_limit: Money | None = None
    vendor_tax_ident: Annotated[Str15 | None, X(countries=US_ONLY)] = None
    is_vendor_eligible_for_1099: Annotated[bool | None, X(countries=US_ONLY)] = None
    open_balance: Money | None = None
    open_balance_date: date | None = None
    billing_rate_ref: Ref | None = None
    external_guid: Annotated[Guid | None, X(tag="ExternalGUID", since="8.0")] = None
    sales_tax_code_ref: Annotated[TaxCodeRef | None, X(countries=NOT_US)] = None
    sales_tax_country: Annotated[SalesTaxCountry | None, X(since="6.0", countries=NOT_US)] = None
    is_sales_tax_agency: Annotated[bool | None, X(since="6.0", countries=NOT_US)] = None
    sales_tax_return_ref: Annotated[Ref | None, X(since="6.0", countries=NOT_US)] = None
    tax_registration_number: Annotated[Str30 | None, X(since="6.0", countries=NOT_US)] = None
    reporting_period: Annotated[ReportingPeriod | None, X(since="6.0", countries=NOT_US)] = None
    is_tax_tracked_on_purchases: Annotated[bool | None, X(since="6.0", countries=NOT_US)] = None
    tax_on_purchases_account_ref: Annotated[Ref | None, X(since="6.0", countries=NOT_US)] = None
    is_tax_tracked_on_sales: Annotated[bool | None, X(since="6.0", countries=NOT_US)] = None
    tax_on_sales_account_ref: Annotated[Ref | None, X(since="6.0", countries=NOT_US)] = None
    is_tax_on_tax: Annotated[bool | None, X(since="6.0", countries=NOT_US)] = None
    currency_ref: Annotated[CurrencyRef | None, X(since="8.0")] = None


class VendorMod(Payload):
    """Changes to a vendor: only the fields given change."""

    list_id: Annotated[Id, X(tag="ListID")]
    edit_sequence: EditSequence
    name: Name41 | None = None
    is_active: bool | None = None
    class_ref: Annotated[Ref | None, X(since="12.0")] = None
    company_name: Str41 | None = None
    salutation: Str15 | None = None
    first_name: Str25 | None = None
    middle_name: Str5 | None = None
    last_name: Str25 | None = None
    suffix: StrAny | None = None
    job_title: Annotated[Str41 | None, X(since="12.0")] = None
    vendor_address: Address | None = None
    ship_address: Annotated[Address | None, X(since="12.0")] = None
    phone: Str21 | None = None
    mobile: Str21 | None = None
    pager: Str21 | None = None
    alt_phone: Str21 | None = None
    fax: Str21 | None = None
    email: Str1023 | None = None
    cc: Annotated[Str1023 | None, X(since="12.0")] = None
    contact: Str41 | None = None
    alt_contact: Str41 | None = None
    name_on_check: Str41 | None = None
    account_number: Str99 | None = None
    notes: Annotated[Str4095 | None, X(since="3.0")] = None
    vendor_type_ref: Ref | None = None
    terms_ref: Ref | None = None
    credit_limit: Money | None = None
    vendor_tax_ident: Annotated[Str15 | None, X(countries=US_ONLY)] = None
    is_vendor_eligible_for_1099: Annotated[bool | None, X(countries=US_ONLY)] = None
    billing_rate_ref: Ref | None = None
    sales_tax_code_ref: Annotated[TaxCodeRef | None, X(countries=NOT_US)] = None
    sales_tax_country: Annotated[SalesTaxCountry | None, X(since="6.0", countries=NOT_US)] = None
    is_sales_tax_agency: Annotated[bool | None, X(since="6.0", countries=NOT_US)] = None
    sales_tax_return_ref: Annotated[Ref | None, X(since="6.0", countries=NOT_US)] = None
    tax_registration_number: Annotated[Str30 | None, X(since="6.0", countries=NOT_US)] = None
    reporting_period: Annotated[ReportingPeriod | None, X(since="6.0", countries=NOT_US)] = None
    is_tax_tracked_on_purchases: Annotated[bool | None, X(since="6.0", countries=NOT_US)] = None
    tax_on_purchases_account_ref: Annotated[Ref | None, X(since="6.0", countries=NOT_US)] = None
    is_tax_tracked_on_sales: Annotated[bool | None, X(since="6.0", countries=NOT_US)] = None
    tax_on_sales_account_ref: Annotated[Ref | None, X(since="6.0", countries=NOT_US)] = None
    is_tax_on_tax: Annotated[bool | None, X(since="6.0", countries=NOT_US)] = None
    currency_ref: Annotated[CurrencyRef | None, X(since="8.0")] = None


class VendorQuery(IteratingListQuery):
    """Find vendors: by ListID, FullName, name filter or modified-since."""
