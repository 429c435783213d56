"""The job-queue console: filters, keyset paging, the job page, and retry, cancel, move up."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask.testing import FlaskClient
from sqlalchemy import Engine, insert, select, update

from qbwc_service.accounts import companies
from qbwc_service.accounts.companies import NewCompany
from qbwc_service.db.models import Job, JobEvent, JobState, utcnow
from qbwc_service.queue import jobs
from tests.emulator.conftest import needs_spec
from tests.helpers import customer_add
from tests.integration.admin.factories import ADMIN, SUPPORT, TICKET, done_job, failed_job, queue_job


def _ids(page: str) -> list[int]:
    import re

    return [int(m) for m in re.findall(r'<td class="num"><a href="/jobs/(\d+)">', page)]


def _state(engine: Engine, job_id: int) -> JobState:
    with engine.connect() as conn:
        return JobState(conn.execute(select(Job.state).where(Job.id == job_id)).scalar_one())


def test_list_shows_jobs_newest_first_with_state_words(admin: FlaskClient, engine: Engine, company: NewCompany) -> None:
    """Jobs appear newest first with company, reference and a coloured state badge in words."""
    first = queue_job(engine, "Alpha")
    second = failed_job(engine, "Bravo")
    page = admin.get("/jobs").get_data(as_text=True)
    assert _ids(page) == [second, first]
    assert 'class="badge state-failed"' in page and ">Failed<" in page and ">Queued<" in page
    assert "Bravo" in page and "QuickBooks status 3140" in page


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("company=2", ["beta"]),
        ("state=failed", ["failed"]),
        ("state=done", ["done"]),
        ("kind=qbxml&q=garage", ["failed"]),
        ("q=INV-77", ["ref"]),
        ("q=100%25", []),
    ],
)
def test_filters_narrow_the_list(
    admin: FlaskClient, engine: Engine, company: NewCompany, query: str, expected: list[str]
) -> None:
    """Company, state, kind and text filters each keep only the matching jobs."""
    with engine.begin() as conn:
        companies.create_company(conn, "beta", "beta-qbwc")
    made = {
        "failed": failed_job(engine, "Bob's Garage"),
        "done": done_job(engine, "Zed"),
        "beta": queue_job(engine, "Other", company="beta"),
        "ref": queue_job(engine, "INV-77 Customer"),
    }
    page = admin.get(f"/jobs?{query}").get_data(as_text=True)
    assert sorted(_ids(page)) == sorted(made[k] for k in expected)


def test_text_search_finds_a_job_by_number(admin: FlaskClient, engine: Engine, company: NewCompany) -> None:
    """Typing a job number finds that job."""
    ids = [queue_job(engine, f"Customer {n}") for n in "ABC"]
    assert _ids(admin.get(f"/jobs?q={ids[1]}").get_data(as_text=True)) == [ids[1]]


def test_date_range_filter_uses_whole_utc_days(admin: FlaskClient, engine: Engine, company: NewCompany) -> None:
    """From and to dates include whole days of creation time."""
    ids = [queue_job(engine, f"C{n}") for n in range(3)]
    day = utcnow().replace(hour=12, minute=0, second=0, microsecond=0)
    with engine.begin() as conn:
        for job_id, back in zip(ids, (10, 5, 0), strict=True):
            conn.execute(update(Job).where(Job.id == job_id).values(created_at=day - timedelta(days=back)))
    since, until = (day - timedelta(days=5)).date(), day.date()
    assert _ids(admin.get(f"/jobs?since={since}&until={until}").get_data(as_text=True)) == [ids[2], ids[1]]
    assert _ids(admin.get(f"/jobs?until={since}").get_data(as_text=True)) == [ids[1], ids[0]]


def test_bad_filter_values_are_explained_and_ignored(admin: FlaskClient, engine: Engine, company: NewCompany) -> None:
    """A malformed date or state is named in a warning and the rest of the list still shows."""
    job_id = queue_job(engine, "Someone")
    page = admin.get("/jobs?since=yesterday&state=lost").get_data(as_text=True)
    assert "must be a date like 2026-01-31" in page and "There is no job state" in page
    assert _ids(page) == [job_id]


def test_keyset_paging_walks_older_and_newer(admin: FlaskClient, engine: Engine, company: NewCompany) -> None:
    """120 jobs page as 50, 50, 20 through Older links and back through Newer, keeping filters."""
    with engine.begin() as conn:
        now = utcnow()
        conn.execute(
            insert(Job),
            [{"company_id": company.id, "kind": "qbxml", "payload": {"request": customer_add(f"C{n}")},
              "reference": f"C{n}", "state": JobState.QUEUED, "created_at": now, "updated_at": now}
             for n in range(120)],
        )  # fmt: skip
    first = admin.get("/jobs?state=queued").get_data(as_text=True)
    assert _ids(first) == list(range(120, 70, -1)) and "Newer" not in first
    assert "/jobs?state=queued&amp;before=71" in first
    second = admin.get("/jobs?state=queued&before=71").get_data(as_text=True)
    assert _ids(second) == list(range(70, 20, -1)) and "after=70" in second
    third = admin.get("/jobs?state=queued&before=21").get_data(as_text=True)
    assert _ids(third) == list(range(20, 0, -1)) and "Older" not in third
    back = admin.get("/jobs?state=queued&after=20").get_data(as_text=True)
    assert _ids(back) == list(range(70, 20, -1))
    top = admin.get("/jobs?state=queued&after=70").get_data(as_text=True)
    assert _ids(top) == list(range(120, 70, -1)) and "Newer" not in top


def test_empty_list_says_nothing_matches(admin: FlaskClient, company: NewCompany) -> None:
    """With no matching job the page says so."""
    assert "No job matches these filters" in admin.get("/jobs?state=failed").get_data(as_text=True)


def test_failed_job_page_tells_the_whole_story(support: FlaskClient, engine: Engine, company: NewCompany) -> None:
    """The page shows the error, status code with explanation, request, response, attempts and history."""
    job_id = failed_job(engine, "Bob's Garage")
    page = support.get(f"/jobs/{job_id}").get_data(as_text=True)
    assert "What went wrong" in page and "QuickBooks status 3140" in page
    assert "<strong>3140</strong> (Error)" in page
    assert "refers to something QuickBooks does not have" in page
    assert "1 of 5" in page
    assert "&lt;CustomerAddRq requestID=" in page and "&lt;CustomerAddRs requestID=" in page
    assert "&lt;Name&gt;Bob&#39;s Garage&lt;/Name&gt;" in page
    assert "tkt-5f0c…" in page and TICKET not in page
    assert "api:shop" in page and "Queued → Sending" in page and "Sending → Failed" in page
    assert "Retry" in page and "Cancel job" not in page


def test_done_job_page_shows_what_quickbooks_created(admin: FlaskClient, engine: Engine, company: NewCompany) -> None:
    """A done job shows the ListID it created and the meaning of status 0."""
    job_id = done_job(engine, "Zed")
    page = admin.get(f"/jobs/{job_id}").get_data(as_text=True)
    assert "<dt>ListID</dt><dd><code>80000001-1700000000</code></dd>" in page
    assert "QuickBooks processed the request." in page and "Retry" not in page


def test_job_page_masks_card_numbers_and_secrets(admin: FlaskClient, engine: Engine, company: NewCompany) -> None:
    """Card numbers in the payload, request and response never reach the page."""
    request = (
        "<ReceivePaymentAddRq><ReceivePaymentAdd><CustomerRef><FullName>Ann</FullName></CustomerRef>"
        "<CreditCardTxnInfo><CreditCardTxnInputInfo><CreditCardNumber>4111 1111 1111 1111</CreditCardNumber>"
        "</CreditCardTxnInputInfo></CreditCardTxnInfo><Memo>card 5500005555555559 token</Memo>"
        "</ReceivePaymentAdd></ReceivePaymentAddRq>"
    )
    job_id = queue_job(engine, "x")
    with engine.begin() as conn:
        conn.execute(
            update(Job).where(Job.id == job_id).values(payload={"request": request, "password": "hunter2-secret"})
        )
        jobs.events(conn, [{"job_id": job_id, "request_xml": request, "response_xml": request}])
    page = admin.get(f"/jobs/{job_id}").get_data(as_text=True)
    for secret in ("4111 1111 1111 1111", "4111111111111111", "5500005555555559", "hunter2-secret"):
        assert secret not in page, secret
    assert "[card number …5559]" in page and "[redacted]" in page


def test_retry_requeues_a_failed_job_in_the_users_name(
    support: FlaskClient, engine: Engine, company: NewCompany
) -> None:
    """Retry moves a failed job to queued and its history names the staff user."""
    job_id = failed_job(engine)
    response = support.post(f"/jobs/{job_id}/retry", follow_redirects=True)
    assert "is queued again" in response.get_data(as_text=True)
    assert _state(engine, job_id) is JobState.QUEUED
    page = response.get_data(as_text=True)
    assert f"<td>{SUPPORT}</td>" in page and "Failed → Queued" in page


def test_cancel_withdraws_a_queued_job(admin: FlaskClient, engine: Engine, company: NewCompany) -> None:
    """Cancel moves a queued job to cancelled, recorded with the user's e-mail."""
    job_id = queue_job(engine, "Someone")
    admin.post(f"/jobs/{job_id}/cancel")
    assert _state(engine, job_id) is JobState.CANCELLED
    with engine.connect() as conn:
        last = conn.execute(
            select(JobEvent.actor, JobEvent.to_state).where(JobEvent.job_id == job_id).order_by(JobEvent.id.desc())
        ).first()
    assert last is not None and tuple(last) == (ADMIN, "cancelled")


