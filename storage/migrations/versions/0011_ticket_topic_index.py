"""the ticket of a staff topic: agents' replies and commands find it by index

Revision ID: 0011
Revises: 0010
"""

from collections.abc import Sequence

from alembic import op

revision: str = '0011'
down_revision: str | None = '0010'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index('ix_tickets_topic_id', 'tickets', ['topic_id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_tickets_topic_id', table_name='tickets')
