"""trader: display name and account value from the venue

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-21 20:10:00.000000

The venue's own view of an account: the display name its leaderboard shows, and the account
value (equity, USD) from its account snapshots or leaderboard, with the time it was taken
(null when the source does not say, as a recorded leaderboard does not). Nullable columns: no
table rewrite.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | tuple[str, ...] | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("trader", sa.Column("display_name", sa.Text(), nullable=True))
    op.add_column("trader", sa.Column("account_value", sa.Numeric(), nullable=True))
    op.add_column(
        "trader", sa.Column("account_value_at", sa.DateTime(timezone=True), nullable=True)
    )


def downgrade() -> None:
    op.drop_column("trader", "account_value_at")
    op.drop_column("trader", "account_value")
    op.drop_column("trader", "display_name")
