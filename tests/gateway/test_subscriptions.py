"""positionEvents over a real WebSocket (graphql-transport-ws) against a running gateway."""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from itertools import count
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
import websockets
from websockets.asyncio.client import ClientConnection

from db.pool import connect
from ingest.fills import Direction, Fill
from ingest.writer import MarketSpec, upsert_markets, write_fills
from tests.conftest import DatabaseFactory, open_access_settings
from tests.serving import served

EVENTS = """
subscription Events($filter: PositionEventFilter, $after: String) {
  positionEvents(filter: $filter, after: $after) {
    cursor action
    trade { coin side size price isLiquidation notional }
    trader { address publicId }
    position { side size isOpen }
  }
}
"""

ALICE = "0x" + "a" * 40
BOB = "0x" + "b" * 40
START = datetime(2026, 11, 1, tzinfo=UTC)
_fill_ids = count()


def fill(
    direction: Direction,
    size: str,
    price: str = "100",
    *,
    address: str = ALICE,
    coin: str = "BTC",
    liquidation: bool = False,
) -> Fill:
    number = next(_fill_ids)
    return Fill(
        venue="test",
        fill_id=str(number),
        address=address,
        coin=coin,
        direction=direction,
        size=Decimal(size),
        price=Decimal(price),
        timestamp=START + timedelta(seconds=number),
        fee=Decimal("0.1"),
        is_liquidation=liquidation,
        leverage=5,
    )


BUY, SELL = Direction.BUY, Direction.SELL


@dataclass
class LiveGateway:
    url: str
    database_url: str

    async def write(self, *fills: Fill) -> None:
        connection = await connect(self.database_url)
        try:
            await write_fills(connection, list(fills), source="test", checkpoint="x")
        finally:
            await connection.close()


@asynccontextmanager
async def running_gateway(database_url: str, **settings: Any) -> AsyncIterator[LiveGateway]:
    config = open_access_settings(database_url=database_url, **settings)
    async with served(config) as address:
        yield LiveGateway(f"ws://{address}/graphql", database_url)


@pytest.fixture
async def market_database(make_database: DatabaseFactory) -> str:
    url = make_database.create("live")
    connection = await connect(url)
    await upsert_markets(
        connection,
        [
            MarketSpec("BTC", "test", 5, 40, Decimal(100)),
            MarketSpec("ETH", "test", 4, 25, Decimal(10)),
        ],
    )
    await connection.close()
    return url


@pytest.fixture
async def gateway(market_database: str) -> AsyncIterator[LiveGateway]:
    async with running_gateway(market_database) as live:
        yield live


class Client:
    """A minimal graphql-transport-ws client over a real WebSocket."""

    def __init__(self, socket_: ClientConnection) -> None:
        self.socket = socket_
        self._ids = count(1)

    async def subscribe(self, variables: dict[str, Any] | None = None, query: str = EVENTS) -> str:
        operation_id = str(next(self._ids))
        await self.socket.send(
            json.dumps(
                {
                    "id": operation_id,
                    "type": "subscribe",
                    "payload": {"query": query, "variables": variables or {}},
                }
            )
        )
        return operation_id

    async def message(self, seconds: float = 10) -> dict[str, Any]:
        while True:
            raw = await asyncio.wait_for(self.socket.recv(), timeout=seconds)
            message: dict[str, Any] = json.loads(raw)
            if message["type"] == "ping":
                await self.socket.send(json.dumps({"type": "pong"}))
                continue
            return message

    async def events(self, how_many: int, seconds: float = 10) -> list[dict[str, Any]]:
        received: list[dict[str, Any]] = []
        while len(received) < how_many:
            message = await self.message(seconds)
            assert message["type"] == "next", message
            assert "errors" not in message["payload"], message
            received.append(message["payload"]["data"]["positionEvents"])
        return received

    async def silence(self, seconds: float = 0.7) -> None:
        with pytest.raises(TimeoutError):
            await self.message(seconds)


@asynccontextmanager
async def client(url: str, **connect_options: Any) -> AsyncIterator[Client]:
    async with websockets.connect(
        url, subprotocols=[websockets.Subprotocol("graphql-transport-ws")], **connect_options
    ) as socket_:
        await socket_.send(json.dumps({"type": "connection_init", "payload": {}}))
        ack = json.loads(await asyncio.wait_for(socket_.recv(), timeout=10))
        assert ack["type"] == "connection_ack"
        yield Client(socket_)


async def _subscribed(live: Client, variables: dict[str, Any] | None = None) -> str:
    operation = await live.subscribe(variables)
    await asyncio.sleep(0.3)  # let the server register the subscription before writing
    return operation


