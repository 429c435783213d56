"""Transactions in the emulator: totals, sales tax, payments, journal entries, duplicates."""

from __future__ import annotations

from qbwc_service.simulator import CompanyFacts, QuickBooksEmulator
from tests.emulator.conftest import Company, FakeClock, add, el, mod, needs_spec, ref

pytestmark = needs_spec


def line(item: str | None = None, **fields: str) -> object:
    """An InvoiceLineAdd with an optional item and fields in schema order."""
    children = [ref("ItemRef", item)] if item else []
    for name in ("Desc", "Quantity", "Rate", "RatePercent", "Amount"):
        if name in fields:
            children.append(el(name, fields[name]))
    if "tax" in fields:
        children.append(ref("SalesTaxCodeRef", fields["tax"]))
    return el("InvoiceLineAdd", *children)


def invoice(customer: str, *lines: object, ref_number: str | None = None) -> object:
    """An InvoiceAddRq."""
    head = [ref("CustomerRef", customer)]
    if ref_number:
        head.append(el("RefNumber", ref_number))
    return add("Invoice", *head, *lines)


def test_invoice_totals_and_sales_tax(stocked: Company) -> None:
    """Quantity times the item's price, plus 8.25 % on taxable lines only."""
    rs = stocked.one(
        invoice(
            "Acme",
            line("Consulting", Quantity="2"),
            line(Desc="Setup fee", Amount="50.00", tax="Non"),
        )
    )
    assert rs.status_code == 0
    ret = rs.objects[0]
    assert ret["Subtotal"] == "350.00"
    assert ret["SalesTaxPercentage"] == "8.25"
    assert ret["SalesTaxTotal"] == "24.75"
    assert ret["BalanceRemaining"] == "374.75"
    assert ret["IsPaid"] == "false"
    stored = stocked.qb.records("Invoice")[0]
    assert [x["Amount"] for x in stored["InvoiceLineRet"]] == ["300.00", "50.00"]
    assert stored["InvoiceLineRet"][0]["Rate"] == "150.00"


def test_tax_group_rate_is_the_sum_of_its_items(stocked: Company) -> None:
    """A sales tax group charges the sum of its members' rates."""
    stocked.ok(add("ItemSalesTax", el("Name", "City"), el("TaxRate", "1.75")))
    stocked.ok(
        add(
            "ItemSalesTaxGroup",
            el("Name", "IL+City"),
            ref("ItemSalesTaxRef", "IL"),
            ref("ItemSalesTaxRef", "City"),
        )
    )
    rs = stocked.one(
        add(
            "Invoice",
            ref("CustomerRef", "Acme"),
            ref("ItemSalesTaxRef", "IL+City"),
            line("Consulting"),
        )
    )
    assert rs.objects[0]["SalesTaxPercentage"] == "10.00"
    assert rs.objects[0]["SalesTaxTotal"] == "15.00"


def test_non_taxable_customer_pays_no_tax(stocked: Company) -> None:
    """A customer whose tax code is Non pays no sales tax on taxable items."""
    stocked.ok(
        add(
            "Customer",
            el("Name", "Exempt"),
            ref("SalesTaxCodeRef", "Non"),
            ref("ItemSalesTaxRef", "IL"),
        )
    )
    rs = stocked.one(invoice("Exempt", line("Consulting")))
    assert rs.objects[0]["SalesTaxTotal"] == "0.00"


def test_discount_item_takes_a_percentage_of_the_lines_above(stocked: Company) -> None:
    """A percentage discount item subtracts its share of the running subtotal."""
    stocked.ok(
        add(
            "ItemDiscount",
            el("Name", "Promo"),
            el("DiscountRatePercent", "10"),
            ref("AccountRef", "Sales"),
        )
    )
    rs = stocked.one(invoice("Acme", line("Consulting", Quantity="2"), line("Promo")))
    assert rs.objects[0]["Subtotal"] == "270.00"


