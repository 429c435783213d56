"""Pure parts of the admin pages: redaction, the health rule, time filters, form readers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from qbwc_service.db.models import JobState, SessionState
from qbwc_service.redaction import MASK, Redactor
from qbwc_service.web.admin.filters import ago, short_ticket, when
from qbwc_service.web.admin.forms import read_company, read_job_filters, safe_next
from qbwc_service.web.admin.health import CompanyFacts, Health, assess

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def test_card_fields_and_digit_runs_are_masked_in_xml() -> None:
    """A CreditCardNumber element is blanked and a 16-digit run elsewhere keeps only its last four digits."""
    out = Redactor().xml(
        "<ReceivePaymentAddRq><CreditCardNumber>4111111111111111</CreditCardNumber>"
        "<Memo>paid with 4000-0566-5566-5556</Memo><ListID>80000001-1700000000</ListID></ReceivePaymentAddRq>"
    )
    assert "<CreditCardNumber>[redacted]</CreditCardNumber>" in out
    assert "paid with [card number …5556]" in out
    assert "<ListID>80000001-1700000000</ListID>" in out
    assert out.count("\n") >= 4, "the XML is indented"


def test_configured_fields_are_masked_in_xml_and_json() -> None:
    """Field names from QBWC_REDACT_FIELDS are masked, whatever their case, with their children."""
    redactor = Redactor(["BankAccountNumber", " "])
    xml = redactor.xml("<VendorAddRq><bankaccountnumber><Nr>12345678</Nr></bankaccountnumber></VendorAddRq>")
    assert "12345678" not in xml and MASK in xml
    data = redactor.data({"BankAccountNumber": "DE89370400440532013000", "token": "t0k3n", "note": "ok"})
    assert data == {"BankAccountNumber": MASK, "token": MASK, "note": "ok"}


def test_unreadable_xml_is_still_masked_as_text() -> None:
    """A response that is not well-formed comes back as text with card numbers masked."""
    assert Redactor().xml("<broken 4111111111111111") == "<broken [card number …1111]"


def test_payload_splits_qbxml_fields_into_blocks() -> None:
    """A payload's qbXML string is shown as its own indented block, and the JSON points at it."""
    text, blocks = Redactor().payload({"request": "<CustomerAddRq><Name>A</Name></CustomerAddRq>", "n": 1})
    assert '"request": "(qbXML, shown below as \'request\')"' in text and '"n": 1' in text
    assert blocks == [("request", "<CustomerAddRq>\n  <Name>A</Name>\n</CustomerAddRq>")]


def test_short_digit_runs_and_dates_are_left_alone() -> None:
    """Twelve digits, phone numbers and timestamps are not mistaken for card numbers."""
    text = "ref 123456789012 phone 555-123-4567 at 2026-11-23T10:00:00"
    assert Redactor().text(text) == text


def _facts(**changes: object) -> CompanyFacts:
    base: dict[str, object] = {
        "poll_minutes": 5, "last_poll_at": NOW - timedelta(minutes=1), "last_session_state": SessionState.CLOSED,
        "last_success_at": NOW - timedelta(minutes=1), "last_failure_at": None,
    }  # fmt: skip
    base.update(changes)
    return CompanyFacts(**base)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("changes", "health"),
    [
        ({"last_poll_at": None, "last_session_state": None, "last_success_at": None}, Health.NEVER),
        ({}, Health.HEALTHY),
        ({"last_poll_at": NOW - timedelta(minutes=15)}, Health.HEALTHY),
        ({"last_poll_at": NOW - timedelta(minutes=16)}, Health.LATE),
        ({"last_session_state": SessionState.FAILED}, Health.FAILING),
        ({"last_failure_at": NOW}, Health.FAILING),
        ({"last_failure_at": NOW - timedelta(minutes=5)}, Health.HEALTHY),
        ({"last_failure_at": NOW, "last_success_at": None}, Health.FAILING),
        ({"last_failure_at": NOW, "last_poll_at": NOW - timedelta(hours=2)}, Health.FAILING),
        ({"last_poll_at": NOW - timedelta(minutes=2), "last_session_state": None, "last_success_at": None},
         Health.HEALTHY),
        ({"near_limit": "names: 12,000 of 14,500"}, Health.NEAR_LIMIT),
        ({"near_limit": "names: 12,000 of 14,500", "last_poll_at": NOW - timedelta(minutes=16)}, Health.LATE),
        ({"near_limit": "names: 12,000 of 14,500", "last_failure_at": NOW}, Health.FAILING),
    ],
)  # fmt: skip
def test_health_rule(changes: dict[str, object], health: Health) -> None:
    """Failing beats late (three poll intervals), late beats near the list limit; a clean session clears failures."""
    assert assess(_facts(**changes), NOW).health is health


