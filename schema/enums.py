"""Enumerations of the graph. Values are SCREAMING_CASE and described one by one."""

from __future__ import annotations

from enum import Enum

import strawberry


@strawberry.enum(description="A rolling window ending now, over which statistics are computed.")
class Timeframe(Enum):
    DAY = strawberry.enum_value("DAY", description="The last 24 hours.")
    WEEK = strawberry.enum_value("WEEK", description="The last 7 days.")
    MONTH = strawberry.enum_value("MONTH", description="The last 30 days.")
    YEAR = strawberry.enum_value("YEAR", description="The last 365 days.")
    ALL_TIME = strawberry.enum_value("ALL_TIME", description="Everything ever ingested.")


@strawberry.enum(description="The side of a position.")
class Side(Enum):
    LONG = strawberry.enum_value("LONG", description="Profits when the price rises.")
    SHORT = strawberry.enum_value("SHORT", description="Profits when the price falls.")


@strawberry.enum(description="Which way a trader traded in one fill.")
class TradeDirection(Enum):
    BUY = strawberry.enum_value(
        "BUY", description="Bought: opens or adds to a long, or reduces a short."
    )
    SELL = strawberry.enum_value(
        "SELL", description="Sold: opens or adds to a short, or reduces a long."
    )


@strawberry.enum(description="What a fill did to the trader's position in its coin.")
class TradeAction(Enum):
    OPEN = strawberry.enum_value("OPEN", description="Opened a position from flat.")
    ADD = strawberry.enum_value("ADD", description="Increased an open position.")
    REDUCE = strawberry.enum_value(
        "REDUCE", description="Decreased an open position without closing it; realizes PnL."
    )
    CLOSE = strawberry.enum_value("CLOSE", description="Closed the whole position; realizes PnL.")
    FLIP = strawberry.enum_value(
        "FLIP",
        description="Closed the position and opened the other side in one fill; realizes "
        "PnL on the closed part.",
    )


@strawberry.enum(description="Leaderboard tiers, after MillionScan's.")
class LeaderboardTier(Enum):
    FEATURED = strawberry.enum_value(
        "FEATURED",
        description="High score, enough closed positions in the window, and traded in the "
        "last 3 days (docs/methodology.md gives the gates).",
    )
    ACTIVE = strawberry.enum_value(
        "ACTIVE",
        description="As a filter: every trader who traded in the 7 days before the board's end "
        "(every FEATURED one, and the ADVANCED ones that did). As an entry's tier: active, but "
        "in neither narrower tier.",
    )
    ADVANCED = strawberry.enum_value("ADVANCED", description="High score, but not FEATURED.")
    ALL = strawberry.enum_value(
        "ALL",
        description="As a filter: everyone on the board. As an entry's tier: on the board "
        "but in no narrower tier.",
    )


@strawberry.enum(description="Sort direction.")
class OrderDirection(Enum):
    ASC = strawberry.enum_value("ASC", description="Smallest (or oldest) first.")
    DESC = strawberry.enum_value("DESC", description="Largest (or newest) first.")


