"""documents: the business documents posted (shop invoices, POS days), once per key

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02 07:00:00

Old code keeps serving while this runs (workers restart after the upgrade): ``document`` is
a new table old code never reads.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('document',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('company_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('key', sa.String(length=80), nullable=False),
    sa.Column('mode', sa.String(length=16), nullable=False),
    sa.Column('digest', sa.String(length=64), nullable=False),
    sa.Column('jobs', sa.JSON(), nullable=False),
    sa.Column('names', sa.JSON(), nullable=False),
    sa.Column('totals', sa.JSON(), nullable=False),
    sa.Column('posted_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('actor', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['company_id'], ['company.id'], name=op.f('fk_document_company_id_company'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_document')),
    sa.UniqueConstraint('company_id', 'kind', 'key', name=op.f('uq_document_company_id_kind_key'))
    )
    op.create_index('ix_document_posted', 'document', ['company_id', 'posted_at'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_document_posted', table_name='document')
    op.drop_table('document')
