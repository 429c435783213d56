"""job indexes: dependents by depends_on_id; no index on ticket

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 16:40:00

Old code keeps serving while this runs (workers restart after the upgrade): add columns
nullable or with a server default, and drop things only once no running code reads them.

- ``ix_job_depends_on`` (partial: only jobs with a dependency): failing a job fails its
  queued dependents, which was a scan of every queued job.
- ``ix_job_ticket`` goes: every lookup by ticket also asks for ``state = 'in_flight'``,
  which ``ix_job_state_id`` serves, and the index cost two page writes per round trip
  (a job's ticket is set when it is sent and cleared when it is answered).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('job', schema=None) as batch_op:
        batch_op.create_index(
            'ix_job_depends_on', ['depends_on_id'], unique=False,
            sqlite_where=sa.text('depends_on_id IS NOT NULL'),
            postgresql_where=sa.text('depends_on_id IS NOT NULL'),
        )
        batch_op.drop_index('ix_job_ticket')


def downgrade() -> None:
    with op.batch_alter_table('job', schema=None) as batch_op:
        batch_op.create_index('ix_job_ticket', ['ticket'], unique=False)
        batch_op.drop_index('ix_job_depends_on')