def test_move_up_sets_a_higher_priority(admin: FlaskClient, engine: Engine, company: NewCompany) -> None:
    """The job page suggests a priority above the others and setting it is recorded."""
    queue_job(engine, "Busy", priority=7)
    job_id = queue_job(engine, "Urgent")
    page = admin.get(f"/jobs/{job_id}").get_data(as_text=True)
    assert 'name="priority" value="8"' in page
    response = admin.post(f"/jobs/{job_id}/priority", data={"priority": "8"}, follow_redirects=True)
    assert "now has priority 8" in response.get_data(as_text=True)
    with engine.connect() as conn:
        assert conn.execute(select(Job.priority).where(Job.id == job_id)).scalar() == 8
        messages = conn.execute(select(JobEvent.message, JobEvent.actor).where(JobEvent.job_id == job_id)).all()
    assert ("priority set to 8", ADMIN) in [tuple(m) for m in messages]


def test_move_up_refuses_a_non_number(admin: FlaskClient, engine: Engine, company: NewCompany) -> None:
    """A priority that is not a whole number is refused with a sentence and nothing changes."""
    job_id = queue_job(engine, "Someone")
    response = admin.post(f"/jobs/{job_id}/priority", data={"priority": "soon"}, follow_redirects=True)
    assert "must be a whole number" in response.get_data(as_text=True)
    with engine.connect() as conn:
        assert conn.execute(select(Job.priority).where(Job.id == job_id)).scalar() == 0


