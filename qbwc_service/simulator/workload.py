"""A small business's work as typed jobs: tax setup, accounts, items, customers, invoices, payments.

Each :class:`PlannedJob` holds a job kind of the service (``customer_add``, ``invoice_add``,
...) and its JSON payload, the job it waits for, and what QuickBooks must hold once it is
done, so a simulation can check the books afterwards.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from lxml import etree

from qbxml_builders import build_request

CENT = Decimal("0.01")
TAX_AGENCY = "State Board of Equalization"
STATE_TAX = "State Tax 6.25%"
POS_TAX = "POS Tax 0%"
TAX_RATES = {STATE_TAX: Decimal("6.25"), POS_TAX: Decimal(0)}
#: qbXML version of the ready-made requests of ``raw`` jobs (what a producer without the
#: company's reported version would pick).
RAW_VERSION = "13.0"


def _ref(name: str) -> dict[str, str]:
    return {"full_name": name}


def _money(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass(frozen=True, slots=True)
class PlannedJob:
    """One job to enqueue and how to find its effect in QuickBooks."""

    key: str
    #: A job kind of the service: a typed kind of qbxml_builders.
    kind: str
    #: The payload as a producer posts it: JSON types only, money as strings.
    payload: dict[str, Any]
    #: ``(emulator kind, name or RefNumber)`` that must exist in QuickBooks once the job is done.
    expect: tuple[str, str] | None
    depends_on: str | None = None
    #: The amount QuickBooks must arrive at: a sale's total (tax included), a payment's
    #: amount applied to invoices, a journal entry's debits.
    amount: Decimal | None = None

    def raw(self) -> dict[str, Any]:
        """The same request as a ``qbxml`` job's payload, built once for qbXML 13.0."""
        element = build_request(self.kind, self.payload, version=RAW_VERSION)
        return {"request": etree.tostring(element, encoding="unicode")}


@dataclass(frozen=True, slots=True)
class Item:
    """An item the workload sells: its name, price and whether sales tax applies."""

    name: str
    price: Decimal
    taxable: bool


CONSULTING = Item("Consulting", Decimal("120.00"), taxable=False)
WIDGET = Item("Widget", Decimal("19.99"), taxable=True)
BEANS = Item("Espresso beans 1kg", Decimal("24.90"), taxable=True)
SHIPPING = Item("Shipping", Decimal("7.50"), taxable=False)
LOYALTY = "Loyalty 10%"
#: Espresso beans in stock before any sale.
STOCK = Decimal(1000)


