"""Analytics root fields: fixed-period boards and the views of the seeds (PerpsTracker's market
overview, positions summary, whale trades, liquidations, consistent / new / active traders,
compare, chart positions, snapshot frequency; Nansen's screener and per-coin PnL board).

Combined with the core ``Query`` in ``schema/__init__.py``. docs/methodology.md defines every
figure.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import Enum
from typing import Annotated

import strawberry

from db.periods import PeriodType as PeriodKind
from db.periods import parse_period
from loaders.rows import TraderRow
from loaders.trade_filter import TradeFilterSpec
from resolvers.analytics import (
    BULLISH_LONG_SHARE,
    MAX_COMPARED,
    ClosedSummary,
    CoinFigures,
    board_stats,
    chart_positions,
    closed_position_summary,
    consistent_traders,
    liquidation_stats,
    market_overview,
    new_entrants,
    period_boards,
    period_key,
    positions_summary,
    recent_positions,
    snapshot_frequency,
    top_trader_ids,
    window_start,
)
from resolvers.context import Context
from resolvers.errors import BadUserInputError
from resolvers.leaderboard import (
    leaderboard_updated_at,
)
from resolvers.lookups import find_trader, find_trader_ids
from resolvers.positions import PositionQuery
from resolvers.screener import ScreenerQuery, ScreenerRow, market_screener
from resolvers.trades import trades_count, trades_page
from schema.connection import After, Connection, PageSize, to_connection
from schema.enums import (
    LeaderboardOrderField,
    LeaderboardTier,
    OrderDirection,
    PeriodType,
    ScreenerOrderField,
    Side,
    Timeframe,
)
from schema.inputs import (
    CoinPnlFilter,
    CoinPnlOrder,
    DecimalRange,
    LeaderboardFilter,
    LeaderboardOrder,
    ScreenerFilter,
    amount_range,
)
from schema.types.coin_pnl import CoinPnlConnection, coin_pnl_connection
from schema.types.leaderboard import LeaderboardConnection, LeaderboardEntry, board_connection
from schema.types.position import Position
from schema.types.position_stats import PositionsAggregate
from schema.types.stats import TraderStats
from schema.types.trade import Trade
from schema.types.trader import Trader

Info = strawberry.Info[Context, None]

#: Whale trades: the smallest threshold a caller may ask for, and the default (PerpsTracker's).
WHALE_MIN_NOTIONAL = Decimal(10_000)
WHALE_DEFAULT_NOTIONAL = Decimal(50_000)


@strawberry.type(description="A fixed period whose board has been snapshotted.")
class LeaderboardPeriod:
    type: PeriodType = strawberry.field(description="Daily, weekly or monthly.")
    name: str = strawberry.field(description="2026-10-31, 2026-W44 or 2026-10.")
    starts_at: datetime = strawberry.field(description="Start of the period (UTC, inclusive).")
    ends_at: datetime = strawberry.field(description="End of the period (UTC, exclusive).")
    trader_count: int = strawberry.field(description="Traders on the period's board.")
    computed_at: datetime = strawberry.field(
        description="When the board was frozen (the period's end)."
    )


@strawberry.type(description="One coin's activity over a window (precomputed by scoring).")
class CoinActivity:
    coin: str = strawberry.field(description="The coin.")
    volume: Decimal = strawberry.field(description="Traded notional, USD.")
    volume_share: float = strawberry.field(
        description="This coin's share of the window's volume, 0-1."
    )
    buy_volume: Decimal = strawberry.field(description="Notional bought, USD.")
    sell_volume: Decimal = strawberry.field(description="Notional sold, USD.")
    net_flow: Decimal = strawberry.field(description="buyVolume - sellVolume, USD.")
    long_volume: Decimal = strawberry.field(description="Notional on long positions, USD.")
    short_volume: Decimal = strawberry.field(description="Notional on short positions, USD.")
    trade_count: int = strawberry.field(description="Fills.")
    trader_count: int = strawberry.field(description="Distinct traders who traded it.")
    realized_pnl: Decimal = strawberry.field(description="Realized PnL, gross of fees, USD.")
    fees: Decimal = strawberry.field(description="Fees, USD.")
    net_pnl: Decimal = strawberry.field(description="realizedPnl - fees, USD.")
    liquidation_count: int = strawberry.field(description="Liquidation fills.")

    @classmethod
    def from_figures(cls, figures: CoinFigures, total_volume: Decimal) -> CoinActivity:
        return cls(
            coin=figures.coin,
            volume=figures.volume,
            volume_share=float(figures.volume / total_volume) if total_volume > 0 else 0.0,
            buy_volume=figures.buy_volume,
            sell_volume=figures.sell_volume,
            net_flow=figures.buy_volume - figures.sell_volume,
            long_volume=figures.long_volume,
            short_volume=figures.short_volume,
            trade_count=figures.trade_count,
            trader_count=figures.trader_count,
            realized_pnl=figures.realized_pnl,
            fees=figures.fees,
            net_pnl=figures.net_pnl,
            liquidation_count=figures.liquidation_count,
        )


@strawberry.enum(description="Market sentiment from the long share of volume.")
class Sentiment(Enum):
    BULLISH = strawberry.enum_value("BULLISH", description="Longs took over 55% of volume.")
    NEUTRAL = strawberry.enum_value("NEUTRAL", description="Longs took 45-55% of volume.")
    BEARISH = strawberry.enum_value("BEARISH", description="Longs took under 45% of volume.")


@strawberry.type(description="Traders on each rolling window's board.")
class TradersByTimeframe:
    day: int = strawberry.field(description="Traders with a fill in the last 24 hours.")
    week: int = strawberry.field(description="... in the last 7 days.")
    month: int = strawberry.field(description="... in the last 30 days.")
    year: int = strawberry.field(description="... in the last 365 days.")
    all_time: int = strawberry.field(description="Traders ever seen trading.")


@strawberry.type(description="The whole market over one window (PerpsTracker's overview).")
class MarketOverview:
    timeframe: Timeframe = strawberry.field(description="The window.")
    updated_at: datetime | None = strawberry.field(
        description="When the figures were computed (the scoring job's last run)."
    )
    volume: Decimal = strawberry.field(description="Traded notional, USD.")
    realized_pnl: Decimal = strawberry.field(description="Realized PnL of all traders, USD.")
    fees: Decimal = strawberry.field(description="Fees paid, USD.")
    net_pnl: Decimal = strawberry.field(description="realizedPnl - fees, USD.")
    trade_count: int = strawberry.field(description="Fills.")
    active_traders: int = strawberry.field(description="Traders with a fill in the window.")
    avg_leverage: float | None = strawberry.field(
        description="Mean of the active traders' average leverage."
    )
    long_volume: Decimal = strawberry.field(description="Notional on long positions, USD.")
    short_volume: Decimal = strawberry.field(description="Notional on short positions, USD.")
    long_share: float | None = strawberry.field(
        description="longVolume / volume, 0-1; null without volume."
    )
    sentiment: Sentiment | None = strawberry.field(
        description="From longShare; null without volume."
    )
    liquidation_count: int = strawberry.field(description="Liquidation fills.")
    top_coins: list[CoinActivity] = strawberry.field(
        description="Coins by volume, at most `topCoins` of them."
    )
    traders_by_timeframe: TradersByTimeframe = strawberry.field(
        description="Board sizes of every rolling window."
    )
    trades_last_hour: int = strawberry.field(
        description="Fills in the hour before the latest fill."
    )
    traders_last_hour: int = strawberry.field(
        description="Distinct traders in the hour before the latest fill."
    )


@strawberry.type(
    description="One coin in the screener (Nansen's perp screener, both its default and its "
    "smart-money figures)."
)
class ScreenerEntry:
    activity: CoinActivity = strawberry.field(description="The coin's activity in the window.")
    mark_price: Decimal | None = strawberry.field(description="Latest mark price, USD.")
    previous_price: Decimal | None = strawberry.field(
        description="Price of the window's first fill, USD; null without one."
    )
    price_change: float | None = strawberry.field(
        description="markPrice / previousPrice - 1, a fraction; null when either is unknown."
    )
    funding_rate: float | None = strawberry.field(description="Current funding rate per hour.")
    open_interest: Decimal | None = strawberry.field(description="Venue open interest, coins.")
    open_interest_usd: Decimal | None = strawberry.field(
        description="openInterest x markPrice, USD."
    )
    long_accounts: int = strawberry.field(description="Traders with a long open now.")
    short_accounts: int = strawberry.field(description="Traders with a short open now.")
    long_notional: Decimal = strawberry.field(description="Notional of open longs, USD.")
    short_notional: Decimal = strawberry.field(description="Notional of open shorts, USD.")
    smart_money_volume: Decimal = strawberry.field(
        description="Notional SMART_MONEY-labelled traders traded in the window, USD."
    )
    smart_money_buy_volume: Decimal = strawberry.field(description="Of it, bought, USD.")
    smart_money_sell_volume: Decimal = strawberry.field(description="Of it, sold, USD.")
    smart_money_net_flow: Decimal = strawberry.field(
        description="Buy - sell notional of SMART_MONEY-labelled traders in the window, USD "
        "(Nansen's net position change)."
    )
    smart_money_traders: int = strawberry.field(
        description="SMART_MONEY-labelled traders who traded the coin in the window."
    )
    smart_money_long_accounts: int = strawberry.field(
        description="SMART_MONEY traders with a long open now."
    )
    smart_money_short_accounts: int = strawberry.field(
        description="SMART_MONEY traders with a short open now."
    )
    smart_money_long_notional: Decimal = strawberry.field(
        description="Notional of SMART_MONEY traders' open longs, USD."
    )
    smart_money_short_notional: Decimal = strawberry.field(
        description="Notional of SMART_MONEY traders' open shorts, USD."
    )

    @classmethod
    def from_row(cls, row: ScreenerRow) -> ScreenerEntry:
        return cls(
            activity=CoinActivity.from_figures(row.figures, row.board_volume),
            mark_price=row.mark_price,
            previous_price=row.previous_price,
            price_change=row.price_change,
            funding_rate=row.funding_rate,
            open_interest=row.open_interest,
            open_interest_usd=row.open_interest_usd,
            long_accounts=row.long_accounts,
            short_accounts=row.short_accounts,
            long_notional=row.long_notional,
            short_notional=row.short_notional,
            smart_money_volume=row.smart_money_volume,
            smart_money_buy_volume=row.smart_money_buy_volume,
            smart_money_sell_volume=row.smart_money_sell_volume,
            smart_money_net_flow=row.smart_money_net_flow,
            smart_money_traders=row.smart_money_traders,
            smart_money_long_accounts=row.smart_money_long_accounts,
            smart_money_short_accounts=row.smart_money_short_accounts,
            smart_money_long_notional=row.smart_money_long_notional,
            smart_money_short_notional=row.smart_money_short_notional,
        )


@strawberry.type(description="A trader's open exposure.")
class TraderExposure:
    trader: Trader = strawberry.field(description="The trader.")
    position_count: int = strawberry.field(description="Open positions.")
    notional: Decimal = strawberry.field(description="Their notional, USD.")
    unrealized_pnl: Decimal = strawberry.field(description="Their unrealized PnL, USD.")


@strawberry.type(
    description="Every open position in aggregate (PerpsTracker's positions/summary): totals, "
    "per market, and the top positions and traders."
)
class PositionsSummary:
    total: PositionsAggregate = strawberry.field(description="All matching open positions.")
    by_market: list[PositionsAggregate] = strawberry.field(
        description="Per market, largest notional first; they add up to `total`."
    )
    largest: list[Position] = strawberry.field(description="Largest by notional.")
    most_profitable: list[Position] = strawberry.field(description="Highest unrealized PnL.")
    least_profitable: list[Position] = strawberry.field(description="Lowest unrealized PnL.")
    top_traders: list[TraderExposure] = strawberry.field(
        description="Traders with the most open notional."
    )


@strawberry.type(description="Liquidations in the 24 hours before the latest fill.")
class LiquidationStats:
    count: int = strawberry.field(description="Liquidation fills.")
    volume: Decimal = strawberry.field(description="Their notional, USD.")
    losses: Decimal = strawberry.field(
        description="Losses they realized, net of fees, as a positive USD amount."
    )
    trader_count: int = strawberry.field(description="Traders liquidated.")


@strawberry.type(description="Recent liquidation fills with a 24-hour summary.")
class Liquidations:
    stats_24h: LiquidationStats = strawberry.field(
        name="stats24h", description="The last 24 hours."
    )
    trades: Connection[Trade] = strawberry.field(description="Liquidation fills, newest first.")


@strawberry.type(description="A trader present on every requested board.")
class ConsistentTrader:
    trader: Trader = strawberry.field(description="The trader.")
    average_rank: float = strawberry.field(description="Mean rank over the boards.")
    average_score: float = strawberry.field(description="Mean score over the boards.")
    boards: list[TraderStats] = strawberry.field(
        description="The trader's figures on each board, in the order asked."
    )


@strawberry.type(description="How often a trader ranked on fixed-period boards.")
class SnapshotAppearances:
    trader: Trader = strawberry.field(description="The trader.")
    daily: int = strawberry.field(description="Daily boards ranked on within `top`.")
    weekly: int = strawberry.field(description="Weekly boards ranked on within `top`.")
    monthly: int = strawberry.field(description="Monthly boards ranked on within `top`.")
    total: int = strawberry.field(description="daily + weekly + monthly.")
    best_rank: int = strawberry.field(description="Best rank on any of them.")
    latest_net_pnl: Decimal = strawberry.field(description="Net PnL on the latest of them.")


@strawberry.type(description="Traders on a period's board for the first time.")
class NewEntrants:
    period: str | None = strawberry.field(
        description="The period's board (e.g. DAILY:2026-10-31); null when no period of the "
        "type has been snapshotted yet."
    )
    periods_compared: int = strawberry.field(description="Earlier periods compared against.")
    entries: list[LeaderboardEntry] = strawberry.field(description="By rank on that board.")


@strawberry.type(description="An open position of a ranked trader, for a price chart.")
class ChartPosition:
    position: Position = strawberry.field(description="The open position.")
    rank: int = strawberry.field(description="The trader's rank on the board asked.")
    score: float = strawberry.field(description="The trader's score on that board.")


@strawberry.type(description="A trader's closed positions in aggregate.")
class ClosedPositionSummary:
    closed_position_count: int = strawberry.field(description="Positions closed.")
    wins: int = strawberry.field(description="Closed with positive net PnL.")
    losses: int = strawberry.field(description="Closed with zero or negative net PnL.")
    win_rate: float | None = strawberry.field(description="wins / closed, 0-1.")
    realized_pnl: Decimal = strawberry.field(description="Realized PnL, gross of fees, USD.")
    fees: Decimal = strawberry.field(description="Fees, USD.")
    funding: Decimal = strawberry.field(description="Funding, USD.")
    net_pnl: Decimal = strawberry.field(description="realizedPnl - fees + funding, USD.")
    volume: Decimal = strawberry.field(
        description="Round-trip notional: entry notional plus exit notional of the closed "
        "size, USD."
    )

    @classmethod
    def from_summary(cls, summary: ClosedSummary) -> ClosedPositionSummary:
        closed = summary.closed_position_count
        return cls(
            closed_position_count=closed,
            wins=summary.wins,
            losses=summary.losses,
            win_rate=summary.wins / closed if closed else None,
            realized_pnl=summary.realized_pnl,
            fees=summary.fees,
            funding=summary.funding,
            net_pnl=summary.net_pnl,
            volume=summary.volume,
        )


@strawberry.type(description="Recently opened and closed positions across all traders.")
class RecentActivity:
    recently_opened: list[Position] = strawberry.field(
        description="Open positions, most recently opened first."
    )
    recently_closed: list[Position] = strawberry.field(
        description="Closed positions, most recently closed first."
    )


@strawberry.type(description="One trader of a comparison.")
class ComparedTrader:
    asked: str = strawberry.field(description="The address or public id as asked.")
    trader: Trader | None = strawberry.field(description="The trader; null when unknown.")
    stats: TraderStats | None = strawberry.field(
        description="The trader's figures in the window; null when not on its board."
    )


def _coin(value: str) -> str:
    return value.strip().upper()[:40]


_PERIOD_WINDOW = {
    PeriodType.DAILY: Timeframe.DAY,
    PeriodType.WEEKLY: Timeframe.WEEK,
    PeriodType.MONTHLY: Timeframe.MONTH,
}


@strawberry.type(description="Analytics views: fixed periods, market and trader views.")
class AnalyticsQuery:
    @strawberry.field(
        description="Fixed periods whose boards were snapshotted (frozen at the period's "
        "end), newest first."
    )
    async def leaderboard_periods(
        self,
        info: Info,
        type: Annotated[PeriodType, strawberry.argument(description="Daily, weekly, monthly.")],
        first: PageSize = 50,
    ) -> list[LeaderboardPeriod]:
        rows = await period_boards(info.context, type.name, first)
        periods: list[LeaderboardPeriod] = []
        for row in rows:
            period = parse_period(PeriodKind(type.name), row.key.split(":", 1)[1])
            periods.append(
                LeaderboardPeriod(
                    type=type,
                    name=period.name,
                    starts_at=period.start,
                    ends_at=period.end,
                    trader_count=row.trader_count,
                    computed_at=row.computed_at,
                )
            )
        return periods

    @strawberry.field(
        description="The board of one fixed period (PerpsTracker's fixed leaderboards): the "
        "same entries, tiers, filters and orderings as `leaderboard`. Empty (updatedAt null) "
        "when the period has not ended or has no snapshot."
    )
    async def period_leaderboard(
        self,
        info: Info,
        type: Annotated[PeriodType, strawberry.argument(description="Daily, weekly, monthly.")],
        period: Annotated[str, strawberry.argument(description="2026-10-31, 2026-W44 or 2026-10.")],
        tier: Annotated[
            LeaderboardTier, strawberry.argument(description="Only entries of this tier.")
        ] = LeaderboardTier.ALL,
        filter: Annotated[
            LeaderboardFilter | None, strawberry.argument(description="As for `leaderboard`.")
        ] = None,
        order_by: Annotated[
            LeaderboardOrder | None,
            strawberry.argument(description="Ordering; by rank when omitted."),
        ] = None,
        first: PageSize = 50,
        after: After = None,
    ) -> LeaderboardConnection:
        key = period_key(type.name, period)
        return await board_connection(
            info.context, key, _PERIOD_WINDOW[type], tier, filter, order_by, first, after
        )

    @strawberry.field(description="The whole market over one window (precomputed).")
    async def market_overview(
        self,
        info: Info,
        timeframe: Annotated[Timeframe, strawberry.argument(description="The window.")] = (
            Timeframe.DAY
        ),
        top_coins: Annotated[
            int, strawberry.argument(description="How many coins in topCoins, 1-100.")
        ] = 10,
    ) -> MarketOverview:
        if not 1 <= top_coins <= 100:
            raise BadUserInputError("`topCoins` must be between 1 and 100", argument="topCoins")
        overview = await market_overview(info.context, timeframe.name)
        volume: Decimal = overview.total("volume")
        long_volume: Decimal = overview.total("long_volume")
        long_share = float(long_volume / volume) if volume > 0 else None
        sentiment = None
        if long_share is not None:
            sentiment = (
                Sentiment.BULLISH
                if long_share > BULLISH_LONG_SHARE
                else Sentiment.BEARISH
                if long_share < 1 - BULLISH_LONG_SHARE
                else Sentiment.NEUTRAL
            )
        boards = overview.traders_by_board
        return MarketOverview(
            timeframe=timeframe,
            updated_at=overview.computed_at,
            volume=volume,
            realized_pnl=overview.total("realized_pnl"),
            fees=overview.total("fees"),
            net_pnl=overview.total("net_pnl"),
            trade_count=overview.total("trade_count"),
            active_traders=overview.trader_count,
            avg_leverage=overview.avg_leverage,
            long_volume=long_volume,
            short_volume=overview.total("short_volume"),
            long_share=long_share,
            sentiment=sentiment,
            liquidation_count=overview.total("liquidation_count"),
            top_coins=[CoinActivity.from_figures(c, volume) for c in overview.coins[:top_coins]],
            traders_by_timeframe=TradersByTimeframe(
                day=boards.get("DAY", 0),
                week=boards.get("WEEK", 0),
                month=boards.get("MONTH", 0),
                year=boards.get("YEAR", 0),
                all_time=boards.get("ALL_TIME", 0),
            ),
            trades_last_hour=overview.trades_last_hour,
            traders_last_hour=overview.traders_last_hour,
        )

    @strawberry.field(description="Every coin traded in a window with its market context.")
    async def market_screener(
        self,
        info: Info,
        timeframe: Annotated[Timeframe, strawberry.argument(description="The window.")] = (
            Timeframe.DAY
        ),
        filter: Annotated[
            ScreenerFilter | None, strawberry.argument(description="Narrow the coins.")
        ] = None,
        order_by: Annotated[
            ScreenerOrderField, strawberry.argument(description="What to sort by.")
        ] = ScreenerOrderField.VOLUME,
        direction: Annotated[
            OrderDirection, strawberry.argument(description="Largest first unless ASC.")
        ] = OrderDirection.DESC,
    ) -> list[ScreenerEntry]:
        updated = await leaderboard_updated_at(info.context, timeframe.name)
        query = ScreenerQuery(
            board=timeframe.name,
            since=window_start(timeframe.name, updated),
            order_field=order_by.name.lower(),
            descending=direction is OrderDirection.DESC,
        )
        if filter is not None:
            query = filter.apply(query)
        rows = await market_screener(info.context, query)
        return [ScreenerEntry.from_row(row) for row in rows]

    @strawberry.field(
        description="Traders of one coin over a window (Nansen's per-coin PnL leaderboard): "
        "PnL realized in the window and unrealized now, ROI, position held, net flow; by total "
        "PnL unless ordered otherwise, with range filters on every figure. Computed at request "
        "time from the coin's fills."
    )
    async def coin_pnl_leaderboard(
        self,
        info: Info,
        coin: Annotated[str, strawberry.argument(description="The coin, e.g. BTC.")],
        timeframe: Annotated[Timeframe, strawberry.argument(description="The window.")] = (
            Timeframe.MONTH
        ),
        filter: Annotated[
            CoinPnlFilter | None, strawberry.argument(description="Narrow the board.")
        ] = None,
        order_by: Annotated[
            CoinPnlOrder | None,
            strawberry.argument(description="Ordering; total PnL, highest first, when omitted."),
        ] = None,
        first: PageSize = 50,
        after: After = None,
    ) -> CoinPnlConnection:
        updated = await leaderboard_updated_at(info.context, timeframe.name)
        since = window_start(timeframe.name, updated)
        return await coin_pnl_connection(
            info.context, _coin(coin), since, filter, order_by, first, after
        )

    @strawberry.field(description="Every open position in aggregate, optionally narrowed.")
    async def positions_summary(
        self,
        info: Info,
        coins: Annotated[
            list[str] | None, strawberry.argument(description="Only these markets.")
        ] = None,
        side: Annotated[Side | None, strawberry.argument(description="Only this side.")] = None,
        top: Annotated[int, strawberry.argument(description="Length of the top lists, 1-20.")] = 5,
        min_notional: Annotated[
            Decimal | None, strawberry.argument(description="Only positions this large, USD.")
        ] = None,
        unrealized_pnl: Annotated[
            DecimalRange | None,
            strawberry.argument(description="Only positions whose unrealized PnL is in range."),
        ] = None,
        profitable: Annotated[
            bool | None,
            strawberry.argument(
                description="true: only positions in profit now; false: only those at a loss."
            ),
        ] = None,
    ) -> PositionsSummary:
        if coins is not None and len(coins) > 100:
            raise BadUserInputError("`coins` takes at most 100 values", argument="coins")
        if min_notional is not None and (not min_notional.is_finite() or min_notional < 0):
            raise BadUserInputError("`minNotional` must be >= 0", argument="minNotional")
        query = PositionQuery(
            status="OPEN",
            coins=tuple(_coin(c) for c in coins) if coins else None,
            sides=(side.name,) if side else None,
            min_notional=min_notional,
            unrealized_pnl=amount_range(unrealized_pnl, "unrealizedPnl"),
            profitable=profitable,
        )
        summary = await positions_summary(info.context, query, top)
        return PositionsSummary(
            total=PositionsAggregate.from_row(summary.total),
            by_market=[PositionsAggregate.from_row(row) for row in summary.by_market],
            largest=[Position.from_row(row) for row in summary.largest],
            most_profitable=[Position.from_row(row) for row in summary.most_profitable],
            least_profitable=[Position.from_row(row) for row in summary.least_profitable],
            top_traders=[
                TraderExposure(
                    trader=Trader.from_row(row.trader),
                    position_count=row.position_count,
                    notional=row.notional,
                    unrealized_pnl=row.unrealized_pnl,
                )
                for row in summary.top_traders
            ],
        )

    @strawberry.field(description="Large fills, newest first (PerpsTracker's whale trades).")
    async def whale_trades(
        self,
        info: Info,
        min_notional: Annotated[
            Decimal,
            strawberry.argument(description="Smallest notional, USD; at least 10000."),
        ] = WHALE_DEFAULT_NOTIONAL,
        coins: Annotated[
            list[str] | None, strawberry.argument(description="Only these markets.")
        ] = None,
        first: PageSize = 20,
        after: After = None,
    ) -> Connection[Trade]:
        if not min_notional.is_finite() or min_notional < WHALE_MIN_NOTIONAL:
            raise BadUserInputError(
                f"`minNotional` must be at least {WHALE_MIN_NOTIONAL}", argument="minNotional"
            )
        spec = TradeFilterSpec(
            coins=tuple(_coin(c) for c in coins) if coins else None, min_notional=min_notional
        )
        context = info.context
        page = await trades_page(context, spec, first, after)
        return to_connection(page, Trade.from_row, lambda: trades_count(context, spec))

    @strawberry.field(description="Recent liquidation fills and the last 24 hours' summary.")
    async def liquidations(
        self,
        info: Info,
        coins: Annotated[
            list[str] | None, strawberry.argument(description="Only these markets.")
        ] = None,
        min_notional: Annotated[
            Decimal | None, strawberry.argument(description="Smallest notional, USD.")
        ] = None,
        first: PageSize = 20,
        after: After = None,
    ) -> Liquidations:
        if min_notional is not None and (not min_notional.is_finite() or min_notional < 0):
            raise BadUserInputError("`minNotional` must be >= 0", argument="minNotional")
        coin_list = tuple(_coin(c) for c in coins) if coins else None
        spec = TradeFilterSpec(coins=coin_list, is_liquidation=True, min_notional=min_notional)
        context = info.context
        page = await trades_page(context, spec, first, after)
        stats = await liquidation_stats(context, coin_list, None)
        return Liquidations(
            stats_24h=LiquidationStats(
                count=stats.count,
                volume=stats.volume,
                losses=stats.losses,
                trader_count=stats.trader_count,
            ),
            trades=to_connection(page, Trade.from_row, lambda: trades_count(context, spec)),
        )

    @strawberry.field(description="Up to 5 traders side by side over one window.")
    async def compare_traders(
        self,
        info: Info,
        traders: Annotated[
            list[str], strawberry.argument(description="Addresses or public ids, 1 to 5.")
        ],
        timeframe: Annotated[Timeframe, strawberry.argument(description="The window.")] = (
            Timeframe.MONTH
        ),
    ) -> list[ComparedTrader]:
        if not 1 <= len(traders) <= MAX_COMPARED:
            raise BadUserInputError(
                f"`traders` takes 1 to {MAX_COMPARED} traders", argument="traders"
            )
        context = info.context
        rows: list[TraderRow | None] = []
        for identifier in traders:
            found = await find_trader_ids(context, [identifier])
            rows.append(await context.loaders.trader_by_id.load(found[0]) if found else None)
        known = [row.id for row in rows if row is not None]
        stats = dict(zip(known, await board_stats(context, known, timeframe.name), strict=True))
        compared: list[ComparedTrader] = []
        for asked, row in zip(traders, rows, strict=True):
            board = stats.get(row.id) if row is not None else None
            compared.append(
                ComparedTrader(
                    asked=asked,
                    trader=Trader.from_row(row) if row is not None else None,
                    stats=TraderStats.from_row(board) if board is not None else None,
                )
            )
        return compared

    @strawberry.field(
        description="When a board was last recomputed (UTC): a rolling window's, or a fixed "
        "period's when `period` is given; null before the first time."
    )
    async def leaderboard_updated_at(
        self,
        info: Info,
        timeframe: Annotated[Timeframe, strawberry.argument(description="The window.")] = (
            Timeframe.MONTH
        ),
        period_type: Annotated[
            PeriodType | None, strawberry.argument(description="With `period`: its type.")
        ] = None,
        period: Annotated[
            str | None, strawberry.argument(description="A fixed period, e.g. 2026-W44.")
        ] = None,
    ) -> datetime | None:
        if (period_type is None) != (period is None):
            raise BadUserInputError("give both `periodType` and `period`, or neither")
        board = timeframe.name
        if period_type is not None and period is not None:
            board = period_key(period_type.name, period)
        return await leaderboard_updated_at(info.context, board)

    @strawberry.field(
        description="Traders ranked within `top` on every one of the rolling windows asked "
        "(DAY, WEEK, MONTH and YEAR by default; PerpsTracker's consistent traders), by "
        "average rank."
    )
    async def consistent_traders(
        self,
        info: Info,
        top: Annotated[
            int, strawberry.argument(description="Rank cut-off on each board, 1-1000.")
        ] = 100,
        timeframes: Annotated[
            list[Timeframe] | None,
            strawberry.argument(
                description="The boards to be on, in this order; DAY, WEEK, MONTH and YEAR "
                "when omitted (one board: its top traders by rank)."
            ),
        ] = None,
        first: PageSize = 50,
    ) -> list[ConsistentTrader]:
        if not 1 <= top <= 1000:
            raise BadUserInputError("`top` must be between 1 and 1000", argument="top")
        boards = (
            tuple(dict.fromkeys(t.name for t in timeframes))
            if timeframes is not None
            else (
                "DAY",
                "WEEK",
                "MONTH",
                "YEAR",
            )
        )
        if not boards:
            raise BadUserInputError("`timeframes` needs at least one board", argument="timeframes")
        rows = await consistent_traders(info.context, boards, top, first)
        return [
            ConsistentTrader(
                trader=Trader.from_row(row.trader),
                average_rank=row.average_rank,
                average_score=row.average_score,
                boards=[TraderStats.from_row(s) for s in row.boards],
            )
            for row in rows
        ]

    @strawberry.field(
        description="Traders by how many fixed-period boards they ranked within `top` on "
        "(PerpsTracker's snapshot frequency)."
    )
    async def snapshot_frequency(
        self,
        info: Info,
        top: Annotated[
            int, strawberry.argument(description="Rank cut-off on each board, 1-1000.")
        ] = 100,
        min_appearances: Annotated[
            int, strawberry.argument(description="Fewest appearances to be listed.")
        ] = 3,
        first: PageSize = 50,
    ) -> list[SnapshotAppearances]:
        if not 1 <= top <= 1000:
            raise BadUserInputError("`top` must be between 1 and 1000", argument="top")
        rows = await snapshot_frequency(info.context, top, max(min_appearances, 1), first)
        return [
            SnapshotAppearances(
                trader=Trader.from_row(row.trader),
                daily=row.daily,
                weekly=row.weekly,
                monthly=row.monthly,
                total=row.daily + row.weekly + row.monthly,
                best_rank=row.best_rank,
                latest_net_pnl=row.latest_net_pnl,
            )
            for row in rows
        ]

    @strawberry.field(
        description="Traders within `top` of a period's board (the latest of its type unless "
        "`period` names one) who were within `top` of no earlier period of that type "
        "(PerpsTracker's new traders)."
    )
    async def new_entrants(
        self,
        info: Info,
        type: Annotated[PeriodType, strawberry.argument(description="Daily, weekly, monthly.")],
        period: Annotated[
            str | None,
            strawberry.argument(
                description="The period, e.g. 2026-10-31, 2026-W44 or 2026-10; the latest "
                "snapshotted one when omitted."
            ),
        ] = None,
        top: Annotated[
            int, strawberry.argument(description="Rank cut-off on each board, 1-1000.")
        ] = 100,
        min_net_pnl: Annotated[
            Decimal | None,
            strawberry.argument(description="Only entrants with at least this net PnL, USD."),
        ] = None,
        order_by: Annotated[
            LeaderboardOrder | None,
            strawberry.argument(description="Ordering (ties by rank); by rank when omitted."),
        ] = None,
        first: PageSize = 20,
    ) -> NewEntrants:
        if not 1 <= top <= 1000:
            raise BadUserInputError("`top` must be between 1 and 1000", argument="top")
        if min_net_pnl is not None and not min_net_pnl.is_finite():
            raise BadUserInputError("`minNetPnl` must be a finite number", argument="minNetPnl")
        order = order_by or LeaderboardOrder(
            field=LeaderboardOrderField.RANK, direction=OrderDirection.ASC
        )
        key, compared, rows = await new_entrants(
            info.context,
            type.name,
            period,
            top,
            first,
            min_net_pnl,
            (order.field.name, order.direction is OrderDirection.DESC),
        )
        entries: list[LeaderboardEntry] = []
        traders = await info.context.loaders.trader_by_id.load_many([r.trader_id for r in rows])
        for row, trader in zip(rows, traders, strict=True):
            assert trader is not None
            entries.append(
                LeaderboardEntry(
                    rank=row.rank,
                    score=row.score,
                    tier=LeaderboardTier(row.tier),
                    trader=Trader.from_row(trader),
                    stats=TraderStats.from_row(row),
                )
            )
        return NewEntrants(period=key, periods_compared=compared, entries=entries)

    @strawberry.field(
        description="The most active traders of a window: the board ordered by fills "
        "(PerpsTracker's active traders). Same as leaderboard(orderBy: TRADE_COUNT DESC)."
    )
    async def most_active_traders(
        self,
        info: Info,
        timeframe: Annotated[Timeframe, strawberry.argument(description="The window.")] = (
            Timeframe.DAY
        ),
        min_trades: Annotated[
            int, strawberry.argument(description="Fewest fills to be listed.")
        ] = 1,
        first: PageSize = 50,
        after: After = None,
    ) -> LeaderboardConnection:
        return await board_connection(
            info.context,
            timeframe.name,
            timeframe,
            LeaderboardTier.ALL,
            LeaderboardFilter(min_trades=min_trades),
            LeaderboardOrder(field=LeaderboardOrderField.TRADE_COUNT),
            first,
            after,
        )

    @strawberry.field(
        description="Open positions in one market of the traders ranked within `maxRank` on "
        "a window's board, best rank first: entries to overlay on a price chart."
    )
    async def chart_positions(
        self,
        info: Info,
        coin: Annotated[str, strawberry.argument(description="The market, e.g. BTC.")],
        timeframe: Annotated[Timeframe, strawberry.argument(description="The board.")] = (
            Timeframe.WEEK
        ),
        max_rank: Annotated[
            int, strawberry.argument(description="Worst rank included, 1-500.")
        ] = 50,
    ) -> list[ChartPosition]:
        rows = await chart_positions(info.context, _coin(coin), timeframe.name, max_rank)
        return [
            ChartPosition(position=Position.from_row(row.position), rank=row.rank, score=row.score)
            for row in rows
        ]

    @strawberry.field(
        description="One trader's closed positions in aggregate (wins, losses, net PnL, fees); "
        "null for an unknown trader. The positions themselves are Trader.closedPositions."
    )
    async def closed_position_summary(
        self,
        info: Info,
        trader: Annotated[str, strawberry.argument(description="Address or public id.")],
        since: Annotated[
            datetime | None, strawberry.argument(description="Only positions closed after.")
        ] = None,
    ) -> ClosedPositionSummary | None:
        text = trader.strip()
        row = await find_trader(
            info.context,
            address=None if text.startswith("#") else text,
            public_id=text if text.startswith("#") else None,
        )
        if row is None:
            return None
        summary = await closed_position_summary(info.context, row.id, since)
        return ClosedPositionSummary.from_summary(summary)

    @strawberry.field(
        description="Recently opened and closed positions (PerpsTracker's recent activity)."
    )
    async def recent_activity(
        self,
        info: Info,
        first: Annotated[int, strawberry.argument(description="Positions per list, 1-50.")] = 20,
    ) -> RecentActivity:
        opened, closed = await recent_positions(info.context, first)
        return RecentActivity(
            recently_opened=[Position.from_row(row) for row in opened],
            recently_closed=[Position.from_row(row) for row in closed],
        )

    @strawberry.field(
        description="Fills of the traders ranked within `maxRank` on a window's board, newest "
        "first (PerpsTracker's live trades filtered by leaderboard rank)."
    )
    async def top_trader_trades(
        self,
        info: Info,
        timeframe: Annotated[Timeframe, strawberry.argument(description="The board.")] = (
            Timeframe.DAY
        ),
        max_rank: Annotated[
            int, strawberry.argument(description="Worst rank included, 1-100.")
        ] = 10,
        first: PageSize = 50,
        after: After = None,
    ) -> Connection[Trade]:
        context = info.context
        spec = TradeFilterSpec(trader_ids=await top_trader_ids(context, timeframe.name, max_rank))
        page = await trades_page(context, spec, first, after)
        return to_connection(page, Trade.from_row, lambda: trades_count(context, spec))
