"""Queries in the emulator: filters, no-match status, MaxReturned and iterators."""

from __future__ import annotations

from tests.emulator.conftest import Company, FakeClock, add, el, mod, needs_spec, ref

pytestmark = needs_spec


def customers(qb: Company, *names: str) -> list[dict[str, str]]:
    """Add customers and return their ids."""
    return [qb.ok(add("Customer", el("Name", n))) for n in names]


def names(rs: object) -> list[str]:
    """The Names of the objects a query returned."""
    return [o["Name"] for o in rs.objects]  # type: ignore[attr-defined]


def test_query_without_match_is_status_1(qb: Company) -> None:
    """A query that matches nothing answers status 1, severity Info, and no objects."""
    rs = qb.one(el("CustomerQueryRq"))
    assert (rs.status_code, rs.severity, rs.objects) == (1, "Info", ())
    assert rs.ok


def test_query_by_list_id_and_full_name(qb: Company) -> None:
    """ListID and FullName filters return exactly those entries."""
    a, _b, c = customers(qb, "A", "B", "C")
    assert names(qb.one(el("CustomerQueryRq", el("ListID", a["ListID"]), el("ListID", c["ListID"])))) == ["A", "C"]
    assert names(qb.one(el("CustomerQueryRq", el("FullName", "b")))) == ["B"]


def test_query_for_some_missing_names_is_a_500_warning(qb: Company) -> None:
    """Asking for names of which some do not exist returns the rest with status 500 Warn."""
    customers(qb, "A")
    rs = qb.one(el("CustomerQueryRq", el("FullName", "A"), el("FullName", "Ghost")))
    assert (rs.status_code, rs.severity) == (500, "Warn")
    assert names(rs) == ["A"]


def test_query_by_txn_id_and_ref_number(stocked: Company) -> None:
    """Invoices are found by TxnID and by RefNumber."""
    one = stocked.ok(add("Invoice", ref("CustomerRef", "Acme"), el("RefNumber", "R1")))
    stocked.ok(add("Invoice", ref("CustomerRef", "Acme"), el("RefNumber", "R2")))
    by_id = stocked.one(el("InvoiceQueryRq", el("TxnID", one["TxnID"])))
    by_ref = stocked.one(el("InvoiceQueryRq", el("RefNumber", "R2")))
    assert [o["RefNumber"] for o in by_id.objects] == ["R1"]
    assert [o["RefNumber"] for o in by_ref.objects] == ["R2"]


def test_max_returned_limits_a_plain_query(qb: Company) -> None:
    """MaxReturned without an iterator returns the first entries only."""
    customers(qb, "A", "B", "C")
    assert names(qb.one(el("CustomerQueryRq", el("MaxReturned", "2")))) == ["A", "B"]


def test_from_modified_date_is_read_as_local_time(qb: Company, clock: FakeClock) -> None:
    """A FromModifiedDate without an offset is QuickBooks' local time (UTC-5 here)."""
    customers(qb, "Early")  # 15:00 UTC = 10:00 local
    clock.advance(hours=2)
    customers(qb, "Late")  # 12:00 local
    local = qb.one(el("CustomerQueryRq", el("FromModifiedDate", "2024-03-01T11:00:00")))
    assert names(local) == ["Late"]
    utc = qb.one(el("CustomerQueryRq", el("FromModifiedDate", "2024-03-01T11:00:00+00:00")))
    assert names(utc) == ["Early", "Late"]


def test_modified_date_filter_on_transactions_sees_mods(stocked: Company, clock: FakeClock) -> None:
    """ModifiedDateRangeFilter returns transactions changed since, not only those created since."""
    old = stocked.ok(add("Invoice", ref("CustomerRef", "Acme"), el("RefNumber", "OLD")))
    stocked.ok(add("Invoice", ref("CustomerRef", "Acme"), el("RefNumber", "STILL")))
    clock.advance(days=1)
    stocked.ok(mod("Invoice", old["TxnID"], old["EditSequence"], el("Memo", "changed")))
    rs = stocked.one(el("InvoiceQueryRq", el("ModifiedDateRangeFilter", el("FromModifiedDate", "2024-03-02"))))
    assert [o["RefNumber"] for o in rs.objects] == ["OLD"]


