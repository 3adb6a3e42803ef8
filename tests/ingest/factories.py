"""Fills for writer tests: one trader pair, two markets, minutes after a fixed start."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from ingest.fills import Direction, Fill

START = datetime(2026, 11, 1, 12, tzinfo=UTC)
ALICE = "0x00000000000000000000000000000000000a11ce"
BOB = "0x0000000000000000000000000000000000000b0b"


def fill(
    fill_id: str,
    direction: Direction,
    size: str,
    price: str,
    *,
    address: str = ALICE,
    coin: str = "BTC",
    minutes: int = 0,
    fee: str = "1",
    leverage: float | None = 10,
    is_liquidation: bool = False,
) -> Fill:
    return Fill(
        venue="test",
        fill_id=fill_id,
        address=address,
        coin=coin,
        direction=direction,
        size=Decimal(size),
        price=Decimal(price),
        timestamp=START + timedelta(minutes=minutes),
        fee=Decimal(fee),
        is_liquidation=is_liquidation,
        leverage=leverage,
    )


BUY, SELL = Direction.BUY, Direction.SELL


def one_buy(address: str, at: datetime) -> Fill:
    """``address`` buys 1 BTC at 100, fee-free, at ``at``; the fill id is the address (one
    fill per trader: boards of such traders say whose fills they hold)."""
    return Fill(
        venue="test",
        fill_id=address,
        address=address,
        coin="BTC",
        direction=Direction.BUY,
        size=Decimal(1),
        price=Decimal(100),
        timestamp=at,
        fee=Decimal(0),
    )