def test_unknown_item_on_a_line_is_3140_and_nothing_is_saved(stocked: Company) -> None:
    """A line naming a missing item fails the whole invoice with 3140."""
    rs = stocked.one(invoice("Acme", line("Consulting"), line("Ghost")))
    assert rs.status_code == 3140
    assert stocked.qb.records("Invoice") == []


def test_ref_numbers_are_assigned_and_follow_typed_numbers(stocked: Company) -> None:
    """Without a RefNumber QuickBooks numbers invoices itself, continuing after typed ones."""
    first = stocked.one(invoice("Acme", line("Consulting")))
    typed = stocked.one(invoice("Acme", line("Consulting"), ref_number="500"))
    after = stocked.one(invoice("Acme", line("Consulting")))
    assert [r.ids()["RefNumber"] for r in (first, typed, after)] == ["1", "500", "501"]
    assert [r.objects[0]["TxnNumber"] for r in (first, typed, after)] == ["1", "2", "3"]


def test_payment_reduces_invoice_and_customer_balance(stocked: Company) -> None:
    """A payment applied to an invoice lowers its balance and the customer's."""
    txn = stocked.ok(invoice("Acme", line("Consulting")))["TxnID"]
    rs = stocked.one(
        add(
            "ReceivePayment",
            ref("CustomerRef", "Acme"),
            el("TotalAmount", "100.00"),
            el("AppliedToTxnAdd", el("TxnID", txn), el("PaymentAmount", "100.00")),
        )
    )
    assert rs.status_code == 0
    stored = stocked.qb.store.get(txn)
    assert stored is not None
    assert stored[1]["AppliedAmount"] == "-100.00"
    assert stored[1]["BalanceRemaining"] == "62.38"
    customer = stocked.qb.find("Customer", "Acme")
    assert customer is not None
    assert customer["Balance"] == "62.38"


def test_paying_an_invoice_changes_its_edit_sequence(stocked: Company, clock: FakeClock) -> None:
    """A payment modifies the invoice, so an InvoiceMod with the old EditSequence is 3200."""
    ids = stocked.ok(invoice("Acme", line("Consulting")))
    clock.advance(seconds=1)
    stocked.ok(
        add(
            "ReceivePayment",
            ref("CustomerRef", "Acme"),
            el("TotalAmount", "10.00"),
            el("IsAutoApply", "true"),
        )
    )
    rs = stocked.one(mod("Invoice", ids["TxnID"], ids["EditSequence"], el("Memo", "late")))
    assert rs.status_code == 3200


def test_overpaying_an_invoice_is_refused(stocked: Company) -> None:
    """Applying more than an invoice's open balance fails and changes nothing."""
    txn = stocked.ok(invoice("Acme", line("Consulting")))["TxnID"]
    rs = stocked.one(
        add(
            "ReceivePayment",
            ref("CustomerRef", "Acme"),
            el("TotalAmount", "500.00"),
            el("AppliedToTxnAdd", el("TxnID", txn), el("PaymentAmount", "500.00")),
        )
    )
    assert rs.status_code == 3180
    assert stocked.qb.records("ReceivePayment") == []


def test_payment_for_an_unknown_invoice_is_3120(stocked: Company) -> None:
    """A payment applied to a TxnID QuickBooks does not have is refused with 3120."""
    rs = stocked.one(
        add(
            "ReceivePayment",
            ref("CustomerRef", "Acme"),
            el("TotalAmount", "1.00"),
            el("AppliedToTxnAdd", el("TxnID", "999-1"), el("PaymentAmount", "1.00")),
        )
    )
    assert rs.status_code == 3120


def test_auto_apply_pays_oldest_invoices_first(stocked: Company) -> None:
    """IsAutoApply settles the oldest open invoices and keeps the rest as unused payment."""
    first = stocked.ok(invoice("Acme", line("Consulting")))["TxnID"]
    second = stocked.ok(invoice("Acme", line("Consulting")))["TxnID"]
    rs = stocked.one(
        add(
            "ReceivePayment",
            ref("CustomerRef", "Acme"),
            el("TotalAmount", "400.00"),
            el("IsAutoApply", "true"),
        )
    )
    assert rs.objects[0]["UnusedPayment"] == "75.24"
    assert [stocked.qb.store.get(t)[1]["IsPaid"] for t in (first, second)] == ["true", "true"]  # type: ignore[index]


