"""A trader's statistics in one window."""

from __future__ import annotations

from psycopg import sql

from db.query import fetch_rows
from db.rows import TraderStatsRow, select_list
from loaders.base import PoolLoader, one_per_key

StatsKey = tuple[int, str]
"""(trader id, timeframe name)"""

_BY_TRADER = sql.SQL(
    "SELECT {} FROM unnest(%s::bigint[], %s::text[]) AS k(trader_id, timeframe) "
    "JOIN trader_stats AS s USING (trader_id, timeframe)"
).format(select_list(TraderStatsRow, "s"))


class TraderStatsByTraderLoader(PoolLoader[StatsKey, TraderStatsRow | None]):
    async def batch_load_fn(self, keys: list[StatsKey]) -> list[TraderStatsRow | None]:
        rows = await fetch_rows(self.pool, _BY_TRADER, ([k[0] for k in keys], [k[1] for k in keys]))
        return one_per_key(
            keys, map(TraderStatsRow.from_row, rows), lambda s: (s.trader_id, s.timeframe)
        )


_LATEST_PERIODS = (
    "SELECT DISTINCT ON (k.period_type) k.period_type, l.timeframe "
    "FROM unnest(%s::text[]) AS k(period_type) "
    "JOIN leaderboard_state AS l ON l.timeframe LIKE k.period_type || ':%%' "
    "ORDER BY k.period_type, l.computed_at DESC, l.timeframe DESC"
)


class LatestPeriodLoader(PoolLoader[str, str | None]):
    """The board key of the latest snapshotted period of a type (DAILY, WEEKLY, MONTHLY)."""

    async def batch_load_fn(self, keys: list[str]) -> list[str | None]:
        rows = await fetch_rows(self.pool, _LATEST_PERIODS, (keys,))
        latest = {str(period_type): str(key) for period_type, key in rows}
        return [latest.get(key) for key in keys]
