"""The live ingester end to end against a local fake venue (HTTP + WebSocket on 127.0.0.1)."""

from __future__ import annotations

import asyncio
import json
import os
import signal
from datetime import UTC, datetime
from pathlib import Path

import httpx
import psycopg

from ingest.hyperliquid.info import InfoClient
from ingest.hyperliquid.live import LiveIngester, LiveSettings
from tests.conftest import REPO_ROOT
from tests.gateway.test_cli import CLI
from tests.ingest.hyperliquid.fake_venue import (
    DROP,
    FILLS,
    FUNDING,
    LEADERBOARD,
    PAUSE,
    USER_08C14B,
    USER_109A42,
    FakeVenue,
    running,
    trades_message,
)
from tests.ingest.hyperliquid.live_runs import run_until
from tests.ingest.hyperliquid.recorded import load, with_non_perp_fills

OTHER = "0x" + "12" * 20
ACK = json.dumps({"channel": "subscriptionResponse", "data": {"method": "subscribe"}})
MIDS = json.dumps({"channel": "allMids", "data": {"mids": {"BTC": "70123.5", "@1": "2.0"}}})


def _count(url: str, query: str, *params: object) -> int:
    with psycopg.connect(url) as connection:
        row = connection.execute(query, params).fetchone()
    return 0 if row is None else int(row[0])


def _trades_of(url: str, user: str) -> int:
    return _count(
        url,
        "SELECT count(*) FROM trade t JOIN trader tr ON tr.id = t.trader_id WHERE tr.address = %s",
        user,
    )


def _settled(ingester: LiveIngester) -> bool:
    counters = ingester.counters
    return counters.traders_backfilled >= 4 and counters.marks_refreshes >= 2


async def test_discovers_backfills_and_reconciles_through_drops_and_bad_messages(
    empty_url: str,
) -> None:
    # given a venue whose first socket names 109a42, sends junk, then drops mid-stream, and
    # whose second socket names 08c14b
    venue = FakeVenue(
        scripts=[
            [
                ACK,
                trades_message(("BTC", USER_109A42, OTHER)),
                "{not json",
                json.dumps({"channel": "nonsense", "data": {}}),
                trades_message(("BTC", "0xnot-an-address", OTHER)),
                MIDS,
                DROP,
            ],
            [
                ACK,
                trades_message(("ENA", OTHER, USER_08C14B)),
                PAUSE,
                trades_message(("BTC", USER_109A42, USER_08C14B)),
            ],
        ]
    )
    async with running(venue), httpx.AsyncClient(timeout=10) as http:
        info = InfoClient(http, base_url=venue.http_url, max_backoff_seconds=0.2)
        settings = LiveSettings(
            database_url=empty_url,
            ws_url=venue.ws_url,
            coins=("BTC", "ENA"),
            backfill_since=datetime(2025, 1, 1, tzinfo=UTC),
            marks_interval=0.3,
            max_backoff_seconds=0.2,
            refresh_seconds=0.0,
            leaderboard_refresh_seconds=0.3,
            scoring_partitions=2,
        )
        ingester = LiveIngester(settings, info)
        stop = asyncio.Event()
        # when it runs until the three discovered traders are backfilled
        running_task = asyncio.create_task(ingester.run(stop))
        async with asyncio.timeout(60):
            while not _settled(ingester):  # noqa: ASYNC110 - polls the ingester's counters
                await asyncio.sleep(0.05)
            # and until two more leaderboard recomputes, both begun after the last write, end
            wanted = ingester.counters.leaderboard_refreshes + 2
            while ingester.counters.leaderboard_refreshes < wanted:  # noqa: ASYNC110 - as above
                await asyncio.sleep(0.05)
        stop.set()
        await running_task
    counters = ingester.counters
    # then every recorded fill of both users is stored once, in pages within the weight limit
    assert _trades_of(empty_url, USER_109A42) == len(load(FILLS[USER_109A42])) == 50
    assert _trades_of(empty_url, USER_08C14B) == len(load(FILLS[USER_08C14B])) == 962
    assert _count(empty_url, "SELECT count(*) FROM trader") == 3
    pages = [r for r in venue.requests if r["type"] == "userFillsByTime"]
    assert len(pages) >= 6  # 3 pages of 08c14b, 1 of 109a42, the empty ends, the 429
    assert info.retries >= 1
    # and 08c14b's funding payments were stored once each, across pages
    assert _count(empty_url, "SELECT count(*) FROM funding_payment") == len(load(FUNDING)) == 218
    assert counters.funding_written == 218
    # and the venue's account snapshot reconciled 08c14b's open positions
    assert _count(empty_url, "SELECT count(*) FROM position WHERE closed_at IS NULL") == 10
    # and the junk was counted with reasons, the drop reconnected, and mids and marks stored
    assert counters.malformed == 3
    assert any("users[0]" in reason for reason in counters.malformed_reasons)
    assert counters.reconnects >= 1
    # and a known trader trading again was backfilled again from its checkpoint, adding nothing
    assert counters.refreshes_queued >= 1
    assert venue.connections >= 2
    assert counters.mids_updates >= 1
    assert counters.last_marks_refresh_s is not None
    marked = "SELECT count(*) FROM market WHERE mark_price IS NOT NULL AND open_interest > 0"
    assert _count(empty_url, marked) == 190  # the 228 perps less those with no open interest
    # and the leaderboards were recomputed on schedule: every trader with fills is ranked
    traded = _count(empty_url, "SELECT count(DISTINCT trader_id) FROM trade")
    ranked = "SELECT count(*) FROM trader_stats WHERE timeframe = 'ALL_TIME'"
    assert traded == 2
    assert _count(empty_url, ranked) == traded
    assert _count(empty_url, "SELECT max(rank) FROM trader_stats WHERE timeframe = 'ALL_TIME'") == 2
    assert counters.last_leaderboard_refresh_s is not None


