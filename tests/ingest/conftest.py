"""Fixtures for ingestion tests."""

from __future__ import annotations

from decimal import Decimal

import pytest

from db.pool import connect
from ingest.writer import MarketSpec, upsert_markets


@pytest.fixture
async def market_url(empty_url: str) -> str:
    connection = await connect(empty_url)
    await upsert_markets(
        connection,
        [
            MarketSpec("BTC", "test", 5, 40, Decimal("100")),
            MarketSpec("ETH", "test", 4, 25, Decimal("10")),
        ],
    )
    await connection.close()
    return empty_url