def _setup() -> list[tuple[str, str, dict[str, Any], tuple[str, str]]]:
    """``(key, kind, payload, expect)`` of the company set-up, in the order it must happen."""
    accounts = [
        ("Sales", "Income", "4000"),
        ("Services Income", "Income", "4100"),
        ("Cost of Goods Sold", "CostOfGoodsSold", "5000"),
        ("Inventory Asset", "OtherCurrentAsset", "1200"),
        ("Checking", "Bank", "1000"),
    ]

    def code(item: Item) -> dict[str, str]:
        return _ref("Tax" if item.taxable else "Non")

    return [
        (
            "agency",
            "vendor_add",
            {
                "name": TAX_AGENCY,
                "company_name": TAX_AGENCY,
                "vendor_address": {"addr1": "PO Box 942879", "city": "Sacramento", "state": "CA"},
            },
            ("Vendor", TAX_AGENCY),
        ),
        *(
            (
                f"tax-{n}",
                "sales_tax_item_add",
                {
                    "name": name,
                    "item_desc": "Tax computed by the point of sale" if rate == 0 else "State sales tax",
                    "tax_rate": str(rate),
                    "tax_vendor_ref": _ref(TAX_AGENCY),
                },
                ("ItemSalesTax", name),
            )
            for n, (name, rate) in enumerate(TAX_RATES.items(), 1)
        ),
        *(
            (
                f"account-{number}",
                "account_add",
                {"name": name, "account_type": kind, "account_number": number},
                ("Account", name),
            )
            for name, kind, number in accounts
        ),
        (
            "consulting",
            "item_service_add",
            {
                "name": CONSULTING.name,
                "sales_tax_code_ref": code(CONSULTING),
                "sales_or_purchase": {
                    "desc": "Consulting, per hour",
                    "price": str(CONSULTING.price),
                    "account_ref": _ref("Services Income"),
                },
            },
            ("ItemService", CONSULTING.name),
        ),
        (
            "widget",
            "item_non_inventory_add",
            {
                "name": WIDGET.name,
                "sales_tax_code_ref": code(WIDGET),
                "sales_or_purchase": {"desc": "Widget", "price": str(WIDGET.price), "account_ref": _ref("Sales")},
            },
            ("ItemNonInventory", WIDGET.name),
        ),
        (
            "beans",
            "item_inventory_add",
            {
                "name": BEANS.name,
                "sales_tax_code_ref": code(BEANS),
                "sales_desc": "Espresso beans, 1 kg bag",
                "sales_price": str(BEANS.price),
                "income_account_ref": _ref("Sales"),
                "purchase_cost": "11.20",
                "cogs_account_ref": _ref("Cost of Goods Sold"),
                "asset_account_ref": _ref("Inventory Asset"),
                "quantity_on_hand": str(STOCK),
            },
            ("ItemInventory", BEANS.name),
        ),
        (
            "shipping",
            "item_other_charge_add",
            {
                "name": SHIPPING.name,
                "sales_tax_code_ref": code(SHIPPING),
                "sales_or_purchase": {
                    "desc": "Shipping and handling",
                    "price": str(SHIPPING.price),
                    "account_ref": _ref("Sales"),
                },
            },
            ("ItemOtherCharge", SHIPPING.name),
        ),
        (
            "loyalty",
            "item_discount_add",
            {
                "name": LOYALTY,
                "item_desc": "Loyalty discount",
                "sales_tax_code_ref": _ref("Tax"),
                "discount_rate_percent": "10",
                "account_ref": _ref("Sales"),
            },
            ("ItemDiscount", LOYALTY),
        ),
    ]


_CITIES = [
    ("Springfield", "IL", "62701"),
    ("Montréal", "QC", "H2X 1Y4"),
    ("Zürich", "ZH", "8001"),
    ("Austin", "TX", "73301"),
]


def customer_name(prefix: str, number: int) -> str:
    """The name of the workload's customer ``number``."""
    return f"{prefix} Customer {number}"


def customer_tax(number: int) -> tuple[str, bool]:
    """The sales tax item of customer ``number`` and whether the customer pays tax at all."""
    return (POS_TAX if number % 3 == 0 else STATE_TAX), number % 4 != 0


def _customer(prefix: str, number: int, rng: random.Random) -> dict[str, Any]:
    name = customer_name(prefix, number)
    city, state, postal = rng.choice(_CITIES)
    tax_item, taxable = customer_tax(number)
    return {
        "name": name,
        "company_name": f"{name} & Söhne LLC",
        "first_name": "Zoë",
        "last_name": f"O'Brien {number}",
        "bill_address": {"addr1": f"{number} Main Street", "city": city, "state": state, "postal_code": postal},
        "ship_address": {"addr1": f"Dock {number}", "city": city, "state": state, "postal_code": postal},
        "phone": f"+1 555 010 {number % 10_000:04d}",
        "email": f"ap{number}@customer.example",
        "sales_tax_code_ref": _ref("Tax" if taxable else "Non"),
        "item_sales_tax_ref": _ref(tax_item),
    }


def _invoice(name: str, ref_number: str, rng: random.Random, tax_rate: Decimal) -> tuple[dict[str, Any], Decimal]:
    """An invoice with item lines and a description-only line, and the total QuickBooks must find."""
    picks = [(CONSULTING, rng.randint(1, 8)), (WIDGET, rng.randint(0, 5)), (BEANS, rng.randint(0, 3))]
    lines: list[dict[str, Any]] = []
    subtotal = taxable = Decimal(0)
    for item, quantity in picks:
        if quantity:
            lines.append({"item_ref": _ref(item.name), "quantity": str(quantity)})
            amount = _money(item.price * quantity)
            subtotal += amount
            if item.taxable:
                taxable += amount
    lines.append({"desc": f"Order {ref_number}: thank you & à bientôt <3"})
    if len(lines) > 2:  # goods were sold: they ship
        lines.append({"item_ref": _ref(SHIPPING.name)})
        subtotal += SHIPPING.price
    payload = {
        "customer_ref": _ref(name),
        "ref_number": ref_number,
        "po_number": f"PO-{ref_number}",
        "memo": f"Web order {ref_number}",
        "lines": lines,
    }
    return payload, subtotal + _money(taxable * tax_rate / 100)


