"""The emulator's ledger: each transaction's debits and credits per account, always in balance."""

from __future__ import annotations

import random
from decimal import Decimal

import pytest
from lxml import etree

from qbwc_service.simulator import CompanyFacts, QuickBooksEmulator
from qbwc_service.simulator.ledger import SALES_TAX_PAYABLE
from qbwc_service.simulator.workload import workload
from qbxml_builders import build_document, build_request, parse_response
from tests.emulator.conftest import Company, FakeClock, add, el, mod, needs_spec, ref

pytestmark = needs_spec

D = Decimal


def balanced(qb: Company) -> dict[str, Decimal]:
    """The company's ledger, checked to balance: debits equal credits."""
    books = qb.qb.ledger()
    assert sum(books.values(), D("0")) == 0, books
    return books


def sale_line(tag: str, item: str | None, *, quantity: str | None = None, amount: str | None = None,
              tax: str | None = None, account: str | None = None) -> etree._Element:  # fmt: skip
    """An ``InvoiceLineAdd`` or ``SalesReceiptLineAdd``, its fields in schema order."""
    children = [ref("ItemRef", item)] if item else [el("Desc", "No item")]
    if quantity is not None:
        children.append(el("Quantity", quantity))
    if amount is not None:
        children.append(el("Amount", amount))
    if tax is not None:
        children.append(ref("SalesTaxCodeRef", tax))
    if account is not None:
        children.append(ref("OverrideItemAccountRef", account))
    return el(tag, *children)


def receipt(*lines: etree._Element) -> etree._Element:
    """A SalesReceiptAddRq for Acme."""
    return add("SalesReceipt", ref("CustomerRef", "Acme"), *lines)


def payment(amount: str, txn_id: str) -> etree._Element:
    """A ReceivePaymentAddRq from Acme applied to one invoice."""
    return add(
        "ReceivePayment",
        ref("CustomerRef", "Acme"),
        el("TotalAmount", amount),
        el("AppliedToTxnAdd", el("TxnID", txn_id), el("PaymentAmount", amount)),
    )


def journal(*lines: tuple[str, str]) -> etree._Element:
    """A JournalEntryAddRq: each ``(account, amount)`` a debit line, or a credit line when the amount is negative."""
    debits = [(a, m) for a, m in lines if not m.startswith("-")]
    credits = [(a, m.removeprefix("-")) for a, m in lines if m.startswith("-")]
    return add(
        "JournalEntry",
        *(el("JournalDebitLine", ref("AccountRef", a), el("Amount", m)) for a, m in debits),
        *(el("JournalCreditLine", ref("AccountRef", a), el("Amount", m)) for a, m in credits),
    )


@pytest.fixture
def books(stocked: Company) -> Company:
    """The stocked company with a bank, another income account, and a 10 % discount item."""
    stocked.ok(add("Account", el("Name", "Bank"), el("AccountType", "Bank")))
    stocked.ok(add("Account", el("Name", "Other Income"), el("AccountType", "OtherIncome")))
    stocked.ok(add("Account", el("Name", "Discounts Given"), el("AccountType", "Income")))
    stocked.ok(
        add("ItemDiscount", el("Name", "Promo"), el("DiscountRatePercent", "10"), ref("AccountRef", "Discounts Given"))
    )
    stocked.ok(add("ItemSalesTax", el("Name", "City"), el("TaxRate", "1.0")))
    return stocked


def test_a_new_company_has_an_empty_ledger(books: Company) -> None:
    """List entries post nothing: without transactions the ledger is empty."""
    assert balanced(books) == {}


