"""The public leaderboard: rows, addresses, names and the four windows."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

import pytest

from ingest.hyperliquid.errors import HyperliquidFormatError
from ingest.hyperliquid.leaderboard import WINDOWS, WindowPerformance, parse_leaderboard
from tests.ingest.hyperliquid.hostile import check_every_edit
from tests.ingest.hyperliquid.recorded import LEADERBOARD, USER_08C14B, load

DISPLAY_NAMES = [
    "beatmaker1@proton.me",
    "MachiBigBrother",
    "Smimen",
    "Auros",
    "BobbyBigSize",
    "Greg",
    "2 freres 2 fauves",
    "PURRINA Pro Plan",
]


def test_recorded_leaderboard() -> None:
    # given the first 60 rows of the leaderboard
    rows = parse_leaderboard(load(LEADERBOARD))

    # then all parse in order, with lower-cased unique addresses, and 8 display names
    assert len(rows) == 60
    assert all(row.address == row.address.lower() for row in rows)
    assert len({row.address for row in rows}) == 60
    assert [row.display_name for row in rows if row.display_name] == DISPLAY_NAMES
    assert all(tuple(row.windows) == WINDOWS for row in rows)
    assert {row.prize for row in rows} == {Decimal(0)}
    assert USER_08C14B not in {row.address for row in rows}


def test_first_row_is_exactly_as_recorded() -> None:
    first = parse_leaderboard(load(LEADERBOARD))[0]

    assert first.address == "0x85ecf584f25db6f146718b86d493e33c5af72052"
    assert first.account_value == Decimal("62426218.3606450111")
    assert first.display_name is None
    assert first.windows["day"] == WindowPerformance(
        pnl=Decimal("277242.663698"),
        roi=Decimal("0.0043510951"),
        volume=Decimal("1651927574.9899995327"),
    )
    assert first.windows["allTime"].volume == Decimal("219646100111.6899719238")


def test_mixed_case_addresses_are_lowered_and_new_windows_kept() -> None:
    payload = load(LEADERBOARD)
    row = payload["leaderboardRows"][0]
    row["ethAddress"] = row["ethAddress"].upper().replace("0X", "0x")
    row["windowPerformances"].append(["year", {"pnl": "1", "roi": "0.1", "vlm": "10"}])
    row["newField"] = 1

    first = parse_leaderboard(payload)[0]

    assert first.address == "0x85ecf584f25db6f146718b86d493e33c5af72052"
    assert first.windows["year"].volume == Decimal(10)


def with_row(**fields: object) -> dict[str, Any]:
    payload: dict[str, Any] = load(LEADERBOARD)
    payload["leaderboardRows"] = payload["leaderboardRows"][:2]
    payload["leaderboardRows"][1].update(fields)
    return payload


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        pytest.param("rows", "leaderboard: expected a JSON object, got a string", id="a string"),
        pytest.param({"rows": []}, "leaderboard: field 'leaderboardRows' is missing", id="no rows"),
        pytest.param(
            with_row(ethAddress="0xbuyer"),
            "leaderboard row #1: field 'ethAddress' must be a 0x-prefixed 40-digit hex address",
            id="not an address",
        ),
        pytest.param(
            with_row(windowPerformances=[["day", {"pnl": "1", "roi": "0", "vlm": "1"}]]),
            "leaderboard row #1: field 'windowPerformances' lacks window(s) week, month, allTime",
            id="missing windows",
        ),
        pytest.param(
            with_row(windowPerformances=[["day", {"pnl": "1", "roi": "0", "vlm": "1_000"}]]),
            "leaderboard row #1: field 'windowPerformances[0].vlm' is not a number: '1_000'",
            id="underscore digits",
        ),
        pytest.param(
            with_row(windowPerformances=[{"day": {}}]),
            "leaderboard row #1: field 'windowPerformances[0]' must be a pair",
            id="window not a pair",
        ),
        pytest.param(
            with_row(prize=-1), "leaderboard row #1: field 'prize' must not be negative", id="prize"
        ),
    ],
)
def test_malformed_leaderboard(payload: object, message: str) -> None:
    with pytest.raises(HyperliquidFormatError, match=re.escape(message)):
        parse_leaderboard(payload)


def test_no_hostile_edit_escapes_as_another_exception() -> None:
    payload = load(LEADERBOARD)
    payload["leaderboardRows"] = payload["leaderboardRows"][:1]

    assert check_every_edit(parse_leaderboard, payload) > 200
