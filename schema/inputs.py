"""Input types: filters, ranges and orderings, and their translation into resolver queries."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from datetime import datetime
from decimal import Decimal

import strawberry

from loaders.trade_filter import TradeFilterSpec
from resolvers.coin_pnl import FIGURES as COIN_PNL_FIGURES
from resolvers.coin_pnl import CoinPnlQuery
from resolvers.context import Context
from resolvers.errors import BadUserInputError
from resolvers.leaderboard import RANGE_COLUMNS, LeaderboardQuery
from resolvers.lookups import find_trader_ids
from resolvers.positions import PositionQuery
from resolvers.ranges import camel_case
from resolvers.screener import FIGURES as SCREENER_FIGURES
from resolvers.screener import ScreenerQuery
from schema.enums import (
    CoinPnlOrderField,
    LeaderboardOrderField,
    OrderDirection,
    PositionOrderField,
    PositionStatus,
    RiskLevel,
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


def amount_range(
    bounds: DecimalRange | None, argument: str
) -> tuple[Decimal | None, Decimal | None]:
    """An amount range's bounds; NaN, infinities and min > max are refused."""
    if bounds is None:
        return None, None
    low, high = bounds.min, bounds.max
    for bound in (low, high):
        if bound is not None and not bound.is_finite():
            raise BadUserInputError(
                f"`{argument}` bounds must be finite numbers", argument=argument
            )
    if low is not None and high is not None and low > high:
        raise BadUserInputError(
            f"`{argument}`: min ({low}) is greater than max ({high})", argument=argument
        )
    return low, high


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
    unrealized_pnl: DecimalRange | None = strawberry.field(
        default=None,
        description="Only positions whose unrealized PnL is in this inclusive range, USD (a "
        "closed or unmarked position counts as 0).",
    )
    profitable: bool | None = strawberry.field(
        default=None,
        description="true: only positions in profit now (unrealized PnL > 0); false: only "
        "those at a loss (< 0).",
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
            unrealized_pnl=amount_range(self.unrealized_pnl, "filter.unrealizedPnl"),
            profitable=self.profitable,
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
    funding: DecimalRange | None = strawberry.field(
        default=None, description="Funding of positions closed in the window, USD."
    )
    roi: FloatRange | None = strawberry.field(
        default=None, description="ROI, a fraction (0.12 = 12%)."
    )
    capital: DecimalRange | None = strawberry.field(
        default=None, description="ROI's capital base, USD."
    )
    long_volume: DecimalRange | None = strawberry.field(
        default=None, description="Notional traded on long positions, USD."
    )
    short_volume: DecimalRange | None = strawberry.field(
        default=None, description="Notional traded on short positions, USD."
    )
    long_pnl: DecimalRange | None = strawberry.field(
        default=None, description="Net realized PnL of long positions, USD."
    )
    short_pnl: DecimalRange | None = strawberry.field(
        default=None, description="Net realized PnL of short positions, USD."
    )
    wins: IntRange | None = strawberry.field(default=None, description="Winning closed positions.")
    losses: IntRange | None = strawberry.field(
        default=None, description="Losing (or breakeven) closed positions."
    )
    profit_factor: FloatRange | None = strawberry.field(
        default=None, description="Gross profit / gross loss."
    )
    avg_win: DecimalRange | None = strawberry.field(
        default=None, description="Mean net PnL of winning positions, USD."
    )
    avg_loss: DecimalRange | None = strawberry.field(
        default=None, description="Mean net PnL of losing positions, USD."
    )
    largest_win: DecimalRange | None = strawberry.field(
        default=None, description="Best closed position, USD."
    )
    largest_loss: DecimalRange | None = strawberry.field(
        default=None, description="Worst closed position, USD."
    )
    sharpe: FloatRange | None = strawberry.field(
        default=None, description="Annualised Sharpe ratio of daily trading PnL (realized - fees)."
    )
    sortino: FloatRange | None = strawberry.field(
        default=None, description="Annualised Sortino ratio of daily trading PnL (realized - fees)."
    )
    max_drawdown: DecimalRange | None = strawberry.field(
        default=None, description="Maximum drawdown, USD."
    )
    max_drawdown_pct: FloatRange | None = strawberry.field(
        default=None, description="Maximum drawdown, fraction of equity at the peak (0-1)."
    )
    avg_leverage: FloatRange | None = strawberry.field(
        default=None, description="Mean leverage of positions active in the window."
    )
    max_leverage: FloatRange | None = strawberry.field(
        default=None, description="Highest leverage of positions active in the window."
    )
    avg_hold_seconds: FloatRange | None = strawberry.field(
        default=None, description="Mean holding time of closed positions, seconds."
    )
    liquidation_count: IntRange | None = strawberry.field(
        default=None, description="Liquidation fills in the window."
    )
    open_position_count: IntRange | None = strawberry.field(
        default=None, description="Positions open now."
    )
    open_notional: DecimalRange | None = strawberry.field(
        default=None, description="Notional of the positions open now, USD."
    )
    risk_score: FloatRange | None = strawberry.field(
        default=None, description="Risk score, 0-100 (lower is safer)."
    )
    account_value: DecimalRange | None = strawberry.field(
        default=None,
        description="The venue's account value, USD (Trader.accountValue; a trader whose value "
        "is not known matches no bound).",
    )
    min_trades: int | None = strawberry.field(
        default=None, description="Shorthand for tradeCount: {min: N}."
    )
    coins: list[str] | None = strawberry.field(
        default=None,
        description='Only traders who traded one of these coins in the window (e.g. ["BTC"]), '
        "at most 100.",
    )
    labels: list[str] | None = strawberry.field(
        default=None,
        description="Only traders with one of these labels: their own label or a derived one "
        "(WHALE, SMART_MONEY), at most 100.",
    )
    exclude_labels: list[str] | None = strawberry.field(
        default=None,
        description="No trader with one of these labels (its own or a derived one), at most 100.",
    )
    risk_levels: list[RiskLevel] | None = strawberry.field(
        default=None, description="Only traders in these risk levels."
    )
    dominant_side: Side | None = strawberry.field(
        default=None, description="Only traders whose volume leaned to this side."
    )

    def ranges(self) -> tuple[tuple[str, object, object], ...]:
        """(statistic, min, max) for each range given, with the statistic's camelCase name."""
        given = [
            (camel_case(name), low, high)
            for name, low, high in _ranges(self, [_snake(name) for name in RANGE_COLUMNS])
        ]
        if self.min_trades is not None:
            given.append(("tradeCount", self.min_trades, None))
        return tuple(given)

    def apply(self, query: LeaderboardQuery) -> LeaderboardQuery:
        """``query`` narrowed by this filter."""
        return replace(
            query,
            ranges=self.ranges(),
            coins=coins_argument(self.coins, "filter.coins"),
            labels=_list(self.labels, "filter.labels"),
            excluded_labels=_list(self.exclude_labels, "filter.excludeLabels"),
            risk_levels=_list(
                [r.name for r in self.risk_levels] if self.risk_levels else None,
                "filter.riskLevels",
            ),
            dominant_side=self.dominant_side.name if self.dominant_side else None,
        )


def _snake(camel: str) -> str:
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in camel)


