"""a mark refresh rewrites open positions without touching their indexes

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-21 15:25:00.000000

A mark refresh sets ``mark_price``, ``notional``, ``unrealized_pnl`` and ``liquidation_price``
of every open position. ``notional`` was the leading key of two partial indexes (open positions
by notional, overall and per coin), so every one of those updates wrote a new entry into all
nine of position's indexes: about 10 write-ahead-log records per position and 1.0-1.2 s per
refresh of 19,332 open positions. Without those two indexes no indexed column changes, and
with room left on every page (fillfactor 85) the new version goes next to the old one (a HOT
update: no index entry, the old version pruned when the page is next read): 0.22-0.30 s once
the pages have settled, 1.4 WAL records per position.

What it costs: a page of open positions by notional across all markets, or of one market, sorts
the open positions (a top-N sort: 10-18 ms for 19,332 of them, against 1-3 ms through the
index). Existing pages get the room as they are rewritten (VACUUM FULL); new pages at once.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0008"
down_revision: str | tuple[str, ...] | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_index("position_open_by_notional", table_name="position")
    op.drop_index("position_open_by_coin_notional", table_name="position")
    op.execute("ALTER TABLE position SET (fillfactor = 85)")


def downgrade() -> None:
    op.execute("ALTER TABLE position RESET (fillfactor)")
    op.execute(
        "CREATE INDEX position_open_by_coin_notional ON position (coin, notional DESC, id DESC) "
        "WHERE closed_at IS NULL"
    )
    op.execute(
        "CREATE INDEX position_open_by_notional ON position (notional DESC, id DESC) "
        "WHERE closed_at IS NULL"
    )
