"""Funding payments and account snapshots against positions the writer folded."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import psycopg

from db.pool import connect
from ingest.hyperliquid.funding import FundingPayment, funding_id
from ingest.hyperliquid.state import AccountState, MarginSummary
from ingest.venue_state import reconcile_account, store_funding
from ingest.writer import write_fills
from tests.ingest.factories import ALICE, BUY, SELL, START, fill


def _payment(hours: int, usdc: str) -> FundingPayment:
    time = START + timedelta(hours=hours)
    return FundingPayment(
        funding_id=funding_id(user=ALICE, coin="BTC", time_ms=int(time.timestamp() * 1000)),
        user=ALICE,
        time=time,
        coin="BTC",
        usdc=Decimal(usdc),
        szi=Decimal(2),
        funding_rate=0.0001,
    )


async def test_funding_paid_while_a_position_is_open_counts_in_its_net_pnl(
    market_url: str,
) -> None:
    # given a long of 2 opened at the start and closed 3 hours later for +40, fees 1 + 1
    connection = await connect(market_url)
    await write_fills(
        connection,
        [fill("1", BUY, "2", "100"), fill("2", SELL, "2", "120", minutes=180)],
        source="unit",
        checkpoint="2",
    )
    # when two hourly payments fall inside it and one after it, twice over
    payments = [_payment(1, "-1.5"), _payment(2, "-0.5"), _payment(5, "3")]
    written = await store_funding(connection, "test", ALICE, payments)
    again = await store_funding(connection, "test", ALICE, payments)
    await connection.close()
    # then all three are stored once, and the position holds the two it was open for
    assert (written, again) == (3, 0)
    with psycopg.connect(market_url) as check:
        row = check.execute(
            "SELECT realized_pnl, fees, funding, realized_pnl - fees + funding FROM position"
        ).fetchone()
    assert row == (Decimal(40), Decimal(2), Decimal(-2), Decimal(36))


def _state(hours: int) -> AccountState:
    margin = MarginSummary(Decimal(0), Decimal(0), Decimal(0), Decimal(0))
    return AccountState(
        user=ALICE,
        positions=[],
        margin=margin,
        cross_margin=None,
        withdrawable=None,
        cross_maintenance_margin_used=None,
        time=START + timedelta(hours=hours),
    )


async def test_a_snapshot_older_than_the_last_fill_changes_nothing(market_url: str) -> None:
    # given a long opened at 10:00 (fills at START + 2 h)
    connection = await connect(market_url)
    await write_fills(
        connection, [fill("1", BUY, "2", "100", minutes=120)], source="u", checkpoint="1"
    )
    # when a snapshot from before that fill says the account is flat, then a newer one does
    older = await reconcile_account(connection, "test", _state(1))
    newer = await reconcile_account(connection, "test", _state(3))
    await connection.close()
    # then the older one is ignored and the newer one ends the position
    assert (older.older_than_stored, older.ended) == (1, 0)
    assert (newer.older_than_stored, newer.ended) == (0, 1)
