"""the open tickets created before a moment, for the report's backlog

Revision ID: 0009
Revises: 0008
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0009'
down_revision: str | None = '0008'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OPEN = "status IN ('new', 'in_progress', 'waiting_customer', 'reopened')"


def upgrade() -> None:
    op.create_index(
        'ix_tickets_open_created',
        'tickets',
        ['created_at'],
        unique=False,
        sqlite_where=sa.text(OPEN),
        postgresql_where=sa.text(OPEN),
    )


def downgrade() -> None:
    op.drop_index('ix_tickets_open_created', table_name='tickets')
