"""The step logic of the built-in multi-step kinds, without a database: requests built and answers read."""

from __future__ import annotations

from typing import Any

import pytest
from lxml import etree

from qbwc_service.errors import PayloadError
from qbwc_service.queue import ensure, iterate, kinds, mod_query
from qbwc_service.queue.kinds import Done, Failed, Next, StepState, get_kind, registry
from qbxml_builders import parse_response_elements
from qbxml_builders.kinds import KINDS
from tests.helpers import response_doc, rs


def answer(kind: str, payload: dict[str, Any], part: str, *, step: int = 0,
           progress: dict[str, Any] | None = None, ticket: str | None = "T1") -> Done | Next | Failed:  # fmt: skip
    """What ``kind`` makes of one ``…Rs``, as the protocol would hand it over."""
    ((element, response),) = parse_response_elements(response_doc(part))
    job_kind = get_kind(kind)
    state = StepState(job_kind.validate(payload), step, progress, ticket=ticket, answer=element)
    return job_kind.take_answer(state, response)


def request(kind: str, payload: dict[str, Any], *, progress: dict[str, Any] | None = None, version: str = "13.0",
            ticket: str | None = "T1", page_size: int = 500) -> etree._Element:  # fmt: skip
    """The request of the job's current step."""
    job_kind = get_kind(kind)
    state = StepState(job_kind.validate(payload), 1 if progress else 0, progress, ticket=ticket, page_size=page_size)
    return job_kind.next_request(state, version, "US")


def account_ret(account_type: str = "Income", desc: str | None = None) -> str:
    extra = f"<Desc>{desc}</Desc>" if desc else ""
    return (
        "<AccountRet><ListID>80000010-1</ListID><EditSequence>5</EditSequence><Name>Sales</Name>"
        f"<FullName>Sales</FullName><AccountType>{account_type}</AccountType>{extra}</AccountRet>"
    )


# -- ensure ---------------------------------------------------------------------------------


def test_every_list_family_has_an_ensure_kind_and_a_row_of_compared_fields() -> None:
    """Customer, vendor, account, every item type, sales tax item and code each have …_ensure and FIELDS."""
    families = {n.removesuffix("_add") for n in KINDS if n.endswith("_add") and f"{n[:-4]}_query" in KINDS}
    lists = {f for f in families if f.startswith(("customer", "vendor", "account", "item_", "sales_tax"))}
    assert {f"{f}_ensure" for f in lists} <= set(registry())
    assert lists == set(ensure.FIELDS)
    assert {"item_service", "item_inventory", "item_discount", "sales_tax_item", "sales_tax_code"} <= lists


def test_ensure_first_queries_by_full_name_items_through_item_query() -> None:
    """A customer is queried by FullName, a sub-account by Parent:Name, an item through ItemQueryRq."""
    assert request("customer_ensure", {"name": "Zoë"}).findtext("FullName") == "Zoë"
    sub = request("account_ensure", {"name": "Fuel", "account_type": "Expense", "parent_ref": {"full_name": "Car"}})
    assert (sub.tag, sub.findtext("FullName")) == ("AccountQueryRq", "Car:Fuel")
    item = request("item_service_ensure", {"name": "Labor", "sales_or_purchase": {"price": "5"}})
    assert (item.tag, item.findtext("FullName")) == ("ItemQueryRq", "Labor")


def test_ensure_sends_the_add_in_its_add_phase() -> None:
    """With progress phase=add the request is the family's Add built from the same payload."""
    add = request("vendor_ensure", {"name": "State Tax", "company_name": "State"}, progress={"phase": "add"})
    assert add.tag == "VendorAddRq" and add.findtext("VendorAdd/CompanyName") == "State"


def test_ensure_refuses_a_parent_given_by_list_id_only() -> None:
    """An ensure looks the entry up by full name, so a parent by ListID alone is refused when queued."""
    with pytest.raises(PayloadError, match="parent_ref"):
        get_kind("customer_ensure").validate({"name": "Job", "parent_ref": {"list_id": "80000001-1"}})


def test_ensure_not_found_goes_on_to_the_add() -> None:
    """A query answered status 1 leads to the Add step."""
    step = answer("customer_ensure", {"name": "Zoë"}, rs("1", 1, name="CustomerQueryRs", message="no match"))
    assert isinstance(step, Next) and step.progress == {"phase": "add"}


