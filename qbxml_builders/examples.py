"""An example payload for every request kind, as JSON-ready dicts.

``EXAMPLES[kind]`` fills most fields a sync uses (the tests build each one and validate it
against the qbXML schema); ``MINIMAL[kind]`` holds only what the kind requires.
"""

from __future__ import annotations

from typing import Any

_ADDRESS = {
    "addr1": "Müller & Söhne GmbH",
    "addr2": "12 Rue de l'Église",
    "city": "Montréal",
    "state": "QC",
    "postal_code": "H2X 1Y4",
    "country": "Canada",
}
_MOD = {"edit_sequence": "1700000000"}
_LIST_MOD = {"list_id": "80000001-1700000000", **_MOD}
_TXN_MOD = {"txn_id": "1A2-1700000000", **_MOD}
_SINCE = {"from_modified_date": "2024-05-01T08:30:00", "active_status": "All"}
_ITERATE = {"iterator": "Start", "max_returned": 100, **_SINCE}
_TXN_SINCE = {
    "iterator": "Start",
    "max_returned": 50,
    "modified_date_range": {"from_modified_date": "2024-05-01T08:30:00"},
    "include_line_items": True,
}
_LINES = [
    {
        "item_ref": {"full_name": "Consulting"},
        "desc": "Two hours <on site> & travel",
        "quantity": "2",
        "rate": "95.5",
        "class_ref": {"full_name": "East"},
        "sales_tax_code_ref": {"full_name": "Non"},
    },
    {"desc": "Thank you for your business — merci!"},
    {"item_ref": {"list_id": "80000005-1700000000"}, "amount": "10.00"},
]

