"""job steps: each step's request and response in the job's history

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 00:50:00

Old code keeps serving while this runs (workers restart after the upgrade): add columns
nullable or with a server default, and drop things only once no running code reads them.

- ``job_event.request_xml``, ``job_event.response_xml``: a multi-step job (ensure, Mod
  without EditSequence, iterated query) sends several requests; the event of each step
  sent carries its request, the event of its answer the response. Old code leaves them
  NULL.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('job_event', schema=None) as batch_op:
        batch_op.add_column(sa.Column('request_xml', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('response_xml', sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('job_event', schema=None) as batch_op:
        batch_op.drop_column('response_xml')
        batch_op.drop_column('request_xml')