def test_an_action_in_the_wrong_state_changes_nothing(admin: FlaskClient, engine: Engine, company: NewCompany) -> None:
    """Cancelling a failed job or retrying a queued one is refused with the reason."""
    failed, queued = failed_job(engine), queue_job(engine, "Q")
    page = admin.post(f"/jobs/{failed}/cancel", follow_redirects=True).get_data(as_text=True)
    assert f"Nothing changed: job {failed} is not queued, it is failed." in page
    admin.post(f"/jobs/{queued}/retry")
    assert (_state(engine, failed), _state(engine, queued)) == (JobState.FAILED, JobState.QUEUED)


def test_actions_are_post_only(admin: FlaskClient, engine: Engine, company: NewCompany) -> None:
    """GET on an action answers 405 and changes nothing."""
    job_id = failed_job(engine)
    assert admin.get(f"/jobs/{job_id}/retry").status_code == 405
    assert _state(engine, job_id) is JobState.FAILED


def test_missing_job_is_404(admin: FlaskClient) -> None:
    """An unknown job number shows a not-found page, for viewing and for acting."""
    assert admin.get("/jobs/404").status_code == 404
    assert admin.post("/jobs/404/retry").status_code == 404


def test_sessions_page_lists_and_filters_sessions(admin: FlaskClient, engine: Engine, company: NewCompany) -> None:
    """The sessions page lists runs with their counts and filters by state."""
    from qbwc_service.db.models import QbwcSession, SessionState

    now = utcnow()
    with engine.begin() as conn:
        for ticket, state in (("aaaaaaaa1111", SessionState.CLOSED), ("bbbbbbbb2222", SessionState.ABANDONED)):
            conn.execute(
                insert(QbwcSession).values(
                    ticket=ticket, company_id=company.id, state=state, started_at=now, last_seen_at=now,
                    sent=1, done=1, failed=0, retried=0, round_trips=1, hcp_seen=True,
                )
            )  # fmt: skip
    page = admin.get("/sessions").get_data(as_text=True)
    assert "aaaaaaaa…" in page and "bbbbbbbb…" in page and "Went quiet" in page
    only = admin.get(f"/sessions?company={company.id}&state=closed").get_data(as_text=True)
    assert "aaaaaaaa…" in only and "bbbbbbbb…" not in only


@needs_spec
def test_job_page_shows_each_step_with_its_request_and_response(
    admin: FlaskClient, engine: Engine, company: NewCompany
) -> None:
    """An ensure job that queried, then added, shows both requests and both answers in its history."""
    from qbwc_service.config import load_settings
    from qbwc_service.qbwc.protocol import Protocol
    from qbwc_service.queue import jobs
    from qbwc_service.simulator import QuickBooksEmulator
    from tests.emulator.driver import Session

    with engine.begin() as conn:
        job_id = jobs.enqueue(conn, "acme", "customer_ensure", {"name": "Zoë's Garage"}).job_id
    Session(Protocol(engine, load_settings({"log_level": "WARNING"}, environ={})), company, QuickBooksEmulator()).run()
    page = admin.get(f"/jobs/{job_id}").get_data(as_text=True)
    assert page.count("<summary>Request sent</summary>") == 2
    assert page.count("<summary>Response received</summary>") == 2
    assert "&lt;CustomerQueryRq" in page and "&lt;CustomerAddRq" in page and "&lt;CustomerAddRs" in page
    assert "is not in QuickBooks: adding it" in page