async def test_events_arrive_in_order_with_their_trade_position_and_trader(
    gateway: LiveGateway,
) -> None:
    async with client(gateway.url) as live:
        await _subscribed(live)
        # when a position opens, grows, shrinks, flips and closes
        await gateway.write(fill(BUY, "2"), fill(BUY, "1"))
        await gateway.write(fill(SELL, "1", "110"), fill(SELL, "4", "120"), fill(BUY, "2"))
        events = await live.events(5)
    # then every event arrives once, in commit order, with its details
    assert [e["action"] for e in events] == ["OPEN", "ADD", "REDUCE", "FLIP", "CLOSE"]
    assert [e["trade"]["side"] for e in events] == ["LONG", "LONG", "LONG", "SHORT", "SHORT"]
    assert [e["trade"]["size"] for e in events] == ["2", "1", "1", "4", "2"]
    assert {e["trader"]["address"] for e in events} == {ALICE}
    assert events[0]["position"]["side"] == "LONG"
    assert events[-1]["position"] == {"side": "SHORT", "size": "0", "isOpen": False}
    cursors = [e["cursor"] for e in events]
    assert len(set(cursors)) == 5


@pytest.mark.parametrize(
    ("event_filter", "expected"),
    [
        ({"coins": ["eth"]}, [("ETH", "OPEN")]),
        ({"actions": ["CLOSE", "FLIP"]}, [("BTC", "CLOSE")]),
        ({"traders": [BOB]}, [("ETH", "OPEN")]),
        ({"sides": ["LONG"]}, [("BTC", "OPEN"), ("BTC", "CLOSE")]),
        ({"minNotional": "500"}, [("ETH", "OPEN")]),
        ({"liquidationsOnly": True}, [("BTC", "CLOSE")]),
    ],
)
async def test_filters_narrow_the_stream(
    gateway: LiveGateway, event_filter: dict[str, Any], expected: list[tuple[str, str]]
) -> None:
    async with client(gateway.url) as live:
        await _subscribed(live, {"filter": event_filter})
        await gateway.write(
            fill(BUY, "1", "100"),
            fill(SELL, "100", "10", address=BOB, coin="ETH"),
            fill(SELL, "1", "90", liquidation=True),
        )
        events = await live.events(len(expected))
        await live.silence()
    assert [(e["trade"]["coin"], e["action"]) for e in events] == expected


async def test_resume_after_a_disconnect_loses_and_repeats_nothing(gateway: LiveGateway) -> None:
    # given a subscriber that saw two events and went away
    async with client(gateway.url) as live:
        await _subscribed(live)
        await gateway.write(fill(BUY, "1"), fill(BUY, "1"))
        seen = await live.events(2)
    # when three fills happen while it is away
    await gateway.write(fill(BUY, "1"), fill(SELL, "1"), fill(SELL, "2"))
    # then resuming from its last cursor brings exactly those, then live ones
    async with client(gateway.url) as live:
        await live.subscribe({"after": seen[-1]["cursor"]})
        missed = await live.events(3)
        await gateway.write(fill(BUY, "5"))
        fresh = await live.events(1)
        await live.silence()
    assert [e["action"] for e in missed] == ["ADD", "REDUCE", "CLOSE"]
    assert [e["action"] for e in fresh] == ["OPEN"]
    assert fresh[0]["trade"]["size"] == "5"


async def test_resume_with_a_filter_replays_only_matching_events(gateway: LiveGateway) -> None:
    await gateway.write(fill(BUY, "1", address=BOB, coin="ETH"))
    async with client(gateway.url) as live:
        await _subscribed(live)
        await gateway.write(fill(BUY, "1"))
        first = (await live.events(1))[0]
    await gateway.write(fill(SELL, "1"), fill(BUY, "3", address=BOB, coin="ETH"))
    async with client(gateway.url) as live:
        await live.subscribe({"after": first["cursor"], "filter": {"coins": ["ETH"]}})
        missed = await live.events(1)
        await live.silence()
    assert [(e["trade"]["coin"], e["action"]) for e in missed] == [("ETH", "ADD")]


async def test_a_lost_database_connection_loses_no_event(gateway: LiveGateway) -> None:
    async with client(gateway.url) as live:
        await _subscribed(live)
        await gateway.write(fill(BUY, "1"))
        before = await live.events(1)
        # when the gateway's listening connection is cut (as a Postgres restart would)
        with psycopg.connect(gateway.database_url, autocommit=True) as admin:
            killed = admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE application_name = 'perpgraph-hub' AND datname = current_database()"
            ).fetchall()
        assert killed
        # and fills are committed while it reconnects
        await gateway.write(fill(BUY, "1"), fill(BUY, "1"))
        after = await live.events(2, seconds=20)
    assert before[0]["action"] == "OPEN"
    assert [e["action"] for e in after] == ["ADD", "ADD"]