EXAMPLES: dict[str, dict[str, Any]] = {
    "customer_add": {
        "name": "Acme Café",
        "is_active": True,
        "company_name": "Acme Café Ltd",
        "first_name": "Zoë",
        "last_name": "O'Brien",
        "bill_address": _ADDRESS,
        "ship_address": {"addr1": "Dock 4", "city": "Laval", "postal_code": "H7N 1A1"},
        "phone": "+1 514 555 0100",
        "email": "ap@acme.example",
        "terms_ref": {"full_name": "Net 30"},
        "sales_tax_code_ref": {"full_name": "Tax"},
        "item_sales_tax_ref": {"full_name": "POS Tax 0%"},
        "resale_number": "R-12345",
        "account_number": "C-0042",
        "credit_limit": "5000",
        "notes": "Imported from the shop.",
        "external_guid": "{6B29FC40-CA47-1067-B31D-00DD010662DA}",
    },
    "customer_mod": {**_LIST_MOD, "name": "Acme Café", "phone": "+1 514 555 0199"},
    "customer_query": _ITERATE,
    "vendor_add": {
        "name": "State Board of Equalization",
        "company_name": "State Board of Equalization",
        "vendor_address": {"addr1": "PO Box 942879", "city": "Sacramento", "state": "CA"},
        "terms_ref": {"full_name": "Net 30"},
        "vendor_tax_ident": "12-3456789",
        "is_vendor_eligible_for_1099": False,
    },
    "vendor_mod": {**_LIST_MOD, "is_active": False},
    "vendor_query": {"name_filter": {"match_criterion": "StartsWith", "name": "State"}},
    "account_add": {
        "name": "Sales Tax Payable",
        "account_type": "OtherCurrentLiability",
        "account_number": "2200",
        "desc": "Sales tax collected, owed to agencies",
    },
    "account_mod": {**_LIST_MOD, "desc": "Renamed by the sync"},
    "account_query": {"account_types": ["Income", "Expense"], "active_status": "ActiveOnly"},
    "item_service_add": {
        "name": "Consulting",
        "sales_tax_code_ref": {"full_name": "Non"},
        "sales_or_purchase": {
            "desc": "Consulting, per hour",
            "price": "95.5",
            "account_ref": {"full_name": "Services Income"},
        },
    },
    "item_service_mod": {**_LIST_MOD, "sales_or_purchase_mod": {"price": "99"}},
    "item_service_query": _ITERATE,
    "item_query": _ITERATE,
    "item_non_inventory_add": {
        "name": "Gift card",
        "manufacturer_part_number": "GC-1",
        "sales_and_purchase": {
            "sales_desc": "Gift card",
            "sales_price": "25",
            "income_account_ref": {"full_name": "Gift Cards Outstanding"},
            "purchase_desc": "Gift card stock",
            "purchase_cost": "0.35",
            "expense_account_ref": {"full_name": "Supplies"},
        },
    },
    "item_non_inventory_mod": {**_LIST_MOD, "name": "Gift card (new)"},
    "item_non_inventory_query": {"full_names": ["Gift card"]},
    "item_inventory_add": {
        "name": "Espresso beans 1kg",
        "sales_tax_code_ref": {"full_name": "Tax"},
        "sales_desc": "Espresso beans, 1 kg bag",
        "sales_price": "24.9",
        "income_account_ref": {"full_name": "Merchandise Sales"},
        "purchase_cost": "11.20",
        "cogs_account_ref": {"full_name": "Cost of Goods Sold"},
        "asset_account_ref": {"full_name": "Inventory Asset"},
        "reorder_point": "10",
        "quantity_on_hand": "42",
        "inventory_date": "2024-05-01",
    },
    "item_inventory_mod": {**_LIST_MOD, "sales_price": "25.90"},
    "item_inventory_query": _ITERATE,
    "item_other_charge_add": {
        "name": "Shipping",
        "sales_or_purchase": {"desc": "Shipping", "account_ref": {"full_name": "Shipping Income"}},
    },
    "item_other_charge_mod": {**_LIST_MOD, "is_active": True},
    "item_other_charge_query": {"list_ids": ["80000007-1700000000"]},
    "item_discount_add": {
        "name": "Loyalty 10%",
        "item_desc": "Loyalty discount",
        "discount_rate_percent": "10",
        "account_ref": {"full_name": "Discounts Given"},
    },
    "item_discount_mod": {**_LIST_MOD, "discount_rate": "5.00"},
    "item_discount_query": _ITERATE,
    "sales_tax_item_add": {
        "name": "POS Tax 0%",
        "item_desc": "Tax computed by the point of sale",
        "tax_rate": "0",
        "tax_vendor_ref": {"full_name": "State Board of Equalization"},
    },
    "sales_tax_item_mod": {**_LIST_MOD, "tax_rate": "7.25"},
    "sales_tax_item_query": {"full_names": ["POS Tax 0%"]},
    "sales_tax_group_item_add": {
        "name": "City + State",
        "item_desc": "City and state sales tax",
        "item_sales_tax_refs": [{"full_name": "City Tax"}, {"full_name": "State Tax"}],
    },
    "sales_tax_group_item_mod": {**_LIST_MOD, "item_sales_tax_refs": [{"full_name": "State Tax"}]},
    "sales_tax_group_item_query": {"iterator": "Continue", "iterator_id": "{abc-123}"},
    "sales_tax_code_add": {"name": "POS", "is_taxable": True, "desc": "Taxed at the till"},
    "sales_tax_code_mod": {**_LIST_MOD, "desc": "Taxed by the POS"},
    "sales_tax_code_query": {"full_names": ["Tax", "Non"]},
    "class_query": {"active_status": "All", "name_filter": {"match_criterion": "StartsWith", "name": "East"}},
    "terms_query": {"full_names": ["Net 30"]},
    "payment_method_query": {"max_returned": 10, "active_status": "ActiveOnly"},
    "invoice_add": {
        "customer_ref": {"full_name": "Acme Café"},
        "class_ref": {"full_name": "East"},
        "txn_date": "2024-05-02",
        "ref_number": "INV-10042",
        "bill_address": _ADDRESS,
        "po_number": "PO-77",
        "terms_ref": {"full_name": "Net 30"},
        "due_date": "2024-06-01",
        "item_sales_tax_ref": {"full_name": "POS Tax 0%"},
        "memo": "Order #10042 from the web shop",
        "is_to_be_printed": False,
        "customer_sales_tax_code_ref": {"full_name": "Tax"},
        "lines": _LINES,
    },
    "invoice_mod": {
        **_TXN_MOD,
        "memo": "Corrected",
        "lines": [
            {"txn_line_id": "1A4-1700000000", "quantity": "3"},
            {"txn_line_id": "-1", "desc": "Added later"},
        ],
    },
    "invoice_query": {**_TXN_SINCE, "paid_status": "NotPaidOnly", "include_linked_txns": True},
    "sales_receipt_add": {
        "customer_ref": {"full_name": "Walk-in"},
        "txn_date": "2024-05-02",
        "ref_number": "POS-99812",
        "payment_method_ref": {"full_name": "Cash"},
        "item_sales_tax_ref": {"full_name": "POS Tax 0%"},
        "memo": "Till 3",
        "deposit_to_account_ref": {"full_name": "Undeposited Funds"},
        "lines": _LINES,
    },
    "sales_receipt_mod": {**_TXN_MOD, "memo": "Till 4"},
    "sales_receipt_query": {"ref_numbers": ["POS-99812"]},
    "payment_add": {
        "customer_ref": {"full_name": "Acme Café"},
        "txn_date": "2024-05-20",
        "ref_number": "CHK 5521",
        "total_amount": "291.00",
        "payment_method_ref": {"full_name": "Check"},
        "memo": "Thanks",
        "applied_to": [{"txn_id": "1A2-1700000000", "payment_amount": "291.00"}],
    },
    "payment_mod": {**_TXN_MOD, "memo": "Cleared"},
    "payment_query": {
        "entity_filter": {"full_names": ["Acme Café"]},
        "txn_date_range": {"from_txn_date": "2024-05-01", "to_txn_date": "2024-05-31"},
    },
    "journal_entry_add": {
        "txn_date": "2024-05-31",
        "ref_number": "JE-7",
        "memo": "Month-end POS summary",
        "lines": [
            {"side": "debit", "account_ref": {"full_name": "Undeposited Funds"}, "amount": "120"},
            {
                "side": "credit",
                "account_ref": {"full_name": "Sales"},
                "amount": "100.00",
                "memo": "Net sales",
                "class_ref": {"full_name": "East"},
            },
            {
                "side": "credit",
                "account_ref": {"full_name": "Sales Tax Payable"},
                "amount": "20.00",
            },
        ],
    },
    "journal_entry_mod": {
        **_TXN_MOD,
        "lines": [
            {
                "txn_line_id": "1B1-1700000000",
                "journal_line_type": "Debit",
                "amount": "130.00",
            },
            {
                "txn_line_id": "1B2-1700000000",
                "journal_line_type": "Credit",
                "amount": "130.00",
            },
        ],
    },
    "journal_entry_query": {"ref_number_filter": {"match_criterion": "StartsWith", "ref_number": "JE-"}},
    "company_query": {"include_ret_elements": ["CompanyName", "Address"]},
    "host_query": {},
    "preferences_query": {},
}

