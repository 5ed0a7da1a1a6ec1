"""outbox lanes: each row's delivery lane, and the index the worker reads each lane by

Revision ID: 0003
Revises: 0002
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0003'
down_revision: str | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The lanes of the kinds known when this migration was written (see storage/outbox_models.py).
_LANES = {
    'notice': 1,
    'refresh_card': 1,
    'incident_update': 2,
    'incident_resolved': 2,
    'digest': 2,
}


def upgrade() -> None:
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('lane', sa.SmallInteger(), server_default='0', nullable=False)
        )
        batch_op.create_index('ix_outbox_lane_queue', ['status', 'lane', 'id'], unique=False)
    outbox = sa.table('outbox', sa.column('kind', sa.String()), sa.column('lane', sa.SmallInteger()))
    for kind, lane in _LANES.items():
        op.execute(outbox.update().where(outbox.c.kind == kind).values(lane=lane))


def downgrade() -> None:
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_lane_queue')
        batch_op.drop_column('lane')
