"""Replaying recorded Hyperliquid responses: markets, fills, idempotence, and bad files."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import psycopg
import pytest

from db.pool import connect
from ingest.hyperliquid.leaderboard import parse_leaderboard
from ingest.replay import ReplayError, replay
from ingest.venue_state import store_leaderboard
from tests.conftest import SHARED_DATA
from tests.ingest.hyperliquid.recorded import with_non_perp_fills

USER_109A42 = "0x109A42c3eAD059b041560Cb6Da71058516e7Ba3e"
FILLS_109A42 = SHARED_DATA / "user_fills_109a42_2025-10-07_to_2025-10-21.json"
META_2026 = SHARED_DATA / "meta_and_asset_ctxs_2026-02-06.json"


def _require_shared_data() -> None:
    if not FILLS_109A42.is_file():
        pytest.fail(f"recorded venue data missing: expected {FILLS_109A42} (../shared/data)")


async def test_replay_writes_markets_then_fills_and_is_idempotent(empty_url: str) -> None:
    _require_shared_data()
    connection = await connect(empty_url)
    # when the venue's market file and a user's fills are replayed
    first = await replay(connection, [FILLS_109A42, META_2026], user=USER_109A42)
    # then markets come first, and every fill is written once
    assert [r.kind for r in first] == ["metaAndAssetCtxs", "userFills"]
    assert first[0].markets == 228
    assert first[1].write.fills_written == 50
    assert first[1].closes_checked == 26
    assert first[1].closes_matching_venue >= 6
    # and replaying again changes nothing
    again = await replay(connection, [FILLS_109A42], user=USER_109A42.upper())
    assert again[0].write.fills_written == 0
    assert again[0].write.duplicates_skipped == 50
    await connection.close()
    with psycopg.connect(empty_url) as check:
        row = check.execute(
            "SELECT count(*), count(DISTINCT trader_id), "
            "count(*) FILTER (WHERE is_liquidation) FROM trade"
        ).fetchone()
    assert row == (50, 1, 19)


async def test_fills_without_a_user_are_refused_before_anything_is_written(
    empty_url: str,
) -> None:
    _require_shared_data()
    connection = await connect(empty_url)
    with pytest.raises(ReplayError, match="pass --user ADDRESS"):
        await replay(connection, [META_2026, FILLS_109A42], user=None)
    await connection.close()
    with psycopg.connect(empty_url) as check:
        assert check.execute("SELECT count(*) FROM market").fetchone() == (0,)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"{not json", "not JSON"),
        (b"\xff\xfe", "not JSON"),
        (b'{"hello": 1}', "not a response replay understands"),
        (b'[{"coin": "BTC"}]', "not a response replay understands"),
        (
            b'[{"coin": "BTC", "px": "abc", "sz": "1", "side": "B", "time": 1, "dir": "Open Long",'
            b' "startPosition": "0", "closedPnl": "0", "hash": "0x1", "oid": 1, "crossed": true}]',
            "px",
        ),
    ],
)
async def test_bad_files_get_a_clear_error(
    empty_url: str, tmp_path: Path, content: bytes, message: str
) -> None:
    bad = tmp_path / "bad.json"
    bad.write_bytes(content)
    connection = await connect(empty_url)
    with pytest.raises(ReplayError, match=message) as raised:
        await replay(connection, [bad], user="0xabc")
    assert "bad.json" in str(raised.value)
    await connection.close()


async def test_a_missing_file_is_a_clear_error(empty_url: str, tmp_path: Path) -> None:
    connection = await connect(empty_url)
    with pytest.raises(ReplayError, match="cannot read it"):
        await replay(connection, [tmp_path / "absent.json"], user="0xabc")
    await connection.close()


async def test_spot_trades_in_a_fills_file_are_skipped_and_reported(
    empty_url: str, tmp_path: Path
) -> None:
    _require_shared_data()
    # given 109a42's recorded fills with two spot trades, a USDH-fee TWAP fill and a
    # builder-market fill added
    fills = with_non_perp_fills(json.loads(FILLS_109A42.read_bytes()))
    path = tmp_path / "fills_with_spot.json"
    path.write_text(json.dumps(fills))
    connection = await connect(empty_url)
    # when the file is replayed with the venue's markets
    reports = await replay(connection, [META_2026, path], user=USER_109A42)
    await connection.close()
    # then the spot trades are counted and skipped, the other fee token counted
    report = reports[1]
    assert (report.spot_skipped, report.fees_in_other_tokens) == (2, 1)
    assert report.write.fills_written == 51
    with psycopg.connect(empty_url) as check:
        coins = {row[0] for row in check.execute("SELECT DISTINCT coin FROM trade")}
        markets = {row[0] for row in check.execute("SELECT coin FROM market")}
    assert not {"@107", "PURR/USDC"} & (coins | markets)
    # and a replay, which trusts the file, keeps the builder-market fill as its own market
    assert "xyz:TSLA" in coins


LEADERBOARD = SHARED_DATA / "leaderboard_sample_60rows_2026-10-02.json"
STATE_08C14B = SHARED_DATA / "clearinghouse_state_08c14b_2026-10-02.json"
USER_08C14B = "0x08c14b32c8a48894e4b933090ebcc9ce33b21135"


async def test_the_venue_leaderboard_registers_accounts_with_names_and_undated_values(
    empty_url: str,
) -> None:
    _require_shared_data()
    connection = await connect(empty_url)
    # when the recorded leaderboard (60 accounts, 8 of them named) is replayed twice
    first = (await replay(connection, [LEADERBOARD], user=None))[0]
    again = (await replay(connection, [LEADERBOARD], user=None))[0]
    await connection.close()
    # then its accounts became traders once, with their names and account values, undated
    assert first.leaderboard is not None
    assert again.leaderboard is not None
    assert (first.kind, first.leaderboard.accounts, first.leaderboard.traders_created) == (
        "leaderboard",
        60,
        60,
    )
    assert first.leaderboard.display_names == 8
    assert (again.leaderboard.traders_created, again.leaderboard.display_names) == (0, 0)
    rows = json.loads(LEADERBOARD.read_bytes())["leaderboardRows"]
    with psycopg.connect(empty_url) as check:
        stored = {
            address: (name, value, at)
            for address, name, value, at in check.execute(
                "SELECT address, display_name, account_value, account_value_at FROM trader"
            )
        }
    assert len(stored) == 60
    for row in rows:
        name, value, at = stored[row["ethAddress"].lower()]
        assert (name, value, at) == (row["displayName"], Decimal(row["accountValue"]), None)


async def test_a_dated_account_value_is_not_replaced_by_an_undated_one(empty_url: str) -> None:
    _require_shared_data()
    connection = await connect(empty_url)
    # given 08c14b's account snapshot (dated) replayed
    await replay(connection, [META_2026, STATE_08C14B], user=USER_08C14B)
    # when an undated leaderboard naming it with another value comes afterwards
    board = {
        "leaderboardRows": [
            {
                **json.loads(LEADERBOARD.read_bytes())["leaderboardRows"][0],
                "ethAddress": USER_08C14B,
                "accountValue": "1.5",
            }
        ]
    }
    await store_leaderboard(connection, "hyperliquid", parse_leaderboard(board), at=None)
    await connection.close()
    # then the snapshot's value and time stay
    state = json.loads(STATE_08C14B.read_bytes())
    with psycopg.connect(empty_url) as check:
        row = check.execute(
            "SELECT account_value, account_value_at FROM trader WHERE address = %s",
            (USER_08C14B,),
        ).fetchone()
    assert row is not None
    assert row[0] == Decimal(state["marginSummary"]["accountValue"])
    assert row[1] == datetime.fromtimestamp(state["time"] / 1000, UTC)
