"""The gateway over real HTTP: queries, GraphiQL, health, and malformed requests."""

from __future__ import annotations

import httpx
import pytest

NESTED = "{ leaderboard(timeframe: WEEK, first: 3) { nodes { rank trader { publicId } } } }"


async def test_post_and_get_queries_answer_json(gateway_url: str) -> None:
    async with httpx.AsyncClient(base_url=gateway_url) as client:
        posted = await client.post("/graphql", json={"query": NESTED})
        got = await client.get(
            "/graphql", params={"query": NESTED}, headers={"accept": "application/json"}
        )
    assert posted.status_code == 200
    assert posted.json() == got.json()
    assert [n["rank"] for n in posted.json()["data"]["leaderboard"]["nodes"]] == [1, 2, 3]


async def test_graphiql_page_is_served_with_local_assets(gateway_url: str) -> None:
    async with httpx.AsyncClient(base_url=gateway_url) as client:
        page = await client.get("/graphql", headers={"accept": "text/html"})
        asset = await client.get("/graphiql-static/graphiql.min.css")
    assert page.status_code == 200
    assert "perpgraph" in page.text
    assert "unpkg.com" not in page.text
    assert "LeaderboardPage" in page.text
    assert asset.status_code == 200


async def test_health(gateway_url: str) -> None:
    async with httpx.AsyncClient(base_url=gateway_url) as client:
        response = await client.get("/healthz")
    health = response.json()
    assert health["status"] == "ok"
    assert health["live"] is True
    assert isinstance(health["subscribers"], int)


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b"{not json", "application/json"),
        (b"[]", "application/json"),
        (b'{"query": 42}', "application/json"),
        (b'{"variables": {}}', "application/json"),
        (b"\xff\xfe\x00", "application/json"),
        (b"query=1", "text/plain"),
    ],
)
async def test_malformed_requests_are_client_errors(
    gateway_url: str, body: bytes, content_type: str
) -> None:
    async with httpx.AsyncClient(base_url=gateway_url) as client:
        response = await client.post(
            "/graphql", content=body, headers={"content-type": content_type}
        )
    assert 400 <= response.status_code < 500, response.text


async def test_bad_input_over_http_is_coded(gateway_url: str) -> None:
    async with httpx.AsyncClient(base_url=gateway_url) as client:
        response = await client.post(
            "/graphql", json={"query": "{ leaderboard(first: 1000) { totalCount } }"}
        )
    error = response.json()["errors"][0]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert "between 1 and 100" in error["message"]
