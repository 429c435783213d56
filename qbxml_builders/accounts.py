"""The chart of accounts: AccountAdd, AccountMod and AccountQuery payloads."""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Annotated

from ._fields import (
    NOT_US,
    CurrencyRef,
    EditSequence,
    Id,
    Money,
    Name31,
    Payload,
    Ref,
    Str7,
    Str25,
    Str200,
    TaxCodeRef,
    X,
)
from .queries import OwnedListQuery


class AccountType(StrEnum):
    """QuickBooks' account types, spelled as qbXML spells them."""

    ACCOUNTS_PAYABLE = "AccountsPayable"
    ACCOUNTS_RECEIVABLE = "AccountsReceivable"
    BANK = "Bank"
    COST_OF_GOODS_SOLD = "CostOfGoodsSold"
    CREDIT_CARD = "CreditCard"
    EQUITY = "Equity"
    EXPENSE = "Expense"
    FIXED_ASSET = "FixedAsset"
    INCOME = "Income"
    LONG_TERM_LIABILITY = "LongTermLiability"
    NON_POSTING = "NonPosting"
    OTHER_ASSET = "OtherAsset"
    OTHER_CURRENT_ASSET = "OtherCurrentAsset"
    OTHER_CURRENT_LIABILITY = "OtherCurrentLiability"
    OTHER_EXPENSE = "OtherExpense"
    OTHER_INCOME = "OtherIncome"


class AccountAdd(Payload):
    """A new account; ``parent_ref`` makes it a subaccount."""

    name: Name31
    is_active: bool | None = None
    parent_ref: Ref | None = None
    account_type: AccountType
    account_number: Str7 | None = None
    bank_number: Str25 | None = None
    desc: Str200 | None = None
    open_balance: Money | None = None
    open_balance_date: date | None = None
    sales_tax_code_ref: Annotated[TaxCodeRef | None, X(countries=NOT_US)] = None
    tax_line_id: Annotated[int | None, X(tag="TaxLineID")] = None
    currency_ref: Annotated[CurrencyRef | None, X(since="8.0")] = None


class AccountMod(Payload):
    """Changes to an account: only the fields given change."""

    list_id: Annotated[Id, X(tag="ListID")]
    edit_sequence: EditSequence
    name: Name31 | None = None
    is_active: bool | None = None
    parent_ref: Ref | None = None
    account_type: AccountType | None = None
    account_number: Str7 | None = None
    bank_number: Str25 | None = None
    desc: Str200 | None = None
    open_balance: Money | None = None
    open_balance_date: date | None = None
    sales_tax_code_ref: Annotated[TaxCodeRef | None, X(countries=NOT_US)] = None
    tax_line_id: Annotated[int | None, X(tag="TaxLineID")] = None
    currency_ref: Annotated[CurrencyRef | None, X(since="8.0")] = None


class AccountQuery(OwnedListQuery):
    """Find accounts: by ListID, FullName, filters, or account types (no iterator)."""

    account_types: Annotated[tuple[AccountType, ...], X(tag="AccountType")] = ()

    extra_filters = ("account_types",)