@strawberry.enum(description="Statistics a leaderboard can be ordered by.")
class LeaderboardOrderField(Enum):
    RANK = strawberry.enum_value("RANK", description="Board rank (1 is best).")
    SCORE = strawberry.enum_value("SCORE", description="Score, 0-100.")
    NET_PNL = strawberry.enum_value("NET_PNL", description="Net PnL in the window.")
    REALIZED_PNL = strawberry.enum_value("REALIZED_PNL", description="Realized PnL.")
    UNREALIZED_PNL = strawberry.enum_value("UNREALIZED_PNL", description="Unrealized PnL now.")
    VOLUME = strawberry.enum_value("VOLUME", description="Traded notional in the window.")
    FEES = strawberry.enum_value("FEES", description="Fees paid in the window.")
    TRADE_COUNT = strawberry.enum_value("TRADE_COUNT", description="Fills in the window.")
    CLOSED_POSITION_COUNT = strawberry.enum_value(
        "CLOSED_POSITION_COUNT", description="Positions closed in the window."
    )
    WIN_RATE = strawberry.enum_value(
        "WIN_RATE", description="Share of closed positions that won (none closed sorts last)."
    )
    LAST_TRADE_AT = strawberry.enum_value("LAST_TRADE_AT", description="Time of the last fill.")
    FUNDING = strawberry.enum_value(
        "FUNDING", description="Funding of positions closed in the window, USD."
    )
    ROI = strawberry.enum_value(
        "ROI", description="ROI, a fraction (0.12 = 12%). Null sorts lowest."
    )
    CAPITAL = strawberry.enum_value("CAPITAL", description="ROI's capital base, USD.")
    LONG_VOLUME = strawberry.enum_value(
        "LONG_VOLUME", description="Notional traded on long positions, USD."
    )
    SHORT_VOLUME = strawberry.enum_value(
        "SHORT_VOLUME", description="Notional traded on short positions, USD."
    )
    LONG_PNL = strawberry.enum_value(
        "LONG_PNL", description="Net realized PnL of long positions, USD."
    )
    SHORT_PNL = strawberry.enum_value(
        "SHORT_PNL", description="Net realized PnL of short positions, USD."
    )
    WINS = strawberry.enum_value("WINS", description="Winning closed positions.")
    LOSSES = strawberry.enum_value("LOSSES", description="Losing (or breakeven) closed positions.")
    PROFIT_FACTOR = strawberry.enum_value(
        "PROFIT_FACTOR", description="Gross profit / gross loss. Null sorts lowest."
    )
    AVG_WIN = strawberry.enum_value(
        "AVG_WIN", description="Mean net PnL of winning positions, USD. Null sorts lowest."
    )
    AVG_LOSS = strawberry.enum_value(
        "AVG_LOSS", description="Mean net PnL of losing positions, USD. Null sorts lowest."
    )
    LARGEST_WIN = strawberry.enum_value(
        "LARGEST_WIN", description="Best closed position, USD. Null sorts lowest."
    )
    LARGEST_LOSS = strawberry.enum_value(
        "LARGEST_LOSS", description="Worst closed position, USD. Null sorts lowest."
    )
    SHARPE = strawberry.enum_value(
        "SHARPE",
        description="Annualised Sharpe ratio of daily trading PnL (realized - fees). "
        "Null sorts lowest.",
    )
    SORTINO = strawberry.enum_value(
        "SORTINO",
        description="Annualised Sortino ratio of daily trading PnL (realized - fees). "
        "Null sorts lowest.",
    )
    MAX_DRAWDOWN = strawberry.enum_value("MAX_DRAWDOWN", description="Maximum drawdown, USD.")
    MAX_DRAWDOWN_PCT = strawberry.enum_value(
        "MAX_DRAWDOWN_PCT",
        description="Maximum drawdown, fraction of equity at the peak (0-1). Null sorts lowest.",
    )
    AVG_LEVERAGE = strawberry.enum_value(
        "AVG_LEVERAGE",
        description="Mean leverage of positions active in the window. Null sorts lowest.",
    )
    MAX_LEVERAGE = strawberry.enum_value(
        "MAX_LEVERAGE",
        description="Highest leverage of positions active in the window. Null sorts lowest.",
    )
    AVG_HOLD_SECONDS = strawberry.enum_value(
        "AVG_HOLD_SECONDS",
        description="Mean holding time of closed positions, seconds. Null sorts lowest.",
    )
    LIQUIDATION_COUNT = strawberry.enum_value(
        "LIQUIDATION_COUNT", description="Liquidation fills in the window."
    )
    OPEN_POSITION_COUNT = strawberry.enum_value(
        "OPEN_POSITION_COUNT", description="Positions open now."
    )
    OPEN_NOTIONAL = strawberry.enum_value(
        "OPEN_NOTIONAL", description="Notional of the positions open now, USD."
    )
    RISK_SCORE = strawberry.enum_value(
        "RISK_SCORE", description="Risk score, 0-100 (lower is safer)."
    )
    ACCOUNT_VALUE = strawberry.enum_value(
        "ACCOUNT_VALUE",
        description="The venue's account value, USD (Trader.accountValue). Unknown sorts lowest.",
    )


