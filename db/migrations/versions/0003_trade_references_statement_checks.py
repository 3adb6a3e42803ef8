"""trade's references checked once per statement instead of once per row

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-21 10:55:00.000000

The four foreign keys of ``trade`` (trader, position, closed position, market) cost a
trigger, a query and a row lock per inserted trade: about 40 % of the writer's time on the
ingestion benchmark. They are replaced by statement-level triggers with transition tables that
enforce the same rule set-wise, once per COPY or INSERT:

* inserting or updating trades whose trader, position, closed position or coin does not exist
  raises ``foreign_key_violation`` (SQLSTATE 23503), like the foreign keys did; the referenced
  rows are locked FOR KEY SHARE, like the foreign keys did, so a concurrent delete waits;
* deleting a trader, position or market that a trade refers to raises the same error.

What the foreign keys also did and these triggers do not: reject a change of a referenced key
(``trader.id``, ``position.id``, ``market.coin``); no code changes those (ids are identities,
coins are never renamed). The indexes the checks use already exist (``trade_by_trader_time``,
``trade_by_position``, ``ix_trade_closed_position_id``, ``trade_by_coin_time``).
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0003"
down_revision: str | tuple[str, ...] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_FOREIGN_KEYS = {
    "trade_trader_id_fkey": ("trader_id", "trader", "id"),
    "trade_position_id_fkey": ("position_id", "position", "id"),
    "trade_closed_position_id_fkey": ("closed_position_id", "position", "id"),
    "trade_coin_fkey": ("coin", "market", "coin"),
}

_CHECK_INSERTED = """
CREATE FUNCTION trade_check_references() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    wanted bigint;
    found bigint;
BEGIN
    SELECT count(*) INTO wanted FROM (SELECT DISTINCT trader_id FROM inserted) AS k;
    SELECT count(*) INTO found FROM (
        SELECT 1 FROM trader WHERE id IN (SELECT trader_id FROM inserted) FOR KEY SHARE
    ) AS k;
    IF found <> wanted THEN
        RAISE foreign_key_violation USING
            MESSAGE = 'insert or update on table "trade" refers to a trader that does not exist';
    END IF;
    SELECT count(*) INTO wanted FROM (
        SELECT position_id FROM inserted WHERE position_id IS NOT NULL
        UNION SELECT closed_position_id FROM inserted WHERE closed_position_id IS NOT NULL
    ) AS k;
    SELECT count(*) INTO found FROM (
        SELECT 1 FROM position WHERE id IN (
            SELECT position_id FROM inserted
            UNION SELECT closed_position_id FROM inserted) FOR KEY SHARE
    ) AS k;
    IF found <> wanted THEN
        RAISE foreign_key_violation USING
            MESSAGE = 'insert or update on table "trade" refers to a position that does not exist';
    END IF;
    SELECT count(*) INTO wanted FROM (SELECT DISTINCT coin FROM inserted) AS k;
    SELECT count(*) INTO found FROM (
        SELECT 1 FROM market WHERE coin IN (SELECT coin FROM inserted) FOR KEY SHARE
    ) AS k;
    IF found <> wanted THEN
        RAISE foreign_key_violation USING
            MESSAGE = 'insert or update on table "trade" refers to a market that does not exist';
    END IF;
    RETURN NULL;
END
$$
"""

_CHECK_DELETED = """
CREATE FUNCTION {table}_check_not_traded() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM deleted AS d JOIN trade AS t ON {join}) THEN
        RAISE foreign_key_violation USING
            MESSAGE = 'delete on table "{table}" would leave trades referring to it';
    END IF;
    RETURN NULL;
END
$$
"""

_DELETE_JOINS = {
    "trader": "t.trader_id = d.id",
    "position": "t.position_id = d.id OR t.closed_position_id = d.id",
    "market": "t.coin = d.coin",
}


def upgrade() -> None:
    for name in _FOREIGN_KEYS:
        op.drop_constraint(name, "trade", type_="foreignkey")
    op.execute(_CHECK_INSERTED)
    for event in ("INSERT", "UPDATE"):
        op.execute(
            f"CREATE TRIGGER trade_references_on_{event.lower()} AFTER {event} ON trade "
            "REFERENCING NEW TABLE AS inserted FOR EACH STATEMENT "
            "EXECUTE FUNCTION trade_check_references()"
        )
    for table, join in _DELETE_JOINS.items():
        op.execute(_CHECK_DELETED.format(table=table, join=join))
        op.execute(
            f"CREATE TRIGGER {table}_not_traded AFTER DELETE ON {table} "
            "REFERENCING OLD TABLE AS deleted FOR EACH STATEMENT "
            f"EXECUTE FUNCTION {table}_check_not_traded()"
        )


def downgrade() -> None:
    for table in _DELETE_JOINS:
        op.execute(f"DROP TRIGGER {table}_not_traded ON {table}")
        op.execute(f"DROP FUNCTION {table}_check_not_traded()")
    for event in ("insert", "update"):
        op.execute(f"DROP TRIGGER trade_references_on_{event} ON trade")
    op.execute("DROP FUNCTION trade_check_references()")
    for name, (column, table, key) in _FOREIGN_KEYS.items():
        op.create_foreign_key(name, "trade", table, [column], [key])
