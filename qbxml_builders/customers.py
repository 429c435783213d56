"""Customers: CustomerAdd, CustomerMod and CustomerQuery payloads."""

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
from .queries import IteratingListQuery


class SalesTaxCountry(StrEnum):
    """The country whose sales tax rules apply to a customer or vendor (CA, UK editions)."""

    AUSTRALIA = "Australia"
    CANADA = "Canada"
    UK = "UK"
    US = "US"


class JobStatus(StrEnum):
    """The status of a job (a customer's sub-entry)."""

    AWARDED = "Awarded"
    CLOSED = "Closed"
    IN_PROGRESS = "InProgress"
    NONE = "None"
    NOT_AWARDED = "NotAwarded"
    PENDING = "Pending"


class DeliveryMethod(StrEnum):
    """How forms are sent to a customer by default."""

    EMAIL = "Email"
    FAX = "Fax"
    PRINT = "Print"


class CustomerAdd(Payload):
    """A new customer (or job, with ``parent_ref``), with bill and ship addresses."""

    name: Name41
    is_active: bool | None = None
    class_ref: Annotated[Ref | None, X(since="12.0")] = None
    parent_ref: Ref | None = None
    company_name: Str41 | None = None
    salutation: Str15 | None = None
    first_name: Str25 | None = None
    middle_name: Str5 | None = None
    last_name: Str25 | None = None
    suffix: StrAny | None = None
    job_title: Annotated[Str41 | None, X(since="12.0")] = None
    bill_address: Address | None = None
    ship_address: Address | None = None
    print_as: Str41 | None = None
    phone: Str21 | None = None
    mobile: Str21 | None = None
    pager: Str21 | None = None
    alt_phone: Str21 | None = None
    fax: Str21 | None = None
    email: Str1023 | None = None
    cc: Annotated[Str1023 | None, X(since="12.0")] = None
    contact: Str41 | None = None
    alt_contact: Str41 | None = None
    customer_type_ref: Ref | None = None
    terms_ref: Ref | None = None
    sales_rep_ref: Ref | None = None
    open_balance: Money | None = None
    open_balance_date: date | None = None
    sales_tax_code_ref: TaxCodeRef | None = None
    item_sales_tax_ref: Annotated[Ref | None, X(countries=US_ONLY)] = None
    sales_tax_country: Annotated[SalesTaxCountry | None, X(since="6.0", countries=NOT_US)] = None
    resale_number: Annotated[Str15 | None, X(countries=US_ONLY)] = None
    account_number: Str99 | None = None
    credit_limit: Money | None = None
    preferred_payment_method_ref: Ref | None = None
    job_status: JobStatus | None = None
    job_start_date: date | None = None
    job_projected_end_date: date | None = None
    job_end_date: date | None = None
    job_desc: Str99 | None = None
    job_type_ref: Ref | None = None
    notes: Annotated[Str4095 | None, X(since="3.0")] = None
    is_statement_with_parent: bool | None = None
    delivery_method: DeliveryMethod | None = None
    price_level_ref: Ref | None = None
    external_guid: Annotated[Guid | None, X(tag="ExternalGUID", since="8.0")] = None
    tax_registration_number: Annotated[Str30 | None, X(since="6.0", countries=NOT_US)] = None
    currency_ref: Annotated[CurrencyRef | None, X(since="8.0")] = None


class CustomerMod(Payload):
    """Changes to a customer: only the fields given change."""

    list_id: Annotated[Id, X(tag="ListID")]
    edit_sequence: EditSequence
    name: Name41 | None = None
    is_active: bool | None = None
    class_ref: Annotated[Ref | None, X(since="12.0")] = None
    parent_ref: Ref | None = None
    company_name: Str41 | None = None
    salutation: Str15 | None = None
    first_name: Str25 | None = None
    middle_name: Str5 | None = None
    last_name: Str25 | None = None
    suffix: StrAny | None = None
    job_title: Annotated[Str41 | None, X(since="12.0")] = None
    bill_address: Address | None = None
    ship_address: Address | None = None
    print_as: Str41 | None = None
    phone: Str21 | None = None
    mobile: Str21 | None = None
    pager: Str21 | None = None
    alt_phone: Str21 | None = None
    fax: Str21 | None = None
    email: Str1023 | None = None
    cc: Annotated[Str1023 | None, X(since="12.0")] = None
    contact: Str41 | None = None
    alt_contact: Str41 | None = None
    customer_type_ref: Ref | None = None
    terms_ref: Ref | None = None
    sales_rep_ref: Ref | None = None
    sales_tax_code_ref: TaxCodeRef | None = None
    item_sales_tax_ref: Annotated[Ref | None, X(countries=US_ONLY)] = None
    sales_tax_country: Annotated[SalesTaxCountry | None, X(since="6.0", countries=NOT_US)] = None
    resale_number: Annotated[Str15 | None, X(countries=US_ONLY)] = None
    account_number: Str99 | None = None
    credit_limit: Money | None = None
    preferred_payment_method_ref: Ref | None = None
    job_status: JobStatus | None = None
    job_start_date: date | None = None
    job_projected_end_date: date | None = None
    job_end_date: date | None = None
    job_desc: Str99 | None = None
    job_type_ref: Ref | None = None
    notes: Annotated[Str4095 | None, X(since="3.0")] = None
    is_statement_with_parent: bool | None = None
    delivery_method: DeliveryMethod | None = None
    price_level_ref: Ref | None = None
    tax_registration_number: Annotated[Str30 | None, X(since="6.0", countries=NOT_US)] = None
    currency_ref: Annotated[CurrencyRef | None, X(since="8.0")] = None


class CustomerQuery(IteratingListQuery):
    """Find customers and jobs: by ListID, FullName, name filter or modified-since."""