@strawberry.enum(description="Fields positions can be ordered by.")
class PositionOrderField(Enum):
    NOTIONAL = strawberry.enum_value(
        "NOTIONAL", description="Current notional (size x mark); 0 once closed."
    )
    SIZE = strawberry.enum_value("SIZE", description="Current size; 0 once closed.")
    OPENED_AT = strawberry.enum_value("OPENED_AT", description="When the position opened.")
    CLOSED_AT = strawberry.enum_value(
        "CLOSED_AT", description="When the position closed (open positions sort as latest)."
    )
    UNREALIZED_PNL = strawberry.enum_value(
        "UNREALIZED_PNL", description="Unrealized PnL at the mark (0 when unknown or closed)."
    )
    REALIZED_PNL = strawberry.enum_value(
        "REALIZED_PNL", description="PnL realized so far, gross of fees."
    )


@strawberry.enum(description="Whether a position is open or closed.")
class PositionStatus(Enum):
    OPEN = strawberry.enum_value("OPEN", description="Open now.")
    CLOSED = strawberry.enum_value("CLOSED", description="Closed: kept as history.")
    ANY = strawberry.enum_value("ANY", description="Open or closed.")


@strawberry.enum(description="How much risk a trader takes, from riskScore (docs/methodology.md).")
class RiskLevel(Enum):
    CONSERVATIVE = strawberry.enum_value("CONSERVATIVE", description="riskScore below 34.")
    MODERATE = strawberry.enum_value("MODERATE", description="riskScore from 34 to below 67.")
    AGGRESSIVE = strawberry.enum_value("AGGRESSIVE", description="riskScore 67 or more.")


@strawberry.enum(description="A fixed leaderboard period, frozen when it ends (UTC).")
class PeriodType(Enum):
    DAILY = strawberry.enum_value("DAILY", description="A calendar day, key YYYY-MM-DD.")
    WEEKLY = strawberry.enum_value("WEEKLY", description="An ISO week, key YYYY-Www.")
    MONTHLY = strawberry.enum_value("MONTHLY", description="A calendar month, key YYYY-MM.")


@strawberry.enum(description="What a coin's PnL board can be ordered by (Nansen's sort fields).")
class CoinPnlOrderField(Enum):
    TOTAL_PNL = strawberry.enum_value("TOTAL_PNL", description="netPnl + unrealizedPnl.")
    REALIZED_PNL = strawberry.enum_value("REALIZED_PNL", description="Realized in the window.")
    NET_PNL = strawberry.enum_value("NET_PNL", description="realizedPnl - fees.")
    UNREALIZED_PNL = strawberry.enum_value(
        "UNREALIZED_PNL", description="Of the open position now."
    )
    FEES = strawberry.enum_value("FEES", description="Fees in the window.")
    VOLUME = strawberry.enum_value("VOLUME", description="Traded notional in the window.")
    TRADE_COUNT = strawberry.enum_value("TRADE_COUNT", description="Fills in the window.")
    ROI = strawberry.enum_value("ROI", description="totalPnl / capital. Null sorts last.")
    REALIZED_ROI = strawberry.enum_value(
        "REALIZED_ROI", description="netPnl / capital. Null sorts last."
    )
    UNREALIZED_ROI = strawberry.enum_value(
        "UNREALIZED_ROI", description="unrealizedPnl / capital. Null sorts last."
    )
    POSITION_SIZE = strawberry.enum_value("POSITION_SIZE", description="Size open now.")
    POSITION_VALUE = strawberry.enum_value(
        "POSITION_VALUE", description="Notional open now, + long / - short."
    )
    MAX_SIZE_HELD = strawberry.enum_value(
        "MAX_SIZE_HELD", description="Largest size a position in the window reached."
    )
    STILL_HOLDING_RATIO = strawberry.enum_value(
        "STILL_HOLDING_RATIO", description="positionSize / maxSizeHeld. Null sorts last."
    )
    NETFLOW = strawberry.enum_value("NETFLOW", description="Bought - sold in the window.")
    NETFLOW_USD = strawberry.enum_value(
        "NETFLOW_USD", description="Notional bought - sold in the window."
    )


