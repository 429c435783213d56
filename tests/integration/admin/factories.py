"""Factories for the admin tests: staff users, and jobs that failed or succeeded in QuickBooks."""

from __future__ import annotations

from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import Engine

from qbwc_service.accounts.staff import create_user
from qbwc_service.db.models import JobState
from qbwc_service.queue import jobs
from tests.helpers import customer_add, customer_ret, rs

PASSWORD = "correct horse battery"
ADMIN = "ada@example.com"
SUPPORT = "sam@example.com"
TICKET = "tkt-5f0c2a9e81d34b7fa1c6e2d9b0a7c3e4"


def make_user(engine: Engine, email: str, role: str) -> None:
    """A staff user with the shared test password."""
    with engine.begin() as conn:
        create_user(conn, email, PASSWORD, role)


def login(client: FlaskClient, email: str, password: str = PASSWORD) -> Any:
    """Post the login form (CSRF must be off for this client)."""
    return client.post("/login", data={"email": email, "password": password})


def queue_job(engine: Engine, name: str, company: str = "acme", **kwargs: Any) -> int:
    """Queue a CustomerAdd job for ``name``."""
    with engine.begin() as conn:
        return jobs.enqueue(conn, company, "qbxml", {"request": customer_add(name)}, **kwargs).job_id


def _lease(engine: Engine, name: str, company: str) -> tuple[int, int]:
    """Queue a job and lease it to the session ``TICKET``."""
    with engine.begin() as conn:
        company_id = jobs.company_id_by_name(conn, company)
        job_id = jobs.enqueue(conn, company_id, "qbxml", {"request": customer_add(name)}, actor="api:shop").job_id
        job = jobs.LeasedJob(job_id, "qbxml", {"request": customer_add(name)}, 1, 5, 0, None)
        request = customer_add(name).replace("<CustomerAddRq>", f'<CustomerAddRq requestID="{job_id}">')
        jobs.claim(conn, TICKET, [(job, request)])
    return company_id, job_id


def failed_job(engine: Engine, name: str = "Bob's Garage", company: str = "acme", code: int = 3140) -> int:
    """A job QuickBooks refused with ``code`` (3140: a missing reference)."""
    _, job_id = _lease(engine, name, company)
    message = f'There is an invalid reference to QuickBooks Customer "{name}".'
    with engine.begin() as conn:
        jobs.settle(
            conn,
            TICKET,
            [
                jobs.Outcome(
                    job_id, JobState.FAILED, status_code=code, status_severity="Error", status_message=message,
                    response_xml=rs(str(job_id), code, message=message), error=f"QuickBooks status {code}: {message}",
                )
            ],
        )  # fmt: skip
    return job_id


def done_job(engine: Engine, name: str = "Zoë & Co", company: str = "acme") -> int:
    """A job QuickBooks processed, with the ListID it created."""
    _, job_id = _lease(engine, name, company)
    with engine.begin() as conn:
        jobs.settle(
            conn,
            TICKET,
            [
                jobs.Outcome(
                    job_id, JobState.DONE, status_code=0, status_severity="Info", status_message="Status OK",
                    response_xml=rs(str(job_id), ret=customer_ret("80000001-1700000000", name)),
                    result={"ListID": "80000001-1700000000", "FullName": name},
                )
            ],
        )  # fmt: skip
    return job_id
