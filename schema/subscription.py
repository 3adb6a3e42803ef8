"""The root ``Subscription``: live position events over graphql-transport-ws."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from decimal import Decimal
from typing import Annotated

import strawberry

from resolvers.context import Context
from resolvers.cursors import check_page_size, decode_cursor, encode_cursor
from resolvers.errors import BadUserInputError, PerpgraphError
from resolvers.live import LiveEvent, TraderSelector, position_events
from resolvers.lookups import (
    MAX_TRADERS_PER_FILTER,
    find_trader_ids,
    normalize_address,
    normalize_public_id,
)
from resolvers.streams import leaderboard_updates, mark_updates, position_updates
from schema.enums import LeaderboardTier, Side, Timeframe, TradeAction
from schema.inputs import TradeFilter, coins_argument
from schema.types.leaderboard import LeaderboardConnection
from schema.types.market import Market
from schema.types.position import Position
from schema.types.trade import Trade
from schema.types.trader import Trader

EVENT_CURSOR = "events"
MAX_BOARD_TOP = 1_000
TOO_SLOW_REASON = "subscriber too slow: resubscribe with after = the last cursor received"
"""The close reason of a subscriber dropped for falling behind (close code 4009)."""


def event_cursor(trade_id: int) -> str:
    return encode_cursor(EVENT_CURSOR, trade_id)


def trader_selector(identifiers: list[str]) -> TraderSelector:
    """Addresses and public ids, normalized as lookups normalize them."""
    if len(identifiers) > MAX_TRADERS_PER_FILTER:
        raise BadUserInputError(
            f"at most {MAX_TRADERS_PER_FILTER} traders per filter, got {len(identifiers)}",
            argument="filter.traders",
        )
    addresses: set[str] = set()
    public_ids: set[str] = set()
    for identifier in identifiers:
        text = identifier.strip()
        if text.startswith("#") or text.isdigit():
            public_ids.add(normalize_public_id(text))
        else:
            addresses.add(normalize_address(text))
    return TraderSelector(frozenset(addresses), frozenset(public_ids))


@strawberry.input(description="Only traders on a leaderboard: the top N of one window's board.")
class LeaderboardMembership:
    timeframe: Timeframe = strawberry.field(
        default=Timeframe.WEEK, description="Which window's board."
    )
    top: int = strawberry.field(
        description=f"How many of the best ranks, 1-{MAX_BOARD_TOP}. Membership follows the "
        "board as it is recomputed."
    )


@strawberry.input(description="Which position events to receive; every field given narrows.")
class PositionEventFilter:
    traders: list[str] | None = strawberry.field(
        default=None, description="Only these traders: addresses or public ids, at most 100."
    )
    coins: list[str] | None = strawberry.field(default=None, description="Only these coins.")
    actions: list[TradeAction] | None = strawberry.field(
        default=None, description="Only these actions (e.g. [OPEN, CLOSE, FLIP])."
    )
    sides: list[Side] | None = strawberry.field(
        default=None, description="Only events on positions of these sides."
    )
    min_notional: Decimal | None = strawberry.field(
        default=None, description="Only fills of at least this notional, USD."
    )
    liquidations_only: bool = strawberry.field(
        default=False, description="Only the traders' own liquidations."
    )
    leaderboard: LeaderboardMembership | None = strawberry.field(
        default=None, description="Only traders in the top N of a board."
    )


@strawberry.type(description="One fill-derived change to a trader's position, as it happened.")
class PositionEvent:
    cursor: str = strawberry.field(
        description="This event's place in the event log: pass the last one you received as "
        "`after` to resume without losing or repeating an event."
    )
    action: TradeAction = strawberry.field(description="What the fill did.")
    trade: Trade = strawberry.field(description="The fill.")
    position: Position | None = strawberry.field(
        description="The position the fill belongs to, as it is now (after this and any later "
        "fills)."
    )
    trader: Trader = strawberry.field(description="The trader.")

    @classmethod
    def from_event(cls, event: LiveEvent) -> PositionEvent:
        return cls(
            cursor=event_cursor(event.trade.id),
            action=TradeAction(event.trade.action),
            trade=Trade.from_row(event.trade),
            position=None if event.position is None else Position.from_row(event.position),
            trader=Trader.from_row(event.trader),
        )


@strawberry.type(description="Live streams over WebSocket (graphql-transport-ws on /graphql).")
class Subscription:
    @strawberry.subscription(
        description="Every new fill-derived position event (OPEN, ADD, REDUCE, CLOSE, FLIP), in "
        "commit order. With `after`, first the events missed since that cursor, then live ones, "
        "with no gap and no repeat at the seam."
    )
    async def position_events(
        self,
        info: strawberry.Info[Context, None],
        filter: Annotated[
            PositionEventFilter | None, strawberry.argument(description="Narrow the events.")
        ] = None,
        after: Annotated[
            str | None,
            strawberry.argument(description="Resume after this event's cursor."),
        ] = None,
    ) -> AsyncGenerator[PositionEvent, None]:
        context = _live_context(info)
        assert context.feed is not None
        given = filter or PositionEventFilter()
        after_id = decode_cursor(after, EVENT_CURSOR, (int,))[0] if after else None
        top_of_board = None
        if given.leaderboard is not None:
            if not 1 <= given.leaderboard.top <= MAX_BOARD_TOP:
                raise BadUserInputError(
                    f"`filter.leaderboard.top` must be between 1 and {MAX_BOARD_TOP}",
                    argument="filter.leaderboard.top",
                )
            top_of_board = (given.leaderboard.timeframe.name, given.leaderboard.top)
        traders = None
        if given.traders is not None:
            traders = trader_selector(given.traders)
        spec = await TradeFilter(
            coins=given.coins,
            actions=given.actions,
            sides=given.sides,
            is_liquidation=True if given.liquidations_only else None,
            min_notional=given.min_notional,
        ).to_spec(context)
        close_too_slow = context.extras.get("close_too_slow")
        async for event in position_events(
            context.feed,
            spec,
            after_id=after_id,
            top_of_board=top_of_board,
            traders=traders,
            cursor_of=event_cursor,
            on_overflow=(
                (lambda: close_too_slow(TOO_SLOW_REASON)) if close_too_slow is not None else None
            ),
        ):
            loaders = context.fresh_loaders()
            loaders.trader_by_id.prime(event.trader.id, event.trader)
            if event.position is not None:
                loaders.position_by_id.prime(event.position.id, event.position)
            yield PositionEvent.from_event(event)

    @strawberry.subscription(
        description="The top of a window's board: now, then again after every recomputation "
        "(see `leaderboard.updatedAt`)."
    )
    async def leaderboard_updated(
        self,
        info: strawberry.Info[Context, None],
        timeframe: Annotated[Timeframe, strawberry.argument(description="The window.")] = (
            Timeframe.WEEK
        ),
        first: Annotated[
            int, strawberry.argument(description="How many of the best entries, 1-100.")
        ] = 10,
    ) -> AsyncGenerator[LeaderboardConnection, None]:
        from schema.types.leaderboard import board_connection

        context = _live_context(info)
        assert context.feed is not None
        check_page_size(first)
        async for _ in leaderboard_updates(context.feed):
            context.fresh_loaders()
            yield await board_connection(
                context, timeframe.name, timeframe, LeaderboardTier.ALL, None, None, first, None
            )

    @strawberry.subscription(
        description="Mark prices: the markets now, then whenever a mark changes (at most once "
        "per PERPGRAPH_LIVE_UPDATE_SECONDS, default 1 s)."
    )
    async def mark_prices(
        self,
        info: strawberry.Info[Context, None],
        coins: Annotated[
            list[str] | None,
            strawberry.argument(description="Only these coins (all when omitted), at most 100."),
        ] = None,
    ) -> AsyncGenerator[list[Market], None]:
        context = _live_context(info)
        assert context.feed is not None
        selected = coins_argument(coins, "coins")
        async for markets in mark_updates(context.feed, selected, context.feed.update_interval):
            yield [Market.from_row(row) for row in markets]

    @strawberry.subscription(
        description="The open positions of a watchlist of traders, with fresh mark, notional, "
        "unrealized PnL and liquidation price: now, then whenever they change (at most once "
        "per PERPGRAPH_LIVE_UPDATE_SECONDS, default 1 s)."
    )
    async def position_updates(
        self,
        info: strawberry.Info[Context, None],
        traders: Annotated[
            list[str],
            strawberry.argument(description="Addresses or public ids, 1-100."),
        ],
    ) -> AsyncGenerator[list[Position], None]:
        context = _live_context(info)
        assert context.feed is not None
        if not traders:
            raise BadUserInputError("`traders` must name at least one trader", argument="traders")
        trader_ids = await find_trader_ids(context, traders)
        async for positions in position_updates(
            context.feed, trader_ids, context.feed.update_interval
        ):
            context.fresh_loaders()
            yield [Position.from_row(row) for row in positions]


def _live_context(info: strawberry.Info[Context, None]) -> Context:
    if info.context.feed is None:
        raise PerpgraphError("live streams are not available on this server")
    return info.context
