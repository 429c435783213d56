"""Company setup without a database: the profile and its schema, country refusals, the plan, the preferences check."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import jsonschema
import pytest

from qbwc_service.db.models import JobState
from qbwc_service.qbwc import outcomes
from qbwc_service.qbwc.outcomes import Answer, HeldJob
from qbwc_service.queue.retry import RetryPolicy
from qbwc_service.workflows.setup import kinds, plan, profile
from qbxml_builders import parse_response_elements
from tests.helpers import response_doc, rs

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(("system", "country"), [("shop", "US"), ("pos", "US"), ("shop", "CA"), ("pos", "UK")])
def test_default_profiles_are_valid_by_the_published_schema_and_their_country(system: str, country: str) -> None:
    """Each default validates against the JSON Schema, reads back the same, and asks nothing its country refuses."""
    default = profile.default_profile(system, country)
    data = profile.to_json(default)
    jsonschema.validate(data, profile.schema())
    assert profile.to_json(profile.validate(data)) == data
    assert profile.refusals(default, country) == []


def test_schema_and_validator_refuse_the_same_bad_fields() -> None:
    """An unknown account type or field is refused by the schema and the validator alike."""
    data = profile.to_json(profile.default_profile())
    data["accounts"]["income"]["type"] = "Nope"
    data["colour"] = "blue"
    assert not jsonschema.Draft202012Validator(profile.schema()).is_valid(data)
    with pytest.raises(profile.ProfileError) as refused:
        profile.validate(data)
    assert {e.split(":")[0] for e in refused.value.errors} == {"accounts.income.type", "colour"}


def test_rules_across_fields_are_each_named() -> None:
    """A name too long with its prefix, a missing role, a gift card asset, a tax item without agency: one error each."""
    data = profile.to_json(profile.default_profile())
    data["item_prefix"] = "A Very Long Prefix "
    data["line_kinds"]["labor"]["name"] = "Labor and Diagnostics"
    del data["accounts"]["cogs"]
    data["accounts"]["gift_cards"]["type"] = "OtherCurrentAsset"
    data["sales_tax"]["agency"] = None
    with pytest.raises(profile.ProfileError) as refused:
        profile.validate(data)
    assert len(refused.value.errors) == 5  # parts and tires both need cogs
    text = str(refused.value)
    assert "'A Very Long Prefix Labor and Diagnostics' is longer than 31 characters" in text
    assert "line_kinds.part.expense_account: the account role cogs is not in accounts" in text
    assert "accounts.gift_cards.type: a gift card balance is a liability" in text
    assert "sales_tax.item: a sales tax item is paid to an agency" in text


def test_a_uk_company_is_refused_us_sales_tax_setup_with_reasons() -> None:
    """US sales tax entries on a UK company: the agency, the item and codes to create are each refused."""
    us = profile.default_profile("shop", "US")
    problems = profile.refusals(us, "UK")
    assert problems[0].startswith("country: this company's QuickBooks is the UK edition")
    assert [p.split(":")[0] for p in problems[1:]] == [
        "sales_tax.agency", "sales_tax.item", "sales_tax.taxable_code", "sales_tax.non_taxable_code",
    ]  # fmt: skip


def test_plan_puts_dependencies_first_and_uses_the_income_and_expense_form_for_parts() -> None:
    """Accounts come before the agency, the agency before the tax item, and items last; parts post income and cost."""
    entries = plan.entries(profile.default_profile())
    keys = [e.key for e in entries]
    assert keys.index("account:cogs") < keys.index("sales_tax:agency") < keys.index("sales_tax:item")
    assert keys.index("sales_tax:item") < keys.index("line_kind:labor")
    by_key = {e.key: e for e in entries}
    part = by_key["line_kind:part"]
    assert part.kind == "item_non_inventory_ensure" and part.fields["name"] == "Shop Parts"
    assert part.fields["sales_and_purchase"] == {
        "income_account_ref": {"full_name": "Sales Income"}, "expense_account_ref": {"full_name": "Cost of Goods Sold"},
    }  # fmt: skip
    assert by_key["line_kind:labor"].fields["sales_or_purchase"] == {"account_ref": {"full_name": "Sales Income"}}
    assert by_key["line_kind:discount"].fields["account_ref"] == {"full_name": "Discounts Given"}
    assert by_key["sales_tax:item"].fields == {
        "name": "Sales Tax", "tax_rate": "0", "tax_vendor_ref": {"full_name": "State Sales Tax Agency"},
        "item_desc": "Sales tax computed by the application",
    }  # fmt: skip
    assert plan.needs_sales_tax(profile.default_profile()) and not plan.needs_sales_tax(profile.default_profile(
        "shop", "CA"))  # fmt: skip


def _check(preferences: str) -> Any:
    kinds.register_kinds()
    held = {5: HeldJob(5, kinds.PREFERENCES, {"country": "US", "sales_tax": True}, 0, 1, 5)}
    ret = f"<PreferencesRet>{preferences}</PreferencesRet>"
    found = [Answer(el, r) for el, r in parse_response_elements(response_doc(rs("5", name="PreferencesQueryRs",
                                                                                  ret=ret)))]  # fmt: skip
    return outcomes.of_message(held, found, policy=RetryPolicy(base_delay=timedelta(0)), now=NOW).outcomes[0]


def test_sales_tax_off_holds_the_check_back_to_the_next_session_with_what_to_do() -> None:
    """No SalesTaxPreferences: the check goes back to the queue held from this session, the attempt not counted."""
    held = _check("<AccountingPreferences><IsUsingAccountNumbers>false</IsUsingAccountNumbers></AccountingPreferences>")
    assert held.to_state is JobState.QUEUED and held.hold and not held.count_attempt
    assert kinds.SALES_TAX_STEPS in (held.error or "")
    on = _check("<SalesTaxPreferences><DefaultItemSalesTaxRef><FullName>Tax</FullName></DefaultItemSalesTaxRef>"
                "</SalesTaxPreferences>")  # fmt: skip
    assert on.to_state is JobState.DONE and not on.hold
    assert on.result == {"sales_tax": True, "default_tax_item": "Tax"}
