"""imports: the records read from QuickBooks lists, kept by the service and never deleted

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02 02:40:00

Old code keeps serving while this runs (workers restart after the upgrade): add columns
nullable or with a server default, and drop things only once no running code reads them.

- ``qb_record``: one row per list entry imported from a company's QuickBooks (customers,
  items, vendors, accounts, sales tax items and codes, terms, classes, payment methods):
  ListID (unique per company and list; NULL for an entry entered here and not imported
  yet), EditSequence, FullName and its case-folded form, type, active flag, key fields and
  the whole record as JSON, QuickBooks' TimeModified, when it was first and last seen.
  Only new code reads it.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('qb_record',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('company_id', sa.Integer(), nullable=False),
    sa.Column('list', sa.String(length=32), nullable=False),
    sa.Column('list_id', sa.String(length=40), nullable=True),
    sa.Column('edit_sequence', sa.String(length=40), nullable=True),
    sa.Column('full_name', sa.String(length=255), nullable=False),
    sa.Column('name_key', sa.String(length=255), nullable=False),
    sa.Column('record_type', sa.String(length=48), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('fields', sa.JSON(), nullable=False),
    sa.Column('data', sa.JSON(), nullable=False),
    sa.Column('time_modified', sa.DateTime(timezone=True), nullable=True),
    sa.Column('first_seen_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_seen_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['company_id'], ['company.id'], name=op.f('fk_qb_record_company_id_company'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_qb_record')),
    sa.UniqueConstraint('company_id', 'list', 'list_id', name=op.f('uq_qb_record_company_id_list_list_id'))
    )
    op.create_index('ix_qb_record_page', 'qb_record', ['company_id', 'list', 'id'], unique=False)
    op.create_index('ix_qb_record_name', 'qb_record', ['company_id', 'list', 'name_key'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_qb_record_name', table_name='qb_record')
    op.drop_index('ix_qb_record_page', table_name='qb_record')
    op.drop_table('qb_record')
