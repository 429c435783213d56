"""incidents: alerts of companies that stop polling or keep failing, their history and deliveries

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02 02:30:00

Old code keeps serving while this runs (workers restart after the upgrade): add columns
nullable or with a server default, and drop things only once no running code reads them.

- ``incident`` (one per company and rule while open: ``ix_incident_open`` is a partial
  unique index), ``incident_event`` (its history), ``incident_delivery`` (each message on
  each channel, sent once) and ``lease`` (the alert sweep's lock, a row that works on
  SQLite and PostgreSQL alike). Old code reads none of them.
- ``ix_job_event_finished`` (partial: events that finish a job as done or failed), read by
  the dashboard's per-hour chart. Old code's inserts keep it up to date like any index.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def _enum(name: str, *values: str) -> sa.Enum:
    return sa.Enum(*values, name=name, native_enum=False, create_constraint=True, length=16)


def upgrade() -> None:
    op.create_table('incident',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('company_id', sa.Integer(), nullable=False),
    sa.Column('rule', _enum('incident_rule', 'not_polling', 'sessions_failing', 'jobs_failing'), nullable=False),
    sa.Column('opened_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('summary', sa.Text(), nullable=False),
    sa.Column('recovery', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['company_id'], ['company.id'], name=op.f('fk_incident_company_id_company'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_incident'))
    )
    with op.batch_alter_table('incident', schema=None) as batch_op:
        batch_op.create_index('ix_incident_open', ['company_id', 'rule'], unique=True,
                              sqlite_where=sa.text('closed_at IS NULL'), postgresql_where=sa.text('closed_at IS NULL'))
        batch_op.create_index('ix_incident_opened_at', ['opened_at'], unique=False)
    op.create_table('incident_event',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('incident_id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('message', sa.Text(), nullable=False),
    sa.Column('channel', _enum('incident_channel', 'webhook', 'email'), nullable=True),
    sa.Column('error', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['incident_id'], ['incident.id'], name=op.f('fk_incident_event_incident_id_incident'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_incident_event'))
    )
    with op.batch_alter_table('incident_event', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_incident_event_incident_id'), ['incident_id'], unique=False)
    op.create_table('incident_delivery',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('incident_id', sa.Integer(), nullable=False),
    sa.Column('notice', _enum('incident_notice', 'opened', 'recovered'), nullable=False),
    sa.Column('channel', _enum('incident_channel', 'webhook', 'email'), nullable=False),
    sa.Column('state', _enum('delivery_state', 'pending', 'sending', 'sent', 'failed'), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('claimed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['incident_id'], ['incident.id'], name=op.f('fk_incident_delivery_incident_id_incident'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_incident_delivery')),
    sa.UniqueConstraint('incident_id', 'notice', 'channel', name=op.f('uq_incident_delivery_incident_id_notice_channel'))
    )
    with op.batch_alter_table('incident_delivery', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_incident_delivery_state'), ['state'], unique=False)
    op.create_table('lease',
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('holder', sa.String(length=200), nullable=True),
    sa.Column('held_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_run_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_lease'))
    )
    with op.batch_alter_table('job_event', schema=None) as batch_op:
        batch_op.create_index('ix_job_event_finished', ['at', 'to_state'], unique=False,
                              sqlite_where=sa.text("to_state IN ('done', 'failed')"),
                              postgresql_where=sa.text("to_state IN ('done', 'failed')"))


def downgrade() -> None:
    with op.batch_alter_table('job_event', schema=None) as batch_op:
        batch_op.drop_index('ix_job_event_finished')
    op.drop_table('lease')
    op.drop_table('incident_delivery')
    op.drop_table('incident_event')
    op.drop_table('incident')