def test_sales_receipt_total_and_deposit_account(stocked: Company) -> None:
    """A sales receipt is totalled with tax and goes to Undeposited Funds by default."""
    rs = stocked.one(
        add(
            "SalesReceipt",
            ref("CustomerRef", "Acme"),
            el("SalesReceiptLineAdd", ref("ItemRef", "Consulting")),
        )
    )
    assert rs.objects[0]["TotalAmount"] == "162.38"
    assert rs.objects[0]["DepositToAccountRef"] == "Undeposited Funds"


def test_journal_entry_must_balance(stocked: Company) -> None:
    """Debits must equal credits; an unbalanced entry is refused with 3180."""
    stocked.ok(add("Account", el("Name", "Bank"), el("AccountType", "Bank")))

    def entry(debit: str, credit: str) -> object:
        return add(
            "JournalEntry",
            el("JournalDebitLine", ref("AccountRef", "Bank"), el("Amount", debit)),
            el("JournalCreditLine", ref("AccountRef", "Sales"), el("Amount", credit)),
        )

    assert stocked.one(entry("10.00", "9.99")).status_code == 3180
    assert stocked.one(entry("10.00", "10.00")).status_code == 0


def test_invoice_mod_replaces_lines_and_retotals(stocked: Company) -> None:
    """An InvoiceMod with line mods keeps only the listed lines and recomputes the totals."""
    ids = stocked.ok(invoice("Acme", line("Consulting"), line(Desc="Extra", Amount="10.00")))
    first_line = stocked.qb.records("Invoice")[0]["InvoiceLineRet"][0]["TxnLineID"]
    rs = stocked.one(
        mod(
            "Invoice",
            ids["TxnID"],
            ids["EditSequence"],
            el("InvoiceLineMod", el("TxnLineID", str(first_line)), el("Quantity", "3")),
            el("InvoiceLineMod", el("TxnLineID", "-1"), el("Desc", "New"), el("Amount", "5.00")),
        )
    )
    assert rs.status_code == 0
    assert rs.objects[0]["Subtotal"] == "455.00"
    assert rs.objects[0]["BalanceRemaining"] == "492.13"
    customer = stocked.qb.find("Customer", "Acme")
    assert customer is not None
    assert customer["Balance"] == "492.13"


def test_duplicates_are_reported(stocked: Company) -> None:
    """The same invoice applied twice shows up as a duplicate; distinct ones do not."""
    stocked.ok(invoice("Acme", line("Consulting"), ref_number="A-1"))
    stocked.ok(invoice("Acme", line("Consulting"), ref_number="A-2"))
    assert stocked.qb.duplicates() == []
    stocked.ok(invoice("Acme", line("Consulting"), ref_number="A-1"))
    dupes = stocked.qb.duplicates()
    assert len(dupes) == 1
    assert dupes[0].kind == "Invoice"
    assert len(dupes[0].ids) == 2


def test_auto_numbered_duplicates_are_still_found(stocked: Company) -> None:
    """Two identical invoices QuickBooks numbered itself count as one duplicate pair."""
    stocked.ok(invoice("Acme", line("Consulting")))
    stocked.ok(invoice("Acme", line("Consulting")))
    assert len(stocked.qb.duplicates()) == 1


def test_no_sales_tax_without_the_feature(clock: FakeClock) -> None:
    """With sales tax off, invoices carry no tax fields."""
    qb = Company(QuickBooksEmulator(CompanyFacts(sales_tax=False), clock=clock))
    qb.ok(add("Customer", el("Name", "C")))
    rs = qb.one(invoice("C", line(Desc="Work", Amount="10.00")))
    assert "SalesTaxTotal" not in rs.objects[0]
    assert rs.objects[0]["BalanceRemaining"] == "10.00"
