"""The JSON shape of a job, read through lightweight Core tables (no ORM), on both databases."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, Enum, TableClause, select
from sqlalchemy.orm import Session

from qbwc_service.accounts.companies import NewCompany
from qbwc_service.db import tables
from qbwc_service.db.models import Base, Job, JobState
from qbwc_service.errors import JobNotFound
from qbwc_service.queue import jobs, views
from tests.helpers import customer_add


@pytest.mark.parametrize(
    "light", [tables.job, tables.company, tables.job_event, tables.qbwc_session], ids=lambda t: t.name
)
def test_lightweight_tables_name_real_columns_with_their_types(light: TableClause) -> None:
    """Every column of the Core tables exists in the models, with the same kind of type (and the same enum)."""
    table = Base.metadata.tables[light.name]
    for column in light.c:
        assert column.name in table.c, f"{light.name}.{column.name} is not a column of the model"
        model_type = table.c[column.name].type
        assert isinstance(model_type, type(column.type)), f"{light.name}.{column.name}"
        if isinstance(column.type, Enum):
            assert (
                isinstance(model_type, Enum)
                and model_type.enums == column.type.enums
                and model_type.name == column.type.name
            )


def test_load_job_is_the_orm_job_as_json(engine: Engine, company: NewCompany) -> None:
    """load_job shows what job_json shows of the mapped Job, with aware UTC timestamps."""
    with engine.begin() as conn:
        queued = jobs.enqueue(conn, "acme", "qbxml", {"request": customer_add("Ann")}, idempotency_key="k1")
    with engine.connect() as conn:
        shown = views.load_job(conn, queued.job_id)
    with Session(engine) as db:
        mapped = db.execute(select(Job).where(Job.id == queued.job_id)).scalar_one()
        assert shown == views.job_json(mapped, "acme")
    assert shown["state"] == "queued" and shown["idempotency_key"] == "k1" and shown["reference"] == "Ann"
    assert shown["created_at"].endswith("+00:00") and shown["finished_at"] is None


def test_detail_lists_request_response_and_history(engine: Engine, company: NewCompany) -> None:
    """load_job_detail adds the XML and every event in order; an unknown id raises JobNotFound."""
    with engine.begin() as conn:
        queued = jobs.enqueue(conn, "acme", "qbxml", {"request": customer_add("Bo")}, actor="cli")
        jobs.cancel(conn, queued.job_id, actor="support@example.com")
    with engine.connect() as conn:
        detail = views.load_job_detail(conn, queued.job_id)
        listed = views.list_jobs(conn, company_name="acme", state=JobState.CANCELLED)
        with pytest.raises(JobNotFound):
            views.load_job(conn, queued.job_id + 100)
    assert detail["state"] == "cancelled" and detail["request_xml"] is None
    assert [(e["from"], e["to"], e["actor"]) for e in detail["events"]] == [
        (None, "queued", "cli"),
        ("queued", "cancelled", "support@example.com"),
    ]
    assert [(j["id"], j["company"], j["state"]) for j in listed] == [(queued.job_id, "acme", "cancelled")]
