"""``pos_day``: a store's business day from a point of sale, posted in detailed, summary or journal mode.

An order's postings are its *entries*: each product line (by category, or by product when
``posting.items`` is detailed), its discount, the tax, the tip, gift cards sold (each to its
line kind's item, hence its account) and gift cards redeemed (taken off, on the gift card
item). The non-gift-card tenders pay what the entries come to. A refund is the same with
the signs turned.

- **detailed**: a sales receipt per order and a refund receipt (a sales receipt of negative
  lines; qbXML has no refund receipt) per refund, RefNumber the order's number;
- **summary**: per location and tender, one sales receipt of the day's orders and one of
  its refunds, a line per item and taxability; an order paid by several tenders is split
  between them to the cent (:func:`allocate`);
- **journal**: per location, one journal entry of the day's orders and one of its refunds:
  the tenders debited, each account credited with what its entries come to.

Each account ends with the same balance in every mode (tests check it on the emulator's
ledger). Summary RefNumbers are stable per day, location and part (:func:`ref_number`).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Annotated, Any

from pydantic import Field, StringConstraints, model_validator

from qbwc_service.workflows.documents.common import (
    ZERO,
    Context,
    Customer,
    Ensure,
    KindKey,
    Money,
    Name31,
    Plan,
    Planned,
    Positive,
    Problems,
    Quantity,
    RefNumber,
    Strict,
    cents,
    sum_money,
    text,
)
from qbwc_service.workflows.setup.plan import ITEM_KINDS
from qbwc_service.workflows.setup.profile import ItemType, Mode, Role, SalesMode

KIND = "pos_day"
#: The tender type that redeems a gift card: it is taken off the sale, not deposited.
GIFT_CARD = "gift_card"
#: The line kinds of the entries that are not products.
DISCOUNT, TIPS, GIFT_CARDS = "discount", "tips", "gift_cards"


class PosLine(Strict):
    """A product sold: its category (a line kind of the profile), quantity, price and discount."""

    product: Name31
    category: KindKey
    quantity: Quantity = Decimal(1)
    price: Money
    discount: Money = ZERO
    taxable: bool = True
    #: The sales tax of this line, when the point of sale gives it per line (added to the order's).
    tax: Money = ZERO

    def amount(self) -> Decimal:
        """Quantity x price, to the cent."""
        return cents(self.quantity * self.price)


class Tender(Strict):
    """How (part of) an order was paid: ``cash``, ``card``, ``gift_card``, ..."""

    type: Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,19}$")]
    amount: Positive
    reference: Annotated[str, StringConstraints(max_length=20)] | None = None


class PosOrder(Strict):
    """One order (or refund) of the day."""

    number: RefNumber
    customer: Customer | None = None
    lines: Annotated[list[PosLine], Field(min_length=1)]
    tax: Money = ZERO
    tip: Money = ZERO
    gift_cards_sold: Money = ZERO
    tenders: Annotated[list[Tender], Field(min_length=1)]
    #: A refund's original order, when the point of sale knows it.
    order: RefNumber | None = None

    @model_validator(mode="after")
    def _paid(self) -> PosOrder:
        due = self.due()
        paid = sum_money([t.amount for t in self.tenders])
        if paid != due:
            raise ValueError(f"tenders: they come to {paid}, but the lines, tax, tip and gift cards come to {due}")
        return self

    def due(self) -> Decimal:
        """What the order comes to: lines less discounts, with tax, tip and gift cards sold."""
        lines = sum((line.amount() - line.discount for line in self.lines), ZERO)
        return cents(lines + self.total_tax() + self.tip + self.gift_cards_sold)

    def total_tax(self) -> Decimal:
        """The order's tax and its lines'."""
        return cents(self.tax + sum((line.tax for line in self.lines), ZERO))


class PosDay(Strict):
    """A store's business day: its orders and refunds."""

    date: dt.date
    location: Name31 = "Main"
    orders: list[PosOrder] = Field(default_factory=list)
    refunds: list[PosOrder] = Field(default_factory=list)

    @model_validator(mode="after")
    def _distinct(self) -> PosDay:
        if not self.orders and not self.refunds:
            raise ValueError("orders: a day needs at least one order or refund")
        numbers = [o.number.casefold() for o in (*self.orders, *self.refunds)]
        twice = sorted({n for n in numbers if numbers.count(n) > 1})
        if twice:
            raise ValueError(f"orders: each order and refund number comes once (twice: {', '.join(twice)})")
        return self