def test_an_invoice_and_its_payment_post_receivable_income_tax_and_deposit(books: Company) -> None:
    """A taxable invoice debits A/R by its total and credits income and tax; the payment moves A/R to the deposit."""
    inv = books.one(
        add(
            "Invoice",
            ref("CustomerRef", "Acme"),
            sale_line("InvoiceLineAdd", "Consulting", quantity="2"),
            sale_line("InvoiceLineAdd", "Consulting", amount="50.00", tax="Non", account="Other Income"),
        )
    )
    assert inv.status_code == 0, inv.message
    assert inv.objects[0]["BalanceRemaining"] == "374.75"
    assert balanced(books) == {
        "Accounts Receivable": D("374.75"),
        "Sales": D("-300.00"),
        "Other Income": D("-50.00"),
        SALES_TAX_PAYABLE: D("-24.75"),
    }
    books.ok(payment("100.00", inv.ids()["TxnID"]))
    assert balanced(books) == {
        "Accounts Receivable": D("274.75"),
        "Undeposited Funds": D("100.00"),
        "Sales": D("-300.00"),
        "Other Income": D("-50.00"),
        SALES_TAX_PAYABLE: D("-24.75"),
    }
    assert books.qb.find("Account", SALES_TAX_PAYABLE) is not None


def test_a_sales_receipt_with_a_discount_and_a_tax_line_posts_each_to_its_account(books: Company) -> None:
    """The discount line debits its account; a sales tax item used as a line credits Sales Tax Payable."""
    rs = books.one(
        add(
            "SalesReceipt",
            ref("CustomerRef", "Acme"),
            ref("DepositToAccountRef", "Bank"),
            sale_line("SalesReceiptLineAdd", "Consulting"),
            sale_line("SalesReceiptLineAdd", "Promo"),
            sale_line("SalesReceiptLineAdd", "City", amount="5.00"),
        )
    )
    assert rs.status_code == 0, rs.message
    assert rs.objects[0]["TotalAmount"] == "152.38"  # 150 - 15 + 5, and 8.25 % of the taxable 150
    assert balanced(books) == {
        "Bank": D("152.38"),
        "Sales": D("-150.00"),
        "Discounts Given": D("15.00"),
        SALES_TAX_PAYABLE: D("-17.38"),
    }


def test_a_journal_entry_posts_its_debit_and_credit_lines(books: Company) -> None:
    """Each debit line debits its account, each credit line credits its account."""
    books.ok(journal(("Bank", "100.00"), ("Sales", "-60.00"), ("Other Income", "-40.00")))
    assert balanced(books) == {"Bank": D("100.00"), "Sales": D("-60.00"), "Other Income": D("-40.00")}


def test_a_refund_as_a_negative_sales_receipt_is_accepted_and_reverses_the_sale(books: Company) -> None:
    """A sales receipt of negative lines has a negative total; with the sale it refunds, every account nets to zero."""
    books.ok(
        receipt(sale_line("SalesReceiptLineAdd", "Consulting"), sale_line("SalesReceiptLineAdd", None, amount="40.00"))
    )
    refund = books.one(
        receipt(
            sale_line("SalesReceiptLineAdd", "Consulting", quantity="-1"),
            sale_line("SalesReceiptLineAdd", None, amount="-40.00"),
        )
    )
    assert refund.status_code == 0, refund.message
    assert refund.objects[0]["TotalAmount"] == "-202.38"
    assert books.qb.records("SalesReceipt")[1]["SalesTaxTotal"] == "-12.38"
    assert balanced(books) == {}


def test_an_invoice_paid_in_full_and_a_sales_receipt_give_the_same_ledger(books: Company, clock: FakeClock) -> None:
    """One sale as an invoice and its payment, or as a sales receipt in a copy of the company: the same totals."""
    other = Company(QuickBooksEmulator.from_snapshot(books.qb.snapshot(), clock=clock))
    txn = books.ok(add("Invoice", ref("CustomerRef", "Acme"), sale_line("InvoiceLineAdd", "Consulting")))["TxnID"]
    books.ok(payment("162.38", txn))
    other.ok(receipt(sale_line("SalesReceiptLineAdd", "Consulting")))
    assert (
        balanced(books)
        == balanced(other)
        == {
            "Undeposited Funds": D("162.38"),
            "Sales": D("-150.00"),
            SALES_TAX_PAYABLE: D("-12.38"),
        }
    )


