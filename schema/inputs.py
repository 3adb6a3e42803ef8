"""Input types: filters, ranges and orderings, and their translation into resolver queries."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import strawberry

from loaders.trade_filter import TradeFilterSpec
from resolvers.context import Context
from resolvers.errors import BadUserInputError
from resolvers.lookups import find_trader_ids
from resolvers.positions import PositionQuery
from schema.enums import (
    LeaderboardOrderField,
    OrderDirection,
    PositionOrderField,
    PositionStatus,
    Side,
    TradeAction,
)

MAX_LIST_FILTER = 100


def _list(values: list[str] | None, argument: str) -> tuple[str, ...] | None:
    if values is None:
        return None
    if len(values) > MAX_LIST_FILTER:
        raise BadUserInputError(
            f"`{argument}` takes at most {MAX_LIST_FILTER} values, got {len(values)}",
            argument=argument,
        )
    return tuple(dict.fromkeys(values))


def coins_argument(values: list[str] | None, argument: str) -> tuple[str, ...] | None:
    coins = _list(values, argument)
    return None if coins is None else tuple(c.strip().upper() for c in coins)


def _non_negative(value: Decimal | None, argument: str) -> Decimal | None:
    if value is not None and (not value.is_finite() or value < 0):
        raise BadUserInputError(f"`{argument}` must be a number >= 0", argument=argument)
    return value


@strawberry.input(description="Inclusive bounds on an amount; leave either end open.")
class DecimalRange:
    min: Decimal | None = strawberry.field(default=None, description="At least this.")
    max: Decimal | None = strawberry.field(default=None, description="At most this.")


@strawberry.input(description="Inclusive bounds on a ratio or score; leave either end open.")
class FloatRange:
    min: float | None = strawberry.field(default=None, description="At least this.")
    max: float | None = strawberry.field(default=None, description="At most this.")


@strawberry.input(description="Inclusive bounds on a count; leave either end open.")
class IntRange:
    min: int | None = strawberry.field(default=None, description="At least this.")
    max: int | None = strawberry.field(default=None, description="At most this.")


@strawberry.input(description="Which trades to return; every field given narrows the result.")
class TradeFilter:
    traders: list[str] | None = strawberry.field(
        default=None,
        description="Only these traders: addresses or public ids (#38291), at most 100. "
        "Ignored under a trader, whose trades are already one trader's.",
    )
    coins: list[str] | None = strawberry.field(
        default=None, description='Only these coins (e.g. ["BTC", "ETH"]), at most 100.'
    )
    actions: list[TradeAction] | None = strawberry.field(
        default=None, description="Only these actions."
    )
    sides: list[Side] | None = strawberry.field(
        default=None, description="Only fills on positions of these sides."
    )
    is_liquidation: bool | None = strawberry.field(
        default=None, description="true: only liquidations; false: none of them."
    )
    min_notional: Decimal | None = strawberry.field(
        default=None, description="Only fills of at least this notional, USD."
    )
    since: datetime | None = strawberry.field(
        default=None, description="Only fills at or after this time."
    )
    until: datetime | None = strawberry.field(
        default=None, description="Only fills before this time."
    )

    async def to_spec(self, context: Context, *, with_traders: bool = True) -> TradeFilterSpec:
        trader_ids = None
        if with_traders and self.traders is not None:
            trader_ids = await find_trader_ids(context, self.traders)
        if self.since is not None and self.until is not None and self.since >= self.until:
            raise BadUserInputError("`filter.since` must be before `filter.until`")
        actions = _list([a.name for a in self.actions] if self.actions else None, "actions")
        return TradeFilterSpec(
            coins=coins_argument(self.coins, "filter.coins"),
            actions=actions,
            sides=_list([s.name for s in self.sides] if self.sides else None, "sides"),
            is_liquidation=self.is_liquidation,
            min_notional=_non_negative(self.min_notional, "filter.minNotional"),
            since=self.since,
            until=self.until,
            trader_ids=trader_ids,
        )


@strawberry.input(description="Which positions to return; every field given narrows it.")
class PositionFilter:
    status: PositionStatus = strawberry.field(
        default=PositionStatus.OPEN, description="Open (default), closed or any."
    )
    traders: list[str] | None = strawberry.field(
        default=None, description="Only these traders: addresses or public ids, at most 100."
    )
    coins: list[str] | None = strawberry.field(default=None, description="Only these coins.")
    sides: list[Side] | None = strawberry.field(default=None, description="Only these sides.")
    min_notional: Decimal | None = strawberry.field(
        default=None, description="Only positions with at least this notional now, USD."
    )

    async def to_query(
        self, context: Context, order: PositionOrder, first: int, after: str | None
    ) -> PositionQuery:
        trader_ids = None
        if self.traders is not None:
            trader_ids = await find_trader_ids(context, self.traders)
        return PositionQuery(
            status=self.status.name,
            trader_ids=trader_ids,
            coins=coins_argument(self.coins, "filter.coins"),
            sides=_list([s.name for s in self.sides] if self.sides else None, "filter.sides"),
            min_notional=_non_negative(self.min_notional, "filter.minNotional"),
            order_field=order.field.name,
            descending=order.direction is OrderDirection.DESC,
            first=first,
            after=after,
        )


@strawberry.input(description="How to order positions.")
class PositionOrder:
    field: PositionOrderField = strawberry.field(description="What to sort by.")
    direction: OrderDirection = strawberry.field(
        default=OrderDirection.DESC, description="Largest first unless ASC."
    )


@strawberry.input(
    description="Narrow a leaderboard. Ranges are inclusive (Nansen's min/max semantics)."
)
class LeaderboardFilter:
    score: FloatRange | None = strawberry.field(default=None, description="Score, 0-100.")
    net_pnl: DecimalRange | None = strawberry.field(default=None, description="Net PnL, USD.")
    realized_pnl: DecimalRange | None = strawberry.field(
        default=None, description="Realized PnL, USD."
    )
    unrealized_pnl: DecimalRange | None = strawberry.field(
        default=None, description="Unrealized PnL now, USD."
    )
    volume: DecimalRange | None = strawberry.field(default=None, description="Volume, USD.")
    fees: DecimalRange | None = strawberry.field(default=None, description="Fees, USD.")
    trade_count: IntRange | None = strawberry.field(default=None, description="Fills.")
    closed_position_count: IntRange | None = strawberry.field(
        default=None, description="Positions closed in the window."
    )
    win_rate: FloatRange | None = strawberry.field(default=None, description="Win rate, 0-1.")
    min_trades: int | None = strawberry.field(
        default=None, description="Shorthand for tradeCount: {min: N}."
    )

    def ranges(self) -> tuple[tuple[str, object, object], ...]:
        """(statistic, min, max) for each range given."""
        given: list[tuple[str, object, object]] = []
        for name, bounds in (
            ("score", self.score),
            ("netPnl", self.net_pnl),
            ("realizedPnl", self.realized_pnl),
            ("unrealizedPnl", self.unrealized_pnl),
            ("volume", self.volume),
            ("fees", self.fees),
            ("tradeCount", self.trade_count),
            ("closedPositionCount", self.closed_position_count),
            ("winRate", self.win_rate),
        ):
            if bounds is not None and (bounds.min is not None or bounds.max is not None):
                given.append((name, bounds.min, bounds.max))
        if self.min_trades is not None:
            given.append(("tradeCount", self.min_trades, None))
        return tuple(given)


@strawberry.input(description="How to order a leaderboard.")
class LeaderboardOrder:
    field: LeaderboardOrderField = strawberry.field(description="What to sort by.")
    direction: OrderDirection = strawberry.field(
        default=OrderDirection.DESC,
        description="DESC: largest first (for RANK, DESC puts rank 1 last).",
    )