MINIMAL: dict[str, dict[str, Any]] = {
    "customer_add": {"name": "A"},
    "vendor_add": {"name": "V"},
    "account_add": {"name": "Income", "account_type": "Income"},
    "item_service_add": {"name": "S", "sales_or_purchase": {}},
    "item_non_inventory_add": {"name": "N", "sales_or_purchase": {}},
    "item_other_charge_add": {"name": "O", "sales_or_purchase": {}},
    "item_inventory_add": {
        "name": "I",
        "income_account_ref": {"full_name": "Sales"},
        "cogs_account_ref": {"full_name": "COGS"},
        "asset_account_ref": {"full_name": "Inventory Asset"},
    },
    "item_discount_add": {"name": "D"},
    "sales_tax_item_add": {"name": "T"},
    "sales_tax_group_item_add": {"name": "G", "item_sales_tax_refs": [{"full_name": "T"}]},
    "sales_tax_code_add": {"name": "Z", "is_taxable": False},
    "invoice_add": {"customer_ref": {"list_id": "80000001-1"}, "lines": [{"desc": "x"}]},
    "sales_receipt_add": {"lines": [{"desc": "x"}]},
    "payment_add": {"customer_ref": {"full_name": "A"}},
    "journal_entry_add": {
        "lines": [
            {"side": "debit", "account_ref": {"full_name": "A"}, "amount": "0"},
            {"side": "credit", "account_ref": {"full_name": "B"}, "amount": "0"},
        ]
    },
}
