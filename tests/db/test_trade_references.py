"""trade's references (migration 0003): checked per statement, as strictly as foreign keys."""

from __future__ import annotations

import psycopg
import pytest
from psycopg import errors

_TRADE = (
    "INSERT INTO trade (venue, venue_fill_id, trader_id, position_id, closed_position_id, coin, "
    "timestamp, side, direction, action, size, price, notional, start_position) "
    "VALUES ('hl', %s, %s, %s, %s, %s, now(), 'LONG', 'BUY', 'OPEN', 1, 1, 1, 0)"
)


@pytest.fixture
def connection(connection: psycopg.Connection) -> psycopg.Connection:
    """The markets and traders of the shared fixture, and trader 1's BTC position 1."""
    connection.execute(
        "INSERT INTO position (id, trader_id, coin, side, size, max_size, entry_price, "
        "opened_at, last_fill_at) VALUES (1, 1, 'BTC', 'LONG', 1, 1, 1, now(), now())"
    )
    return connection


def test_a_trade_with_existing_references_is_stored(connection: psycopg.Connection) -> None:
    connection.execute(_TRADE, ("f1", 1, 1, 1, "BTC"))
    connection.execute(_TRADE, ("f2", 1, None, None, "BTC"))
    row = connection.execute("SELECT count(*) FROM trade").fetchone()
    assert row == (2,)


@pytest.mark.parametrize(
    ("trader", "position", "closed", "coin"),
    [(3, 1, None, "BTC"), (1, 9, None, "BTC"), (1, 1, 9, "BTC"), (1, 1, None, "ETH")],
    ids=["trader", "position", "closed position", "market"],
)
def test_a_trade_referring_to_nothing_is_rejected(
    connection: psycopg.Connection, trader: int, position: int, closed: int | None, coin: str
) -> None:
    with pytest.raises(errors.ForeignKeyViolation):
        connection.execute(_TRADE, ("f1", trader, position, closed, coin))
    row = connection.execute("SELECT count(*) FROM trade").fetchone()
    assert row == (0,)


def test_an_update_cannot_break_a_reference(connection: psycopg.Connection) -> None:
    connection.execute(_TRADE, ("f1", 1, 1, None, "BTC"))
    with pytest.raises(errors.ForeignKeyViolation):
        connection.execute("UPDATE trade SET position_id = 9")


@pytest.mark.parametrize(
    "statement",
    [
        "DELETE FROM position WHERE id = 1",
        "DELETE FROM trader WHERE id = 2",
        "DELETE FROM market WHERE coin = 'SOL'",
    ],
)
def test_rows_a_trade_refers_to_cannot_be_deleted(
    connection: psycopg.Connection, statement: str
) -> None:
    # given trades referring to a position, and to a trader and a market without positions
    connection.execute(_TRADE, ("f1", 1, 1, None, "BTC"))
    connection.execute(_TRADE, ("f2", 2, None, None, "SOL"))
    # then none of them can be deleted from under the trades
    with pytest.raises(errors.ForeignKeyViolation, match="would leave trades"):
        connection.execute(statement)


def test_rows_no_trade_refers_to_can_be_deleted(connection: psycopg.Connection) -> None:
    connection.execute("DELETE FROM position WHERE id = 1")
    connection.execute("DELETE FROM trader WHERE id = 2")
    connection.execute("DELETE FROM market WHERE coin = 'SOL'")