@pytest.mark.parametrize(
    "variables",
    [
        {"after": "not-a-cursor"},
        {"filter": {"leaderboard": {"timeframe": "WEEK", "top": 0}}},
        {"filter": {"coins": "BTC", "sides": ["UP"]}},
        {"filter": {"traders": ["#abc"]}},
    ],
)
async def test_bad_arguments_are_coded_errors(
    gateway: LiveGateway, variables: dict[str, Any]
) -> None:
    async with client(gateway.url) as live:
        await live.subscribe(variables)
        received = await live.message()
    errors = received["payload"] if received["type"] == "error" else received["payload"]["errors"]
    assert errors[0]["extensions"]["code"] == "BAD_USER_INPUT", received


async def test_leaderboard_membership_follows_the_board(gateway: LiveGateway) -> None:
    from ingest.scoring import recompute_leaderboards

    # given alice on top of the week's board and bob nowhere
    await gateway.write(fill(BUY, "1", "100"), fill(SELL, "1", "150"))
    connection = await connect(gateway.database_url)
    await recompute_leaderboards(connection, as_of=START + timedelta(days=1))
    await connection.close()
    async with client(gateway.url) as live:
        await _subscribed(live, {"filter": {"leaderboard": {"timeframe": "WEEK", "top": 1}}})
        await gateway.write(fill(BUY, "2", address=BOB, coin="ETH"), fill(BUY, "2"))
        events = await live.events(1)
        await live.silence()
    assert events[0]["trader"]["address"] == ALICE


async def test_malformed_messages_get_a_protocol_close_not_a_crash(gateway: LiveGateway) -> None:
    for bad in ("not json", json.dumps({"type": "subscribe"}), json.dumps([1, 2])):
        async with client(gateway.url) as live:
            await live.socket.send(bad)
            with pytest.raises(websockets.ConnectionClosed) as closed:
                await live.message()
            assert closed.value.rcvd is not None
            assert closed.value.rcvd.code == 4400
    async with client(gateway.url) as live:  # the gateway still serves others
        await _subscribed(live)
        await gateway.write(fill(BUY, "1"))
        assert len(await live.events(1)) == 1


async def test_limits_per_connection_and_per_process(market_database: str) -> None:
    async with (
        running_gateway(
            market_database, max_subscriptions_per_connection=2, max_websocket_connections=2
        ) as limited,
        client(limited.url) as first,
        client(limited.url) as _second,
    ):
        await first.subscribe()
        await first.subscribe()
        await first.subscribe()
        refusal = await first.message()
        assert refusal["type"] == "error"
        assert "limit" in refusal["payload"][0]["message"].lower()
        async with websockets.connect(
            limited.url, subprotocols=[websockets.Subprotocol("graphql-transport-ws")]
        ) as third:
            with pytest.raises(websockets.ConnectionClosed) as closed:
                await asyncio.wait_for(third.recv(), timeout=5)
            assert closed.value.rcvd is not None
            assert closed.value.rcvd.code == 1013


#: A selection that costs several statements per event, so serving it is slower than the burst.
EXPENSIVE_EVENTS = """
subscription {
  positionEvents {
    cursor
    trader {
      trades(first: 100) { totalCount nodes { price size } }
      closedPositions(first: 100) { totalCount nodes { realizedPnl } }
      positions { trades(first: 100) { totalCount nodes { price } } }
    }
  }
}
"""


async def _read_slowly_until_closed(live: Client) -> int:
    """Read like a client on a slow link: a message every 50 ms. How many came before close."""
    received = 0
    while True:
        await asyncio.wait_for(live.socket.recv(), timeout=30)
        received += 1
        await asyncio.sleep(0.05)


async def test_a_subscriber_that_falls_behind_is_dropped_while_a_fast_one_keeps_receiving(
    market_database: str,
) -> None:
    async with (
        running_gateway(market_database, subscriber_queue_size=2) as small,
        client(small.url) as fast,
        client(small.url) as slow,
    ):
        await _subscribed(fast)
        await slow.subscribe(query=EXPENSIVE_EVENTS)
        await asyncio.sleep(0.3)
        # when a burst of commits arrives faster than the slow one's selection is served
        total = 0
        for batch in range(40):
            fills = [
                fill(BUY if i % 2 == 0 else SELL, "1", address=f"0x{batch:040x}") for i in range(25)
            ]
            await small.write(*fills)
            total += len(fills)
        # then the fast one gets every event
        received = await fast.events(total, seconds=30)
        assert len(received) == total
        # and the slow one is closed with a reason that says how to resume
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await _read_slowly_until_closed(slow)
        assert closed.value.rcvd is not None
        assert closed.value.rcvd.code == 4009
        assert "after" in closed.value.rcvd.reason


