"""perpgraph's form of the peer harness's leaderboard query, and the check that both answer alike.

The harness asks PostGraphile for the top 100 of the 7-day board, each entry's trader, the
trader's open positions (every column) and the trader's 10 newest trades. ``QUERY`` asks
perpgraph for the same values. :func:`differences` compares the two answers value by value:
the same entries in the same order, the same positions, the same trades in the same order, and
equal values (numbers as exact decimals, times as instants, ids decoded from perpgraph's global
ids, sides and timeframes mapped to perpgraph's enums).

Two differences of form, not of data: perpgraph lists a trader's open positions largest
notional first (PostGraphile's query asks for primary-key order), so positions are compared as
one set per trader, matched by id; and ``traderId`` of a position or trade is implied by
nesting under the trader rather than repeated.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from datetime import datetime
from decimal import Decimal
from typing import Any

from bench.peer_data import TIMEFRAMES

QUERY = """
query PeerLeaderboard($first: Int!, $recentTrades: Int!) {
  leaderboard(timeframe: WEEK, first: $first) {
    nodes {
      rank
      score
      stats { timeframe netPnl roi winRate volume }
      trader {
        id
        publicId
        label
        positions {
          id coin side size entryPrice markPrice leverage unrealizedPnl
          openedAt lastFillAt closedAt
        }
        trades(first: $recentTrades) {
          nodes {
            id positionId timestamp coin side action size price realizedPnl fee
          }
        }
      }
    }
  }
}
"""

VARIABLES = {"first": 100, "recentTrades": 10}

Json = dict[str, Any]


def differences(peer: Json, ours: Json, limit: int = 20) -> tuple[int, list[str]]:
    """How many values were compared, and the first ``limit`` that differ."""
    found: list[str] = []
    compared = 0
    for path, theirs, mine in _pairs(peer, ours):
        compared += 1
        if theirs != mine:
            found.append(f"{path}: PostGraphile {theirs!r}, perpgraph {mine!r}")
            if len(found) >= limit:
                break
    return compared, found


def _pairs(peer: Json, ours: Json) -> Iterator[tuple[str, Any, Any]]:
    entries = peer["data"]["allLeaderboardEntries"]["nodes"]
    nodes = ours["data"]["leaderboard"]["nodes"]
    yield "entries", len(entries), len(nodes)
    for index, (entry, node) in enumerate(zip(entries, nodes, strict=False)):
        at = f"entries[{index}]"
        stats = node["stats"]
        yield f"{at}.timeframe", TIMEFRAMES[entry["timeframe"]], stats["timeframe"]
        yield f"{at}.rank", entry["rank"], node["rank"]
        for theirs, mine, value in [
            ("score", "score", node["score"]),
            ("pnl", "netPnl", stats["netPnl"]),
            ("roi", "roi", stats["roi"]),
            ("winRate", "winRate", stats["winRate"]),
            ("volume", "volume", stats["volume"]),
        ]:
            yield f"{at}.{theirs}/{mine}", _number(entry[theirs]), _number(value)
        yield from _trader_pairs(f"{at}.trader", entry["traderByTraderId"], node["trader"])


def _trader_pairs(at: str, trader: Json, mine: Json) -> Iterator[tuple[str, Any, Any]]:
    yield f"{at}.id", int(trader["rowId"]), _row_id(mine["id"])
    yield f"{at}.publicId", trader["publicId"], mine["publicId"]
    yield f"{at}.label", trader["label"], mine["label"]
    positions = {int(p["rowId"]): p for p in trader["positionsByTraderId"]["nodes"]}
    my_positions = {_row_id(p["id"]): p for p in mine["positions"]}
    yield f"{at}.positions", sorted(positions), sorted(my_positions)
    for row_id in sorted(positions.keys() & my_positions.keys()):
        theirs, ours = positions[row_id], my_positions[row_id]
        where = f"{at}.positions[{row_id}]"
        yield f"{where}.traderId", trader["rowId"], theirs["traderId"]
        yield f"{where}.side", theirs["side"].upper(), ours["side"]
        yield f"{where}.coin", theirs["coin"], ours["coin"]
        for name in ("size", "entryPrice", "markPrice", "leverage", "unrealizedPnl"):
            yield f"{where}.{name}", _number(theirs[name]), _number(ours[name])
        for theirs_name, my_name in [
            ("openedAt", "openedAt"),
            ("updatedAt", "lastFillAt"),
            ("closedAt", "closedAt"),
        ]:
            yield f"{where}.{theirs_name}", _moment(theirs[theirs_name]), _moment(ours[my_name])
    trades = trader["tradesByTraderId"]["nodes"]
    my_trades = mine["trades"]["nodes"]
    yield f"{at}.trades", len(trades), len(my_trades)
    for index, (trade, my_trade) in enumerate(zip(trades, my_trades, strict=False)):
        where = f"{at}.trades[{index}]"
        yield f"{where}.id", int(trade["rowId"]), _row_id(my_trade["id"])
        yield f"{where}.traderId", trader["rowId"], trade["traderId"]
        position_id = my_trade["positionId"]
        yield (
            f"{where}.positionId",
            None if trade["positionId"] is None else int(trade["positionId"]),
            None if position_id is None else _row_id(position_id),
        )
        yield f"{where}.ts", _moment(trade["ts"]), _moment(my_trade["timestamp"])
        yield f"{where}.side", trade["side"].upper(), my_trade["side"]
        for name in ("coin", "action"):
            yield f"{where}.{name}", trade[name], my_trade[name]
        for name in ("size", "price", "realizedPnl", "fee"):
            yield f"{where}.{name}", _number(trade[name]), _number(my_trade[name])


def _row_id(global_id: str) -> int:
    _, _, key = base64.b64decode(global_id).decode().partition(":")
    return int(key)


def _number(value: str | float | None) -> Decimal | None:
    return None if value is None else Decimal(str(value))


def _moment(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value)
