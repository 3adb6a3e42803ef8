"""The tables, as SQLModel classes. Alembic migrations are generated from this metadata.

The trade table is the event log (DESIGN.md decision 4): one row per fill, unique per venue,
trader and venue fill id (both counterparties of one Hyperliquid trade share its ``tid``),
whose ``bigserial`` id is the cursor for pagination and subscription resume. Positions are rows
too: open ones (``closed_at IS NULL``) and closed ones kept as history. Amounts are
``numeric`` (exact); statistics are ``double precision``.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    ARRAY,
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    Double,
    ForeignKey,
    Identity,
    Index,
    Integer,
    Numeric,
    Text,
    UniqueConstraint,
    text,
)
from sqlmodel import Field, SQLModel


def _amount(*, nullable: bool = False, default: str | None = "0") -> Any:
    server_default = text(default) if default is not None else None
    return Field(sa_column=Column(Numeric, nullable=nullable, server_default=server_default))


def _statistic() -> Any:
    return Field(default=None, sa_column=Column(Double))


def _moment(*, nullable: bool = False) -> Any:
    return Field(sa_column=Column(DateTime(timezone=True), nullable=nullable))


class Trader(SQLModel, table=True):
    """A trading account on a venue, known to users by a random pseudonymous ``public_id``."""

    __tablename__ = "trader"
    __table_args__ = (
        UniqueConstraint("venue", "address", name="trader_venue_address_key"),
        # Room for each batch's last_trade_at update on the same page (HOT): migration 0005.
        {"postgresql_with": {"fillfactor": 50}},
    )

    id: int = Field(sa_column=Column(BigInteger, Identity(), primary_key=True))
    venue: str = Field(sa_column=Column(Text, nullable=False))
    address: str = Field(sa_column=Column(Text, nullable=False))
    public_id: str = Field(sa_column=Column(Text, nullable=False, unique=True))
    label: str | None = Field(default=None, sa_column=Column(Text))
    first_seen_at: datetime = _moment()
    last_trade_at: datetime | None = _moment(nullable=True)
    # The venue's own view of the account (migration 0010): the name its leaderboard shows, and
    # the account value (USD) with the time it was taken, null when the source does not say.
    display_name: str | None = Field(default=None, sa_column=Column(Text))
    account_value: Decimal | None = _amount(nullable=True, default=None)
    account_value_at: datetime | None = _moment(nullable=True)


class Market(SQLModel, table=True):
    """One perpetual market (coin) with its latest mark and venue context."""

    __tablename__ = "market"

    coin: str = Field(sa_column=Column(Text, primary_key=True))
    venue: str = Field(sa_column=Column(Text, nullable=False))
    mark_price: Decimal | None = _amount(nullable=True, default=None)
    oracle_price: Decimal | None = _amount(nullable=True, default=None)
    mid_price: Decimal | None = _amount(nullable=True, default=None)
    previous_day_price: Decimal | None = _amount(nullable=True, default=None)
    funding_rate: float | None = Field(default=None, sa_column=Column(Double))
    open_interest: Decimal | None = _amount(nullable=True, default=None)
    day_volume: Decimal | None = _amount(nullable=True, default=None)
    size_decimals: int = Field(sa_column=Column(Integer, nullable=False, server_default="0"))
    max_leverage: int = Field(sa_column=Column(Integer, nullable=False, server_default="1"))
    updated_at: datetime | None = _moment(nullable=True)


class Position(SQLModel, table=True):
    """A position from its opening fill to its closing one; open while ``closed_at`` is null."""

    __tablename__ = "position"
    __table_args__ = (
        CheckConstraint("side IN ('LONG', 'SHORT')", name="position_side_check"),
        Index(
            "position_one_open_per_coin",
            "trader_id",
            "coin",
            unique=True,
            postgresql_where=text("closed_at IS NULL"),
        ),
        Index(
            "position_closed_by_trader",
            "trader_id",
            text("closed_at DESC"),
            text("id DESC"),
            postgresql_where=text("closed_at IS NOT NULL"),
        ),
        Index("position_by_coin", "coin", "closed_at"),
        # No index on notional, mark_price, unrealized_pnl or liquidation_price: a mark refresh
        # changes only those, so its updates stay HOT (migration 0008).
        Index("position_by_opened_at", text("opened_at DESC"), text("id DESC")),
        # The writer's "last fill applied per trader and coin" (late-fill rule) reads this.
        Index("position_last_fill", "trader_id", "coin", text("last_fill_at DESC")),
    )

    id: int = Field(sa_column=Column(BigInteger, Identity(), primary_key=True))
    # trader_id and coin refer to trader and market; migration 0004 enforces that with
    # statement-level triggers, not foreign keys (one check per INSERT instead of two per row).
    trader_id: int = Field(sa_column=Column(BigInteger, nullable=False, index=True))
    coin: str = Field(sa_column=Column(Text, nullable=False))
    side: str = Field(sa_column=Column(Text, nullable=False))
    size: Decimal = _amount()
    max_size: Decimal = _amount()
    entry_price: Decimal = _amount()
    closed_size: Decimal = _amount()
    exit_notional: Decimal = _amount()
    realized_pnl: Decimal = _amount()
    fees: Decimal = _amount()
    funding: Decimal = _amount()
    leverage: float | None = Field(default=None, sa_column=Column(Double))
    mark_price: Decimal | None = _amount(nullable=True, default=None)
    notional: Decimal = _amount()
    unrealized_pnl: Decimal | None = _amount(nullable=True, default=None)
    liquidation_price: Decimal | None = _amount(nullable=True, default=None)
    trade_count: int = Field(sa_column=Column(Integer, nullable=False, server_default="0"))
    opened_at: datetime = _moment()
    last_fill_at: datetime = _moment()
    closed_at: datetime | None = _moment(nullable=True)


class Trade(SQLModel, table=True):
    """One fill: the event log every position, statistic and subscription is derived from."""

    __tablename__ = "trade"
    __table_args__ = (
        UniqueConstraint("venue", "trader_id", "venue_fill_id", name="trade_venue_trader_fill_key"),
        CheckConstraint("size > 0 AND price > 0", name="trade_positive_check"),
        CheckConstraint(
            "action IN ('OPEN', 'ADD', 'REDUCE', 'CLOSE', 'FLIP')", name="trade_action_check"
        ),
        Index("trade_by_trader_time", "trader_id", text("timestamp DESC"), text("id DESC")),
        Index("trade_by_position", "position_id", text("timestamp DESC"), text("id DESC")),
        Index("trade_by_coin_time", "coin", text("timestamp DESC"), text("id DESC")),
        Index("trade_by_time", text("timestamp DESC"), text("id DESC")),
        # Only FLIPs close a position: the others are not indexed (migration 0006).
        Index(
            "trade_by_closed_position",
            "closed_position_id",
            postgresql_where=text("closed_position_id IS NOT NULL"),
        ),
    )

    id: int = Field(sa_column=Column(BigInteger, Identity(), primary_key=True))
    venue: str = Field(sa_column=Column(Text, nullable=False))
    venue_fill_id: str = Field(sa_column=Column(Text, nullable=False))
    # trader_id, position_id, closed_position_id and coin refer to trader, position, position and
    # market; migration 0003 enforces that with statement-level triggers, not foreign keys (one
    # check per COPY instead of four per row: the writer's hot path).
    trader_id: int = Field(sa_column=Column(BigInteger, nullable=False))
    position_id: int | None = Field(default=None, sa_column=Column(BigInteger))
    closed_position_id: int | None = Field(default=None, sa_column=Column(BigInteger))
    coin: str = Field(sa_column=Column(Text, nullable=False))
    timestamp: datetime = _moment()
    side: str = Field(sa_column=Column(Text, nullable=False))
    direction: str = Field(sa_column=Column(Text, nullable=False))
    action: str = Field(sa_column=Column(Text, nullable=False))
    size: Decimal = _amount(default=None)
    price: Decimal = _amount(default=None)
    notional: Decimal = _amount(default=None)
    start_position: Decimal = _amount()
    realized_pnl: Decimal | None = _amount(nullable=True, default=None)
    fee: Decimal | None = _amount(nullable=True, default=None)
    is_liquidation: bool = Field(
        sa_column=Column(Boolean, nullable=False, server_default=text("false"))
    )
    tx_hash: str | None = Field(default=None, sa_column=Column(Text))


class FundingPayment(SQLModel, table=True):
    """One funding settlement of one trader's position in one coin (USDC, received > 0).

    Net PnL = realized - fees + funding; ``position.funding`` sums the payments made while
    that position was open. ``venue_funding_id`` is stable per venue, trader, coin and time,
    so replays are idempotent.
    """

    __tablename__ = "funding_payment"
    __table_args__ = (
        UniqueConstraint("venue", "venue_funding_id", name="funding_payment_venue_id_key"),
        Index("funding_payment_by_trader_time", "trader_id", text("time DESC")),
    )

    id: int = Field(sa_column=Column(BigInteger, Identity(), primary_key=True))
    venue: str = Field(sa_column=Column(Text, nullable=False))
    venue_funding_id: str = Field(sa_column=Column(Text, nullable=False))
    trader_id: int = Field(sa_column=Column(BigInteger, ForeignKey("trader.id"), nullable=False))
    position_id: int | None = Field(
        default=None, sa_column=Column(BigInteger, ForeignKey("position.id"), index=True)
    )
    coin: str = Field(sa_column=Column(Text, nullable=False))
    time: datetime = _moment()
    amount: Decimal = _amount(default=None)
    position_size: Decimal = _amount(default=None)
    funding_rate: float = Field(sa_column=Column(Double, nullable=False))


class IngestCheckpoint(SQLModel, table=True):
    """How far one fill source has been written; saved in the same transaction as its fills."""

    __tablename__ = "ingest_checkpoint"

    source: str = Field(sa_column=Column(Text, primary_key=True))
    position: str = Field(sa_column=Column(Text, nullable=False))
    fills_written: int = Field(sa_column=Column(BigInteger, nullable=False, server_default="0"))
    updated_at: datetime = _moment()


class TraderStats(SQLModel, table=True):
    """Statistics of one trader over one rolling window, written by the scoring job."""

    __tablename__ = "trader_stats"
    __table_args__ = (
        Index("trader_stats_rank", "timeframe", "rank"),
        Index("trader_stats_net_pnl", "timeframe", text("net_pnl DESC"), "trader_id"),
    )

    # trader_id refers to trader; migration 0007 enforces that with statement-level triggers,
    # not a foreign key (one check per board written instead of one per row).
    trader_id: int = Field(sa_column=Column(BigInteger, primary_key=True))
    timeframe: str = Field(sa_column=Column(Text, primary_key=True))
    realized_pnl: Decimal = _amount()
    unrealized_pnl: Decimal = _amount()
    fees: Decimal = _amount()
    funding: Decimal = _amount()
    net_pnl: Decimal = _amount()
    volume: Decimal = _amount()
    trade_count: int = Field(sa_column=Column(Integer, nullable=False, server_default="0"))
    closed_position_count: int = Field(
        sa_column=Column(Integer, nullable=False, server_default="0")
    )
    wins: int = Field(sa_column=Column(Integer, nullable=False, server_default="0"))
    losses: int = Field(sa_column=Column(Integer, nullable=False, server_default="0"))
    win_rate: float | None = Field(default=None, sa_column=Column(Double))
    liquidation_count: int = Field(sa_column=Column(Integer, nullable=False, server_default="0"))
    open_position_count: int = Field(sa_column=Column(Integer, nullable=False, server_default="0"))
    score: float = Field(sa_column=Column(Double, nullable=False, server_default="0"))
    rank: int = Field(sa_column=Column(Integer, nullable=False))
    tier: str = Field(sa_column=Column(Text, nullable=False))
    last_trade_at: datetime | None = _moment(nullable=True)
    computed_at: datetime = _moment()
    # The full metric set (docs/methodology.md, "Statistics per trader and window").
    roi: float | None = _statistic()
    capital: Decimal = _amount()
    profit_factor: float | None = _statistic()
    avg_win: Decimal | None = _amount(nullable=True, default=None)
    avg_loss: Decimal | None = _amount(nullable=True, default=None)
    largest_win: Decimal | None = _amount(nullable=True, default=None)
    largest_loss: Decimal | None = _amount(nullable=True, default=None)
    avg_hold_seconds: float | None = _statistic()
    sharpe: float | None = _statistic()
    sortino: float | None = _statistic()
    days_in_series: int = Field(sa_column=Column(Integer, nullable=False, server_default="0"))
    max_drawdown: Decimal = _amount()
    max_drawdown_pct: float | None = _statistic()
    avg_leverage: float | None = _statistic()
    max_leverage: float | None = _statistic()
    long_pnl: Decimal = _amount()
    short_pnl: Decimal = _amount()
    long_volume: Decimal = _amount()
    short_volume: Decimal = _amount()
    dominant_side: str = Field(sa_column=Column(Text, nullable=False, server_default="LONG"))
    dominant_coin: str | None = Field(default=None, sa_column=Column(Text))
    coins: list[str] = Field(
        sa_column=Column(ARRAY(Text), nullable=False, server_default=text("'{}'"))
    )
    open_notional: Decimal = _amount()
    risk_score: float = Field(sa_column=Column(Double, nullable=False, server_default="0"))
    risk_level: str = Field(sa_column=Column(Text, nullable=False, server_default="CONSERVATIVE"))
    score_pnl: float = Field(sa_column=Column(Double, nullable=False, server_default="0"))
    score_roi: float = Field(sa_column=Column(Double, nullable=False, server_default="0"))
    score_sharpe: float = Field(sa_column=Column(Double, nullable=False, server_default="0"))
    score_win_rate: float = Field(sa_column=Column(Double, nullable=False, server_default="0"))
    score_drawdown: float = Field(sa_column=Column(Double, nullable=False, server_default="0"))
    score_evidence: float = Field(sa_column=Column(Double, nullable=False, server_default="0"))


class LeaderboardState(SQLModel, table=True):
    """When each window's board was last recomputed."""

    __tablename__ = "leaderboard_state"

    timeframe: str = Field(sa_column=Column(Text, primary_key=True))
    computed_at: datetime = _moment()
    trader_count: int = Field(sa_column=Column(Integer, nullable=False))


# The analytics tables live in their own module; importing it here registers them wherever the
# models' metadata is used (migrations, tests).
import db.analytics  # noqa: E402, F401
