"""Hyperliquid ``portfolio``: one account's value and PnL history over eight windows.

The body is a list of ``[window, {accountValueHistory, pnlHistory, vlm}]`` pairs for ``day``,
``week``, ``month``, ``allTime`` and their ``perp*`` counterparts (perps only, without spot).
Histories are ``[[time_ms, "amount"], ...]``, oldest first.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from ingest.hyperliquid._records import Record, Sign, json_kind, to_decimal, to_time, top_level_list
from ingest.hyperliquid.errors import HyperliquidFormatError


@dataclass(frozen=True, slots=True)
class PortfolioWindow:
    """One window: account value and cumulative PnL over time, and the volume traded in it."""

    name: str
    account_value_history: list[tuple[datetime, Decimal]]
    pnl_history: list[tuple[datetime, Decimal]]
    volume: Decimal

    @property
    def last_account_value(self) -> Decimal | None:
        return self.account_value_history[-1][1] if self.account_value_history else None


def parse_portfolio(payload: object) -> dict[str, PortfolioWindow]:
    """Parse a ``portfolio`` response into its windows, by name."""
    what = "portfolio"
    windows: dict[str, PortfolioWindow] = {}
    for index, pair in enumerate(top_level_list(payload, what)):
        where = f"{what} window #{index}"
        if not isinstance(pair, list) or len(pair) != 2 or not isinstance(pair[0], str):
            raise HyperliquidFormatError(
                f"{where}: expected a pair [name, {{...}}], got {json_kind(pair)}"
            )
        name, values = pair
        if name in windows:
            raise HyperliquidFormatError(f"{where}: repeats window {name!r}")
        record = Record(f"{where} ({name})", values)
        windows[name] = PortfolioWindow(
            name=name,
            account_value_history=_history(record, "accountValueHistory"),
            pnl_history=_history(record, "pnlHistory"),
            volume=record.decimal("vlm", sign=Sign.NON_NEGATIVE),
        )
    return windows


def _history(record: Record, name: str) -> list[tuple[datetime, Decimal]]:
    points: list[tuple[datetime, Decimal]] = []
    for index, point in enumerate(record.items(name)):
        field = f"{name}[{index}]"
        if not isinstance(point, list) or len(point) != 2:
            raise record.error(field, f"must be a pair [time, amount], got {json_kind(point)}")
        time, amount = point
        points.append(
            (
                to_time(time, record.failing(f"{field}[0]")),
                to_decimal(amount, record.failing(f"{field}[1]")),
            )
        )
    return points
