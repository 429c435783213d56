"""Payments received from customers: ReceivePaymentAdd, ReceivePaymentMod, ReceivePaymentQuery.

A payment is applied to named invoices (``applied_to``), applied automatically by
QuickBooks (``is_auto_apply=True``), or left unapplied as a customer credit (neither:
``IsAutoApply`` is sent as false).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated, Any

from pydantic import model_validator

from ._fields import (
    EditSequence,
    Guid,
    Id,
    Money,
    Payload,
    Rate,
    Ref,
    Str20,
    Str4095,
    X,
)
from ._rules import Excludes, Requires, Rule
from .queries import TxnQuery

_ZERO = Decimal("0.00")


class AppliedToTxn(Payload):
    """How much of the payment goes to one invoice, and any early-payment discount."""

    txn_id: Annotated[Id, X(tag="TxnID")]
    payment_amount: Money | None = None
    discount_amount: Money | None = None
    discount_account_ref: Ref | None = None
    discount_class_ref: Annotated[Ref | None, X(since="12.0")] = None

    @classmethod
    def field_rules(cls) -> tuple[Rule, ...]:
        """A discount names its account."""
        message = "discount_account_ref: a discount needs its account"
        return (*super().field_rules(), Requires(("discount_amount",), then="discount_account_ref", message=message))


class ReceivePaymentAdd(Payload):
    """A new payment received from ``customer_ref``."""

    customer_ref: Ref
    ar_account_ref: Ref | None = None
    txn_date: date | None = None
    ref_number: Str20 | None = None
    total_amount: Money | None = None
    exchange_rate: Annotated[Rate | None, X(since="8.0")] = None
    payment_method_ref: Ref | None = None
    memo: Str4095 | None = None
    deposit_to_account_ref: Ref | None = None
    external_guid: Annotated[Guid | None, X(tag="ExternalGUID", since="8.0")] = None
    is_auto_apply: bool | None = None
    applied_to: Annotated[tuple[AppliedToTxn, ...], X(tag="AppliedToTxnAdd")] = ()

    unstated_rules = ("the `payment_amount`s of `applied_to` add up to no more than `total_amount`",)

    @classmethod
    def field_rules(cls) -> tuple[Rule, ...]:
        """Named invoices or automatic application, not both."""
        message = "is_auto_apply: leave it out when applied_to names the invoices"
        return (*super().field_rules(), Excludes(("is_auto_apply",), ("applied_to",), message))

    @model_validator(mode="before")
    @classmethod
    def _unapplied(cls, data: Any) -> Any:
        unapplied = isinstance(data, dict) and not data.get("applied_to")
        if unapplied and data.get("is_auto_apply") is None:
            return {**data, "is_auto_apply": False}
        return data

    @model_validator(mode="after")
    def _applications(self) -> ReceivePaymentAdd:
        if self.applied_to and self.total_amount is not None:
            applied = sum((a.payment_amount or _ZERO for a in self.applied_to), _ZERO)
            if applied > self.total_amount:
                raise ValueError(f"applied_to: applies {applied:.2f}, more than total_amount {self.total_amount}")
        return self


class AppliedToTxnMod(Payload):
    """A changed application of the payment to one invoice."""

    txn_id: Annotated[Id, X(tag="TxnID")]
    payment_amount: Money | None = None
    discount_amount: Money | None = None
    discount_account_ref: Ref | None = None
    discount_class_ref: Annotated[Ref | None, X(since="12.0")] = None


class ReceivePaymentMod(Payload):
    """Changes to a received payment."""

    txn_id: Annotated[Id, X(tag="TxnID")]
    edit_sequence: EditSequence
    customer_ref: Ref | None = None
    ar_account_ref: Ref | None = None
    txn_date: date | None = None
    ref_number: Str20 | None = None
    total_amount: Money | None = None
    exchange_rate: Annotated[Rate | None, X(since="8.0")] = None
    payment_method_ref: Ref | None = None
    memo: Str4095 | None = None
    deposit_to_account_ref: Ref | None = None
    applied_to: Annotated[tuple[AppliedToTxnMod, ...], X(tag="AppliedToTxnMod")] = ()


class ReceivePaymentQuery(TxnQuery):
    """Find received payments."""
