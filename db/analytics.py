"""Tables of the analytics layer (scoring, labels), kept apart from the core event tables."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import BigInteger, Column, DateTime, ForeignKey, Index, Integer, Numeric, Text, text
from sqlmodel import Field, SQLModel


class TraderLabel(SQLModel, table=True):
    """A label derived by the scoring job (WHALE, SMART_MONEY), one row per trader and label."""

    __tablename__ = "trader_label"
    __table_args__ = (Index("trader_label_by_label", "label", "trader_id"),)

    trader_id: int = Field(sa_column=Column(BigInteger, ForeignKey("trader.id"), primary_key=True))
    label: str = Field(sa_column=Column(Text, primary_key=True))
    assigned_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))


def _amount() -> Any:
    return Field(sa_column=Column(Numeric, nullable=False, server_default=text("0")))


def _count() -> Any:
    return Field(sa_column=Column(Integer, nullable=False, server_default="0"))


class MarketStats(SQLModel, table=True):
    """One coin's activity on one board (a rolling window or a fixed period), written by the
    scoring job with the traders' statistics: the market overview and screener read it."""

    __tablename__ = "market_stats"
    __table_args__ = (Index("market_stats_by_coin", "coin"),)

    board: str = Field(sa_column=Column(Text, primary_key=True))
    coin: str = Field(sa_column=Column(Text, ForeignKey("market.coin"), primary_key=True))
    volume: Decimal = _amount()
    buy_volume: Decimal = _amount()
    sell_volume: Decimal = _amount()
    long_volume: Decimal = _amount()
    short_volume: Decimal = _amount()
    trade_count: int = _count()
    trader_count: int = _count()
    realized_pnl: Decimal = _amount()
    fees: Decimal = _amount()
    net_pnl: Decimal = _amount()
    liquidation_count: int = _count()
    computed_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