@dataclass(frozen=True, slots=True)
class Entry:
    """One posting of an order: an item (a line kind's, or a product's) and an amount."""

    #: The line kind whose item (and account) it posts to.
    kind: str
    amount: Decimal
    #: A product line's product (its own item when ``posting.items`` is detailed).
    product: str | None = None
    taxable: bool = False
    desc: str | None = None
    quantity: Decimal | None = None
    rate: Decimal | None = None


def entries(order: PosOrder, sign: int = 1) -> list[Entry]:
    """An order's postings; they come to what its non-gift-card tenders paid (a refund: ``sign`` -1)."""
    out = []
    for line in order.lines:
        out.append(Entry(line.category, sign * line.amount(), line.product, line.taxable, line.product,
                         sign * line.quantity, line.price))  # fmt: skip
        if line.discount:
            out.append(Entry(DISCOUNT, -sign * line.discount, desc=f"Discount: {line.product}"))
    if order.total_tax():
        out.append(Entry("", sign * order.total_tax(), desc="Sales tax"))
    if order.tip:
        out.append(Entry(TIPS, sign * order.tip, desc="Tip"))
    if order.gift_cards_sold:
        out.append(Entry(GIFT_CARDS, sign * order.gift_cards_sold, desc="Gift cards sold"))
    redeemed = sum_money([t.amount for t in order.tenders if t.type == GIFT_CARD])
    if redeemed:
        out.append(Entry(GIFT_CARDS, -sign * redeemed, desc="Gift cards redeemed"))
    return out


def paid(order: PosOrder, sign: int = 1) -> dict[str, Decimal]:
    """What each non-gift-card tender of the order paid (signed), in the order given."""
    out: dict[str, Decimal] = defaultdict(lambda: ZERO)
    for t in order.tenders:
        if t.type != GIFT_CARD:
            out[t.type] += sign * t.amount
    return dict(out)


def allocate(amounts: Sequence[Decimal], weights: Sequence[Decimal]) -> list[list[Decimal]]:
    """Split each amount between the weights, to the cent, so that rows give the amounts and columns the weights.

    ``sum(amounts) == sum(weights)`` is assumed (an order's entries and its tenders). Each
    column but the last takes its share of every amount, the largest amount absorbing the
    rounding; the last takes what is left.
    """
    total = sum(weights, ZERO)
    rows = [[ZERO] * len(weights) for _ in amounts]
    if not amounts:
        return rows
    biggest = max(range(len(amounts)), key=lambda i: abs(amounts[i]))
    for j, weight in enumerate(weights[:-1]):
        shares = [cents(a * weight / total) if total else ZERO for a in amounts]
        shares[biggest] += weight - sum(shares, ZERO)
        for i, share in enumerate(shares):
            rows[i][j] = share
    for i, a in enumerate(amounts):
        rows[i][-1] = a - sum(rows[i][:-1], ZERO)
    return rows


def key(doc: PosDay) -> str:
    """What makes the day one document: its date and location."""
    return f"{doc.date.isoformat()}:{doc.location.casefold()}"


def ref_number(day: dt.date, location: str, part: str) -> str:
    """A summary posting's RefNumber (11 characters): the day, and a digest of location and part."""
    digest = int(hashlib.sha256(f"{location.casefold()}|{part}".encode()).hexdigest(), 16)
    tag = ""
    for _ in range(4):
        digest, rest = divmod(digest, 36)
        tag += "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"[rest]
    return f"{day:%y%m%d}-{tag}"


def totals(doc: PosDay) -> dict[str, Any]:
    """The day's accounting totals, whatever the mode: sales by category, discounts, tax, tips, gift cards, tenders."""
    out: dict[str, Any] = {}
    for part, orders, sign in (("sales", doc.orders, 1), ("refunds", doc.refunds, -1)):
        by: dict[str, Decimal] = defaultdict(lambda: ZERO)
        tenders: dict[str, Decimal] = defaultdict(lambda: ZERO)
        for order in orders:
            for e in entries(order, sign):
                by[e.kind or "tax"] += e.amount
            for t in order.tenders:
                tenders[t.type] += sign * t.amount
        out[part] = {"by_kind": {k: text(v) for k, v in sorted(by.items())},
                     "tenders": {k: text(v) for k, v in sorted(tenders.items())}}  # fmt: skip
    return out


