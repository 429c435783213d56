"""sessions superseded by the Web Connector coming back; a second Web Connector recorded on its company

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02 00:40:00

Old code keeps serving while this runs (workers restart after the upgrade): add columns
nullable or with a server default, and drop things only once no running code reads them.

- ``qbwc_session.state`` may be ``superseded`` (the CHECK is widened; old code never writes
  it and reads such a session as not open, which is what it is).
- ``qbwc_session.superseded_by``: the ticket that took the session over.
- ``qbwc_session.refused_at``: when an authenticate was refused because the session was active.
- ``company.rival_seen_at`` / ``rival_detail``: a second Web Connector polling the company.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None

OLD = ('open', 'closed', 'failed', 'abandoned')
NEW = (*OLD, 'superseded')


def _states(values: tuple[str, ...]) -> str:
    return "state IN (" + ", ".join(f"'{v}'" for v in values) + ")"


def upgrade() -> None:
    with op.batch_alter_table('company', schema=None) as batch_op:
        batch_op.add_column(sa.Column('rival_seen_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('rival_detail', sa.Text(), nullable=True))
    with op.batch_alter_table('qbwc_session', schema=None) as batch_op:
        batch_op.add_column(sa.Column('superseded_by', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('refused_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.drop_constraint(op.f('ck_qbwc_session_session_state'), type_='check')
        batch_op.create_check_constraint('session_state', _states(NEW))


def downgrade() -> None:
    op.execute("UPDATE qbwc_session SET state = 'abandoned' WHERE state = 'superseded'")
    with op.batch_alter_table('qbwc_session', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_qbwc_session_session_state'), type_='check')
        batch_op.create_check_constraint('session_state', _states(OLD))
        batch_op.drop_column('refused_at')
        batch_op.drop_column('superseded_by')
    with op.batch_alter_table('company', schema=None) as batch_op:
        batch_op.drop_column('rival_detail')
        batch_op.drop_column('rival_seen_at')