def test_an_invoice_changed_posts_its_new_lines(books: Company) -> None:
    """An InvoiceMod re-totals the invoice, and the ledger follows the lines it holds now."""
    ids = books.ok(add("Invoice", ref("CustomerRef", "Acme"), sale_line("InvoiceLineAdd", "Consulting")))
    line_id = books.qb.records("Invoice")[0]["InvoiceLineRet"][0]["TxnLineID"]
    rs = books.one(
        mod("Invoice", ids["TxnID"], ids["EditSequence"], el("InvoiceLineMod", el("TxnLineID", str(line_id)),
                                                            el("Quantity", "3")))
    )  # fmt: skip
    assert rs.status_code == 0, rs.message
    assert balanced(books) == {
        "Accounts Receivable": D("487.13"),
        "Sales": D("-450.00"),
        SALES_TAX_PAYABLE: D("-37.13"),
    }


def test_an_account_renamed_keeps_its_balance_under_the_new_name(books: Company) -> None:
    """Accounts are keyed by their current FullName: a rename moves the balance, a sub-account's with it."""
    books.ok(
        add(
            "Account", el("Name", "Consulting Fees"), ref("ParentRef", "Other Income"), el("AccountType", "OtherIncome")
        )
    )
    books.ok(journal(("Bank", "30.00"), ("Sales", "-20.00"), ("Other Income:Consulting Fees", "-10.00")))
    books.qb.modify("Account", "Sales", Name="Revenue")
    books.qb.modify("Account", "Other Income", Name="Misc Income")
    assert balanced(books) == {"Bank": D("30.00"), "Revenue": D("-20.00"), "Misc Income:Consulting Fees": D("-10.00")}


def test_each_item_type_credits_its_own_income_account(books: Company) -> None:
    """A two-sided item credits its IncomeAccountRef, an inventory item its own, a tax group Sales Tax Payable."""
    books.ok(add("Account", el("Name", "Parts Income"), el("AccountType", "Income")))
    books.ok(add("Account", el("Name", "Stock"), el("AccountType", "OtherCurrentAsset")))
    books.ok(add("Account", el("Name", "Cost of Parts"), el("AccountType", "CostOfGoodsSold")))
    books.ok(add("Account", el("Name", "Parts Bought"), el("AccountType", "Expense")))
    books.ok(
        add(
            "ItemNonInventory",
            el("Name", "Cable"),
            el(
                "SalesAndPurchase",
                el("SalesPrice", "20.00"),
                ref("IncomeAccountRef", "Parts Income"),
                ref("ExpenseAccountRef", "Parts Bought"),
            ),
        )
    )
    books.ok(
        add(
            "ItemInventory",
            el("Name", "Router"),
            el("SalesPrice", "80.00"),
            ref("IncomeAccountRef", "Other Income"),
            ref("COGSAccountRef", "Cost of Parts"),
            ref("AssetAccountRef", "Stock"),
        )
    )
    books.ok(
        add("ItemSalesTaxGroup", el("Name", "IL+City"), ref("ItemSalesTaxRef", "IL"), ref("ItemSalesTaxRef", "City"))
    )
    books.ok(
        add(
            "Invoice",
            ref("CustomerRef", "Acme"),
            sale_line("InvoiceLineAdd", "Cable", quantity="2"),
            sale_line("InvoiceLineAdd", "Router"),
            sale_line("InvoiceLineAdd", "IL+City", amount="3.00"),
        )
    )
    assert balanced(books) == {
        "Accounts Receivable": D("123.00"),
        "Parts Income": D("-40.00"),
        "Other Income": D("-80.00"),
        SALES_TAX_PAYABLE: D("-3.00"),
    }


@pytest.mark.parametrize("seed", [1, 4])
def test_a_generated_business_day_balances_and_receivables_match_the_customers(seed: int) -> None:
    """The simulator's workload posted in order: the ledger balances, and A/R is what the customers owe."""
    qb = QuickBooksEmulator(CompanyFacts())
    planned = workload("t", random.Random(seed), customers=8, invoices=3)
    for job in planned:
        element = build_request(job.kind, job.payload, version="13.0")
        (response,) = parse_response(qb.process_request(build_document([("1", element)], version="13.0")))
        assert response.status_code == 0, f"{job.key}: {response.message}"
    books = balanced(Company(qb))
    assert {j.kind for j in planned} >= {"invoice_add", "payment_add", "sales_receipt_add", "journal_entry_add"}
    owed = sum((D(str(c["Balance"])) for c in qb.records("Customer")), D("0"))
    assert books["Accounts Receivable"] == owed
