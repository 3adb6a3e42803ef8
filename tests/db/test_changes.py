"""What a statement reads, as the response cache sees it, and the triggers that announce every
change of those tables."""

from __future__ import annotations

import psycopg
import pytest
from sqlmodel import SQLModel

import db.access
import db.models  # noqa: F401  (registers the data tables)
from db.changes import DATA_TABLES, OTHER_RELATIONS, tables_read
from tests.conftest import DatabaseFactory


@pytest.mark.parametrize(
    ("statement", "tables"),
    [
        ("SELECT id FROM trader WHERE id = ANY(%s)", {"trader"}),
        ('SELECT "id" FROM "position" WHERE trader_id = 1', {"position"}),
        (
            "SELECT s.rank FROM trader_stats s JOIN trader t ON t.id = s.trader_id",
            {"trader_stats", "trader"},
        ),
        (
            "SELECT k.ordinal, c.id FROM unnest(%s::bigint[]) WITH ORDINALITY AS k(p, ordinal) "
            "CROSS JOIN LATERAL (SELECT * FROM trade AS c WHERE c.trader_id = k.p LIMIT 3) AS c",
            {"trade"},
        ),
        (
            "WITH realized AS (SELECT trader_id FROM trade) SELECT * FROM realized "
            "JOIN market m ON true",
            {"trade", "market"},
        ),
        (
            "SELECT extract(epoch FROM p.closed_at - p.opened_at) FROM position p",
            {"position"},
        ),
        ("SELECT 1", set()),
    ],
)
def test_the_tables_a_statement_reads_are_named(statement: str, tables: set[str]) -> None:
    assert tables_read(statement) == frozenset(tables)


@pytest.mark.parametrize(
    "statement",
    [
        "SELECT * FROM api_key",
        "SELECT * FROM trader JOIN pg_class ON true",
        "SELECT * FROM trade, api_key",
        "SELECT t.id FROM trader t, alembic_version v",
        "SELECT * FROM trader t WHERE t.label IS DISTINCT FROM (SELECT x FROM unknown_table)",
    ],
)
def test_a_statement_reading_anything_else_cannot_be_told(statement: str) -> None:
    assert tables_read(statement) is None


def test_every_data_table_announces_its_changes(make_database: DatabaseFactory) -> None:
    # given the migrated schema
    url = make_database.create("changes")
    with psycopg.connect(url) as connection:
        announced = {
            row[0]
            for row in connection.execute(
                "SELECT c.relname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
                "WHERE t.tgname = c.relname || '_announce_change'"
            )
        }
    # then every table the graph can read carries the trigger, and the cache knows them all
    assert announced == DATA_TABLES
    assert set(SQLModel.metadata.tables) == DATA_TABLES | (OTHER_RELATIONS - {"alembic_version"})


def test_a_committed_change_is_announced_once_per_table(make_database: DatabaseFactory) -> None:
    url = make_database.create("announce")
    with psycopg.connect(url, autocommit=True) as listener, psycopg.connect(url) as writer:
        listener.execute("LISTEN perpgraph_data")
        writer.execute(
            "INSERT INTO market (coin, venue, size_decimals, max_leverage) "
            "VALUES ('AAA', 'test', 2, 5), ('BBB', 'test', 2, 5)"
        )
        writer.execute("UPDATE market SET max_leverage = 6")
        writer.commit()
        writer.execute("DELETE FROM market")
        writer.rollback()
        notices = [(n.channel, n.payload) for n in listener.notifies(timeout=1.0)]
    assert notices == [("perpgraph_data", "market")]