def plan(doc: PosDay, ctx: Context, problems: Problems) -> Plan:
    """The jobs that post the day in the company's sales mode (refusals go to ``problems``)."""
    mode = ctx.profile.posting.sales
    out = Plan(key(doc), str(mode), totals=totals(doc))
    lines = _Lines(ctx, problems, out)
    for n, order in enumerate((*doc.orders, *doc.refunds)):
        for e in entries(order):
            lines.check(
                e,
                f"{'orders' if n < len(doc.orders) else 'refunds'}.{n if n < len(doc.orders) else n - len(doc.orders)}",
            )
    if problems.found:
        return out
    if mode is SalesMode.DETAILED:
        _detailed(doc, ctx, lines, out)
    elif mode is SalesMode.SUMMARY:
        _summary(doc, ctx, lines, out)
    else:
        _journal(doc, ctx, lines, problems, out)
    return out


class _Lines:
    """Sales receipt lines from entries, against the company's mapping."""

    def __init__(self, ctx: Context, problems: Problems, out: Plan) -> None:
        self.ctx, self.problems, self.out = ctx, problems, out
        self.products = ctx.profile.posting.items is Mode.DETAILED

    def check(self, e: Entry, where: str) -> None:
        """Refuse an entry whose line kind is not mapped (or not resolved)."""
        if e.kind == "":
            if self.ctx.us:
                self.problems.get(self.ctx.tax_item, f"{where}.tax")
            else:
                self.problems.add(f"{where}.tax: QuickBooks {self.ctx.country} editions work the tax out from "
                                  "tax codes; leave tax out")  # fmt: skip
            return
        field = {DISCOUNT: "discount", TIPS: "tip", GIFT_CARDS: "gift cards"}.get(e.kind, "category")
        self.problems.get(self.ctx.item, e.kind, f"{where}.{field}")
        if e.product is not None and e.kind in (DISCOUNT, TIPS, GIFT_CARDS):
            self.problems.add(f"{where}.category: {e.kind!r} is not a product category")

    def item(self, e: Entry) -> dict[str, str]:
        """The item an entry posts to: the tax item, its product's own, or its line kind's."""
        if e.kind == "":
            return self.ctx.tax_item("tax")
        if e.product is not None and self.products:
            self.out.need(self._product(e))
            return {"full_name": e.product}
        return self.ctx.item(e.kind, "category")

    def _product(self, e: Entry) -> Ensure:
        category = self.ctx.profile.line_kinds[e.kind]
        kind = ITEM_KINDS[category.item_type if category.item_type is not ItemType.DISCOUNT else ItemType.SERVICE]
        income = {"full_name": self.ctx.account_name(category.income_account or Role.INCOME)}
        if category.expense_account is not None:
            side = {
                "income_account_ref": income,
                "expense_account_ref": {"full_name": self.ctx.account_name(category.expense_account)},
            }
            return Ensure("items", kind, {"name": e.product, "sales_and_purchase": side})
        return Ensure("items", kind, {"name": e.product, "sales_or_purchase": {"account_ref": income}})  # fmt: skip

    def row(self, e: Entry, *, priced: bool) -> dict[str, Any]:
        """One receipt line; ``priced`` keeps quantity and rate (a detailed receipt's product lines)."""
        row: dict[str, Any] = {"item_ref": self.item(e)}
        if e.desc:
            row["desc"] = e.desc
        if priced and e.quantity is not None and e.rate is not None and cents(e.quantity * e.rate) == e.amount:
            row.update(quantity=str(e.quantity), rate=str(e.rate))
        row["amount"] = text(e.amount)
        code = self.ctx.tax_code(e.taxable, "lines") if e.kind != "" else None
        if code is not None:
            row["sales_tax_code_ref"] = code
        return row

    def receipt(self, day: dt.date, ref: str, customer: str, rows: list[dict[str, Any]], memo: str) -> dict[str, Any]:
        """A sales receipt's payload, deposited to undeposited funds."""
        deposit = self.ctx.account(Role.UNDEPOSITED_FUNDS, "tenders")
        out: dict[str, Any] = {"customer_ref": {"full_name": customer}, "txn_date": day.isoformat(),
                               "ref_number": ref, "memo": memo[:4095], "lines": rows,
                               "deposit_to_account_ref": deposit}  # fmt: skip
        if self.ctx.us and self.ctx.profile.sales_tax.item is not None:
            out["item_sales_tax_ref"] = self.ctx.tax_item("tax")
        return out


