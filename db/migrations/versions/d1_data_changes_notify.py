"""announce every committed change of a data table on the perpgraph_data channel

Revision ID: d1_data_changes
Revises: 0003
Create Date: 2026-11-21 12:00:00.000000

One statement-level trigger per data table runs ``pg_notify('perpgraph_data', <table>)`` after
each INSERT, UPDATE, DELETE and TRUNCATE. Postgres delivers it when the transaction commits
(never for a rollback) and folds repeats within one transaction into one, so a batch of
fills costs one notification per table it wrote, whatever its number of rows. The response
cache moves a table's version on each one (``db/changes.py``, ``gateway/response_cache.py``).
"""

from collections.abc import Sequence

from alembic import op

revision: str = "d1_data_changes"
down_revision: str | tuple[str, ...] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: The data tables at this revision (db.changes.DATA_TABLES; a test keeps the two equal).
_TABLES = (
    "funding_payment",
    "ingest_checkpoint",
    "leaderboard_state",
    "market",
    "market_stats",
    "position",
    "trade",
    "trader",
    "trader_label",
    "trader_stats",
)


def upgrade() -> None:
    op.execute(
        """
        CREATE FUNCTION perpgraph_announce_change() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            PERFORM pg_notify('perpgraph_data', TG_TABLE_NAME);
            RETURN NULL;
        END
        $$
        """
    )
    for table in _TABLES:
        op.execute(
            f"CREATE TRIGGER {table}_announce_change "
            f"AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION perpgraph_announce_change()"
        )


def downgrade() -> None:
    for table in _TABLES:
        op.execute(f"DROP TRIGGER {table}_announce_change ON {table}")
    op.execute("DROP FUNCTION perpgraph_announce_change()")
