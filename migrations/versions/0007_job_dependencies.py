"""job dependencies: a job may wait for several jobs; what a list Add creates, for refs by name

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 00:40:00

Old code keeps serving while this runs (workers restart after the upgrade): add columns
nullable or with a server default, and drop things only once no running code reads them.

- ``job_dependency`` (job_id, depends_on_id, ref): one row per dependency, replacing
  ``job.depends_on_id``. Existing dependencies are copied over. ``ref`` says the payload
  names the dependency as ``{"job": N}``, so its recorded id is read when the job is sent.
- ``job.depends_on_id`` and ``ix_job_depends_on`` go. This breaks the rule above: old
  workers read the column on every sendRequestXML. Restart the workers right after the
  upgrade; until they restart their calls fail and the Web Connector tries again later
  (no job changes state on a failed call).
- ``job.creates`` (nullable) with ``ix_job_creates`` (partial): the case-folded FullName a
  list Add will create, so a later job's ref by that name can wait for it.
- ``ix_job_next`` is dropped and made again around the table rebuild on SQLite (its
  ``priority DESC`` is not carried over by reflection).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('job_dependency',
    sa.Column('job_id', sa.Integer(), nullable=False),
    sa.Column('depends_on_id', sa.Integer(), nullable=False),
    sa.Column('ref', sa.Boolean(), nullable=False, server_default=sa.false()),
    sa.ForeignKeyConstraint(['depends_on_id'], ['job.id'], name=op.f('fk_job_dependency_depends_on_id_job'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['job_id'], ['job.id'], name=op.f('fk_job_dependency_job_id_job'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('job_id', 'depends_on_id', name=op.f('pk_job_dependency'))
    )
    with op.batch_alter_table('job_dependency', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_job_dependency_depends_on_id'), ['depends_on_id'], unique=False)
    op.execute(
        "INSERT INTO job_dependency (job_id, depends_on_id, ref) "
        "SELECT id, depends_on_id, false FROM job WHERE depends_on_id IS NOT NULL"
    )
    op.drop_index('ix_job_depends_on', table_name='job')
    op.drop_index('ix_job_next', table_name='job')
    with op.batch_alter_table('job', schema=None) as batch_op:
        batch_op.add_column(sa.Column('creates', sa.String(length=209), nullable=True))
        batch_op.drop_column('depends_on_id')
    op.create_index('ix_job_next', 'job', ['company_id', 'state', sa.text('priority DESC'), 'id'], unique=False)
    op.create_index(
        'ix_job_creates', 'job', ['company_id', 'creates'], unique=False,
        sqlite_where=sa.text('creates IS NOT NULL'), postgresql_where=sa.text('creates IS NOT NULL'),
    )


def downgrade() -> None:
    op.drop_index('ix_job_creates', table_name='job')
    op.drop_index('ix_job_next', table_name='job')
    with op.batch_alter_table('job', schema=None) as batch_op:
        batch_op.add_column(sa.Column('depends_on_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f('fk_job_depends_on_id_job'), 'job', ['depends_on_id'], ['id'], ondelete='SET NULL'
        )
        batch_op.drop_column('creates')
    op.create_index('ix_job_next', 'job', ['company_id', 'state', sa.text('priority DESC'), 'id'], unique=False)
    op.execute(
        "UPDATE job SET depends_on_id = (SELECT min(d.depends_on_id) FROM job_dependency d WHERE d.job_id = job.id)"
    )
    op.create_index(
        'ix_job_depends_on', 'job', ['depends_on_id'], unique=False,
        sqlite_where=sa.text('depends_on_id IS NOT NULL'), postgresql_where=sa.text('depends_on_id IS NOT NULL'),
    )
    op.drop_table('job_dependency')
