"""incident tickets: index an incident's tickets in ticket order

Revision ID: 0009
Revises: 0008
"""

from collections.abc import Sequence

from alembic import op

revision: str = '0010'
down_revision: str | None = '0009'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('incident_tickets', schema=None) as batch_op:
        batch_op.drop_index('ix_incident_tickets_incident_id')
        batch_op.create_index(
            'ix_incident_tickets_incident_ticket', ['incident_id', 'ticket_id'], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table('incident_tickets', schema=None) as batch_op:
        batch_op.drop_index('ix_incident_tickets_incident_ticket')
        batch_op.create_index('ix_incident_tickets_incident_id', ['incident_id'], unique=False)