def test_entity_and_txn_date_filters(stocked: Company) -> None:
    """EntityFilter and TxnDateRangeFilter narrow transaction queries."""
    stocked.ok(add("Customer", el("Name", "Other")))
    stocked.ok(add("Invoice", ref("CustomerRef", "Acme"), el("TxnDate", "2024-01-10")))
    stocked.ok(add("Invoice", ref("CustomerRef", "Other"), el("TxnDate", "2024-02-10")))
    by_entity = stocked.one(el("InvoiceQueryRq", el("EntityFilter", el("FullName", "Other"))))
    assert [o["CustomerRef"] for o in by_entity.objects] == ["Other"]
    by_date = stocked.one(el("InvoiceQueryRq", el("TxnDateRangeFilter", el("FromTxnDate", "2024-02-01"))))
    assert [o["TxnDate"] for o in by_date.objects] == ["2024-02-10"]


def test_lines_only_with_include_line_items(stocked: Company) -> None:
    """Invoice queries leave lines out unless IncludeLineItems is true."""
    stocked.ok(
        add(
            "Invoice",
            ref("CustomerRef", "Acme"),
            el("InvoiceLineAdd", ref("ItemRef", "Consulting")),
        )
    )
    bare = stocked.qb.process_request(_doc(el("InvoiceQueryRq")))
    full = stocked.qb.process_request(_doc(el("InvoiceQueryRq", el("IncludeLineItems", "true"))))
    assert "InvoiceLineRet" not in bare
    assert "InvoiceLineRet" in full


def test_include_ret_element_trims_the_answer(qb: Company) -> None:
    """IncludeRetElement returns only the named elements."""
    customers(qb, "A")
    rs = qb.one(el("CustomerQueryRq", el("IncludeRetElement", "ListID"), el("IncludeRetElement", "Name")))
    assert set(rs.objects[0]) == {"type", "ListID", "Name"}


def test_iterator_pages_through_results(qb: Company) -> None:
    """iterator=Start and Continue hand out MaxReturned entries a time until none remain."""
    customers(qb, "A", "B", "C", "D", "E")
    first = qb.one(el("CustomerQueryRq", el("MaxReturned", "2"), iterator="Start"))
    assert names(first) == ["A", "B"]
    assert first.iterator_remaining == 3
    seen = names(first)
    iterator_id = first.iterator_id
    assert iterator_id
    while True:
        page = qb.one(
            el(
                "CustomerQueryRq",
                el("MaxReturned", "2"),
                iterator="Continue",
                iteratorID=iterator_id,
            )
        )
        assert page.status_code == 0
        assert page.iterator_id == iterator_id
        seen += names(page)
        if page.iterator_remaining == 0:
            break
    assert seen == ["A", "B", "C", "D", "E"]


def test_unknown_iterator_is_3391(qb: Company) -> None:
    """Continuing an iterator QuickBooks does not know is refused with 3391."""
    rs = qb.one(el("CustomerQueryRq", el("MaxReturned", "2"), iterator="Continue", iteratorID="{nope}"))
    assert (rs.status_code, rs.severity) == (3391, "Error")


def test_iterators_die_with_the_session(qb: Company) -> None:
    """An iterator started in one QuickBooks session cannot be continued in the next."""
    customers(qb, "A", "B", "C")
    first = qb.one(el("CustomerQueryRq", el("MaxReturned", "1"), iterator="Start"))
    qb.qb.close_session()
    qb.qb.open_session()
    again = qb.one(
        el(
            "CustomerQueryRq",
            el("MaxReturned", "1"),
            iterator="Continue",
            iteratorID=first.iterator_id or "",
        )
    )
    assert again.status_code == 3391


def test_item_query_spans_every_item_type(stocked: Company) -> None:
    """ItemQuery returns items of all types, including the seeded tax item."""
    rs = stocked.one(el("ItemQueryRq"))
    assert {o["type"] for o in rs.objects} == {"ItemSalesTaxRet", "ItemServiceRet"}


def _doc(request: object) -> bytes:
    from tests.emulator.conftest import document

    return document(request)  # type: ignore[arg-type]
