"""Migrations build exactly the tables the models describe, and index what loaders read."""

from __future__ import annotations

import psycopg
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine
from sqlmodel import SQLModel

import db.access  # registers the access-control tables
import db.models  # noqa: F401  (registers the tables)
from db.migrate import sqlalchemy_url, upgrade
from tests.conftest import DatabaseFactory


def test_migrations_match_the_models(make_database: DatabaseFactory) -> None:
    # given a database migrated to head
    url = make_database.create("migrations")
    # when alembic compares it with the models
    engine = create_engine(sqlalchemy_url(url))
    with engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), SQLModel.metadata)
    engine.dispose()
    # then there is nothing left to migrate
    assert differences == []


def test_upgrade_is_idempotent(make_database: DatabaseFactory) -> None:
    url = make_database.create("idempotent")
    upgrade(url)
    upgrade(url)
    with psycopg.connect(url) as connection:
        row = connection.execute("SELECT version_num FROM alembic_version").fetchone()
    assert row is not None


def test_every_foreign_key_leads_an_index(make_database: DatabaseFactory) -> None:
    # given the migrated schema
    url = make_database.create("foreign_keys")
    with psycopg.connect(url) as connection:
        rows = connection.execute(
            """
            SELECT c.conrelid::regclass::text, a.attname
            FROM pg_constraint AS c
            JOIN pg_attribute AS a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1]
            WHERE c.contype = 'f'
              AND NOT EXISTS (
                  SELECT 1 FROM pg_index AS i
                  WHERE i.indrelid = c.conrelid AND i.indkey[0] = c.conkey[1])
            """
        ).fetchall()
    # then no foreign key column is left without an index that starts with it
    assert rows == []


def test_trader_pages_keep_room_for_hot_updates(make_database: DatabaseFactory) -> None:
    # given the migrated schema (the writer updates every trader of a batch, once per batch)
    url = make_database.create("fillfactor")
    with psycopg.connect(url) as connection:
        row = connection.execute("SELECT reloptions FROM pg_class WHERE relname = 'trader'")
        options = row.fetchone()
    # then trader's pages are filled to half, leaving room for the new versions
    assert options == (["fillfactor=50"],)


def test_a_mark_refresh_touches_no_indexed_column(make_database: DatabaseFactory) -> None:
    # given the migrated schema (a mark refresh rewrites every open position, every few seconds)
    url = make_database.create("hot_refresh")
    refreshed = {"mark_price", "notional", "unrealized_pnl", "liquidation_price"}
    with psycopg.connect(url) as connection:
        indexed = {
            column
            for (column,) in connection.execute(
                "SELECT a.attname FROM pg_index AS i "
                "JOIN pg_attribute AS a ON a.attrelid = i.indrelid "
                "WHERE i.indrelid = 'position'::regclass AND (a.attnum = ANY(i.indkey) "
                "OR pg_get_expr(i.indexprs, i.indrelid) LIKE '%%' || a.attname || '%%' "
                "OR pg_get_expr(i.indpred, i.indrelid) LIKE '%%' || a.attname || '%%')"
            )
        }
        row = connection.execute("SELECT reloptions FROM pg_class WHERE relname = 'position'")
        options = row.fetchone()
    # then no index (key, expression or predicate) names a column the refresh changes, and the
    # pages keep room for the new versions: the refresh's updates can be HOT
    assert {"closed_at", "coin", "trader_id"} <= indexed  # the query does see the indexes
    assert indexed & refreshed == set()
    assert options == (["fillfactor=85"],)
