"""Transactions: invoice and sales receipt totals with sales tax, payments, journal entries."""

from __future__ import annotations

from collections.abc import Callable
from decimal import ROUND_HALF_UP, Decimal

from qbwc_service.simulator.company import CompanyFacts
from qbwc_service.simulator.kinds import Kind
from qbwc_service.simulator.ledger import SALES_TAX_PAYABLE
from qbwc_service.simulator.store import CENT, Reject, Store, money, number, ref_id
from qbwc_service.simulator.xmldata import Data

ZERO = Decimal("0")
_LINE = {"Invoice": "InvoiceLine", "SalesReceipt": "SalesReceiptLine"}


class Transactions:
    """The emulator's transactions: each Add or Mod priced, checked and applied to the store.

    It is given what it works on and nothing more: the company's store and facts, the
    emulator's reference check (``resolve``) and its maker of the accounts QuickBooks
    creates by itself (``special_account``: A/R, Undeposited Funds, and Sales Tax Payable
    once a sale posts sales tax).
    """

    def __init__(
        self,
        store: Store,
        facts: CompanyFacts,
        *,
        resolve: Callable[[Kind, Data], Data],
        special_account: Callable[[str, str], Data],
    ) -> None:
        self._store = store
        self._facts = facts
        self._resolve = resolve
        self._special_account = special_account

    def add(self, kind: Kind, sent: Data) -> Data:
        """Create a transaction from the fields of its Add element."""
        data = self._resolve(kind, sent)
        store = self._store
        header: Data = {
            "TxnID": "",
            "TimeCreated": store.stamp(),
            "TimeModified": store.stamp(),
            "EditSequence": "",
            "TxnNumber": "",
        }
        if kind.name in _LINE:
            record = self._sale(kind, header, data)
        elif kind.name == "ReceivePayment":
            record, applied = self._payment(header, data)
        else:
            record = self._journal(header, data)
        # Every check passed: from here on the company changes.
        ident = store.new_id(True)
        record["TxnID"] = ident
        record["EditSequence"] = store.new_edit_sequence()
        store.txn_number += 1
        record["TxnNumber"] = str(store.txn_number)
        ref = data.get("RefNumber")
        if isinstance(ref, str) and ref:
            store.saw_ref_number(kind.name, ref)
        elif kind.name in _LINE:
            record["RefNumber"] = store.next_ref_number(kind.name)
            store.auto_refs.add(ident)
        if kind.name == "Invoice":
            self._balance(record.get("CustomerRef"), number(str(record["BalanceRemaining"]), "x"))
            self._stock(record.get("InvoiceLineRet"))
        elif kind.name == "SalesReceipt":
            self._stock(record.get("SalesReceiptLineRet"))
        elif kind.name == "ReceivePayment":
            self._apply(record, applied)
        return store.insert(kind, _ordered(kind, record))

    def mod(self, kind: Kind, current: Data, changes: Data) -> Data:
        """Change a transaction; an invoice or sales receipt is re-totalled from its lines."""
        if kind.name not in _LINE:
            raise Reject(9999, f"The QuickBooks emulator does not handle {kind.name}Mod.")
        changes = self._resolve(kind, changes)
        line_tag = _LINE[kind.name]
        merged: Data = {k: v for k, v in current.items() if k != line_tag + "Ret"}
        for key, value in changes.items():
            if key != line_tag + "Mod":
                merged[key] = value
        old_lines = current.get(line_tag + "Ret")
        old = {str(x["TxnLineID"]): x for x in old_lines if isinstance(x, dict)} if isinstance(old_lines, list) else {}
        mods = changes.get(line_tag + "Mod")
        if isinstance(mods, list):
            lines: list[Data] = []
            for line in mods:
                line_id = line.get("TxnLineID")
                if line_id == "-1":
                    lines.append({k: v for k, v in line.items() if k != "TxnLineID"})
                    continue
                base = old.get(str(line_id))
                if base is None:
                    raise Reject(3120, f'Object "{line_id}" specified in the request cannot be found.')
                updated = dict(base)
                if ("Quantity" in line or "Rate" in line) and "Amount" not in line:
                    updated.pop("Amount", None)
                updated.update(line)
                lines.append(updated)
        else:
            lines = list(old.values())
        merged[line_tag + "Add"] = lines
        applied = number(str(current.get("AppliedAmount", "0")), "AppliedAmount", ZERO)
        before = number(str(current.get("BalanceRemaining", "0")), "BalanceRemaining", ZERO)
        header = {k: current[k] for k in ("TxnID", "TimeCreated", "TimeModified", "EditSequence", "TxnNumber")}
        record = self._sale(kind, header, merged)
        record["RefNumber"] = merged.get("RefNumber", current.get("RefNumber", ""))
        if kind.name == "Invoice":
            total = number(str(record["BalanceRemaining"]), "x")
            remaining = total + applied
            record["AppliedAmount"] = money(applied)
            record["BalanceRemaining"] = money(remaining)
            record["IsPaid"] = "true" if remaining <= 0 else "false"
            self._balance(record.get("CustomerRef"), remaining - before)
        self._store.touch(record)
        current.clear()
        current.update(_ordered(kind, record))
        return current

    def _sale(self, kind: Kind, header: Data, data: Data) -> Data:
        """An invoice or sales receipt: lines priced, subtotal, sales tax and total."""
        line_tag = _LINE[kind.name]
        record: Data = dict(header)
        for key, value in data.items():
            if key not in (line_tag + "Add", line_tag + "Mod"):
                record[key] = value
        customer = self._store.get(ref_id(data.get("CustomerRef")) or "")
        customer_data = customer[1] if customer else {}
        record.setdefault("TxnDate", self._store.today())
        if kind.name == "Invoice" and "ARAccountRef" not in record:
            record["ARAccountRef"] = self._special_account("Accounts Receivable", "AccountsReceivable")
        if kind.name == "SalesReceipt" and "DepositToAccountRef" not in record:
            record["DepositToAccountRef"] = self._special_account("Undeposited Funds", "OtherCurrentAsset")
        customer_taxable = (
            self._taxable(record.get("CustomerSalesTaxCodeRef"))
            if ("CustomerSalesTaxCodeRef" in record)
            else self._taxable(customer_data.get("SalesTaxCodeRef"), default=True)
        )
        lines_in = data.get(line_tag + "Add")
        lines: list[Data] = []
        subtotal = taxable_total = running = ZERO
        for sent in lines_in if isinstance(lines_in, list) else []:
            line, amount, taxable = self._price_line(sent, running)
            running += amount
            subtotal += amount
            if taxable and customer_taxable:
                taxable_total += amount
            lines.append(line)
        rate = ZERO
        tax_ref = record.get("ItemSalesTaxRef") or customer_data.get("ItemSalesTaxRef")
        if self._facts.sales_tax and isinstance(tax_ref, dict):
            record["ItemSalesTaxRef"] = tax_ref
            rate = self._tax_rate(tax_ref)
        tax = (taxable_total * rate / 100).quantize(CENT, rounding=ROUND_HALF_UP)
        if tax or any(self._is_tax_item(line) for line in lines):
            self._special_account(SALES_TAX_PAYABLE, "OtherCurrentLiability")
        record["Subtotal"] = money(subtotal)
        if self._facts.sales_tax:
            record["SalesTaxPercentage"] = str(rate)
            record["SalesTaxTotal"] = money(tax)
        total = subtotal + tax
        if kind.name == "Invoice":
            record["AppliedAmount"] = "0.00"
            record["BalanceRemaining"] = money(total)
            record["IsPaid"] = "true" if total <= 0 else "false"
        else:
            record["TotalAmount"] = money(total)
        record[line_tag + "Ret"] = lines
        return record

    def _price_line(self, sent: Data, running: Decimal) -> tuple[Data, Decimal, bool]:
        """One line with its Amount worked out the way QuickBooks does."""
        item_ref = sent.get("ItemRef")
        item = self._store.get(ref_id(item_ref) or "")
        item_kind, item_data = item if item else (None, {})
        quantity = number(_text(sent.get("Quantity")), "Quantity", Decimal(1))
        line: Data = {"TxnLineID": _text(sent.get("TxnLineID")) or self._store.new_line_id()}
        for key in ("ItemRef", "Desc", "Quantity", "OverrideItemAccountRef"):
            if key in sent:
                line[key] = sent[key]
        if "Desc" not in line and item_data:
            desc = _item_field(item_data, ("SalesDesc", "Desc", "ItemDesc"))
            if desc:
                line["Desc"] = desc
        if "Amount" in sent:
            amount = number(_text(sent.get("Amount")), "Amount")
            if "Rate" in sent:
                line["Rate"] = sent["Rate"]
        elif "Rate" in sent:
            amount = quantity * number(_text(sent.get("Rate")), "Rate")
            line["Rate"] = sent["Rate"]
        elif "RatePercent" in sent:
            amount = running * number(_text(sent.get("RatePercent")), "RatePercent") / 100
            line["RatePercent"] = sent["RatePercent"]
        elif item_kind is not None and item_kind.name == "ItemDiscount":
            percent = _text(item_data.get("DiscountRatePercent"))
            if percent:
                amount = -running * Decimal(percent) / 100
                line["RatePercent"] = percent
            else:
                amount = -abs(number(_text(item_data.get("DiscountRate")), "DiscountRate", ZERO))
        else:
            price = _item_field(item_data, ("SalesPrice", "Price"))
            amount = quantity * number(price, "Price", ZERO)
            if price:
                line["Rate"] = price
        amount = amount.quantize(CENT, rounding=ROUND_HALF_UP)
        line["Amount"] = money(amount)
        code = sent.get("SalesTaxCodeRef") or item_data.get("SalesTaxCodeRef")
        if isinstance(code, dict):
            line["SalesTaxCodeRef"] = code
        return line, amount, self._taxable(code)

    def _is_tax_item(self, line: Data) -> bool:
        """Whether a line's item is a sales tax item or group (its amount is owed to the agency)."""
        found = self._store.get(ref_id(line.get("ItemRef")) or "")
        return found is not None and found[0].name in ("ItemSalesTax", "ItemSalesTaxGroup")

    def _taxable(self, code: object, default: bool = False) -> bool:
        found = self._store.get(ref_id(code) or "")
        if found is None:
            return default
        return found[1].get("IsTaxable") == "true"

    def _tax_rate(self, ref: Data) -> Decimal:
        found = self._store.get(ref_id(ref) or "")
        if found is None:
            return ZERO
        kind, item = found
        if kind.name == "ItemSalesTax":
            return number(_text(item.get("TaxRate")), "TaxRate", ZERO)
        members = item.get("ItemSalesTaxRef")
        return sum(
            (self._tax_rate(m) for m in members if isinstance(m, dict)) if isinstance(members, list) else (),
            ZERO,
        )

    def _payment(self, header: Data, data: Data) -> tuple[Data, list[tuple[Data, Decimal]]]:
        """A payment's record and the invoices it pays, checked against their balances."""
        record: Data = dict(header)
        customer_id = ref_id(data.get("CustomerRef"))
        total = number(_text(data.get("TotalAmount")), "TotalAmount", ZERO)
        for key, value in data.items():
            if key not in ("AppliedToTxnAdd", "IsAutoApply"):
                record[key] = value
        record.setdefault("TxnDate", self._store.today())
        record.setdefault("ARAccountRef", self._special_account("Accounts Receivable", "AccountsReceivable"))
        record.setdefault("DepositToAccountRef", self._special_account("Undeposited Funds", "OtherCurrentAsset"))
        record["TotalAmount"] = money(total)
        applied: list[tuple[Data, Decimal]] = []
        wanted = data.get("AppliedToTxnAdd")
        if isinstance(wanted, list):
            for entry in wanted:
                txn_id = _text(entry.get("TxnID")) or ""
                found = self._store.get(txn_id)
                if found is None or found[0].name != "Invoice":
                    raise Reject(3120, f'Object "{txn_id}" specified in the request cannot be found.')
                invoice = found[1]
                if ref_id(invoice.get("CustomerRef")) != customer_id:
                    raise Reject(
                        3140,
                        f'There is an invalid reference to QuickBooks Invoice "{txn_id}" in the '
                        "Receive Payment: it belongs to another customer.",
                    )
                amount = number(_text(entry.get("PaymentAmount")), "PaymentAmount", ZERO)
                open_balance = number(_text(invoice.get("BalanceRemaining")), "BalanceRemaining", ZERO)
                if amount > open_balance:
                    raise Reject(
                        3180,
                        "There was an error when saving a Receive Payment. QuickBooks error message: "
                        f"the amount applied ({money(amount)}) is more than the open balance "
                        f"({money(open_balance)}) of invoice {invoice.get('RefNumber')}.",
                    )
                applied.append((invoice, amount))
        elif data.get("IsAutoApply") == "true":
            left = total
            open_invoices = [
                inv
                for inv in self._store.records["Invoice"].values()
                if ref_id(inv.get("CustomerRef")) == customer_id and inv.get("IsPaid") != "true"
            ]
            open_invoices.sort(key=lambda inv: (str(inv.get("TxnDate")), int(str(inv["TxnNumber"]))))
            for invoice in open_invoices:
                if left <= 0:
                    break
                amount = min(left, number(_text(invoice.get("BalanceRemaining")), "x", ZERO))
                if amount > 0:
                    applied.append((invoice, amount))
                    left -= amount
        used = sum((a for _, a in applied), ZERO)
        if used > total:
            raise Reject(
                3180,
                "There was an error when saving a Receive Payment. QuickBooks error message: "
                f"the amounts applied ({money(used)}) exceed the payment ({money(total)}).",
            )
        record["UnusedPayment"] = money(total - used)
        record["UnusedCredits"] = "0.00"
        return record, applied

    def _apply(self, payment: Data, applied: list[tuple[Data, Decimal]]) -> None:
        """Reduce each paid invoice's balance; the customer's balance drops by the payment."""
        rets: list[Data] = []
        for invoice, amount in applied:
            remaining = number(_text(invoice.get("BalanceRemaining")), "x", ZERO) - amount
            paid = number(_text(invoice.get("AppliedAmount")), "x", ZERO) - amount
            invoice["AppliedAmount"] = money(paid)
            invoice["BalanceRemaining"] = money(remaining)
            invoice["IsPaid"] = "true" if remaining <= 0 else "false"
            self._store.touch(invoice)
            rets.append(
                {
                    "TxnID": str(invoice["TxnID"]),
                    "TxnType": "Invoice",
                    "TxnDate": str(invoice.get("TxnDate", "")),
                    "RefNumber": str(invoice.get("RefNumber", "")),
                    "BalanceRemaining": money(remaining),
                    "Amount": money(amount),
                }
            )
        if rets:
            payment["AppliedToTxnRet"] = rets
        self._balance(payment.get("CustomerRef"), -number(str(payment["TotalAmount"]), "x"))

    def _journal(self, header: Data, data: Data) -> Data:
        """A journal entry whose debits and credits must balance."""
        record: Data = dict(header)
        totals = {}
        for key, value in data.items():
            if key in ("JournalDebitLine", "JournalCreditLine"):
                lines = value if isinstance(value, list) else [value] if isinstance(value, dict) else []
                out = []
                total = ZERO
                for line in lines:
                    amount = number(_text(line.get("Amount")), "Amount", ZERO)
                    total += amount
                    out.append({"TxnLineID": self._store.new_line_id(), **line, "Amount": money(amount)})
                record[key] = out
                totals[key] = total
            else:
                record[key] = value
        record.setdefault("TxnDate", self._store.today())
        debit, credit = totals.get("JournalDebitLine", ZERO), totals.get("JournalCreditLine", ZERO)
        if debit != credit:
            raise Reject(
                3180,
                "There was an error when saving a Journal Entry. QuickBooks error message: "
                f"Transactions must be in balance (debits {money(debit)}, credits {money(credit)}).",
            )
        return record

    def _balance(self, customer_ref: object, delta: Decimal) -> None:
        """Move a customer's Balance, and the TotalBalance of it and its parents."""
        found = self._store.get(ref_id(customer_ref) or "")
        first = True
        while found is not None:
            _kind, customer = found
            fields = ("Balance", "TotalBalance") if first else ("TotalBalance",)
            for name in fields:
                customer[name] = money(number(_text(customer.get(name)), name, ZERO) + delta)
            first = False
            found = self._store.get(ref_id(customer.get("ParentRef")) or "")

    def _stock(self, lines: object) -> None:
        """Inventory items sold leave stock."""
        for line in lines if isinstance(lines, list) else []:
            found = self._store.get(ref_id(line.get("ItemRef")) or "")
            if found is not None and found[0].name == "ItemInventory":
                item = found[1]
                qty = number(_text(line.get("Quantity")), "Quantity", Decimal(1))
                item["QuantityOnHand"] = str(number(_text(item.get("QuantityOnHand")), "x", ZERO) - qty)


def _item_field(item: Data, names: tuple[str, ...]) -> str | None:
    for holder in (item, item.get("SalesOrPurchase"), item.get("SalesAndPurchase")):
        if isinstance(holder, dict):
            for name in names:
                value = holder.get(name)
                if isinstance(value, str) and value:
                    return value
    return None


def _ordered(kind: Kind, record: Data) -> Data:
    """Drop working fields no Ret element holds (the Add's line elements)."""
    return {k: v for k, v in record.items() if not k.endswith(("LineAdd", "LineMod"))}


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None
