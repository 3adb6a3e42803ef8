"""The peer harness's seeded rows, loaded into a perpgraph database on the same server.

The PostGraphile harness (``shared/bench/peer-postgraphile``) seeds its own four tables. This
copies those exact rows into perpgraph's schema (migrated with Alembic like any perpgraph
database), keeping every id, so both gateways answer from the same data:

========================  =====================================================================
peer table                perpgraph rows
========================  =====================================================================
trader                    trader (venue ``peer``; ``last_trade_at`` from its newest trade)
position                  position (side upper-cased, ``last_fill_at`` = ``updated_at``,
                          ``notional`` = size x mark)
trade                     trade (``timestamp`` = ``ts``, ``venue_fill_id`` = id, direction
                          derived from side and action, notional = size x price)
leaderboard_entry         trader_stats (24h/7d/30d/365d = DAY/WEEK/MONTH/YEAR; ``pnl`` is the
                          net PnL) and one leaderboard_state row per board
========================  =====================================================================

The copy streams binary COPY from one connection to the other. The database is reused while
its comment matches the peer data's fingerprint, so a second run skips the load.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import psycopg
from psycopg import sql
from psycopg.conninfo import make_conninfo

from bench.support import database_url
from db.migrate import upgrade

#: The peer's timeframes and the perpgraph boards they become.
TIMEFRAMES = {"24h": "DAY", "7d": "WEEK", "30d": "MONTH", "365d": "YEAR"}

_FINGERPRINT = """
SELECT md5(string_agg(part, '|')) FROM (
  SELECT (SELECT count(*) FROM trader)::text AS part
  UNION ALL SELECT (SELECT count(*) FROM position)::text
  UNION ALL SELECT (SELECT count(*) FROM trade)::text
  UNION ALL SELECT (SELECT coalesce(sum(id), 0) FROM trade)::text
  UNION ALL SELECT (SELECT md5(string_agg(trader_id || ':' || rank || ':' || score, ','
                                          ORDER BY timeframe, rank))
                    FROM leaderboard_entry)
) parts
"""

#: (perpgraph table, its columns, the SELECT over the peer's tables that produces them).
_COPIES: list[tuple[str, str, str]] = [
    (
        "market",
        "coin, venue, size_decimals, max_leverage",
        "SELECT DISTINCT coin, 'peer', 6, 50 FROM position "
        "UNION SELECT DISTINCT coin, 'peer', 6, 50 FROM trade",
    ),
    (
        "trader",
        "id, venue, address, public_id, label, first_seen_at, last_trade_at",
        "SELECT t.id, 'peer', t.address, t.public_id, t.label, t.first_seen, "
        "(SELECT max(ts) FROM trade WHERE trade.trader_id = t.id) FROM trader t",
    ),
    (
        "position",
        "id, trader_id, coin, side, size, max_size, entry_price, leverage, mark_price, "
        "notional, unrealized_pnl, opened_at, last_fill_at, closed_at",
        "SELECT id, trader_id, coin, upper(side), size, size, entry_price, leverage::float8, "
        "mark_price, size * mark_price, unrealized_pnl, opened_at, updated_at, closed_at "
        "FROM position",
    ),
    (
        "trade",
        "id, venue, venue_fill_id, trader_id, position_id, coin, timestamp, side, direction, "
        "action, size, price, notional, realized_pnl, fee",
        "SELECT id, 'peer', id::text, trader_id, position_id, coin, ts, upper(side), "
        "CASE WHEN (side = 'long') = (action IN ('OPEN', 'ADD', 'FLIP')) "
        "THEN 'BUY' ELSE 'SELL' END, action, size, price, size * price, realized_pnl, fee "
        "FROM trade",
    ),
    (
        "trader_stats",
        "trader_id, timeframe, rank, score, net_pnl, realized_pnl, roi, win_rate, volume, "
        "tier, computed_at",
        "SELECT trader_id, CASE timeframe "
        + " ".join(f"WHEN '{peer}' THEN '{ours}'" for peer, ours in TIMEFRAMES.items())
        + " END, rank, score::float8, pnl, pnl, roi::float8, win_rate::float8, volume, "
        "'ALL', timestamptz '2026-01-01 00:00:00+00' FROM leaderboard_entry",
    ),
    (
        "leaderboard_state",
        "timeframe, computed_at, trader_count",
        "SELECT CASE timeframe "
        + " ".join(f"WHEN '{peer}' THEN '{ours}'" for peer, ours in TIMEFRAMES.items())
        + " END, timestamptz '2026-01-01 00:00:00+00', count(*)::int "
        "FROM leaderboard_entry GROUP BY timeframe",
    ),
]

#: Tables whose secondary indexes are dropped during the copy and rebuilt after it.
_REINDEXED = ("trade", "position", "trader_stats")


def peer_fingerprint(peer_url: str) -> str:
    with psycopg.connect(peer_url) as connection:
        row = connection.execute(_FINGERPRINT).fetchone()
    if row is None or row[0] is None:
        raise RuntimeError(f"the peer database at {peer_url} holds no seeded data")
    return str(row[0])


def load_peer_data(
    peer_url: str, target_name: str, say: Callable[[str], None] = print
) -> tuple[str, bool]:
    """The URL of a perpgraph database holding the peer's rows, and whether it was (re)loaded.

    ``peer_url`` is the harness's database; the perpgraph database ``target_name`` is created
    on the same server."""
    fingerprint = peer_fingerprint(peer_url)
    target_url = make_conninfo(peer_url, dbname=target_name)
    marker = f"perpgraph copy of the peer data {fingerprint}"
    with psycopg.connect(make_conninfo(peer_url, dbname="postgres"), autocommit=True) as admin:
        row = admin.execute(
            "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = %s",
            (target_name,),
        ).fetchone()
        if row is not None and row[0] == marker:
            say(f"perpgraph database {target_name} already holds the peer data ({fingerprint})")
            return database_url(target_url), False
        if row is not None:
            admin.execute(
                sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(target_name))
            )
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(target_name)))
    url = database_url(target_url)
    upgrade(url)
    started = time.perf_counter()
    with psycopg.connect(peer_url) as source, psycopg.connect(target_url) as target:
        rebuild = _drop_secondary_indexes(target)
        for table, columns, select in _COPIES:
            began = time.perf_counter()
            _stream(source, target, table, columns, select)
            say(f"  {table}: copied in {time.perf_counter() - began:.1f} s")
        began = time.perf_counter()
        for definition in rebuild:
            # The peer's synthetic traders sometimes hold two open positions in one coin, which
            # perpgraph's writer never produces (one net position per coin, as on the venue):
            # that index is rebuilt without its uniqueness so the rows load unchanged.
            statement = definition.replace(
                "UNIQUE INDEX position_one_open_per_coin", "INDEX position_one_open_per_coin"
            )
            target.execute(statement)
        target.execute(
            "SELECT setval(pg_get_serial_sequence(t, 'id'), (SELECT max(id) FROM trader)) "
            "FROM (VALUES ('trader')) v(t)"
        )
        for table in ("position", "trade"):
            target.execute(
                sql.SQL(
                    "SELECT setval(pg_get_serial_sequence({}, 'id'), (SELECT max(id) FROM {}))"
                ).format(sql.Literal(table), sql.Identifier(table))
            )
        target.commit()
        say(f"  indexes rebuilt in {time.perf_counter() - began:.1f} s")
    with psycopg.connect(target_url, autocommit=True) as target:
        target.execute("VACUUM ANALYZE")
    with psycopg.connect(make_conninfo(peer_url, dbname="postgres"), autocommit=True) as admin:
        admin.execute(
            sql.SQL("COMMENT ON DATABASE {} IS {}").format(
                sql.Identifier(target_name), sql.Literal(marker)
            )
        )
    say(f"peer data loaded into {target_name} in {time.perf_counter() - started:.1f} s")
    return url, True


def _stream(
    source: psycopg.Connection, target: psycopg.Connection, table: str, columns: str, select: str
) -> None:
    copy_out = sql.SQL("COPY ({}) TO STDOUT (FORMAT BINARY)").format(sql.SQL(select))
    copy_in = sql.SQL("COPY {} ({}) FROM STDIN (FORMAT BINARY)").format(
        sql.Identifier(table),
        sql.SQL(columns),
    )
    with source.cursor().copy(copy_out) as out, target.cursor().copy(copy_in) as into:
        for chunk in out:
            into.write(chunk)


def _drop_secondary_indexes(target: psycopg.Connection) -> list[str]:
    """Drop the indexes no constraint owns on the bulk-loaded tables; return their DDL."""
    rows = target.execute(
        "SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) "
        "FROM pg_index i JOIN pg_class t ON t.oid = i.indrelid "
        "WHERE t.relname = ANY(%s) AND NOT EXISTS "
        "(SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)",
        (list(_REINDEXED),),
    ).fetchall()
    for name, _ in rows:
        target.execute(sql.SQL("DROP INDEX {}").format(sql.Identifier(name)))
    return [definition for _, definition in rows]
