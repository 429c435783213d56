"""job XML on the events only: a job's last request and response are read from its events

Revision ID: 0014
Revises: 0011
Create Date: 2026-12-03 09:10:00

Since 0006 the event of each step sent carries its request and the event of its answer the
response; the job row kept a second copy of the last of each, rewritten by every lease and
every outcome (on PostgreSQL, a third of the outcomes' UPDATE and a sixth of the lease's,
measured on one company in-process). New code writes the XML once, on the events, and
reads a job's last request and response from them.

For jobs from before 0006, whose events carry no XML, this copies the job row's XML onto one
event of the job, so that nothing shown before is lost. Old code keeps serving while this runs
(workers restart after the upgrade) and still writes ``job.request_xml``/``response_xml``,
with its events carrying the same XML; the columns are dropped by a later migration, once no
running release writes them.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0014'
down_revision = '0011'
branch_labels = None
depends_on = None

MESSAGE = "the last request and response, as the job kept them before each step's were kept on its events"


def upgrade() -> None:
    op.get_bind().execute(
        sa.text(
            "INSERT INTO job_event (job_id, at, actor, message, request_xml, response_xml) "
            "SELECT j.id, j.updated_at, 'migration', :message, j.request_xml, j.response_xml FROM job j "
            "WHERE (j.request_xml IS NOT NULL OR j.response_xml IS NOT NULL) AND NOT EXISTS (SELECT 1 FROM job_event e "
            "WHERE e.job_id = j.id AND (e.request_xml IS NOT NULL OR e.response_xml IS NOT NULL))"
        ),
        {"message": MESSAGE},
    )


def downgrade() -> None:
    """The job rows get back the last XML of their events, for the release before this one to show."""
    for column in ("request_xml", "response_xml"):
        op.execute(
            f"UPDATE job SET {column} = (SELECT e.{column} FROM job_event e WHERE e.job_id = job.id "
            f"AND e.{column} IS NOT NULL ORDER BY e.id DESC LIMIT 1) WHERE {column} IS NULL"
        )
    op.get_bind().execute(
        sa.text("DELETE FROM job_event WHERE actor = 'migration' AND message = :message"), {"message": MESSAGE}
    )
