"""Fixtures of the database tests."""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest

from tests.conftest import DatabaseFactory


@pytest.fixture
def connection(make_database: DatabaseFactory) -> Iterator[psycopg.Connection]:
    """An autocommit connection to a fresh database holding what the reference checks look
    for: markets BTC and SOL, traders 1 and 2."""
    url = make_database.create("references")
    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute(
            "INSERT INTO market (coin, venue, size_decimals, max_leverage) "
            "VALUES ('BTC', 'hl', 5, 40), ('SOL', 'hl', 2, 20)"
        )
        connection.execute(
            "INSERT INTO trader (id, venue, address, public_id, first_seen_at) "
            "VALUES (1, 'hl', '0xa', '#10000001', now()), (2, 'hl', '0xb', '#10000002', now())"
        )
        yield connection
