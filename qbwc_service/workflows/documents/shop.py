"""``shop_invoice``: a repair order from a shop-management system, posted as customer, invoice, payments.

It posts as up to three kinds of dependent jobs: the customer's ensure (detailed mode; in
summary mode every repair order goes to the walk-in customer, its name in the memo), the
invoice (RefNumber: the repair order number; the vehicle in the memo; each line through
the mapping of its ``kind``; the tax as a line of the sales tax item), then one payment per
payment, applied to the invoice (``{"job": N}``). In summary mode the lines of one kind
(and taxability) become one line.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal
from typing import Annotated, Any

from pydantic import Field, StringConstraints, model_validator

from qbwc_service.workflows.documents.common import (
    ZERO,
    Context,
    Customer,
    Ensure,
    KindKey,
    ListRef,
    Money,
    Plan,
    Planned,
    Positive,
    Problems,
    Quantity,
    RefNumber,
    Strict,
    Text,
    cents,
    planned,
    sum_money,
    text,
)
from qbwc_service.workflows.setup.profile import Role, SalesMode

KIND = "shop_invoice"
#: The line kind whose amount is taken off the invoice.
DISCOUNT = "discount"


class Vehicle(Strict):
    """The vehicle worked on; it goes in the invoice's memo."""

    year: Annotated[int, Field(ge=1886, le=2100)] | None = None
    make: Annotated[str, StringConstraints(max_length=40)] | None = None
    model: Annotated[str, StringConstraints(max_length=40)] | None = None
    vin: Annotated[str, StringConstraints(max_length=17, pattern=r"^[A-HJ-NPR-Z0-9]*$")] | None = None
    plate: Annotated[str, StringConstraints(max_length=15)] | None = None
    odometer: Annotated[int, Field(ge=0)] | None = None

    def describe(self) -> str:
        """``2019 Honda Civic · VIN … · 45,210 mi · plate ABC123``."""
        parts = [" ".join(str(p) for p in (self.year, self.make, self.model) if p)]
        if self.vin:
            parts.append(f"VIN {self.vin}")
        if self.odometer is not None:
            parts.append(f"{self.odometer:,} mi")
        if self.plate:
            parts.append(f"plate {self.plate}")
        return " · ".join(p for p in parts if p)


class ShopLine(Strict):
    """A line of a repair order: its kind (labor, part, tire, ...), and quantity x rate or an amount."""

    kind: KindKey
    description: Text | None = None
    quantity: Quantity = Decimal(1)
    rate: Money | None = None
    amount: Money | None = None
    taxable: bool = False

    @model_validator(mode="after")
    def _priced(self) -> ShopLine:
        if (self.rate is None) == (self.amount is None):
            raise ValueError("give rate (times quantity) or amount, one of the two")
        return self

    def total(self) -> Decimal:
        """What the line comes to (a discount line's amount, taken off, as a positive number)."""
        return cents(self.amount if self.amount is not None else self.quantity * (self.rate or ZERO))


class Payment(Strict):
    """A payment taken for the repair order."""

    method: Annotated[str, StringConstraints(min_length=1, max_length=31)]
    amount: Positive
    reference: Annotated[str, StringConstraints(max_length=20)] | None = None
    date: dt.date | None = None


class ShopInvoice(Strict):
    """A repair order: customer, vehicle, lines by kind, tax and payments."""

    repair_order: RefNumber
    date: dt.date
    #: The customer by name with contact details (ensured), or one QuickBooks has (``{"full_name"}``).
    customer: Customer | None = None
    customer_ref: ListRef | None = None
    vehicle: Vehicle | None = None
    lines: Annotated[list[ShopLine], Field(min_length=1)]
    #: The sales tax the shop system worked out, posted as it is.
    tax: Money = ZERO
    payments: list[Payment] = Field(default_factory=list)
    memo: Text | None = None

    @model_validator(mode="after")
    def _consistent(self) -> ShopInvoice:
        if (self.customer is None) == (self.customer_ref is None):
            raise ValueError("give customer (a name with contact details) or customer_ref, one of the two")
        if self.customer_ref is not None and (self.customer_ref.list_id is None) == (
            self.customer_ref.full_name is None
        ):
            raise ValueError("customer_ref: give list_id or full_name, one of the two")
        paid, total = sum_money([p.amount for p in self.payments]), self.total()
        if paid > total:
            raise ValueError(f"payments: they come to {paid}, more than the invoice's {total}")
        if total < 0:
            raise ValueError(f"lines: the discounts take the invoice below zero ({total})")
        return self

    def signed(self, line: ShopLine) -> Decimal:
        """A line's amount as the invoice carries it (a discount negative)."""
        return -line.total() if line.kind == DISCOUNT else line.total()

    def total(self) -> Decimal:
        """The invoice's total: lines, discounts taken off, and the tax."""
        return cents(sum((self.signed(line) for line in self.lines), ZERO) + self.tax)


def key(doc: ShopInvoice) -> str:
    """What makes the repair order one document."""
    return doc.repair_order.casefold()


