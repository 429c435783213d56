"""Core tables of the columns the queue and the job views read and write, without the ORM.

The models (:mod:`.models`) define the schema; these name the same tables and columns with
the same types, so that the queue's statements and a short-lived CLI process need no ORM
(``bench/cli_start.py``). ``tests/integration/test_job_views.py`` checks every column here
against the models.
"""

from __future__ import annotations

from sqlalchemy import JSON, Boolean, Integer, String, Text, column, table

from qbwc_service.db.types import JobState, SessionState, UTCDateTime, enum_type

job = table(
    "job",
    column("id", Integer),
    column("company_id", Integer),
    column("kind", String),
    column("payload", JSON),
    column("idempotency_key", String),
    column("reference", String),
    column("priority", Integer),
    column("state", enum_type(JobState, "job_state")),
    column("attempts", Integer),
    column("max_attempts", Integer),
    column("not_before", UTCDateTime),
    column("creates", String),
    column("ticket", String),
    column("leased_at", UTCDateTime),
    column("step", Integer),
    column("send_alone", Boolean),
    column("progress", JSON),
    column("status_code", Integer),
    column("status_severity", String),
    column("status_message", Text),
    column("result", JSON),
    column("error", Text),
    column("created_at", UTCDateTime),
    column("updated_at", UTCDateTime),
    column("finished_at", UTCDateTime),
)
job_dependency = table(
    "job_dependency",
    column("job_id", Integer),
    column("depends_on_id", Integer),
    column("ref", Boolean),
)
company = table("company", column("id", Integer), column("name", String))
job_event = table(
    "job_event",
    column("id", Integer),
    column("job_id", Integer),
    column("at", UTCDateTime),
    column("from_state", String),
    column("to_state", String),
    column("ticket", String),
    column("actor", String),
    column("message", Text),
    column("request_xml", Text),
    column("response_xml", Text),
)
qbwc_session = table(
    "qbwc_session",
    column("ticket", String),
    column("company_id", Integer),
    column("state", enum_type(SessionState, "session_state")),
    column("hcp_seen", Boolean),
    column("qbxml_version", String),
    column("qbxml_country", String),
)
