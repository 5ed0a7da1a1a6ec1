"""root causes of tickets and indexes for the analytics

Revision ID: 0006
Revises: 0004
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '0006'
down_revision: str | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('tickets') as batch:
        batch.add_column(
            sa.Column('root_cause', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True)
        )
    op.create_index('ix_tickets_resolved_at', 'tickets', ['resolved_at'], unique=False)
    op.create_index('ix_tickets_closed_at', 'tickets', ['closed_at'], unique=False)
    op.create_index('ix_tickets_survey_sent_at', 'tickets', ['survey_sent_at'], unique=False)
    op.create_index('ix_tickets_rated_at', 'tickets', ['rated_at'], unique=False)
    op.create_index(
        'ix_ticket_events_kind_to_at',
        'ticket_events',
        ['kind', 'to_status', 'at', 'ticket_id'],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index('ix_ticket_events_kind_to_at', table_name='ticket_events')
    op.drop_index('ix_tickets_rated_at', table_name='tickets')
    op.drop_index('ix_tickets_survey_sent_at', table_name='tickets')
    op.drop_index('ix_tickets_closed_at', table_name='tickets')
    op.drop_index('ix_tickets_resolved_at', table_name='tickets')
    with op.batch_alter_table('tickets') as batch:
        batch.drop_column('root_cause')