async def test_the_command_ingests_from_the_venue_and_stops_on_ctrl_c(
    empty_url: str, tmp_path: Path
) -> None:
    # given a venue whose socket names 109a42
    venue = FakeVenue(scripts=[[ACK, trades_message(("BTC", USER_109A42, OTHER)), MIDS]])
    async with running(venue):
        # when `perpgraph ingest hyperliquid` runs against it until 109a42's fills are stored
        env = {k: v for k, v in os.environ.items() if not k.startswith("PERPGRAPH_")}
        env |= {"PERPGRAPH_DATABASE_URL": empty_url, "PERPGRAPH_DATA_DIR": str(tmp_path)}
        process = await asyncio.create_subprocess_exec(
            *CLI,
            "ingest",
            "hyperliquid",
            f"--api-url={venue.http_url}",
            f"--ws-url={venue.ws_url}",
            "--coins=BTC,ETH",
            "--since=2025-01-01",
            f"--venue-leaderboard-url={venue.http_url}/leaderboard",
            env=env,
            cwd=REPO_ROOT,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        try:
            async with asyncio.timeout(60):
                while await asyncio.to_thread(_trades_of, empty_url, USER_109A42) < 50:
                    if process.returncode is not None:
                        raise AssertionError((await process.communicate())[1].decode())
                    await asyncio.sleep(0.1)
            # and is interrupted
            process.send_signal(signal.SIGINT)
            stdout, stderr = await asyncio.wait_for(process.communicate(), timeout=30)
        finally:
            if process.returncode is None:
                process.kill()
                await process.wait()
    # then it said where it ingests from, stopped cleanly, and stored every fill once
    progress = stderr.decode()
    assert process.returncode == 0, progress
    assert f"ingesting Hyperliquid from {venue.http_url} and {venue.ws_url}" in progress
    assert stdout.decode().rstrip().endswith("stopped")
    assert "Traceback" not in progress
    assert _trades_of(empty_url, USER_109A42) == len(load(FILLS[USER_109A42]))
    # and only the coins asked for were subscribed to
    assert venue.subscriptions == [
        {"type": "allMids"},
        *({"type": "trades", "coin": c} for c in ("BTC", "ETH")),
    ]


async def test_refused_sockets_malformed_pages_and_foreign_fills_stop_nothing(
    empty_url: str,
) -> None:
    # given a venue that drops its first three sockets at once, serves 109a42's fills with two
    # spot trades and a fill in a market the perpetual list lacks mixed in, and a malformed
    # page for another trader
    broken = "0x" + "56" * 20
    fills = with_non_perp_fills(load(FILLS[USER_109A42]))
    venue = FakeVenue(
        scripts=[[ACK, trades_message(("BTC", USER_109A42, broken))]],
        fills={USER_109A42: fills},
        malformed_users={broken},
        refuse_first=3,
    )
    async with running(venue), httpx.AsyncClient(timeout=10) as http:
        info = InfoClient(http, base_url=venue.http_url, max_backoff_seconds=0.2)
        settings = LiveSettings(
            database_url=empty_url,
            ws_url=venue.ws_url,
            coins=("BTC",),
            max_backoff_seconds=0.2,
            refresh_seconds=3600.0,
            leaderboard_refresh_seconds=None,
        )
        ingester = LiveIngester(settings, info)
        await run_until(ingester, lambda: ingester.counters.traders_backfilled >= 2)
    counters = ingester.counters
    # then it reconnected through the refusals, backing off between attempts
    assert counters.reconnects >= 3
    assert venue.connections >= 4
    # and 109a42's perpetual fills were written, the spot trades and the unlisted market's
    # fill counted and left out, the USDH fee counted
    assert _trades_of(empty_url, USER_109A42) == 50
    assert (counters.spot_fills_skipped, counters.fills_in_unknown_coins) == (2, 1)
    assert counters.fees_in_other_tokens == 1
    unlisted = "SELECT count(*) FROM market WHERE coin IN ('@107', 'PURR/USDC', 'xyz:TSLA')"
    assert _count(empty_url, unlisted) == 0
    # and the malformed page was counted with its reason, writing nothing for that trader
    assert counters.pages_rejected == 1
    assert any(broken in reason and "fill #0" in reason for reason in counters.malformed_reasons)
    assert _trades_of(empty_url, broken) == 0


async def test_the_venue_leaderboard_names_accounts_and_seeds_the_largest(empty_url: str) -> None:
    # given a venue whose stats leaderboard lists 60 accounts (8 named), and an ingester told
    # to follow its two largest accounts
    venue = FakeVenue(scripts=[[ACK]])
    rows = load(LEADERBOARD)["leaderboardRows"]
    largest = sorted(rows, key=lambda r: -float(r["accountValue"]))[:2]
    async with running(venue), httpx.AsyncClient(timeout=10) as http:
        info = InfoClient(http, base_url=venue.http_url, max_backoff_seconds=0.2)
        settings = LiveSettings(
            database_url=empty_url,
            ws_url=venue.ws_url,
            coins=("BTC",),
            leaderboard_refresh_seconds=None,
            venue_leaderboard_url=f"{venue.http_url}/leaderboard",
            seed_top=2,
        )
        ingester = LiveIngester(settings, info)
        before = datetime.now(UTC)
        await run_until(ingester, lambda: ingester.counters.traders_backfilled >= 2)
    # then every account is a trader with its name and its value as of the fetch
    assert ingester.counters.venue_leaderboards == 1
    assert _count(empty_url, "SELECT count(*) FROM trader") == 60
    assert _count(empty_url, "SELECT count(display_name) FROM trader") == 8
    dated = "SELECT count(*) FROM trader WHERE account_value_at >= %s"
    assert _count(empty_url, dated, before) == 60
    # and the two largest accounts were backfilled, no other
    backfilled = {r["user"] for r in venue.requests if r["type"] == "userFillsByTime"}
    assert backfilled == {r["ethAddress"].lower() for r in largest}
    assert ingester.counters.traders_seeded == 2