def workload(prefix: str, rng: random.Random, *, customers: int = 3, invoices: int = 2) -> list[PlannedJob]:
    """The set-up as a chain, then per customer: customer, invoices in turn, a payment; a sale, a journal entry."""
    plan: list[PlannedJob] = []
    previous: str | None = None
    for key, kind, payload, expect in _setup():
        plan.append(PlannedJob(key, kind, payload, expect, previous))
        previous = key
    ready = previous
    for c in range(1, customers + 1):
        name = customer_name(prefix, c)
        plan.append(PlannedJob(f"customer{c}", "customer_add", _customer(prefix, c, rng), ("Customer", name), ready))
        tax_item, taxable = customer_tax(c)
        rate = TAX_RATES[tax_item] if taxable else Decimal(0)
        owed = Decimal(0)
        after = f"customer{c}"
        for i in range(1, invoices + 1):
            ref_number = f"{c}-{i}"
            payload, total = _invoice(name, ref_number, rng, rate)
            owed += total
            plan.append(PlannedJob(f"invoice{c}-{i}", "invoice_add", payload, ("Invoice", ref_number), after, total))
            after = f"invoice{c}-{i}"
        paid = _money(owed / 2)
        payment = {
            "customer_ref": _ref(name),
            "ref_number": f"P{c}",
            "total_amount": str(paid),
            "payment_method_ref": _ref("Check"),
            "memo": f"Payment {c}",
            "is_auto_apply": True,
        }
        plan.append(PlannedJob(f"payment{c}", "payment_add", payment, ("ReceivePayment", f"P{c}"), after, paid))
    plan.append(_sales_receipt(ready))
    plan.append(_journal_entry(ready))
    return plan


def _sales_receipt(after: str | None) -> PlannedJob:
    """A walk-in sale of two widgets with the loyalty discount, taxed at the state rate."""
    goods = _money(WIDGET.price * 2)
    net = goods - _money(goods * Decimal("0.10"))
    total = net + _money(net * TAX_RATES[STATE_TAX] / 100)
    payload = {
        "ref_number": "SR-1",
        "payment_method_ref": _ref("Cash"),
        "item_sales_tax_ref": _ref(STATE_TAX),
        "memo": "Counter sale",
        "deposit_to_account_ref": _ref("Checking"),
        "lines": [
            {"item_ref": _ref(WIDGET.name), "quantity": "2"},
            {"item_ref": _ref(LOYALTY)},
            {"desc": "Loyalty card 0042"},
        ],
    }
    return PlannedJob("receipt", "sales_receipt_add", payload, ("SalesReceipt", "SR-1"), after, total)


def _journal_entry(after: str | None) -> PlannedJob:
    """A month-end entry moving cash consulting income into the books."""
    amount = Decimal("250.00")
    payload = {
        "ref_number": "JE-1",
        "memo": "Cash consulting, month end",
        "lines": [
            {"side": "debit", "account_ref": _ref("Checking"), "amount": str(amount)},
            {"side": "credit", "account_ref": _ref("Services Income"), "amount": str(amount), "memo": "Consulting"},
        ],
    }
    return PlannedJob("journal", "journal_entry_add", payload, ("JournalEntry", "JE-1"), after, amount)


#: The items of :func:`invoice_mix`: (name, price).
MIX_ITEMS = [(f"Service {n}", Decimal(f"{10 * n}.50")) for n in range(1, 6)]


def _untaxed_customers(prefix: str, customers: int) -> list[PlannedJob]:
    """``customer1`` … ``customerN``: customers with a company name and no sales tax."""
    plan = []
    for c in range(1, customers + 1):
        name = customer_name(prefix, c)
        payload = {"name": name, "company_name": f"{name} LLC", "sales_tax_code_ref": _ref("Non")}
        plan.append(PlannedJob(f"customer{c}", "customer_add", payload, ("Customer", name)))
    return plan