@strawberry.enum(description="What the market screener can be ordered by (Nansen's sort fields).")
class ScreenerOrderField(Enum):
    COIN = strawberry.enum_value("COIN", description="The coin's name.")
    VOLUME = strawberry.enum_value("VOLUME", description="Traded notional in the window.")
    BUY_VOLUME = strawberry.enum_value("BUY_VOLUME", description="Notional bought in the window.")
    SELL_VOLUME = strawberry.enum_value("SELL_VOLUME", description="Notional sold in the window.")
    NET_FLOW = strawberry.enum_value("NET_FLOW", description="Buy - sell notional in the window.")
    TRADE_COUNT = strawberry.enum_value("TRADE_COUNT", description="Fills in the window.")
    TRADER_COUNT = strawberry.enum_value(
        "TRADER_COUNT", description="Distinct traders in the window."
    )
    NET_PNL = strawberry.enum_value(
        "NET_PNL", description="Traders' realized PnL - fees in the window."
    )
    LIQUIDATION_COUNT = strawberry.enum_value(
        "LIQUIDATION_COUNT", description="Liquidation fills in the window."
    )
    MARK_PRICE = strawberry.enum_value("MARK_PRICE", description="Latest mark price.")
    PREVIOUS_PRICE = strawberry.enum_value(
        "PREVIOUS_PRICE", description="Price of the window's first fill."
    )
    PRICE_CHANGE = strawberry.enum_value(
        "PRICE_CHANGE", description="markPrice / previousPrice - 1."
    )
    FUNDING_RATE = strawberry.enum_value("FUNDING_RATE", description="Current funding rate.")
    OPEN_INTEREST = strawberry.enum_value(
        "OPEN_INTEREST", description="Venue open interest, coins."
    )
    OPEN_INTEREST_USD = strawberry.enum_value(
        "OPEN_INTEREST_USD", description="Open interest x mark, USD."
    )
    LONG_ACCOUNTS = strawberry.enum_value("LONG_ACCOUNTS", description="Traders long now.")
    SHORT_ACCOUNTS = strawberry.enum_value("SHORT_ACCOUNTS", description="Traders short now.")
    LONG_NOTIONAL = strawberry.enum_value("LONG_NOTIONAL", description="Notional of open longs.")
    SHORT_NOTIONAL = strawberry.enum_value("SHORT_NOTIONAL", description="Notional of open shorts.")
    SMART_MONEY_VOLUME = strawberry.enum_value(
        "SMART_MONEY_VOLUME", description="SMART_MONEY notional in the window."
    )
    SMART_MONEY_BUY_VOLUME = strawberry.enum_value(
        "SMART_MONEY_BUY_VOLUME", description="SMART_MONEY notional bought."
    )
    SMART_MONEY_SELL_VOLUME = strawberry.enum_value(
        "SMART_MONEY_SELL_VOLUME", description="SMART_MONEY notional sold."
    )
    SMART_MONEY_NET_FLOW = strawberry.enum_value(
        "SMART_MONEY_NET_FLOW", description="SMART_MONEY buy - sell notional."
    )
    SMART_MONEY_TRADERS = strawberry.enum_value(
        "SMART_MONEY_TRADERS", description="SMART_MONEY traders in the window."
    )
    SMART_MONEY_LONG_ACCOUNTS = strawberry.enum_value(
        "SMART_MONEY_LONG_ACCOUNTS", description="SMART_MONEY traders long now."
    )
    SMART_MONEY_SHORT_ACCOUNTS = strawberry.enum_value(
        "SMART_MONEY_SHORT_ACCOUNTS", description="SMART_MONEY traders short now."
    )
    SMART_MONEY_LONG_NOTIONAL = strawberry.enum_value(
        "SMART_MONEY_LONG_NOTIONAL", description="Notional of SMART_MONEY open longs."
    )
    SMART_MONEY_SHORT_NOTIONAL = strawberry.enum_value(
        "SMART_MONEY_SHORT_NOTIONAL", description="Notional of SMART_MONEY open shorts."
    )