def test_ensure_found_alike_is_done_with_its_ids() -> None:
    """The same account type: done with the existing ListID, no warnings."""
    step = answer("account_ensure", {"name": "Sales", "account_type": "Income"},
                  rs("1", name="AccountQueryRs", ret=account_ret()))  # fmt: skip
    assert isinstance(step, Done) and step.result == {
        "ListID": "80000010-1", "EditSequence": "5", "FullName": "Sales", "Name": "Sales"
    }  # fmt: skip


def test_ensure_found_with_another_description_warns() -> None:
    """A harmless field that differs is a warning in the result and the message."""
    step = answer("account_ensure", {"name": "Sales", "account_type": "Income", "desc": "New"},
                  rs("1", name="AccountQueryRs", ret=account_ret(desc="Old")))  # fmt: skip
    assert isinstance(step, Done) and step.result is not None
    assert step.result["warnings"] == ["desc is 'Old' in QuickBooks, 'New' in the job"]
    assert step.message is not None and "harmless" in step.message


def test_ensure_found_with_another_account_type_fails() -> None:
    """A key field that differs fails the job, naming the field."""
    step = answer("account_ensure", {"name": "Sales", "account_type": "Income"},
                  rs("1", name="AccountQueryRs", ret=account_ret("Bank")))  # fmt: skip
    assert isinstance(step, Failed) and "account_type is 'Bank' in QuickBooks, 'Income' in the job" in step.error


@pytest.mark.parametrize(("rate", "fails"), [("7.50", False), ("7.5", False), ("8.0", True)])
def test_a_sales_tax_item_compares_its_rate_as_a_number(rate: str, fails: bool) -> None:
    """7.5 and 7.50 are the same rate; another rate fails the ensure."""
    ret = f"<ItemSalesTaxRet><ListID>1-1</ListID><Name>CA</Name><TaxRate>{rate}</TaxRate></ItemSalesTaxRet>"
    step = answer("sales_tax_item_ensure", {"name": "CA", "tax_rate": "7.5"}, rs("1", name="ItemQueryRs", ret=ret))
    assert isinstance(step, Failed) is fails


def test_a_sales_tax_code_of_other_taxability_fails() -> None:
    """A Tax code found non-taxable fails the ensure."""
    ret = "<SalesTaxCodeRet><ListID>1-1</ListID><Name>Tax</Name><IsTaxable>false</IsTaxable></SalesTaxCodeRet>"
    step = answer("sales_tax_code_ensure", {"name": "Tax", "is_taxable": True},
                  rs("1", name="SalesTaxCodeQueryRs", ret=ret))  # fmt: skip
    assert isinstance(step, Failed) and "is_taxable" in step.error


def test_ensure_add_answered_3100_queries_again_and_a_miss_then_fails() -> None:
    """3100 on the Add leads to a second query; when even that finds nothing, the job fails with a sentence."""
    taken = answer("customer_ensure", {"name": "Zoë"}, rs("1.1", 3100, message="in use"), progress={"phase": "add"})
    assert isinstance(taken, Next) and taken.progress == {"phase": "requery"}
    assert get_kind("customer_ensure").reads_status == frozenset({3100})
    missing = answer("customer_ensure", {"name": "Zoë"}, rs("1.2", 1, name="CustomerQueryRs"),
                     progress={"phase": "requery"})  # fmt: skip
    assert isinstance(missing, Failed) and "another kind of list entry" in missing.error


# -- Mod without an EditSequence -------------------------------------------------------------


def test_a_mod_payload_may_leave_out_the_edit_sequence() -> None:
    """Without edit_sequence the payload is accepted and stored without one; the first step is a query by ListID."""
    clean = get_kind("customer_mod").validate({"list_id": "1-1", "company_name": "X"})
    assert "edit_sequence" not in clean
    first = request("customer_mod", {"list_id": "1-1", "company_name": "X"})
    assert (first.tag, first.findtext("ListID")) == ("CustomerQueryRq", "1-1")
    txn = request("invoice_mod", {"txn_id": "9-9", "memo": "x"})
    assert (txn.tag, txn.findtext("TxnID")) == ("InvoiceQueryRq", "9-9")


def test_a_mod_with_its_edit_sequence_is_sent_as_it_is() -> None:
    """Given an EditSequence the Mod goes at once, and a 3200 fails it as before."""
    payload = {"list_id": "1-1", "edit_sequence": "7", "company_name": "X"}
    assert request("customer_mod", payload).findtext("CustomerMod/EditSequence") == "7"
    step = answer("customer_mod", payload, rs("1", 3200, name="CustomerModRs", message="out-of-date"))
    assert isinstance(step, Failed) and "3200" in step.error


