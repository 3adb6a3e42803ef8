"""Access control over WebSocket (graphql-transport-ws): the key in ``connection_init``, close
codes 4001 / 4002 / 4008 / 1013, and a soft error for operations over the message limit."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed
from websockets.typing import Subprotocol

from gateway.keys import KEY_PREFIX
from gateway.plans import PlanLimits
from tests.gateway.access_support import ROOMY, new_key, settings_for
from tests.serving import served

PROTOCOL = [Subprotocol("graphql-transport-ws")]
PING = "{ viewer { plan } }"


@asynccontextmanager
async def socket(address: str) -> AsyncIterator[ClientConnection]:
    async with connect(f"ws://{address}/graphql", subprotocols=PROTOCOL) as ws:
        yield ws


async def init(ws: ClientConnection, payload: object) -> dict[str, Any]:
    await ws.send(json.dumps({"type": "connection_init", "payload": payload}))
    message: dict[str, Any] = json.loads(await asyncio.wait_for(ws.recv(), 5))
    return message


async def close_code(address: str, payload: object) -> tuple[int, str]:
    async with socket(address) as ws:
        with pytest.raises(ConnectionClosed) as closed:
            await init(ws, payload)
    assert closed.value.rcvd is not None
    return closed.value.rcvd.code, closed.value.rcvd.reason


@pytest.mark.parametrize(
    "payload",
    [
        {},
        {"apiKey": "nope"},
        {"Authorization": "Basic abc"},
        {"x-api-key": KEY_PREFIX + "B" * 43},
    ],
    ids=["missing", "malformed", "not-bearer", "unknown"],
)
async def test_missing_or_invalid_key_closes_4001(seeded_url: str, payload: object) -> None:
    async with served(settings_for(seeded_url)) as address:
        code, reason = await close_code(address, payload)
    assert code == 4001
    assert reason


async def test_expired_access_closes_4002(seeded_url: str) -> None:
    key = new_key(seeded_url, expires_in=timedelta(0))
    async with served(settings_for(seeded_url)) as address:
        code, reason = await close_code(address, {"apiKey": key})
    assert code == 4002
    assert "ended" in reason


@pytest.mark.parametrize(
    "shape",
    ["apiKey", "X-API-Key", "authorization", "headers"],
)
async def test_key_is_read_from_every_usual_place(seeded_url: str, shape: str) -> None:
    key = new_key(seeded_url)
    payloads: dict[str, object] = {
        "apiKey": {"apiKey": key},
        "X-API-Key": {"X-API-Key": key},
        "authorization": {"authorization": f"Bearer {key}"},
        "headers": {"headers": {"Authorization": f"Bearer {key}"}},
    }
    payload = payloads[shape]
    async with served(settings_for(seeded_url)) as address, socket(address) as ws:
        ack = await init(ws, payload)
        await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": {"query": PING}}))
        result = json.loads(await asyncio.wait_for(ws.recv(), 5))
    assert ack == {"type": "connection_ack", "payload": {"plan": "TEST"}}
    assert result["payload"]["data"] == {"viewer": {"plan": "TEST"}}


async def test_too_many_sockets_for_one_key_closes_4008_until_one_closes(seeded_url: str) -> None:
    key = new_key(seeded_url)
    plan = PlanLimits(**{**ROOMY.model_dump(), "ws_connections": 1})
    async with served(settings_for(seeded_url, plan=plan)) as address:
        async with socket(address) as first:
            assert (await init(first, {"apiKey": key}))["type"] == "connection_ack"
            code, _ = await close_code(address, {"apiKey": key})
            assert code == 4008
        # when the first socket is gone, its slot is free again
        for _ in range(50):
            async with socket(address) as again:
                try:
                    if (await init(again, {"apiKey": key}))["type"] == "connection_ack":
                        break
                except ConnectionClosed:
                    await asyncio.sleep(0.05)
        else:
            pytest.fail("the slot of a closed socket was never released")


async def test_sockets_per_key_are_counted_across_gateway_processes(seeded_url: str) -> None:
    # given two gateways sharing one Redis and a plan of one socket per key
    key = new_key(seeded_url)
    plan = PlanLimits(**{**ROOMY.model_dump(), "ws_connections": 1})
    settings = settings_for(seeded_url, plan=plan)
    async with served(settings) as first_address, served(settings) as second_address:
        async with socket(first_address) as first:
            assert (await init(first, {"apiKey": key}))["type"] == "connection_ack"
            # when the same key opens a socket on the other gateway
            code, _ = await close_code(second_address, {"apiKey": key})
            # then it is refused there too
            assert code == 4008
        # and once the first socket is closed, the other gateway accepts one
        for _ in range(50):
            async with socket(second_address) as again:
                try:
                    if (await init(again, {"apiKey": key}))["type"] == "connection_ack":
                        break
                except ConnectionClosed:
                    await asyncio.sleep(0.05)
        else:
            pytest.fail("the slot of a closed socket was never released")


async def test_server_at_capacity_closes_1013(seeded_url: str) -> None:
    first_key, second_key = new_key(seeded_url), new_key(seeded_url)
    settings = settings_for(seeded_url, max_websocket_connections=1)
    async with served(settings) as address, socket(address) as first:
        assert (await init(first, {"apiKey": first_key}))["type"] == "connection_ack"
        code, _ = await close_code(address, {"apiKey": second_key})
    assert code == 1013


async def test_operations_over_the_message_limit_get_an_error_and_the_socket_stays_open(
    seeded_url: str,
) -> None:
    key = new_key(seeded_url)
    plan = PlanLimits(**{**ROOMY.model_dump(), "ws_messages_per_minute": 2})
    async with served(settings_for(seeded_url, plan=plan)) as address, socket(address) as ws:
        await init(ws, {"apiKey": key})
        # given two operations within the limit
        for operation_id in ("1", "2"):
            await ws.send(
                json.dumps({"id": operation_id, "type": "subscribe", "payload": {"query": PING}})
            )
            assert json.loads(await ws.recv())["type"] == "next"
            assert json.loads(await ws.recv())["type"] == "complete"
        # when a third one comes within the same minute
        await ws.send(json.dumps({"id": "3", "type": "subscribe", "payload": {"query": PING}}))
        refused = json.loads(await asyncio.wait_for(ws.recv(), 5))
        # then it gets an error message, coded, and the socket still answers
        await ws.send(json.dumps({"type": "ping"}))
        pong = json.loads(await asyncio.wait_for(ws.recv(), 5))
    assert refused["type"] == "error"
    assert refused["id"] == "3"
    extensions = refused["payload"][0]["extensions"]
    assert extensions["code"] == "RATE_LIMITED"
    assert extensions["scope"] == "minute"
    assert extensions["limit"] == 2
    assert 1 <= extensions["retryAfterSeconds"] <= 60
    assert pong == {"type": "pong"}


async def test_too_complex_or_over_budget_operations_get_coded_errors_on_an_open_socket(
    seeded_url: str,
) -> None:
    key = new_key(seeded_url)
    plan = PlanLimits(**{**ROOMY.model_dump(), "cost_per_hour": 5})
    costly = (
        "{ trades(first: 100) { nodes { trader { trades(first: 100) { nodes { price } } } } } }"
    )
    cheap = "{ leaderboard(timeframe: DAY, first: 3) { nodes { rank } } }"  # 4 points
    settings = settings_for(seeded_url, plan=plan)
    async with served(settings) as address, socket(address) as ws:
        await init(ws, {"apiKey": key})
        # when an operation is over the per-query maximum
        await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": {"query": costly}}))
        too_complex = json.loads(await asyncio.wait_for(ws.recv(), 5))
        # and two cheap ones overdraw the 5-point budget
        await ws.send(json.dumps({"id": "2", "type": "subscribe", "payload": {"query": cheap}}))
        served_first = json.loads(await asyncio.wait_for(ws.recv(), 5))
        assert json.loads(await asyncio.wait_for(ws.recv(), 5))["type"] == "complete"
        await ws.send(json.dumps({"id": "3", "type": "subscribe", "payload": {"query": cheap}}))
        over_budget = json.loads(await asyncio.wait_for(ws.recv(), 5))
        # then each refusal is a coded error and the socket still answers
        await ws.send(json.dumps({"type": "ping"}))
        pong = json.loads(await asyncio.wait_for(ws.recv(), 5))
    assert too_complex["type"] == "error"
    assert too_complex["payload"][0]["extensions"]["code"] == "QUERY_TOO_COMPLEX"
    assert served_first["type"] == "next"
    assert "errors" not in served_first["payload"]
    assert over_budget["type"] == "error"
    assert over_budget["payload"][0]["extensions"]["code"] == "RATE_LIMITED"
    assert over_budget["payload"][0]["extensions"]["scope"] == "cost"
    assert pong == {"type": "pong"}