def _detailed(doc: PosDay, ctx: Context, lines: _Lines, out: Plan) -> None:
    for orders, sign, what in ((doc.orders, 1, "Order"), (doc.refunds, -1, "Refund")):
        for order in orders:
            if order.customer is not None and ctx.customers_detailed():
                out.need(Ensure("customers", "customer_ensure", order.customer.ensure_payload()))
                customer = order.customer.name
            else:
                walk_in = ctx.walk_in()
                out.need(walk_in)
                customer = walk_in.name
            rows = [lines.row(e, priced=True) for e in entries(order, sign)]
            tenders = ", ".join(f"{t.type} {t.amount}" for t in order.tenders)
            memo = f"{what} {order.number} · {doc.location} · {tenders}"
            if order.order:
                memo += f" · refund of order {order.order}"
            out.jobs.append(Planned(f"{what.lower()} {order.number}", "sales_receipt_add",
                                    lines.receipt(doc.date, order.number, customer, rows, memo)))  # fmt: skip


def _by_tender(orders: Sequence[PosOrder], sign: int) -> dict[str, list[Entry]]:
    """The entries of the orders, split between their tenders (to the cent), by tender."""
    out: dict[str, list[Entry]] = defaultdict(list)
    for order in orders:
        parts, tenders = entries(order, sign), paid(order, sign)
        if not tenders:
            out[GIFT_CARD].extend(parts)
            continue
        split = allocate([e.amount for e in parts], list(tenders.values()))
        for j, tender in enumerate(tenders):
            shares = zip(parts, split, strict=True)
            out[tender].extend(Entry(e.kind, row[j], e.product, e.taxable, e.desc) for e, row in shares)
    return out


def _grouped(found: Sequence[Entry], products: bool) -> list[Entry]:
    """One entry per item and taxability, amounts added up."""
    sums: dict[tuple[str, str | None, bool], Decimal] = defaultdict(lambda: ZERO)
    counts: dict[tuple[str, str | None, bool], int] = defaultdict(int)
    for e in found:
        k = (e.kind, e.product if products else None, e.taxable)
        sums[k] += e.amount
        counts[k] += 1
    out = []
    for (kind, product, taxable), amount in sums.items():
        label = product or {"": "Sales tax"}.get(kind, kind.replace("_", " ").capitalize())
        out.append(Entry(kind, amount, product, taxable, f"{label}: {counts[(kind, product, taxable)]} entries"))
    return out


def _summary(doc: PosDay, ctx: Context, lines: _Lines, out: Plan) -> None:
    walk_in = ctx.walk_in()
    out.need(walk_in)
    for orders, sign, part in ((doc.orders, 1, "sales"), (doc.refunds, -1, "refunds")):
        for tender, found in sorted(_by_tender(orders, sign).items()):
            rows = [lines.row(e, priced=False) for e in _grouped(found, lines.products) if e.amount]
            if not rows:
                continue
            ref = ref_number(doc.date, doc.location, f"{part}|{tender}")
            memo = f"POS day {doc.date.isoformat()} · {doc.location} · {part} · {tender}"
            out.jobs.append(Planned(f"{part} {tender}", "sales_receipt_add",
                                    lines.receipt(doc.date, ref, walk_in.name, rows, memo)))  # fmt: skip


def _account_of(ctx: Context, kind: str) -> Role:
    if kind == "":
        return Role.SALES_TAX_PAYABLE
    return ctx.profile.line_kinds[kind].income_account or Role.INCOME


def _journal(doc: PosDay, ctx: Context, lines: _Lines, problems: Problems, out: Plan) -> None:
    for orders, sign, part in ((doc.orders, 1, "sales"), (doc.refunds, -1, "refunds")):
        if not orders:
            continue
        debits: dict[tuple[Role, str], Decimal] = defaultdict(lambda: ZERO)
        for order in orders:
            for tender, amount in paid(order, sign).items():
                debits[(Role.UNDEPOSITED_FUNDS, tender)] += amount
            for e in entries(order, sign):
                role = _account_of(ctx, e.kind)
                debits[(role, str(role))] -= e.amount
        rows = []
        for (role, memo), amount in debits.items():
            if not amount:
                continue
            account = problems.get(ctx.account, role, "accounts")
            rows.append({"side": "debit" if amount > 0 else "credit", "account_ref": account,
                         "amount": text(abs(amount)), "memo": memo})  # fmt: skip
        if len(rows) < 2:
            continue
        entry = {"txn_date": doc.date.isoformat(), "ref_number": ref_number(doc.date, doc.location, f"journal|{part}"),
                 "memo": f"POS day {doc.date.isoformat()} · {doc.location} · {part}", "lines": rows}  # fmt: skip
        out.jobs.append(Planned(f"journal {part}", "journal_entry_add", entry))
