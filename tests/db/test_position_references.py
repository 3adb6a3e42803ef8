"""position's references (migration 0004): checked per statement, as strictly as foreign keys."""

from __future__ import annotations

import psycopg
import pytest
from psycopg import errors

_POSITION = (
    "INSERT INTO position (trader_id, coin, side, size, max_size, entry_price, opened_at, "
    "last_fill_at) VALUES (%s, %s, 'LONG', 1, 1, 1, now(), now())"
)


def test_positions_with_existing_references_are_stored(connection: psycopg.Connection) -> None:
    connection.execute(_POSITION, (1, "BTC"))
    connection.execute(_POSITION, (2, "SOL"))
    connection.execute("UPDATE position SET size = 2, coin = 'SOL' WHERE trader_id = 1")
    row = connection.execute("SELECT count(*), sum(size) FROM position").fetchone()
    assert row == (2, 3)


@pytest.mark.parametrize(("trader", "coin"), [(3, "BTC"), (1, "ETH")], ids=["trader", "market"])
def test_a_position_referring_to_nothing_is_rejected(
    connection: psycopg.Connection, trader: int, coin: str
) -> None:
    with pytest.raises(errors.ForeignKeyViolation):
        connection.execute(_POSITION, (trader, coin))
    row = connection.execute("SELECT count(*) FROM position").fetchone()
    assert row == (0,)


@pytest.mark.parametrize("change", ["trader_id = 3", "coin = 'ETH'"], ids=["trader", "market"])
def test_an_update_cannot_break_a_reference(connection: psycopg.Connection, change: str) -> None:
    connection.execute(_POSITION, (1, "BTC"))
    with pytest.raises(errors.ForeignKeyViolation):
        connection.execute(f"UPDATE position SET {change}")


@pytest.mark.parametrize(
    "statement", ["DELETE FROM trader WHERE id = 1", "DELETE FROM market WHERE coin = 'BTC'"]
)
def test_rows_a_position_refers_to_cannot_be_deleted(
    connection: psycopg.Connection, statement: str
) -> None:
    connection.execute(_POSITION, (1, "BTC"))
    with pytest.raises(errors.ForeignKeyViolation, match="would leave positions"):
        connection.execute(statement)


def test_rows_no_position_refers_to_can_be_deleted(connection: psycopg.Connection) -> None:
    connection.execute(_POSITION, (1, "BTC"))
    connection.execute("DELETE FROM trader WHERE id = 2")
    connection.execute("DELETE FROM market WHERE coin = 'SOL'")
    row = connection.execute("SELECT count(*) FROM trader").fetchone()
    assert row == (1,)