def totals(doc: ShopInvoice) -> dict[str, Any]:
    """The accounting totals of the repair order, whatever the mode: sales by kind, tax, payments."""
    sales: dict[str, Decimal] = defaultdict(lambda: ZERO)
    for line in doc.lines:
        sales[line.kind] += doc.signed(line)
    payments: dict[str, Decimal] = defaultdict(lambda: ZERO)
    for p in doc.payments:
        payments[p.method] += p.amount
    return {
        "sales": {k: text(v) for k, v in sorted(sales.items())},
        "tax": text(doc.tax),
        "total": text(doc.total()),
        "payments": {k: text(v) for k, v in sorted(payments.items())},
        "open": text(doc.total() - sum_money(list(payments.values()))),
    }


def plan(doc: ShopInvoice, ctx: Context, problems: Problems) -> Plan:
    """The jobs that post the repair order for the company (refusals go to ``problems``)."""
    summary = ctx.profile.posting.sales is not SalesMode.DETAILED
    out = Plan(key(doc), "summary" if summary else "detailed", totals=totals(doc))
    customer_ref, memo = _customer(doc, ctx, out)
    lines = _lines(doc, ctx, problems, summary)
    if doc.tax:
        if not ctx.us:
            problems.add(f"tax: QuickBooks {ctx.country} editions work the tax out from the lines' tax codes; "
                         "leave tax out and mark the lines taxable")  # fmt: skip
        else:
            tax_item = problems.get(ctx.tax_item, "tax")
            lines.append({"item_ref": tax_item, "desc": "Sales tax", "amount": text(doc.tax)})
    invoice: dict[str, Any] = {"customer_ref": customer_ref, "txn_date": doc.date.isoformat(),
                               "ref_number": doc.repair_order, "lines": lines}  # fmt: skip
    if ctx.us and ctx.profile.sales_tax.item is not None:
        invoice["item_sales_tax_ref"] = problems.get(ctx.tax_item, "tax")
    memo_parts = [m for m in (memo, doc.vehicle.describe() if doc.vehicle else None, doc.memo) if m]
    if memo_parts:
        invoice["memo"] = " · ".join(memo_parts)[:4095]
    out.jobs.append(Planned("invoice", "invoice_add", invoice))
    deposit = problems.get(ctx.account, Role.UNDEPOSITED_FUNDS, "payments")
    for n, p in enumerate(doc.payments):
        payment: dict[str, Any] = {
            "customer_ref": customer_ref, "txn_date": (p.date or doc.date).isoformat(),
            "ref_number": (p.reference or doc.repair_order)[:20], "total_amount": text(p.amount),
            "memo": f"{p.method} · repair order {doc.repair_order}", "deposit_to_account_ref": deposit,
            "applied_to": [{"txn_id": planned("invoice"), "payment_amount": text(p.amount)}],
        }  # fmt: skip
        out.jobs.append(Planned(f"payment {n + 1}", "payment_add", payment))
    return out


def _customer(doc: ShopInvoice, ctx: Context, out: Plan) -> tuple[dict[str, str], str | None]:
    """The invoice's customer ref (ensured when needed), and what the memo says of a summarised one."""
    if doc.customer_ref is not None:
        return doc.customer_ref.model_dump(exclude_none=True), None
    assert doc.customer is not None
    if ctx.customers_detailed():
        out.need(Ensure("customers", "customer_ensure", doc.customer.ensure_payload()))
        return {"full_name": doc.customer.name}, None
    walk_in = ctx.walk_in()
    out.need(walk_in)
    return {"full_name": walk_in.name}, f"Customer: {doc.customer.name}"


def _lines(doc: ShopInvoice, ctx: Context, problems: Problems, summary: bool) -> list[dict[str, Any]]:
    """The invoice's lines: each as written (detailed), or one per kind and taxability (summary)."""
    codes = {t: problems.get(ctx.tax_code, t, "lines") for t in (True, False)}
    items: dict[str, dict[str, str] | None] = {}
    for n, line in enumerate(doc.lines):
        if line.kind not in items:
            items[line.kind] = problems.get(ctx.item, line.kind, f"lines.{n}.kind")
    if not summary:
        out = []
        for line in doc.lines:
            row: dict[str, Any] = {"item_ref": items[line.kind]}
            if line.description:
                row["desc"] = line.description
            if line.kind == DISCOUNT:
                row["amount"] = text(-line.total())
            elif line.rate is not None:
                row.update(quantity=str(line.quantity), rate=str(line.rate), amount=text(line.total()))
            else:
                row["amount"] = text(line.total())
            if codes[line.taxable] is not None:
                row["sales_tax_code_ref"] = codes[line.taxable]
            out.append(row)
        return out
    grouped: dict[tuple[str, bool], list[ShopLine]] = defaultdict(list)
    for line in doc.lines:
        grouped[(line.kind, line.taxable)].append(line)
    out = []
    for (kind, taxable), group in grouped.items():
        label = ctx.profile.line_kinds[kind].name if kind in ctx.profile.line_kinds else kind
        row = {"item_ref": items[kind], "desc": f"{label} ({len(group)} line{'s' if len(group) > 1 else ''})",
               "amount": text(sum((doc.signed(g) for g in group), ZERO))}  # fmt: skip
        if codes[taxable] is not None:
            row["sales_tax_code_ref"] = codes[taxable]
        out.append(row)
    return out
