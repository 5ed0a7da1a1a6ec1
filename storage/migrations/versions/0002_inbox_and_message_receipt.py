"""inbox of incoming updates; a Telegram message is stored once

Revision ID: 0002
Revises: 0001
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import storage.types

revision: str = '0002'
down_revision: str | None = '0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('inbox',
    sa.Column('update_id', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('payload', sa.Text(), nullable=False),
    sa.Column('received_at', storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('state', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('claimed_by', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('lease_until', storage.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('done_at', storage.types.UTCDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('update_id')
    )
    with op.batch_alter_table('inbox', schema=None) as batch_op:
        batch_op.create_index('ix_inbox_state_lease', ['state', 'lease_until'], unique=False)
        batch_op.create_index('ix_inbox_state_received', ['state', 'received_at'], unique=False)

    # Messages stored twice before this revision keep their rows (history, attachments);
    # only the first keeps its Telegram id, so the unique index can be built.
    op.execute(
        "UPDATE ticket_messages SET telegram_message_id = NULL "
        "WHERE telegram_message_id IS NOT NULL AND chat_id IS NOT NULL AND id > ("
        "SELECT MIN(earlier.id) FROM ticket_messages AS earlier "
        "WHERE earlier.chat_id = ticket_messages.chat_id "
        "AND earlier.telegram_message_id = ticket_messages.telegram_message_id)"
    )
    op.create_index(
        'uq_ticket_messages_telegram',
        'ticket_messages',
        ['chat_id', 'telegram_message_id'],
        unique=True,
    )


def downgrade() -> None:
    op.drop_index('uq_ticket_messages_telegram', table_name='ticket_messages')

    with op.batch_alter_table('inbox', schema=None) as batch_op:
        batch_op.drop_index('ix_inbox_state_received')
        batch_op.drop_index('ix_inbox_state_lease')

    op.drop_table('inbox')
