"""company setup: integration profiles, setup runs and steps, the resolved mapping, resets

Revision ID: 0008
Revises: 0013
Create Date: 2026-12-02 02:40:00

Old code keeps serving while this runs (workers restart after the upgrade): add columns
nullable or with a server default, and drop things only once no running code reads them.

Only new tables: old workers never read them.

- ``integration_profile``: every version of a company's profile, with who saved it.
- ``company_reset``: who reset a company's integration, when and why.
- ``setup_run`` and ``setup_step``: a run of setup and the job of each of its entries.
- ``resolved_entry``: the ListID each profile entry resolved to (what documents post against).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0008'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('integration_profile',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('company_id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('body', sa.JSON(), nullable=False),
    sa.Column('created_by', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['company_id'], ['company.id'], name=op.f('fk_integration_profile_company_id_company'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_integration_profile')),
    sa.UniqueConstraint('company_id', 'version', name=op.f('uq_integration_profile_company_id_version'))
    )
    op.create_table('company_reset',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('company_id', sa.Integer(), nullable=False),
    sa.Column('actor', sa.String(length=200), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('cancelled', sa.Integer(), nullable=False),
    sa.Column('forgotten', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['company_id'], ['company.id'], name=op.f('fk_company_reset_company_id_company'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_company_reset'))
    )
    with op.batch_alter_table('company_reset', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_company_reset_company_id'), ['company_id'], unique=False)
    op.create_table('setup_run',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('company_id', sa.Integer(), nullable=False),
    sa.Column('profile_version', sa.Integer(), nullable=True),
    sa.Column('started_by', sa.String(length=200), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('reset_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['company_id'], ['company.id'], name=op.f('fk_setup_run_company_id_company'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['reset_id'], ['company_reset.id'], name=op.f('fk_setup_run_reset_id_company_reset'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_setup_run'))
    )
    with op.batch_alter_table('setup_run', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_setup_run_company_id'), ['company_id'], unique=False)
    op.create_table('setup_step',
    sa.Column('run_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('entry', sa.String(length=80), nullable=False),
    sa.Column('label', sa.String(length=200), nullable=False),
    sa.Column('job_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['job_id'], ['job.id'], name=op.f('fk_setup_step_job_id_job'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['run_id'], ['setup_run.id'], name=op.f('fk_setup_step_run_id_setup_run'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('run_id', 'position', name=op.f('pk_setup_step'))
    )
    with op.batch_alter_table('setup_step', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_setup_step_job_id'), ['job_id'], unique=False)
    op.create_table('resolved_entry',
    sa.Column('company_id', sa.Integer(), nullable=False),
    sa.Column('entry', sa.String(length=80), nullable=False),
    sa.Column('list_id', sa.String(length=40), nullable=True),
    sa.Column('full_name', sa.String(length=209), nullable=True),
    sa.Column('job_id', sa.Integer(), nullable=True),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['company_id'], ['company.id'], name=op.f('fk_resolved_entry_company_id_company'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['job_id'], ['job.id'], name=op.f('fk_resolved_entry_job_id_job'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('company_id', 'entry', name=op.f('pk_resolved_entry'))
    )


def downgrade() -> None:
    op.drop_table('resolved_entry')
    with op.batch_alter_table('setup_step', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_setup_step_job_id'))
    op.drop_table('setup_step')
    with op.batch_alter_table('setup_run', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_setup_run_company_id'))
    op.drop_table('setup_run')
    with op.batch_alter_table('company_reset', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_company_reset_company_id'))
    op.drop_table('company_reset')
    op.drop_table('integration_profile')