async def test_identical_live_subscriptions_share_one_execution(gateway: LiveGateway) -> None:
    health_url = gateway.url.replace("ws://", "http://").replace("/graphql", "/healthz")

    async def listeners() -> int:
        async with httpx.AsyncClient() as http:
            return int((await http.get(health_url)).json()["subscribers"])

    async with (
        client(gateway.url) as first,
        client(gateway.url) as second,
        client(gateway.url) as third,
        client(gateway.url) as other,
    ):
        for live in (first, second, third):
            await live.subscribe({"filter": {"coins": ["BTC"]}})
        await other.subscribe({"filter": {"coins": ["ETH"]}})
        await asyncio.sleep(0.3)
        # then three identical subscriptions hold one feed listener, the different one another
        assert await listeners() == 2
        await gateway.write(fill(BUY, "1"), fill(BUY, "2", address=BOB, coin="ETH"))
        received = [await live.events(1) for live in (first, second, third)]
        assert await other.events(1) != received[0]
    assert received[0] == received[1] == received[2]
    assert received[0][0]["trade"]["coin"] == "BTC"


async def test_messages_are_text_frames(gateway: LiveGateway) -> None:
    # browsers' graphql-ws client only reads text frames
    async with client(gateway.url) as live:
        await _subscribed(live)
        await gateway.write(fill(BUY, "1"))
        raw = await asyncio.wait_for(live.socket.recv(), timeout=10)
    assert isinstance(raw, str)


LEADERBOARD_UPDATED = """
subscription { leaderboardUpdated(timeframe: WEEK, first: 3) {
  updatedAt nodes { rank trader { address } } } }
"""
MARK_PRICES = 'subscription { markPrices(coins: ["btc"]) { coin markPrice } }'
POSITION_UPDATES = """
subscription($traders: [String!]!) { positionUpdates(traders: $traders) {
  coin side size markPrice notional unrealizedPnl } }
"""


async def test_leaderboard_mark_and_watchlist_streams(
    market_database: str,
) -> None:
    from ingest.scoring import recompute_leaderboards
    from ingest.writer import update_marks

    async with running_gateway(market_database, live_update_seconds=0.2) as gateway:
        await gateway.write(fill(BUY, "2", "100"))
        async with client(gateway.url) as live:
            boards = await live.subscribe(query=LEADERBOARD_UPDATED)
            marks = await live.subscribe(query=MARK_PRICES)
            watched = await live.subscribe({"traders": [ALICE]}, query=POSITION_UPDATES)
            first = {
                m["id"]: m["payload"]["data"] for m in [await live.message() for _ in range(3)]
            }
            assert first[boards]["leaderboardUpdated"]["nodes"] == []
            assert first[marks]["markPrices"] == [{"coin": "BTC", "markPrice": "100"}]
            assert first[watched]["positionUpdates"][0]["size"] == "2"
            # when the boards are recomputed and the mark moves
            connection = await connect(gateway.database_url)
            await recompute_leaderboards(connection, as_of=START + timedelta(days=1))
            await update_marks(connection, {"BTC": Decimal(110)})
            await connection.close()
            later: dict[str, Any] = {}
            while len(later) < 3:
                message = await live.message()
                later[message["id"]] = message["payload"]["data"]
    assert later[boards]["leaderboardUpdated"]["nodes"][0]["trader"]["address"] == ALICE
    assert later[marks]["markPrices"] == [{"coin": "BTC", "markPrice": "110"}]
    position = later[watched]["positionUpdates"][0]
    assert (position["markPrice"], position["notional"], position["unrealizedPnl"]) == (
        "110",
        "220",
        "20",
    )


async def test_watchlist_needs_a_trader(gateway: LiveGateway) -> None:
    async with client(gateway.url) as live:
        await live.subscribe({"traders": []}, query=POSITION_UPDATES)
        message = await live.message()
    errors = message["payload"] if message["type"] == "error" else message["payload"]["errors"]
    assert errors[0]["extensions"]["code"] == "BAD_USER_INPUT"


EXAMPLE_SCRIPT = Path(__file__).resolve().parents[2] / "examples" / "subscribe.py"


async def test_the_readme_python_example_follows_a_trader(gateway: LiveGateway) -> None:
    # given the example script from the README, following alice
    script = EXAMPLE_SCRIPT
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        str(script),
        gateway.url,
        ALICE,
        "--max-events",
        "2",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    await asyncio.sleep(1.5)
    # when alice opens and adds, and bob trades too
    await gateway.write(fill(BUY, "1"), fill(BUY, "1", address=BOB), fill(BUY, "2"))
    stdout, stderr = await asyncio.wait_for(process.communicate(), timeout=30)
    # then it prints alice's two events and exits
    assert process.returncode == 0, stderr.decode()
    lines = stdout.decode().splitlines()
    assert lines == ["OPEN BTC LONG 1 @ 100", "ADD BTC LONG 2 @ 100"]
