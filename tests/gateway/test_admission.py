"""At most N queries of a process execute at once; the others wait and are all answered."""

from __future__ import annotations

import asyncio

import httpx
from starlette.types import Receive, Scope, Send

from gateway.admission import ConcurrencyLimit
from tests.conftest import open_access_settings
from tests.gateway.access_support import client_for
from tests.schema.test_leaderboard_page import LEADERBOARD_PAGE


async def test_no_more_than_the_limit_run_at_once_and_every_request_is_served() -> None:
    running = 0
    most = 0

    async def slow_app(scope: Scope, receive: Receive, send: Send) -> None:
        nonlocal running, most
        running += 1
        most = max(most, running)
        await asyncio.sleep(0.02)
        running -= 1
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    app = ConcurrencyLimit(slow_app, 3)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as client:
        answers = await asyncio.gather(*(client.get("/") for _ in range(12)))
    assert [a.status_code for a in answers] == [200] * 12
    assert most == 3


async def test_the_gateway_with_a_limit_of_one_answers_concurrent_pages(seeded_url: str) -> None:
    settings = open_access_settings(
        database_url=seeded_url, max_concurrent_queries=1, response_cache=False
    )
    async with client_for(settings) as client:
        answers = await asyncio.gather(
            *(
                client.post(
                    "/graphql", json={"query": LEADERBOARD_PAGE, "variables": {"first": 5 + i}}
                )
                for i in range(6)
            )
        )
    assert all(a.status_code == 200 and "errors" not in a.json() for a in answers)
    assert [len(a.json()["data"]["leaderboard"]["edges"]) for a in answers] == list(range(5, 11))
