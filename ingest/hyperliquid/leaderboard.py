"""Hyperliquid's public leaderboard (``GET stats-data.hyperliquid.xyz/Mainnet/leaderboard``).

The body is ``{"leaderboardRows": [...]}`` with one row per account (47,152 on 2026-10-02), each
with its performance over four windows: ``day``, ``week``, ``month`` and ``allTime``.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from ingest.hyperliquid._records import Record, Sign, json_kind, to_decimal

#: The windows every row must have; others the venue may add are kept too.
WINDOWS = ("day", "week", "month", "allTime")


@dataclass(frozen=True, slots=True)
class WindowPerformance:
    """PnL (USDC), return on investment (a fraction: 0.05 = 5 %) and traded volume (USDC)."""

    pnl: Decimal
    roi: Decimal
    volume: Decimal


@dataclass(frozen=True, slots=True)
class LeaderboardRow:
    """One account on the leaderboard; ``address`` lower-cased, ``display_name`` None if unset."""

    address: str
    account_value: Decimal
    display_name: str | None
    prize: Decimal
    windows: dict[str, WindowPerformance]


def parse_leaderboard(payload: object) -> list[LeaderboardRow]:
    """Parse the leaderboard body into rows, in the venue's order."""
    what = "leaderboard"
    rows = Record(what, payload).items("leaderboardRows")
    return [_parse_row(f"{what} row #{index}", row) for index, row in enumerate(rows)]


def _parse_row(where: str, row: object) -> LeaderboardRow:
    record = Record(where, row)
    prize = record.required("prize")
    if isinstance(prize, int) and not isinstance(prize, bool):
        prize = str(prize)  # the venue sends the prize as a bare integer (0)
    return LeaderboardRow(
        address=record.address("ethAddress"),
        account_value=record.decimal("accountValue"),
        display_name=record.optional_text("displayName"),
        prize=to_decimal(prize, record.failing("prize"), Sign.NON_NEGATIVE),
        windows=_windows(record),
    )


def _windows(record: Record) -> dict[str, WindowPerformance]:
    """``windowPerformances`` is a list of ``[name, {pnl, roi, vlm}]`` pairs."""
    windows: dict[str, WindowPerformance] = {}
    for index, pair in enumerate(record.items("windowPerformances")):
        field = f"windowPerformances[{index}]"
        if not isinstance(pair, list) or len(pair) != 2 or not isinstance(pair[0], str):
            raise record.error(field, f"must be a pair [name, {{...}}], got {json_kind(pair)}")
        name, values = pair
        if name in windows:
            raise record.error(field, f"repeats window {name!r}")
        performance = Record(record.where, values, prefix=f"{field}.")
        windows[name] = WindowPerformance(
            pnl=performance.decimal("pnl"),
            roi=performance.decimal("roi"),
            volume=performance.decimal("vlm", sign=Sign.NON_NEGATIVE),
        )
    missing = [name for name in WINDOWS if name not in windows]
    if missing:
        raise record.error("windowPerformances", f"lacks window(s) {', '.join(missing)}")
    return windows
