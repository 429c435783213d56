"""Journal entries: JournalEntryAdd, JournalEntryMod, JournalEntryQuery.

An entry whose debits and credits differ is refused here, before QuickBooks sees it.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import Field, model_validator

from ._fields import (
    US_ONLY,
    CurrencyRef,
    EditSequence,
    Guid,
    Id,
    NonNegativeMoney,
    Payload,
    Rate,
    Ref,
    Str11,
    Str4095,
    StrAny,
    X,
)
from ._rules import Excludes, Rule
from .queries import TxnQuery

_ZERO = Decimal("0.00")


class BillableStatus(StrEnum):
    """Whether an expense line can be billed to a customer."""

    BILLABLE = "Billable"
    NOT_BILLABLE = "NotBillable"
    HAS_BEEN_BILLED = "HasBeenBilled"


class JournalLine(Payload):
    """One debit or credit line of a journal entry."""

    side: Annotated[Literal["debit", "credit"], X(skip=True)]
    account_ref: Ref
    amount: NonNegativeMoney
    memo: Str4095 | None = None
    entity_ref: Ref | None = None
    class_ref: Ref | None = None
    item_sales_tax_ref: Annotated[Ref | None, X(countries=US_ONLY)] = None
    billable_status: BillableStatus | None = None

    def element_tag(self, default: str) -> str:
        """``JournalDebitLine`` or ``JournalCreditLine``, by side."""
        return "JournalDebitLine" if self.side == "debit" else "JournalCreditLine"


class JournalLineMod(Payload):
    """A line of a changed journal entry; ``txn_line_id`` ``-1`` adds a line."""

    txn_line_id: Annotated[Id, X(tag="TxnLineID")]
    journal_line_type: Literal["Debit", "Credit"]
    account_ref: Ref | None = None
    amount: NonNegativeMoney
    memo: Str4095 | None = None
    entity_ref: Ref | None = None
    class_ref: Ref | None = None
    item_sales_tax_ref: Annotated[Ref | None, X(countries=US_ONLY)] = None
    billable_status: BillableStatus | None = None


def _check_balance(debits: Decimal, credits: Decimal) -> None:
    if debits != credits:
        raise ValueError(
            f"lines: debits total {debits:.2f} but credits total {credits:.2f}; a journal entry must balance"
        )


class JournalEntryAdd(Payload):
    """A new journal entry: at least two lines, debits equal to credits."""

    txn_date: date | None = None
    ref_number: Str11 | None = None
    memo: StrAny | None = None
    is_adjustment: bool | None = None
    is_home_currency_adjustment: Annotated[bool | None, X(since="8.0")] = None
    is_amounts_entered_in_home_currency: Annotated[bool | None, X(since="8.0")] = None
    currency_ref: Annotated[CurrencyRef | None, X(since="8.0")] = None
    exchange_rate: Annotated[Rate | None, X(since="8.0")] = None
    external_guid: Annotated[Guid | None, X(tag="ExternalGUID", since="8.0")] = None
    lines: Annotated[tuple[JournalLine, ...], X(tag="JournalLine"), Field(min_length=2)]

    unstated_rules = ("the debit lines' amounts add up to the credit lines' (the entry balances)",)

    @classmethod
    def field_rules(cls) -> tuple[Rule, ...]:
        """A home-currency adjustment takes no currency fields."""
        currency = ("is_amounts_entered_in_home_currency", "currency_ref", "exchange_rate")
        message = "is_home_currency_adjustment: cannot be combined with currency fields"
        return (*super().field_rules(), Excludes(("is_home_currency_adjustment",), currency, message))

    @model_validator(mode="after")
    def _balanced(self) -> JournalEntryAdd:
        debits = sum((ln.amount for ln in self.lines if ln.side == "debit"), _ZERO)
        credits = sum((ln.amount for ln in self.lines if ln.side == "credit"), _ZERO)
        _check_balance(debits, credits)
        return self


class JournalEntryMod(Payload):
    """Changes to a journal entry; ``lines``, when given, replaces every line and must balance."""

    txn_id: Annotated[Id, X(tag="TxnID")]
    edit_sequence: EditSequence
    txn_date: date | None = None
    ref_number: Str11 | None = None
    is_adjustment: bool | None = None
    is_amounts_entered_in_home_currency: Annotated[bool | None, X(since="8.0")] = None
    currency_ref: Annotated[CurrencyRef | None, X(since="8.0")] = None
    exchange_rate: Annotated[Rate | None, X(since="8.0")] = None
    lines: Annotated[tuple[JournalLineMod, ...], X(tag="JournalLineMod")] = ()

    unstated_rules = ("when `lines` is given, its debit lines' amounts add up to its credit lines'",)

    @model_validator(mode="after")
    def _balanced(self) -> JournalEntryMod:
        if self.lines:
            debits = sum((ln.amount for ln in self.lines if ln.journal_line_type == "Debit"), _ZERO)
            credits = sum((ln.amount for ln in self.lines if ln.journal_line_type == "Credit"), _ZERO)
            _check_balance(debits, credits)
        return self


class JournalEntryQuery(TxnQuery):
    """Find journal entries."""
