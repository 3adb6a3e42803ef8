"""Which trades a caller wants: the SQL form of the GraphQL ``TradeFilter``.

A :class:`TradeFilterSpec` is hashable, so it can be part of a loader key: the same nested
field asked with two different filters becomes two batches, one statement each.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from psycopg import sql

from db.rows import TradeRow


@dataclass(frozen=True, slots=True)
class TradeFilterSpec:
    """Every field narrows the result; None means "any"."""

    coins: tuple[str, ...] | None = None
    actions: tuple[str, ...] | None = None
    sides: tuple[str, ...] | None = None
    is_liquidation: bool | None = None
    min_notional: Decimal | None = None
    since: datetime | None = None
    until: datetime | None = None
    trader_ids: tuple[int, ...] | None = None

    def conditions(self, alias: str) -> tuple[list[sql.Composable], list[Any]]:
        """SQL conditions on the trade table aliased ``alias``, and their parameters in order."""
        conditions: list[sql.Composable] = []
        params: list[Any] = []

        def add(template: str, column: str, value: Any) -> None:
            conditions.append(sql.SQL(template).format(sql.Identifier(alias, column)))
            params.append(value)

        if self.coins is not None:
            add("{} = ANY(%s)", "coin", list(self.coins))
        if self.actions is not None:
            add("{} = ANY(%s)", "action", list(self.actions))
        if self.sides is not None:
            add("{} = ANY(%s)", "side", list(self.sides))
        if self.is_liquidation is not None:
            add("{} = %s", "is_liquidation", self.is_liquidation)
        if self.min_notional is not None:
            add("{} >= %s", "notional", self.min_notional)
        if self.since is not None:
            add("{} >= %s", "timestamp", self.since)
        if self.until is not None:
            add("{} < %s", "timestamp", self.until)
        if self.trader_ids is not None:
            add("{} = ANY(%s)", "trader_id", list(self.trader_ids))
        return conditions, params

    def matches(self, trade: TradeRow) -> bool:
        """The same test as :meth:`conditions`, on a row already loaded (live events)."""
        return (
            (self.coins is None or trade.coin in self.coins)
            and (self.actions is None or trade.action in self.actions)
            and (self.sides is None or trade.side in self.sides)
            and (self.is_liquidation is None or trade.is_liquidation == self.is_liquidation)
            and (self.min_notional is None or trade.notional >= self.min_notional)
            and (self.since is None or trade.timestamp >= self.since)
            and (self.until is None or trade.timestamp < self.until)
            and (self.trader_ids is None or trade.trader_id in self.trader_ids)
        )


NO_TRADE_FILTER = TradeFilterSpec()
