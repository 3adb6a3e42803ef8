"""The other live streams a front-end needs: board changes, marks, a watchlist's positions.

``leaderboard_updates`` follows the scoring job's NOTIFY through the feed. Marks and open
positions change with every mark refresh, far more often than a screen can show, so those two
streams read the current state at most once per interval and send it only when it changed.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from typing import Any

from psycopg import sql

from db.query import fetch_rows
from db.rows import MarketRow, PositionRow, select_list
from resolvers.live import EventFeed

_MARKETS = sql.SQL(
    "SELECT {} FROM market WHERE %s::text[] IS NULL OR coin = ANY(%s) ORDER BY coin"
).format(select_list(MarketRow))
_OPEN_POSITIONS = sql.SQL(
    "SELECT {} FROM position WHERE trader_id = ANY(%s) AND closed_at IS NULL "
    "ORDER BY trader_id, notional DESC, id DESC"
).format(select_list(PositionRow))


async def leaderboard_updates(feed: EventFeed) -> AsyncIterator[int]:
    """Yields once now and then after every recomputation of the boards."""
    version = feed.leaderboard_version
    yield version
    while True:
        version = await feed.board_change(version)
        yield version


async def mark_updates(
    feed: EventFeed, coins: Sequence[str] | None, interval: float
) -> AsyncIterator[list[MarketRow]]:
    """The markets' current marks, whenever they changed, checked every ``interval`` seconds."""
    previous: list[tuple[Any, Any]] | None = None
    selected = list(coins) if coins is not None else None
    while True:
        rows = await fetch_rows(feed.pool, _MARKETS, (selected, selected))
        marks = [(row[0], row[2]) for row in rows]
        if marks != previous:
            previous = marks
            yield [MarketRow.from_row(row) for row in rows]
        await asyncio.sleep(interval)


async def position_updates(
    feed: EventFeed, trader_ids: Sequence[int], interval: float
) -> AsyncIterator[list[PositionRow]]:
    """The traders' open positions, whenever any changed, checked every ``interval`` seconds."""
    previous: list[tuple[Any, ...]] | None = None
    while True:
        rows = await fetch_rows(feed.pool, _OPEN_POSITIONS, (list(trader_ids),))
        if rows != previous:
            previous = rows
            yield [PositionRow.from_row(row) for row in rows]
        await asyncio.sleep(interval)