@strawberry.input(description="How to order a leaderboard.")
class LeaderboardOrder:
    field: LeaderboardOrderField = strawberry.field(description="What to sort by.")
    direction: OrderDirection = strawberry.field(
        default=OrderDirection.DESC,
        description="DESC: largest first (for RANK, DESC puts rank 1 last).",
    )


@strawberry.input(
    description="Narrow a coin's PnL board. Ranges are inclusive (Nansen's min/max semantics); "
    "a null figure matches no bound."
)
class CoinPnlFilter:
    total_pnl: DecimalRange | None = strawberry.field(default=None, description="USD.")
    realized_pnl: DecimalRange | None = strawberry.field(default=None, description="USD.")
    net_pnl: DecimalRange | None = strawberry.field(default=None, description="USD.")
    unrealized_pnl: DecimalRange | None = strawberry.field(default=None, description="USD.")
    fees: DecimalRange | None = strawberry.field(default=None, description="USD.")
    volume: DecimalRange | None = strawberry.field(default=None, description="USD.")
    trade_count: IntRange | None = strawberry.field(default=None, description="Fills.")
    roi: FloatRange | None = strawberry.field(default=None, description="A fraction.")
    realized_roi: FloatRange | None = strawberry.field(default=None, description="A fraction.")
    unrealized_roi: FloatRange | None = strawberry.field(default=None, description="A fraction.")
    position_size: DecimalRange | None = strawberry.field(
        default=None, description="Coin units open now."
    )
    position_value: DecimalRange | None = strawberry.field(
        default=None, description="USD open now, + long / - short (0 when flat)."
    )
    max_size_held: DecimalRange | None = strawberry.field(default=None, description="Coin units.")
    still_holding_ratio: FloatRange | None = strawberry.field(default=None, description="0-1.")
    netflow: DecimalRange | None = strawberry.field(default=None, description="Coin units.")
    netflow_usd: DecimalRange | None = strawberry.field(default=None, description="USD.")
    traders: list[str] | None = strawberry.field(
        default=None, description="Only these traders: addresses or public ids, at most 100."
    )
    labels: list[str] | None = strawberry.field(
        default=None,
        description="Only traders with one of these labels (their own or a derived one).",
    )
    exclude_labels: list[str] | None = strawberry.field(
        default=None, description="No trader with one of these labels."
    )

    async def apply(self, context: Context, query: CoinPnlQuery) -> CoinPnlQuery:
        """``query`` narrowed by this filter."""
        trader_ids = None
        if self.traders is not None:
            trader_ids = await find_trader_ids(context, self.traders)
        return replace(
            query,
            ranges=_ranges(self, COIN_PNL_FIGURES),
            trader_ids=trader_ids,
            labels=_list(self.labels, "filter.labels"),
            excluded_labels=_list(self.exclude_labels, "filter.excludeLabels"),
        )


