"""app secret: the session signing key, generated once and shared by every worker

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01 23:51:44

Old code keeps serving while this runs (workers restart after the upgrade): add columns
nullable or with a server default, and drop things only once no running code reads them.

- ``app_secret``: secrets the service generates itself, one row per purpose. Without
  ``QBWC_SECRET_KEY`` each worker drew its own key, so a sign-in (its CSRF token, then its
  session cookie) failed whenever the next request reached another worker. Old code does
  not read the table; new workers create the key on their first start.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('app_secret',
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('value', sa.String(length=255), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_app_secret'))
    )


def downgrade() -> None:
    op.drop_table('app_secret')
