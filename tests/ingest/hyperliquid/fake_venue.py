"""A local fake of Hyperliquid: ``/info`` over HTTP and the WebSocket, on 127.0.0.1.

``/info`` answers from the recorded responses in ``../shared/data/hyperliquid`` (and
``GET /leaderboard`` with the recorded stats leaderboard): the two
modern fill histories (paged by ``startTime``, ``page_size`` fills a page, oldest first), the
08c14b account snapshot (an empty account for anyone else), and ``metaAndAssetCtxs``. The first
``userFillsByTime`` request gets a 429, as a venue over its weight limit would answer.

The WebSocket plays ``scripts[n]`` to its ``n``-th connection: each script is a list of text
frames, ``DROP`` ends the connection abruptly (no close frame) mid-stream, ``PAUSE`` waits
a second and ``HOLD`` waits until the test sets ``resume``. After its last
frame a connection stays open until the client leaves.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from websockets.asyncio.server import ServerConnection, serve
from websockets.exceptions import ConnectionClosed

from tests.ingest.hyperliquid.recorded import load
from tests.serving import free_port

DROP = "<drop the connection>"
PAUSE = "<pause one second>"
HOLD = "<wait until resumed>"
USER_109A42 = "0x109a42c3ead059b041560cb6da71058516e7ba3e"
USER_08C14B = "0x08c14b32c8a48894e4b933090ebcc9ce33b21135"
FILLS = {
    USER_109A42: "user_fills_109a42_2025-10-07_to_2025-10-21.json",
    USER_08C14B: "user_fills_by_time_08c14b_2026-09-25_to_2026-10-02.json",
}
STATE_08C14B = "clearinghouse_state_08c14b_2026-10-02.json"
META = "meta_and_asset_ctxs_2026-02-06.json"
FUNDING = "user_funding_b7b6f3_2023-04-20_to_2023-05-05.json"
LEADERBOARD = "leaderboard_sample_60rows_2026-10-02.json"
FUNDING_MOVED_TO_MS = 1_790_000_000_000  # 2026-09-22


@dataclass
class FakeVenue:
    scripts: list[list[str]]
    page_size: int = 400
    fills: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    """Fill histories served instead of the recorded ones, by lower-cased user."""
    malformed_users: set[str] = field(default_factory=set)
    """Users whose fill pages come back malformed (a fill without a price)."""
    refuse_first: int = 0
    """How many WebSocket connections to drop at once, before sending anything."""
    requests: list[dict[str, Any]] = field(default_factory=list)
    subscriptions: list[dict[str, Any]] = field(default_factory=list)
    connections: int = 0
    http_url: str = ""
    ws_url: str = ""
    resume: asyncio.Event = field(default_factory=asyncio.Event)
    _throttled: bool = False

    def info(self, body: dict[str, Any]) -> Response:
        self.requests.append(body)
        kind = body.get("type")
        if kind == "metaAndAssetCtxs":
            return JSONResponse(load(META))
        if kind == "clearinghouseState":
            return JSONResponse(self._state(str(body["user"]).lower()))
        if kind == "userFillsByTime":
            if not self._throttled:
                self._throttled = True
                return Response(status_code=429)
            return JSONResponse(self._fills(str(body["user"]).lower(), int(body["startTime"])))
        if kind == "userFunding":
            return JSONResponse(self._funding(str(body["user"]).lower(), int(body["startTime"])))
        return JSONResponse({"error": f"unknown type {kind}"}, status_code=422)

    def _funding(self, user: str, start_ms: int) -> list[dict[str, Any]]:
        """The recorded payments (another account's, from 2023) stand in for 08c14b's, moved
        to the week of 08c14b's fills."""
        if user != USER_08C14B:
            return []
        payments = sorted(copy.deepcopy(load(FUNDING)), key=lambda p: p["time"])
        shift = FUNDING_MOVED_TO_MS - payments[0]["time"]
        for payment in payments:
            payment["time"] += shift
        return [p for p in payments if p["time"] >= start_ms][: self.page_size]

    def _fills(self, user: str, start_ms: int) -> list[dict[str, Any]]:
        if user in self.malformed_users:
            return [{"coin": "BTC", "sz": "1.0", "side": "B", "time": start_ms}]
        if user in self.fills:
            history = self.fills[user]
        elif user in FILLS:
            history = load(FILLS[user])
        else:
            return []
        fills = sorted(history, key=lambda f: f["time"])
        return [f for f in fills if f["time"] >= start_ms][: self.page_size]

    def _state(self, user: str) -> dict[str, Any]:
        state: dict[str, Any] = copy.deepcopy(load(STATE_08C14B))
        if user != USER_08C14B:
            state["assetPositions"] = []
        return state

    async def play(self, connection: ServerConnection) -> None:
        self.connections += 1
        if self.connections <= self.refuse_first:
            connection.transport.abort()
            return
        script = self.scripts[min(self.connections - 1 - self.refuse_first, len(self.scripts) - 1)]
        listening = asyncio.create_task(self._listen(connection))
        for frame in script:
            if frame == DROP:
                connection.transport.abort()
                return
            if frame == PAUSE:
                await asyncio.sleep(1.0)
                continue
            if frame == HOLD:
                await self.resume.wait()
                continue
            await connection.send(frame)
            await asyncio.sleep(0.01)
        await connection.wait_closed()
        listening.cancel()

    async def _listen(self, connection: ServerConnection) -> None:
        """Record what the client subscribes to."""
        with contextlib.suppress(ConnectionClosed):
            async for message in connection:
                request = json.loads(message)
                if request.get("method") == "subscribe":
                    self.subscriptions.append(request["subscription"])


def trades_message(*trades: tuple[str, str, str]) -> str:
    """A ``trades`` frame of (coin, buyer, seller) trades."""
    data = [
        {
            "coin": coin,
            "side": "B",
            "px": "100.5",
            "sz": "1.0",
            "hash": "0x" + "ab" * 32,
            "time": 1760000000000 + index,
            "tid": 900 + index,
            "users": [buyer, seller],
        }
        for index, (coin, buyer, seller) in enumerate(trades)
    ]
    return json.dumps({"channel": "trades", "data": data})


@asynccontextmanager
async def running(venue: FakeVenue) -> AsyncIterator[FakeVenue]:
    async def info(request: Request) -> Response:
        return venue.info(await request.json())

    async def leaderboard(_: Request) -> Response:
        venue.requests.append({"type": "leaderboard"})
        return JSONResponse(load(LEADERBOARD))

    app = Starlette(
        routes=[
            Route("/info", info, methods=["POST"]),
            Route("/leaderboard", leaderboard, methods=["GET"]),
        ]
    )
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    )
    task = asyncio.create_task(server.serve())
    while not server.started:  # noqa: ASYNC110 - uvicorn offers no started event
        await asyncio.sleep(0.02)
    venue.http_url = f"http://127.0.0.1:{port}"
    async with serve(venue.play, "127.0.0.1", 0) as ws_server:
        ws_port = next(iter(ws_server.sockets)).getsockname()[1]
        venue.ws_url = f"ws://127.0.0.1:{ws_port}"
        try:
            yield venue
        finally:
            server.should_exit = True
            await task
