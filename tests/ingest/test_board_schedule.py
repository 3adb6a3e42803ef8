"""YEAR and ALL_TIME on a longer interval than the other windows, when the operator asks."""

from __future__ import annotations

from datetime import UTC, datetime

import psycopg
import pytest

from db.pool import connect
from db.timeframes import Timeframe
from ingest.board_schedule import SHORT_WINDOWS, BoardSchedule, recompute_due
from ingest.simulate import SimulationPlan, write_history

EVERY_BOARD = tuple(Timeframe)


def test_without_a_long_interval_every_recompute_computes_every_board() -> None:
    schedule = BoardSchedule()
    for now in (0.0, 60.0, 120.0):
        assert schedule.due(now) == EVERY_BOARD
        schedule.done(EVERY_BOARD, now)


@pytest.mark.parametrize(
    ("now", "expected"),
    [(60.0, SHORT_WINDOWS), (599.9, SHORT_WINDOWS), (600.0, EVERY_BOARD), (900.0, EVERY_BOARD)],
)
def test_the_long_windows_wait_for_their_interval_from_the_start_of_their_last_recompute(
    now: float, expected: tuple[Timeframe, ...]
) -> None:
    # given a first recompute of every board, begun at 0 and finished
    schedule = BoardSchedule(long_every=600.0)
    assert schedule.due(0.0) == EVERY_BOARD
    schedule.done(EVERY_BOARD, 0.0)
    # and a short one at 30 s
    schedule.done(schedule.due(30.0), 30.0)
    # then the boards due at ``now``
    assert schedule.due(now) == expected


def test_a_recompute_that_failed_is_tried_again_in_full() -> None:
    schedule = BoardSchedule(long_every=600.0)
    assert schedule.due(0.0) == EVERY_BOARD  # and it fails: done() is never called
    assert schedule.due(60.0) == EVERY_BOARD


def _state(url: str) -> dict[str, datetime]:
    with psycopg.connect(url) as connection:
        rows = connection.execute("SELECT timeframe, computed_at FROM leaderboard_state").fetchall()
    return dict(rows)


SENTINEL = datetime(2001, 1, 1, tzinfo=UTC)


def _sentinel_labels(url: str) -> int:
    """Labels assigned at :data:`SENTINEL`: none that a recompute of ALL_TIME would keep."""
    with psycopg.connect(url) as connection:
        row = connection.execute(
            "SELECT count(*) FROM trader_label WHERE assigned_at = %s", (SENTINEL,)
        ).fetchone()
    return 0 if row is None else int(row[0])


async def test_recomputes_between_long_ones_leave_year_all_time_and_labels_as_they_are(
    empty_url: str,
) -> None:
    # given a market and a schedule recomputing YEAR and ALL_TIME once an hour
    connection = await connect(empty_url)
    try:
        await write_history(
            connection, SimulationPlan(traders=40, days=5, seed=3), end=datetime.now(UTC)
        )
        schedule = BoardSchedule(long_every=3600.0)
        # when it recomputes twice in a row, a label marked between the two
        first = await recompute_due(connection, schedule, partitions=2)
        after_first = _state(empty_url)
        await connection.execute(
            "INSERT INTO trader_label (trader_id, label, assigned_at) "
            "SELECT min(id), 'WHALE', %s FROM trader",
            (SENTINEL,),
        )
        second = await recompute_due(connection, schedule, partitions=2)
        after_second = _state(empty_url)
        labels_after_second = _sentinel_labels(empty_url)
        # (and, to compare, once more with every board)
        await recompute_due(connection, BoardSchedule(), partitions=2)
    finally:
        await connection.close()
    # then the first computed every board and the second the short windows only
    assert [board.timeframe for board in first] == [window.value for window in EVERY_BOARD]
    assert [board.timeframe for board in second] == [window.value for window in SHORT_WINDOWS]
    for window in SHORT_WINDOWS:
        assert after_second[window.value] > after_first[window.value]
    for window in (Timeframe.YEAR, Timeframe.ALL_TIME):
        assert after_second[window.value] == after_first[window.value]
    # and the labels derived from ALL_TIME were left alone, which a full recompute does not do
    assert labels_after_second == 1
    assert _sentinel_labels(empty_url) == 0
