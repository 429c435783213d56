"""sync schedules: every poll (as before), daily at a time in the company's time zone, or manual

Revision ID: 0013
Revises: 0007
Create Date: 2026-12-02 02:30:00

Old code keeps serving while this runs (workers restart after the upgrade): add columns
nullable or with a server default, and drop things only once no running code reads them.

- ``company.sync_mode`` (``every_poll`` by default, so every existing company keeps sending
  its work at each poll), ``daily`` or ``manual``, CHECK-constrained like the other states.
- ``company.sync_at`` / ``sync_time_zone``: a daily schedule's time of day and IANA zone
  (a CHECK: a daily schedule has both).
- ``company.sync_requested_at``: the last "sync now"; ``company.sync_drained_at``: when the
  work released last was found drained (or the schedule was set).

Old code ignores the columns: until the workers restart, every company syncs at every poll.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0013'
down_revision = '0007'
branch_labels = None
depends_on = None

MODES = ('every_poll', 'daily', 'manual')


def upgrade() -> None:
    with op.batch_alter_table('company', schema=None) as batch_op:
        batch_op.add_column(sa.Column(
            'sync_mode', sa.Enum(*MODES, name='sync_mode', native_enum=False, create_constraint=True, length=16),
            nullable=False, server_default='every_poll',
        ))  # fmt: skip
        batch_op.add_column(sa.Column('sync_at', sa.Time(), nullable=True))
        batch_op.add_column(sa.Column('sync_time_zone', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('sync_requested_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('sync_drained_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.create_check_constraint(
            'daily_has_time', "sync_mode != 'daily' OR (sync_at IS NOT NULL AND sync_time_zone IS NOT NULL)"
        )


def downgrade() -> None:
    with op.batch_alter_table('company', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_company_daily_has_time'), type_='check')
        batch_op.drop_column('sync_drained_at')
        batch_op.drop_column('sync_requested_at')
        batch_op.drop_column('sync_time_zone')
        batch_op.drop_column('sync_at')
        batch_op.drop_column('sync_mode')
