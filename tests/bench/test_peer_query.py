"""The peer benchmark's answer check finds every kind of difference it claims to compare."""

from __future__ import annotations

import base64
import copy
from typing import Any

import pytest

from bench.peer_query import differences


def _gid(kind: str, key: int) -> str:
    return base64.b64encode(f"{kind}:{key}".encode()).decode()


PEER: dict[str, Any] = {
    "data": {
        "allLeaderboardEntries": {
            "nodes": [
                {
                    "timeframe": "7d",
                    "rank": 1,
                    "score": "999.9953",
                    "pnl": "-164066.97",
                    "roi": "2.925113",
                    "winRate": "0.9547",
                    "volume": "30264041.67",
                    "traderByTraderId": {
                        "rowId": "2451",
                        "publicId": "#69469",
                        "label": None,
                        "positionsByTraderId": {
                            "nodes": [
                                {
                                    "rowId": "12486",
                                    "traderId": "2451",
                                    "coin": "AVAX",
                                    "side": "long",
                                    "size": "1.039107",
                                    "entryPrice": "317.6839",
                                    "markPrice": "414.4655",
                                    "leverage": "2",
                                    "unrealizedPnl": "100.566438",
                                    "openedAt": "2025-12-21T09:49:22.325679+00:00",
                                    "updatedAt": "2025-12-23T01:40:45.266391+00:00",
                                    "closedAt": None,
                                }
                            ]
                        },
                        "tradesByTraderId": {
                            "nodes": [
                                {
                                    "rowId": "209738",
                                    "traderId": "2451",
                                    "positionId": None,
                                    "ts": "2025-12-31T23:50:00.5+00:00",
                                    "coin": "BTC",
                                    "side": "short",
                                    "action": "REDUCE",
                                    "size": "3.5",
                                    "price": "101.0001",
                                    "realizedPnl": "-12.5",
                                    "fee": "0.12372512",
                                }
                            ]
                        },
                    },
                }
            ]
        }
    }
}

OURS: dict[str, Any] = {
    "data": {
        "leaderboard": {
            "nodes": [
                {
                    "rank": 1,
                    "score": 999.9953,
                    "stats": {
                        "timeframe": "WEEK",
                        "netPnl": "-164066.97",
                        "roi": 2.925113,
                        "winRate": 0.9547,
                        "volume": "30264041.67",
                    },
                    "trader": {
                        "id": _gid("Trader", 2451),
                        "publicId": "#69469",
                        "label": None,
                        "positions": [
                            {
                                "id": _gid("Position", 12486),
                                "coin": "AVAX",
                                "side": "LONG",
                                "size": "1.039107",
                                "entryPrice": "317.6839",
                                "markPrice": "414.4655",
                                "leverage": 2.0,
                                "unrealizedPnl": "100.566438",
                                "openedAt": "2025-12-21T09:49:22.325679+00:00",
                                "lastFillAt": "2025-12-23T01:40:45.266391+00:00",
                                "closedAt": None,
                            }
                        ],
                        "trades": {
                            "nodes": [
                                {
                                    "id": _gid("Trade", 209738),
                                    "positionId": None,
                                    "timestamp": "2025-12-31T23:50:00.500000+00:00",
                                    "coin": "BTC",
                                    "side": "SHORT",
                                    "action": "REDUCE",
                                    "size": "3.50",
                                    "price": "101.0001",
                                    "realizedPnl": "-12.5",
                                    "fee": "0.12372512",
                                }
                            ]
                        },
                    },
                }
            ]
        }
    }
}


def test_equal_answers_in_both_forms_match() -> None:
    compared, found = differences(PEER, OURS)
    assert found == []
    assert compared > 25


def _entry(answer: dict[str, Any]) -> dict[str, Any]:
    entry: dict[str, Any] = answer["data"]["leaderboard"]["nodes"][0]
    return entry


@pytest.mark.parametrize(
    "spoil",
    [
        lambda e: e.update(rank=2),
        lambda e: e.update(score=999.9954),
        lambda e: e["stats"].update(netPnl="-164066.96"),
        lambda e: e["stats"].update(timeframe="MONTH"),
        lambda e: e["trader"].update(id=_gid("Trader", 2452)),
        lambda e: e["trader"].update(label="x"),
        lambda e: e["trader"]["positions"][0].update(size="1.039108"),
        lambda e: e["trader"]["positions"][0].update(side="SHORT"),
        lambda e: e["trader"]["positions"][0].update(lastFillAt="2025-12-23T01:40:45+00:00"),
        lambda e: e["trader"]["positions"].clear(),
        lambda e: e["trader"]["trades"]["nodes"][0].update(positionId=_gid("Position", 1)),
        lambda e: e["trader"]["trades"]["nodes"][0].update(fee=None),
        lambda e: e["trader"]["trades"]["nodes"].append(e["trader"]["trades"]["nodes"][0]),
    ],
)
def test_each_kind_of_difference_is_found(spoil: Any) -> None:
    ours = copy.deepcopy(OURS)
    spoil(_entry(ours))
    _, found = differences(PEER, ours)
    assert found
