"""Fixed periods: the calendar (ISO weeks across a year end, month lengths) and frozen boards."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import psycopg
import pytest

from db.periods import Period, PeriodType, ended_periods, parse_period, period_containing
from db.pool import connect
from ingest.scoring import snapshot_periods
from ingest.writer import MarketSpec, upsert_markets, write_fills
from tests.conftest import SEEDED_END
from tests.ingest.factories import one_buy


def _at(year: int, month: int, day: int, hour: int = 0) -> datetime:
    return datetime(year, month, day, hour, tzinfo=UTC)


@pytest.mark.parametrize(
    ("moment", "period_type", "name", "start", "end"),
    [
        (
            _at(2026, 10, 31, 23),
            PeriodType.DAILY,
            "2026-10-31",
            _at(2026, 10, 31),
            _at(2026, 11, 1),
        ),
        # 2026-11-01 is a Sunday: the last day of ISO week 44, which began on Monday the 26th
        (_at(2026, 11, 1, 5), PeriodType.WEEKLY, "2026-W44", _at(2026, 10, 26), _at(2026, 11, 2)),
        # 2027-01-01 (a Friday) still belongs to ISO week 53 of 2026
        (_at(2027, 1, 1), PeriodType.WEEKLY, "2026-W53", _at(2026, 12, 28), _at(2027, 1, 4)),
        (_at(2028, 2, 29, 12), PeriodType.MONTHLY, "2028-02", _at(2028, 2, 1), _at(2028, 3, 1)),
        (_at(2026, 12, 31), PeriodType.MONTHLY, "2026-12", _at(2026, 12, 1), _at(2027, 1, 1)),
    ],
)
def test_periods_follow_the_calendar(
    moment: datetime, period_type: PeriodType, name: str, start: datetime, end: datetime
) -> None:
    period = period_containing(moment, period_type)
    assert (period.name, period.start, period.end) == (name, start, end)
    assert period.key == f"{period_type.value}:{name}"
    assert parse_period(period_type, name) == period


@pytest.mark.parametrize(
    ("period_type", "name"),
    [
        (PeriodType.DAILY, "2026-13-01"),
        (PeriodType.WEEKLY, "2026-W54"),
        (PeriodType.WEEKLY, "2026-44"),
        (PeriodType.MONTHLY, "2026-1"),
        (PeriodType.MONTHLY, "2026-10-01"),
    ],
)
def test_malformed_period_names_are_refused(period_type: PeriodType, name: str) -> None:
    with pytest.raises(ValueError, match=r"."):
        parse_period(period_type, name)


def test_only_ended_periods_with_history_are_listed() -> None:
    periods = ended_periods(_at(2026, 10, 22), SEEDED_END, PeriodType.WEEKLY, 10)
    # W44 has not ended at midnight on Sunday the 1st; W43 holds the first trade
    assert [p.name for p in periods] == ["2026-W43"]
    daily = ended_periods(_at(2026, 10, 22, 0), SEEDED_END, PeriodType.DAILY, 3)
    assert [p.name for p in daily] == ["2026-10-31", "2026-10-30", "2026-10-29"]
    assert isinstance(daily[0], Period)


async def test_period_boards_are_snapshotted_once_and_frozen(seeded_url: str) -> None:
    # given the seeded market, whose history runs from 22 October to 1 November 2026
    with psycopg.connect(seeded_url) as connection:
        keys = {
            key: (count, computed_at)
            for key, count, computed_at in connection.execute(
                "SELECT timeframe, trader_count, computed_at FROM leaderboard_state "
                "WHERE timeframe LIKE '%:%'"
            )
        }
        # then every ended period has a board, computed as of the period's last microsecond
        expected = {f"DAILY:2026-10-{day}" for day in range(22, 32)}
        expected |= {"WEEKLY:2026-W43", "MONTHLY:2026-10"}
        assert set(keys) == expected
        assert keys["MONTHLY:2026-10"][1] == _at(2026, 11, 1) - timedelta(microseconds=1)
        october = connection.execute(
            "SELECT count(DISTINCT trader_id) FROM trade WHERE timestamp >= %s AND timestamp < %s",
            (_at(2026, 10, 1), _at(2026, 11, 1)),
        ).fetchone()
        assert october is not None
        assert keys["MONTHLY:2026-10"][0] == october[0]
        ranks = [
            r[0]
            for r in connection.execute(
                "SELECT rank FROM trader_stats WHERE timeframe = 'DAILY:2026-10-25' ORDER BY rank"
            )
        ]
        assert ranks == list(range(1, len(ranks) + 1))
        assert ranks
    # when snapshotting again, later
    connection_async = await connect(seeded_url)
    try:
        async with connection_async.transaction(force_rollback=True):
            written = await snapshot_periods(connection_async, _at(2026, 11, 1, 12))
            # then nothing already frozen is recomputed (and nothing new has ended yet)
            assert written == []
    finally:
        await connection_async.close()


async def test_a_period_holds_the_fills_of_start_to_end_not_of_its_end(empty_url: str) -> None:
    # given fills at exactly midnight on 5 October, at its last microsecond, and at midnight
    # on the 6th (each by its own trader, so boards say whose fills they hold)
    connection = await connect(empty_url)
    try:
        await upsert_markets(connection, [MarketSpec("BTC", "test", 5, 40, Decimal(100))])
        moments = {
            "at-start": _at(2026, 10, 5),
            "last-instant": _at(2026, 10, 6) - timedelta(microseconds=1),
            "next-day": _at(2026, 10, 6),
        }
        fills = [one_buy(address, moment) for address, moment in moments.items()]
        await write_fills(connection, fills, source="unit", checkpoint="1")
        # when the ended periods are snapshotted
        async with connection.transaction():
            await snapshot_periods(connection, _at(2026, 10, 8))
        cursor = await connection.execute(
            "SELECT s.timeframe, array_agg(t.address ORDER BY t.address), min(s.computed_at) "
            "FROM trader_stats s JOIN trader t ON t.id = s.trader_id "
            "WHERE s.timeframe LIKE 'DAILY:%' GROUP BY s.timeframe"
        )
        boards = {
            key: (traders, computed_at) for key, traders, computed_at in await cursor.fetchall()
        }
    finally:
        await connection.close()
    # then each day's board holds the fills of [midnight, next midnight)
    assert boards["DAILY:2026-10-05"][0] == ["at-start", "last-instant"]
    assert boards["DAILY:2026-10-06"][0] == ["next-day"]
    assert "DAILY:2026-10-04" not in boards
    assert boards["DAILY:2026-10-05"][1] == _at(2026, 10, 6) - timedelta(microseconds=1)