def test_the_read_edit_sequence_goes_into_the_mod() -> None:
    """The query's EditSequence is kept, and the next step is the Mod carrying it."""
    ret = "<CustomerRet><ListID>1-1</ListID><EditSequence>42</EditSequence><Name>Z</Name></CustomerRet>"
    step = answer("customer_mod", {"list_id": "1-1", "company_name": "X"}, rs("1", name="CustomerQueryRs", ret=ret))
    assert isinstance(step, Next) and step.progress == {"edit_sequence": "42", "tries": 0}
    mod = request("customer_mod", {"list_id": "1-1", "company_name": "X"}, progress=step.progress)
    assert mod.tag == "CustomerModRq" and mod.findtext("CustomerMod/EditSequence") == "42"


def test_a_stale_mod_resends_with_the_current_edit_sequence_a_bounded_number_of_times() -> None:
    """3200 carrying the record resends with its EditSequence; the third 3200 fails the job."""
    ret = "<CustomerRet><ListID>1-1</ListID><EditSequence>43</EditSequence><Name>Z</Name></CustomerRet>"
    payload = {"list_id": "1-1", "company_name": "X"}
    stale = rs("1.1", 3200, name="CustomerModRs", message="out-of-date", ret=ret)
    again = answer("customer_mod", payload, stale, progress={"edit_sequence": "42", "tries": 0})
    assert isinstance(again, Next) and again.progress == {"edit_sequence": "43", "tries": 1}
    last = answer("customer_mod", payload, stale, progress={"edit_sequence": "43", "tries": mod_query.MAX_STALE - 1})
    assert isinstance(last, Failed) and "each of the 3 times" in last.error
    bare = answer("customer_mod", payload, rs("1.1", 3200, name="CustomerModRs"), progress={"edit_sequence": "4"})
    assert isinstance(bare, Next) and "edit_sequence" not in bare.progress


def test_a_record_not_found_fails_the_mod() -> None:
    """A query that finds no record by that ListID fails the job, saying it may have been deleted."""
    step = answer("customer_mod", {"list_id": "1-1", "notes": "x"}, rs("1", 1, name="CustomerQueryRs"))
    assert isinstance(step, Failed) and "ListID 1-1" in step.error and "deleted" in step.error


# -- iterated queries ------------------------------------------------------------------------


def page(ids: range, remaining: int | None, *, iterator: str | None = "{it-1}", stamp: bool = False) -> str:
    """A CustomerQueryRs page holding customers ``C<n>``."""
    rets = "".join(
        f"<CustomerRet><ListID>{n}-1</ListID><Name>C{n:02d}</Name><FullName>C{n:02d}</FullName>"
        + (f"<TimeModified>2026-01-01T10:{n:02d}:00+00:00</TimeModified>" if stamp else "")
        + "</CustomerRet>"
        for n in ids
    )
    attrs = f' iteratorRemainingCount="{remaining}" iteratorID="{iterator}"' if iterator else ""
    return rs("1", name="CustomerQueryRs", ret=rets).replace(
        ' statusMessage="Status OK"', f'{attrs} statusMessage="Status OK"'
    )


ITERATE = {"iterate": True, "max_returned": 5}


def test_an_iterated_query_starts_then_continues_in_the_same_session() -> None:
    """Start with MaxReturned; with the iteratorID of this session's ticket, Continue."""
    start = request("customer_query", ITERATE)
    assert (start.get("iterator"), start.findtext("MaxReturned")) == ("Start", "5")
    step = answer("customer_query", ITERATE, page(range(1, 6), 7))
    assert isinstance(step, Next) and step.progress["iterator_id"] == "{it-1}" and step.progress["ticket"] == "T1"
    assert step.share is not None and 0 < step.share < 1 and len(step.records) == 5
    cont = request("customer_query", ITERATE, progress=step.progress)
    assert (cont.get("iterator"), cont.get("iteratorID")) == ("Continue", "{it-1}")


