"""trade's closed_position_id index holds FLIPs only

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-21 12:15:00.000000

Only a FLIP names the position it closed; every other trade has a null ``closed_position_id``,
and the full index took an entry for each of them (one of the seven index insertions of every
trade the writer copies). Its only reader, the check that a deleted position has no trades
(0003), looks up ``closed_position_id = id``, which a partial index on the non-null values
serves as well.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0006"
down_revision: str | tuple[str, ...] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_index("ix_trade_closed_position_id", table_name="trade")
    op.execute(
        "CREATE INDEX trade_by_closed_position ON trade (closed_position_id) "
        "WHERE closed_position_id IS NOT NULL"
    )


def downgrade() -> None:
    op.drop_index("trade_by_closed_position", table_name="trade")
    op.create_index("ix_trade_closed_position_id", "trade", ["closed_position_id"])