def _mix_lines(rng: random.Random, items: list[tuple[str, Decimal]]) -> tuple[list[dict[str, Any]], Decimal]:
    """One to three of ``items``, one to four of each, as invoice lines; and their total."""
    lines: list[dict[str, Any]] = []
    total = Decimal(0)
    for item, price in rng.sample(items, rng.randint(1, 3)):
        quantity = rng.randint(1, 4)
        lines.append({"item_ref": _ref(item), "quantity": str(quantity)})
        total += _money(price * quantity)
    return lines, total


def invoice_mix(prefix: str, rng: random.Random, *, customers: int = 20, invoices: int = 975) -> list[PlannedJob]:
    """Customers and items, then invoices on them (the batching benchmark: 20 + 5 + 975 = 1,000 jobs).

    No tax: customers and items are ``Non``. Each invoice waits for its customer
    (``depends_on``); its item refs are by name, so the items are implicit dependencies.
    """
    plan = [
        PlannedJob(
            f"item{n}", "item_service_add",
            {"name": name, "sales_tax_code_ref": _ref("Non"), "sales_or_purchase": {"desc": name, "price": str(price)}},
            ("ItemService", name),
        )
        for n, (name, price) in enumerate(MIX_ITEMS, 1)
    ]  # fmt: skip
    plan += _untaxed_customers(prefix, customers)
    for i in range(1, invoices + 1):
        c = rng.randint(1, customers)
        lines, total = _mix_lines(rng, MIX_ITEMS)
        customer = _ref(customer_name(prefix, c))
        invoice: dict[str, Any] = {"customer_ref": customer, "ref_number": f"M-{i}", "lines": lines}
        plan.append(PlannedJob(f"invoice{i}", "invoice_add", invoice, ("Invoice", f"M-{i}"), f"customer{c}", total))
    return plan


#: The accounts and items :func:`day_of_work` ensures before the day's sales: (kind, payload).
DAY_SETUP: list[tuple[str, dict[str, Any]]] = [
    ("account_ensure", {"name": "Sales", "account_type": "Income", "account_number": "4000"}),
    ("account_ensure", {"name": "Services Income", "account_type": "Income", "account_number": "4100"}),
    ("account_ensure", {"name": "Checking", "account_type": "Bank", "account_number": "1000"}),
    *(
        (
            "item_service_ensure",
            {
                "name": name,
                "sales_tax_code_ref": _ref("Non"),
                "sales_or_purchase": {"desc": name, "price": str(price), "account_ref": _ref("Services Income")},
            },
        )
        for name, price in MIX_ITEMS[:3]
    ),
]


def job_ref(key: str) -> dict[str, str]:
    """A ``{"job": N}`` ref to the planned job ``key``; :class:`.run.Simulation` puts in its id."""
    return {"job": key}


def day_of_work(prefix: str, rng: random.Random, *, customers: int = 50, invoices: int = 500) -> list[PlannedJob]:
    """A company's day: set-up ensures, customers, invoices each paid by a payment naming it, an iterated query.

    The ensures stand for company setup; each invoice names its customer job and each
    payment its invoice job (``{"job": key}`` refs, made ids at enqueue). The iterated
    customer query, after the customers, stands for an import.
    """
    plan = [
        PlannedJob(f"setup{n}", kind, payload, None)
        for n, (kind, payload) in enumerate(DAY_SETUP, 1)
    ]  # fmt: skip
    plan += _untaxed_customers(prefix, customers)
    for i in range(1, invoices + 1):
        c = rng.randint(1, customers)
        lines, total = _mix_lines(rng, MIX_ITEMS[:3])
        invoice = {"customer_ref": job_ref(f"customer{c}"), "ref_number": f"D-{i}", "lines": lines}
        plan.append(PlannedJob(f"invoice{i}", "invoice_add", invoice, ("Invoice", f"D-{i}"), None, total))
        payment = {
            "customer_ref": job_ref(f"customer{c}"),
            "ref_number": f"P-{i}",
            "total_amount": str(total),
            "applied_to": [{"txn_id": job_ref(f"invoice{i}"), "payment_amount": str(total)}],
        }
        plan.append(PlannedJob(f"payment{i}", "payment_add", payment, ("ReceivePayment", f"P-{i}"), None, total))
    query = {"iterate": True, "max_returned": 20}
    plan.append(PlannedJob("import", "customer_query", query, None, f"customer{customers}"))
    return plan