def test_the_last_page_is_done_with_every_record_once() -> None:
    """iteratorRemainingCount 0 ends the job; a record received twice is kept once."""
    first = answer("customer_query", ITERATE, page(range(1, 6), 2))
    assert isinstance(first, Next)
    last = answer("customer_query", ITERATE, page(range(5, 8), 0), progress=first.progress)
    assert isinstance(last, Done) and last.result is not None
    assert last.result["count"] == 7 and [r["Name"] for r in last.result["records"]][-1] == "C07"


def test_another_session_starts_again_after_the_last_name() -> None:
    """The iterator of ticket T1 is useless to T2: Start again with NameRangeFilter from the last name."""
    step = answer("customer_query", ITERATE, page(range(1, 6), 7))
    assert isinstance(step, Next)
    again = request("customer_query", ITERATE, progress=step.progress, ticket="T2")
    assert again.get("iterator") == "Start" and again.findtext("NameRangeFilter/FromName") == "C05"


def test_no_name_bound_when_the_names_came_out_of_order_or_the_job_filters_names() -> None:
    """Pages not in name order, or a job with its own name filter, restart from the beginning."""
    out_of_order = answer("customer_query", ITERATE, page(range(5, 0, -1), 7))
    assert isinstance(out_of_order, Next)
    assert (
        request("customer_query", ITERATE, progress=out_of_order.progress, ticket="T2").find("NameRangeFilter") is None
    )
    filtered = {**ITERATE, "name_filter": {"match_criterion": "StartsWith", "name": "C"}}
    step = answer("customer_query", filtered, page(range(1, 6), 7))
    assert isinstance(step, Next)
    again = request("customer_query", filtered, progress=step.progress, ticket="T2")
    assert again.find("NameRangeFilter") is None and again.findtext("NameFilter/Name") == "C"


def test_a_transaction_query_restarts_from_the_last_modified_date_less_the_overlap() -> None:
    """An invoice query resumes at the last TimeModified received minus one minute."""
    rets = "".join(
        f"<InvoiceRet><TxnID>{n}-1</TxnID><TimeModified>2026-01-01T10:0{n}:00+00:00</TimeModified></InvoiceRet>"
        for n in (1, 2)
    )
    part = rs("1", name="InvoiceQueryRs", ret=rets).replace(
        ' statusMessage', ' iteratorRemainingCount="3" iteratorID="{i}" statusMessage'
    )  # fmt: skip
    step = answer("invoice_query", {"iterate": True, "max_returned": 2}, part)
    assert isinstance(step, Next)
    again = request("invoice_query", {"iterate": True, "max_returned": 2}, progress=step.progress, ticket="T2")
    assert again.findtext("ModifiedDateRangeFilter/FromModifiedDate") == "2026-01-01T10:01:00+00:00"


def test_an_expired_iterator_starts_the_query_again_a_bounded_number_of_times() -> None:
    """3391 drops the iteratorID (the next step is a Start); past the limit the job fails."""
    expired = rs("1.2", 3391, name="CustomerQueryRs", message="bad iterator")
    step = answer("customer_query", ITERATE, expired, progress={"iterator_id": "{x}", "ticket": "T1"})
    assert isinstance(step, Next) and "iterator_id" not in step.progress and step.progress["restarts"] == 1
    assert request("customer_query", ITERATE, progress=step.progress).get("iterator") == "Start"
    gone = answer("customer_query", ITERATE, expired, progress={"restarts": iterate.MAX_RESTARTS})
    assert isinstance(gone, Failed) and "3391" in gone.error


def test_below_qbxml_5_pages_go_by_name_range() -> None:
    """qbXML 4.0: no iterator attribute; a full page asks for the next from its last name; a short page ends it."""
    first = request("customer_query", ITERATE, version="4.0")
    assert first.get("iterator") is None and first.findtext("MaxReturned") == "5"
    full = answer("customer_query", ITERATE, page(range(1, 6), None, iterator=None))
    assert isinstance(full, Next)
    nxt = request("customer_query", ITERATE, progress=full.progress, version="4.0")
    assert nxt.findtext("NameRangeFilter/FromName") == "C05"
    short = answer("customer_query", ITERATE, page(range(5, 8), None, iterator=None), progress=full.progress)
    assert isinstance(short, Done) and short.result is not None and short.result["count"] == 7


def test_the_result_sink_refuses_more_than_its_limit() -> None:
    """Past the limit the job fails with a sentence saying how to narrow the query."""
    sink = iterate.ResultSink(limit=3)
    kept = sink.keep(None, [{"ListID": "1"}, {"ListID": "2"}])
    assert sink.keep(kept, [{"ListID": "2"}, {"ListID": "3"}]) == {"records": [{"ListID": str(n)} for n in (1, 2, 3)]}
    with pytest.raises(iterate.SinkFull, match="narrow it"):
        sink.keep(kept, [{"ListID": "3"}, {"ListID": "4"}])


