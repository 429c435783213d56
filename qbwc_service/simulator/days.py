"""A business day's documents, made up reproducibly: repair orders of a shop, the orders of a store.

Tests and benches post them (``shop_invoice``, ``pos_day``); each is valid as it comes
(tenders pay what an order comes to, payments never exceed an invoice).
"""

from __future__ import annotations

import random
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

CENT = Decimal("0.01")
ZERO = Decimal(0)
SHOP_KINDS = ("labor", "part", "tire", "subcontract", "epa", "shop_supplies", "fee")
POS_CATEGORIES = ("merchandise", "services")
TENDERS = ("cash", "card", "card", "card")
_FIRST = ("Ann", "Bob", "Cruz", "Dana", "Eli", "Fay", "Gus", "Hana", "Ivan", "Jo", "Kai", "Lee", "Mia", "Ned")
_LAST = ("Smith", "Jones", "Garcia", "Chen", "Patel", "Okafor", "Novak", "Silva", "Kim", "Brown", "Ito", "Ross")
_CARS = (("Honda", "Civic"), ("Ford", "F-150"), ("Toyota", "Camry"), ("Subaru", "Outback"), ("Tesla", "Model 3"))


def _money(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def _customer(rng: random.Random, customers: int) -> dict[str, Any]:
    n = rng.randrange(customers)
    first, last = _FIRST[n % len(_FIRST)], _LAST[(n // len(_FIRST)) % len(_LAST)]
    return {"name": f"{last}, {first} {n:04d}", "first_name": first, "last_name": last,
            "phone": f"555-{n:04d}", "address": {"addr1": f"{n} Main St", "city": "Springfield"}}  # fmt: skip


def _shop_lines(rng: random.Random) -> list[dict[str, Any]]:
    quantity = str(rng.choice((1, 1.5, 2)))
    lines: list[dict[str, Any]] = [
        {"kind": "labor", "description": "Labor", "quantity": quantity, "rate": "120.00", "taxable": False}
    ]
    for _ in range(rng.randrange(1, 5)):
        kind = rng.choice(SHOP_KINDS[1:])
        rate = f"{rng.randrange(5, 300)}.{rng.randrange(100):02d}"
        lines.append({"kind": kind, "description": f"{kind.replace('_', ' ')} {rng.randrange(1000)}",
                      "quantity": str(rng.randrange(1, 5)), "rate": rate,
                      "taxable": kind in ("part", "tire", "shop_supplies")})  # fmt: skip
    if rng.random() < 0.2:
        lines.append({"kind": "discount", "description": "Loyalty discount", "amount": "10.00"})
    return lines


def _priced(line: dict[str, Any]) -> Decimal:
    return Decimal(str(line["quantity"])) * Decimal(str(line["rate"]))


def shop_day(
    count: int, *, seed: int = 1, day: date = date(2026, 12, 1), customers: int = 200, start: int = 1
) -> list[dict[str, Any]]:
    """``count`` repair orders of one day: labor, parts, tires..., a discount now and then, tax and payments."""
    rng = random.Random(seed)  # noqa: S311 (reproducible data, not secrets)
    out = []
    for n in range(start, start + count):
        lines = _shop_lines(rng)
        subtotal = sum((-Decimal(x["amount"]) if x["kind"] == "discount" else _priced(x) for x in lines), ZERO)
        tax = _money(sum((_priced(x) for x in lines if x.get("taxable")), ZERO) * Decimal("0.0725"))
        total = _money(subtotal) + tax
        make, model = rng.choice(_CARS)
        vehicle = {"year": rng.randrange(2005, 2026), "make": make, "model": model, "odometer": rng.randrange(90_000)}
        order: dict[str, Any] = {"repair_order": f"RO{n:06d}", "date": day.isoformat(),
                                 "customer": _customer(rng, customers), "vehicle": vehicle, "lines": lines,
                                 "tax": str(tax)}  # fmt: skip
        if rng.random() < 0.8:
            split = _money(total * Decimal(rng.choice(("1", "1", "0.5"))))
            order["payments"] = [{"method": "Visa", "amount": str(split), "reference": f"AUTH{n}"}]
            if split < total and rng.random() < 0.5:
                order["payments"].append({"method": "Cash", "amount": str(total - split)})
        out.append(order)
    return out


def _pos_order(rng: random.Random, number: str, refund: bool, products: int) -> dict[str, Any]:
    lines: list[dict[str, Any]] = []
    for _ in range(rng.randrange(1, 4)):
        p = rng.randrange(products)
        price = f"{rng.randrange(1, 80)}.{rng.choice((0, 49, 99)):02d}"
        lines.append({"product": f"Product {p:03d}", "category": POS_CATEGORIES[p % 2],
                      "quantity": str(rng.randrange(1, 4)), "price": price, "taxable": p % 5 != 0})  # fmt: skip
        if rng.random() < 0.15:
            lines[-1]["discount"] = "1.50"
    net = sum((_amount(x) - Decimal(x.get("discount", "0")) for x in lines), ZERO)
    taxable = sum((_amount(x) for x in lines if x["taxable"]), ZERO)
    out: dict[str, Any] = {"number": number, "lines": lines, "tax": str(_money(taxable * Decimal("0.08")))}
    if not refund and rng.random() < 0.1:
        out["tip"] = "2.00"
    if not refund and rng.random() < 0.05:
        out["gift_cards_sold"] = "25.00"
    if rng.random() < 0.3:
        out["customer"] = _customer(rng, 100)
    due = _money(net) + sum((Decimal(out.get(k, "0")) for k in ("tax", "tip", "gift_cards_sold")), ZERO)
    tenders: list[dict[str, Any]] = []
    if not refund and rng.random() < 0.05 and due > 10:
        tenders.append({"type": "gift_card", "amount": "10.00"})
        due -= 10
    if not refund and rng.random() < 0.1 and due > 5:
        tenders.append({"type": "cash", "amount": "5.00"})
        due -= 5
    tenders.append({"type": rng.choice(TENDERS), "amount": str(_money(due))})
    out["tenders"] = tenders
    return out


def _amount(line: dict[str, Any]) -> Decimal:
    return Decimal(str(line["quantity"])) * Decimal(str(line["price"]))


def pos_day(
    count: int, *, seed: int = 1, day: date = date(2026, 12, 1), location: str = "Main", products: int = 60,
    refunds: int = 0,
) -> dict[str, Any]:  # fmt: skip
    """A store's day of ``count`` orders (and ``refunds``): discounts, tax, tips, gift cards, split tenders."""
    rng = random.Random(seed)  # noqa: S311 (reproducible data, not secrets)
    orders = [_pos_order(rng, f"S{n:05d}", False, products) for n in range(1, count + 1)]
    returned = []
    for n in range(1, refunds + 1):
        refund = _pos_order(rng, f"R{n:05d}", True, products)
        refund["order"] = f"S{rng.randrange(1, count + 1):05d}"
        returned.append(refund)
    return {"date": day.isoformat(), "location": location, "orders": orders, "refunds": returned}
