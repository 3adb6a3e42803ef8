"""``portfolio``: account value and PnL histories over eight windows."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from ingest.hyperliquid.errors import HyperliquidFormatError
from ingest.hyperliquid.portfolio import parse_portfolio
from tests.ingest.hyperliquid.hostile import check_every_edit
from tests.ingest.hyperliquid.recorded import PORTFOLIO_08C14B, PORTFOLIO_31CA83, load

WINDOW_NAMES = [
    "day", "week", "month", "allTime", "perpDay", "perpWeek", "perpMonth", "perpAllTime",
]  # fmt: skip


@pytest.mark.parametrize("name", [PORTFOLIO_08C14B, PORTFOLIO_31CA83])
def test_recorded_portfolios_have_eight_windows(name: str) -> None:
    windows = parse_portfolio(load(name))

    assert list(windows) == WINDOW_NAMES
    for window in windows.values():
        times = [time for time, _ in window.account_value_history]
        assert times == sorted(times), window.name
        assert len(window.pnl_history) == len(window.account_value_history), window.name


def test_08c14b_perp_all_time() -> None:
    window = parse_portfolio(load(PORTFOLIO_08C14B))["perpAllTime"]

    assert window.account_value_history[-1] == (
        datetime(2026, 10, 2, 14, 27, 26, 389000, tzinfo=UTC),
        Decimal("2225318.2230509999"),
    )
    assert window.pnl_history[-1][1] == Decimal("9454068.6930509992")
    assert window.volume == Decimal("105976451.9599999934")
    assert window.account_value_history[0][0].date().isoformat() == "2025-05-28"


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        pytest.param({}, "portfolio: expected a JSON list, got an object", id="object"),
        pytest.param([["day"]], "portfolio window #0: expected a pair", id="no values"),
        pytest.param(
            [["day", {"accountValueHistory": [[1, "1"], [2]], "pnlHistory": [], "vlm": "0"}]],
            "portfolio window #0 (day): field 'accountValueHistory[1]' must be a pair",
            id="short point",
        ),
        pytest.param(
            [["day", {"accountValueHistory": [], "pnlHistory": [["1", "1"]], "vlm": "0"}]],
            "portfolio window #0 (day): field 'pnlHistory[0][0]' must be a time",
            id="time a string",
        ),
    ],
)
def test_malformed_portfolio(payload: object, message: str) -> None:
    with pytest.raises(HyperliquidFormatError, match=re.escape(message)):
        parse_portfolio(payload)


def test_no_hostile_edit_escapes_as_another_exception() -> None:
    payload = load(PORTFOLIO_08C14B)[:1]
    for _, values in payload:
        values["accountValueHistory"] = values["accountValueHistory"][:2]
        values["pnlHistory"] = values["pnlHistory"][:2]

    assert check_every_edit(parse_portfolio, payload) > 100
