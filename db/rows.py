"""Rows as the read path sees them: plain slotted dataclasses built straight from tuples.

A row class's fields are its columns: :func:`select_list` writes the SELECT list from them and
``from_row`` takes a tuple in that order, so the SQL and the code that reads it cannot drift.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime
from decimal import Decimal
from typing import Any, Self, cast

from psycopg import sql as pgsql


class _FromRow:
    @classmethod
    def from_row(cls, row: tuple[Any, ...]) -> Self:
        return cls(*row)


def select_list(row_type: type[_FromRow], alias: str | None = None) -> pgsql.Composed:
    """The columns of ``row_type`` in field order, optionally qualified: ``t.id, t.coin, ...``."""
    names = [f.name for f in fields(cast("Any", row_type))]
    if alias is None:
        return pgsql.SQL(", ").join(pgsql.Identifier(name) for name in names)
    return pgsql.SQL(", ").join(pgsql.Identifier(alias, name) for name in names)


@dataclass(frozen=True, slots=True)
class TraderRow(_FromRow):
    id: int
    venue: str
    address: str
    public_id: str
    label: str | None
    first_seen_at: datetime
    last_trade_at: datetime | None
    display_name: str | None
    account_value: Decimal | None
    account_value_at: datetime | None


@dataclass(frozen=True, slots=True)
class PositionRow(_FromRow):
    id: int
    trader_id: int
    coin: str
    side: str
    size: Decimal
    max_size: Decimal
    entry_price: Decimal
    closed_size: Decimal
    exit_notional: Decimal
    realized_pnl: Decimal
    fees: Decimal
    funding: Decimal
    leverage: float | None
    mark_price: Decimal | None
    notional: Decimal
    unrealized_pnl: Decimal | None
    liquidation_price: Decimal | None
    trade_count: int
    opened_at: datetime
    last_fill_at: datetime
    closed_at: datetime | None


@dataclass(frozen=True, slots=True)
class TradeRow(_FromRow):
    id: int
    venue: str
    venue_fill_id: str
    trader_id: int
    position_id: int | None
    closed_position_id: int | None
    coin: str
    timestamp: datetime
    side: str
    direction: str
    action: str
    size: Decimal
    price: Decimal
    notional: Decimal
    start_position: Decimal
    realized_pnl: Decimal | None
    fee: Decimal | None
    is_liquidation: bool
    tx_hash: str | None


@dataclass(frozen=True, slots=True)
class MarketRow(_FromRow):
    coin: str
    venue: str
    mark_price: Decimal | None
    oracle_price: Decimal | None
    mid_price: Decimal | None
    previous_day_price: Decimal | None
    funding_rate: float | None
    open_interest: Decimal | None
    day_volume: Decimal | None
    size_decimals: int
    max_leverage: int
    updated_at: datetime | None


@dataclass(frozen=True, slots=True)
class TraderStatsRow(_FromRow):
    trader_id: int
    timeframe: str
    realized_pnl: Decimal
    unrealized_pnl: Decimal
    fees: Decimal
    funding: Decimal
    net_pnl: Decimal
    volume: Decimal
    trade_count: int
    closed_position_count: int
    wins: int
    losses: int
    win_rate: float | None
    liquidation_count: int
    open_position_count: int
    score: float
    rank: int
    tier: str
    last_trade_at: datetime | None
    computed_at: datetime
    roi: float | None
    capital: Decimal
    profit_factor: float | None
    avg_win: Decimal | None
    avg_loss: Decimal | None
    largest_win: Decimal | None
    largest_loss: Decimal | None
    avg_hold_seconds: float | None
    sharpe: float | None
    sortino: float | None
    days_in_series: int
    max_drawdown: Decimal
    max_drawdown_pct: float | None
    avg_leverage: float | None
    max_leverage: float | None
    long_pnl: Decimal
    short_pnl: Decimal
    long_volume: Decimal
    short_volume: Decimal
    dominant_side: str
    dominant_coin: str | None
    coins: list[str]
    open_notional: Decimal
    risk_score: float
    risk_level: str
    score_pnl: float
    score_roi: float
    score_sharpe: float
    score_win_rate: float
    score_drawdown: float
    score_evidence: float