@strawberry.input(description="How to order a coin's PnL board.")
class CoinPnlOrder:
    field: CoinPnlOrderField = strawberry.field(description="What to sort by.")
    direction: OrderDirection = strawberry.field(
        default=OrderDirection.DESC, description="Largest first unless ASC."
    )


def _ranges(filter: object, figures: Iterable[str]) -> tuple[tuple[str, object, object], ...]:
    """(figure, min, max) for each of ``figures`` ``filter`` bounds; amounts must be finite."""
    ranges: list[tuple[str, object, object]] = []
    for name in figures:
        bounds = getattr(filter, name)
        if bounds is None or (bounds.min is None and bounds.max is None):
            continue
        if isinstance(bounds, DecimalRange):
            low, high = amount_range(bounds, f"filter.{camel_case(name)}")
        else:
            low, high = bounds.min, bounds.max
        ranges.append((name, low, high))
    return tuple(ranges)


@strawberry.input(
    description="Narrow the screener's coins. Ranges are inclusive (Nansen's min/max "
    "semantics); a null figure matches no bound."
)
class ScreenerFilter:
    volume: DecimalRange | None = strawberry.field(
        default=None, description="Traded notional in the window."
    )
    buy_volume: DecimalRange | None = strawberry.field(
        default=None, description="Notional bought in the window."
    )
    sell_volume: DecimalRange | None = strawberry.field(
        default=None, description="Notional sold in the window."
    )
    net_flow: DecimalRange | None = strawberry.field(
        default=None, description="Buy - sell notional in the window."
    )
    trade_count: IntRange | None = strawberry.field(
        default=None, description="Fills in the window."
    )
    trader_count: IntRange | None = strawberry.field(
        default=None, description="Distinct traders in the window."
    )
    net_pnl: DecimalRange | None = strawberry.field(
        default=None, description="Traders' realized PnL - fees in the window."
    )
    liquidation_count: IntRange | None = strawberry.field(
        default=None, description="Liquidation fills in the window."
    )
    mark_price: DecimalRange | None = strawberry.field(
        default=None, description="Latest mark price."
    )
    previous_price: DecimalRange | None = strawberry.field(
        default=None, description="Price of the window's first fill."
    )
    price_change: FloatRange | None = strawberry.field(
        default=None, description="markPrice / previousPrice - 1."
    )
    funding_rate: FloatRange | None = strawberry.field(
        default=None, description="Current funding rate."
    )
    open_interest: DecimalRange | None = strawberry.field(
        default=None, description="Venue open interest, coins."
    )
    open_interest_usd: DecimalRange | None = strawberry.field(
        default=None, description="Open interest x mark, USD."
    )
    long_accounts: IntRange | None = strawberry.field(default=None, description="Traders long now.")
    short_accounts: IntRange | None = strawberry.field(
        default=None, description="Traders short now."
    )
    long_notional: DecimalRange | None = strawberry.field(
        default=None, description="Notional of open longs."
    )
    short_notional: DecimalRange | None = strawberry.field(
        default=None, description="Notional of open shorts."
    )
    smart_money_volume: DecimalRange | None = strawberry.field(
        default=None, description="SMART_MONEY notional in the window."
    )
    smart_money_buy_volume: DecimalRange | None = strawberry.field(
        default=None, description="SMART_MONEY notional bought."
    )
    smart_money_sell_volume: DecimalRange | None = strawberry.field(
        default=None, description="SMART_MONEY notional sold."
    )
    smart_money_net_flow: DecimalRange | None = strawberry.field(
        default=None, description="SMART_MONEY buy - sell notional."
    )
    smart_money_traders: IntRange | None = strawberry.field(
        default=None, description="SMART_MONEY traders in the window."
    )
    smart_money_long_accounts: IntRange | None = strawberry.field(
        default=None, description="SMART_MONEY traders long now."
    )
    smart_money_short_accounts: IntRange | None = strawberry.field(
        default=None, description="SMART_MONEY traders short now."
    )
    smart_money_long_notional: DecimalRange | None = strawberry.field(
        default=None, description="Notional of SMART_MONEY open longs."
    )
    smart_money_short_notional: DecimalRange | None = strawberry.field(
        default=None, description="Notional of SMART_MONEY open shorts."
    )
    coins: list[str] | None = strawberry.field(
        default=None, description="Only these coins, at most 100."
    )
    only_smart_money: bool = strawberry.field(
        default=False, description="Only coins SMART_MONEY traders traded in the window."
    )

    def apply(self, query: ScreenerQuery) -> ScreenerQuery:
        """``query`` narrowed by this filter."""
        return replace(
            query,
            ranges=_ranges(self, SCREENER_FIGURES),
            coins=coins_argument(self.coins, "filter.coins"),
            only_smart_money=self.only_smart_money,
        )