def test_a_query_without_iterate_is_one_request_as_before() -> None:
    """A plain query job sends its payload as it is and is done with the first ids."""
    plain = request("customer_query", {"full_names": ["Zoë"]})
    assert plain.get("iterator") is None and plain.findtext("FullName") == "Zoë"
    with pytest.raises(PayloadError, match="iterator"):
        get_kind("customer_query").validate({"iterate": True, "iterator": "Start"})


# -- {"job": N} refs in every typed kind ------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "payload", "bad"),
    [
        ("sales_tax_item_ensure", {"name": "CA", "tax_rate": "x", "tax_vendor_ref": {"job": 3}, "item_desc": 5},
         ["item_desc", "tax_rate"]),
        ("item_service_ensure", {"name": "L", "sales_or_purchase": {"price": "lots", "account_ref": {"job": 3}}},
         ["sales_or_purchase.price"]),
        ("customer_mod", {"list_id": {"job": 4}, "parent_ref": {"job": 3}, "phone": 7, "email": 8},
         ["email", "phone"]),
        ("invoice_mod", {"txn_id": {"job": 4}, "customer_ref": {"job": 3}, "memo": 1}, ["memo"]),
        ("invoice_query", {"iterate": True, "entity_filter": {"list_ids": [{"job": 3}]}, "max_returned": "many"},
         ["max_returned"]),
    ],
)  # fmt: skip
def test_job_refs_are_accepted_by_every_typed_kind_and_other_fields_report_one_error_each(
    kind: str, payload: dict[str, Any], bad: list[str]
) -> None:
    """Ensure, Mod and iterated query kinds validate around job refs: each bad field once, the refs kept as given."""
    with pytest.raises(PayloadError) as refused:
        get_kind(kind).validate(payload)
    assert sorted(e.split(":")[0] for e in refused.value.errors) == bad
    fixed = {k: v for k, v in payload.items() if k.split(".")[0] not in bad and k not in ("max_returned",)}
    if kind == "item_service_ensure":
        fixed["sales_or_purchase"] = {"price": "1.00", "account_ref": {"job": 3}}
    clean = get_kind(kind).validate(fixed)
    assert kinds.job_refs(clean) == kinds.job_refs(fixed) and kinds.job_refs(clean)


def test_a_mod_builds_each_step_from_the_payload_with_its_refs_resolved() -> None:
    """The Mod's query names the record the job ref resolved to, and its Mod carries the resolved parent."""
    payload = get_kind("customer_mod").validate({"list_id": {"job": 4}, "parent_ref": {"job": 3}})
    resolved = kinds.resolve_refs("customer_mod", payload, {4: {"ListID": "80-4"}, 3: {"ListID": "80-3"}})
    assert resolved == {"list_id": "80-4", "parent_ref": {"list_id": "80-3"}}
    query = get_kind("customer_mod").next_request(StepState(resolved, 0, None), "13.0", "US")
    assert query.findtext("ListID") == "80-4"
    mod = get_kind("customer_mod").next_request(StepState(resolved, 1, {"edit_sequence": "9"}), "13.0", "US")
    assert mod.findtext("CustomerMod/ParentRef/ListID") == "80-3" and mod.findtext("CustomerMod/EditSequence") == "9"


def test_a_list_id_ref_cannot_go_by_name_and_a_parent_by_job_creates_no_known_name() -> None:
    """A record's own ListID needs its job done (a FullName will not do); a child of a parent by job creates no name."""
    (own, parent) = kinds.job_refs({"list_id": {"job": 4}, "parent_ref": {"job": 3}})
    assert (own.wants, own.by_name, parent.by_name) == ("ListID", False, True)
    with pytest.raises(PayloadError, match="list_id: job 4, which this one refers to, recorded no ListID"):
        kinds.resolve_refs("customer_mod", {"list_id": {"job": 4}}, {4: {"FullName": "Shop"}})
    assert kinds.creates("customer_add", {"name": "Shop", "parent_ref": {"job": 3}}) is None
    assert kinds.creates("customer_ensure", {"name": "Shop", "parent_ref": {"full_name": "Acme"}}) == "Acme:Shop"