def test_late_company_says_since_when() -> None:
    """A late company carries the time it became late: last poll plus three intervals."""
    result = assess(_facts(last_poll_at=NOW - timedelta(hours=1)), NOW)
    assert result.late_since == NOW - timedelta(minutes=45)


def test_time_filters_read_naturally() -> None:
    """Timestamps print in UTC, ages in their largest whole unit, tickets shortened to eight characters."""
    assert when(NOW) == "2026-11-23 12:00 UTC" and when(None) == "—"
    assert ago(NOW - timedelta(seconds=30), NOW) == "just now"
    assert ago(NOW - timedelta(minutes=1), NOW) == "1 minute ago"
    assert ago(NOW - timedelta(hours=5, minutes=59), NOW) == "5 hours ago"
    assert ago(NOW - timedelta(days=3), NOW) == "3 days ago" and ago(None, NOW) == "never"
    assert short_ticket("0123456789abcdef") == "01234567…" and short_ticket(None) == "—"


def test_job_filters_round_trip_through_the_query_string() -> None:
    """Read filters produce the same query arguments back, without the page position."""
    f = read_job_filters({"company": "3", "state": "failed", "q": " INV ", "since": "2026-01-02", "before": "99"})
    assert (f.company_id, f.state, f.text, f.before) == (3, JobState.FAILED, "INV", 99)
    assert f.query() == {"company": "3", "state": "failed", "q": "INV", "since": "2026-01-02"}
    assert f.since_at == datetime(2026, 1, 2, tzinfo=UTC) and f.until_at is None and not f.errors


def test_company_form_reports_each_bad_field() -> None:
    """A missing name and a non-numeric interval give one sentence each."""
    value, errors = read_company({"name": " ", "username": "u", "poll_minutes": "often"}, 5)
    assert set(errors) == {"name", "poll_minutes"} and value.poll_minutes == 5


@pytest.mark.parametrize(
    ("target", "safe"), [("/jobs?state=failed", True), ("//evil.example", False), ("https://x.y/", False),
                         ("/\\evil", False)],
)  # fmt: skip
def test_next_must_stay_on_this_site(target: str, safe: bool) -> None:
    """Only paths on this site are followed after login."""
    assert (safe_next(target) == target) is safe


def test_list_sizes_warn_at_eighty_percent_of_the_small_editions_limits() -> None:
    """Pro and Premier: names and items against 14,500, each name list against 10,500; Enterprise: no limit."""
    from qbwc_service.workflows.imports.counts import assess as sizes

    pro = sizes("Pro", {"customers": 9_000, "vendors": 2_600, "items": 11_599})
    assert [u.what for u in pro.usage if u.near] == ["names", "customers"]
    assert pro.warnings[0].startswith("names: 11,600 of 14,500 (80%)")
    assert len(pro.warnings) == 2 and "items" not in " ".join(pro.warnings[:1])
    enterprise = sizes("Enterprise", {"customers": 90_000, "items": 60_000})
    assert enterprise.warnings == () and not enterprise.limited
    assert {u.limit for u in enterprise.usage} == {None}
    assert sizes(None, {"items": 11_600}).warnings[0].startswith("items: 11,600 of 14,500")
