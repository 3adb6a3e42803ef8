"""position's references checked once per statement; trade's position check probes the key

Revision ID: 0004
Revises: d1_data_changes
Create Date: 2026-11-21 12:00:00.000000

The writer inserts tens of thousands of positions per batch of 100,000 fills, and each paid two
row-level foreign-key triggers (trader, market): about 40 % of that INSERT on the ingestion
benchmark. As for ``trade`` in 0003, they are replaced by statement-level triggers with a
transition table that enforce the same rule set-wise:

* inserting positions whose trader or coin does not exist raises ``foreign_key_violation``
  (SQLSTATE 23503), like the foreign keys did; the referenced rows are locked FOR KEY SHARE,
  like the foreign keys did, so a concurrent delete waits;
* an update that changes a position's trader or coin is checked the same way, row by row (no
  code does that; the writer's updates leave both alone and pay nothing);
* deleting a trader or market that a position refers to raises the same error.

What the foreign keys also did and these triggers do not: reject a change of a referenced key
(``trader.id``, ``market.coin``); no code changes those (ids are identities, coins are never
renamed). The indexes the delete checks use already exist (``ix_position_trader_id``,
``position_by_coin``).

``trade_check_references`` (0003) looked its positions up with a join the planner hashed over
the whole position table (it cannot estimate a transition table); it now probes the primary key
once per distinct position (a LATERAL subquery with a locking clause stays a nested loop).
"""

import importlib.util
from collections.abc import Sequence
from pathlib import Path

from alembic import op

revision: str = "0004"
down_revision: str | tuple[str, ...] | None = "d1_data_changes"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_FOREIGN_KEYS = {
    "position_trader_id_fkey": ("trader_id", "trader", "id"),
    "position_coin_fkey": ("coin", "market", "coin"),
}

_CHECK_REFERENCES = """
CREATE FUNCTION position_check_references() RETURNS trigger LANGUAGE plpgsql AS $$
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
            MESSAGE = 'insert or update on table "position" refers to a trader that does not exist';
    END IF;
    SELECT count(*) INTO wanted FROM (SELECT DISTINCT coin FROM inserted) AS k;
    SELECT count(*) INTO found FROM (
        SELECT 1 FROM market WHERE coin IN (SELECT coin FROM inserted) FOR KEY SHARE
    ) AS k;
    IF found <> wanted THEN
        RAISE foreign_key_violation USING
            MESSAGE = 'insert or update on table "position" refers to a market that does not exist';
    END IF;
    RETURN NULL;
END
$$
"""

_CHECK_MOVED = """
CREATE FUNCTION position_check_moved_references() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM 1 FROM trader WHERE id = NEW.trader_id FOR KEY SHARE;
    IF NOT FOUND THEN
        RAISE foreign_key_violation USING
            MESSAGE = 'insert or update on table "position" refers to a trader that does not exist';
    END IF;
    PERFORM 1 FROM market WHERE coin = NEW.coin FOR KEY SHARE;
    IF NOT FOUND THEN
        RAISE foreign_key_violation USING
            MESSAGE = 'insert or update on table "position" refers to a market that does not exist';
    END IF;
    RETURN NULL;
END
$$
"""

_CHECK_DELETED = """
CREATE FUNCTION {table}_check_not_held() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM deleted AS d JOIN position AS p ON p.{column} = d.{key}) THEN
        RAISE foreign_key_violation USING
            MESSAGE = 'delete on table "{table}" would leave positions referring to it';
    END IF;
    RETURN NULL;
END
$$
"""

_TRADE_POSITIONS_HASHED = """
    SELECT count(*) INTO found FROM (
        SELECT 1 FROM position WHERE id IN (
            SELECT position_id FROM inserted
            UNION SELECT closed_position_id FROM inserted) FOR KEY SHARE
    ) AS k;
"""

_TRADE_POSITIONS_PROBED = """
    SELECT count(*) INTO found FROM (
        SELECT position_id AS id FROM inserted
        UNION SELECT closed_position_id FROM inserted
    ) AS k, LATERAL (SELECT 1 FROM position WHERE position.id = k.id FOR KEY SHARE) AS p;
"""


def _trade_check_references() -> str:
    """0003's ``CREATE FUNCTION trade_check_references`` text, read from that migration."""
    path = Path(__file__).with_name("0003_trade_references_statement_checks.py")
    spec = importlib.util.spec_from_file_location("migration_0003", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    text = str(module._CHECK_INSERTED)
    assert _TRADE_POSITIONS_HASHED in text
    return text.replace("CREATE FUNCTION", "CREATE OR REPLACE FUNCTION", 1)


def upgrade() -> None:
    for name in _FOREIGN_KEYS:
        op.drop_constraint(name, "position", type_="foreignkey")
    op.execute(_CHECK_REFERENCES)
    op.execute(
        "CREATE TRIGGER position_references_on_insert AFTER INSERT ON position "
        "REFERENCING NEW TABLE AS inserted FOR EACH STATEMENT "
        "EXECUTE FUNCTION position_check_references()"
    )
    op.execute(_CHECK_MOVED)
    op.execute(
        "CREATE TRIGGER position_references_on_update AFTER UPDATE OF trader_id, coin "
        "ON position FOR EACH ROW "
        "WHEN (OLD.trader_id IS DISTINCT FROM NEW.trader_id OR OLD.coin IS DISTINCT FROM NEW.coin) "
        "EXECUTE FUNCTION position_check_moved_references()"
    )
    for column, table, key in _FOREIGN_KEYS.values():
        op.execute(_CHECK_DELETED.format(table=table, column=column, key=key))
        op.execute(
            f"CREATE TRIGGER {table}_not_held AFTER DELETE ON {table} "
            "REFERENCING OLD TABLE AS deleted FOR EACH STATEMENT "
            f"EXECUTE FUNCTION {table}_check_not_held()"
        )
    op.execute(
        _trade_check_references().replace(_TRADE_POSITIONS_HASHED, _TRADE_POSITIONS_PROBED)
    )


def downgrade() -> None:
    op.execute(_trade_check_references())
    for _column, table, _key in _FOREIGN_KEYS.values():
        op.execute(f"DROP TRIGGER {table}_not_held ON {table}")
        op.execute(f"DROP FUNCTION {table}_check_not_held()")
    op.execute("DROP TRIGGER position_references_on_update ON position")
    op.execute("DROP FUNCTION position_check_moved_references()")
    op.execute("DROP TRIGGER position_references_on_insert ON position")
    op.execute("DROP FUNCTION position_check_references()")
    for name, (column, table, key) in _FOREIGN_KEYS.items():
        op.create_foreign_key(name, "position", table, [column], [key])
