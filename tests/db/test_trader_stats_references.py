"""trader_stats' trader (migration 0007): checked per statement, as strictly as a foreign key."""

from __future__ import annotations

import psycopg
import pytest
from psycopg import errors

_STATS = (
    "INSERT INTO trader_stats (trader_id, timeframe, rank, tier, computed_at) "
    "SELECT t, w, 1, 'ALL', now() FROM unnest(%s::bigint[]) AS t, unnest(%s::text[]) AS w"
)


def test_statistics_of_existing_traders_are_stored(connection: psycopg.Connection) -> None:
    connection.execute(_STATS, ([1], ["DAY"]))
    connection.execute(_STATS, ([2], ["DAY", "WEEK"]))
    connection.execute("UPDATE trader_stats SET timeframe = 'MONTH' WHERE trader_id = 1")
    connection.execute("UPDATE trader_stats SET trader_id = 1 WHERE timeframe = 'WEEK'")
    rows = connection.execute(
        "SELECT trader_id, timeframe FROM trader_stats ORDER BY trader_id, timeframe"
    ).fetchall()
    assert rows == [(1, "MONTH"), (1, "WEEK"), (2, "DAY")]


@pytest.mark.parametrize("traders", [[3], [1, 3], [3, 4]], ids=["alone", "among", "both"])
def test_statistics_of_a_trader_that_does_not_exist_are_rejected(
    connection: psycopg.Connection, traders: list[int]
) -> None:
    with pytest.raises(errors.ForeignKeyViolation, match="refers to a trader"):
        connection.execute(_STATS, (traders, ["DAY"]))
    row = connection.execute("SELECT count(*) FROM trader_stats").fetchone()
    assert row == (0,)


def test_an_update_cannot_break_the_reference(connection: psycopg.Connection) -> None:
    connection.execute(_STATS, ([1], ["DAY"]))
    with pytest.raises(errors.ForeignKeyViolation):
        connection.execute("UPDATE trader_stats SET trader_id = 3")


def test_a_trader_with_statistics_cannot_be_deleted(connection: psycopg.Connection) -> None:
    connection.execute(_STATS, ([1], ["DAY"]))
    with pytest.raises(errors.ForeignKeyViolation, match="would leave statistics"):
        connection.execute("DELETE FROM trader")
    connection.execute("DELETE FROM trader WHERE id = 2")
    row = connection.execute("SELECT count(*) FROM trader").fetchone()
    assert row == (1,)
