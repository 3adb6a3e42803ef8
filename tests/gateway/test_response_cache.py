"""The exact response cache: a repeated query is served from memory, and a committed change to
any row it read makes the very next request read the database again; real Postgres, real
NOTIFY, the real app."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
import psycopg
import pytest

from db.pool import connect
from gateway.plans import PlanLimits
from ingest.scoring import recompute_leaderboards
from ingest.simulate import SimulationPlan, write_history
from resolvers.cursors import decode_node_id
from tests.conftest import DatabaseFactory, open_access_settings
from tests.gateway.access_support import (
    ROOMY,
    Clock,
    bearer,
    client_for,
    error_of,
    new_key,
    settings_for,
)

END = datetime(2026, 11, 1, tzinfo=UTC)

PAGE = """
query Page {
  leaderboard(timeframe: WEEK, first: 3) {
    nodes {
      rank score
      trader {
        publicId label
        positions { id coin size }
        trades(first: 2) { nodes { id price } }
      }
    }
  }
}
"""


@pytest.fixture(scope="module")
def market_url(make_database: DatabaseFactory) -> str:
    """A small market of its own: these tests change rows."""
    url = make_database.create("cache")

    async def seed() -> None:
        connection = await connect(url)
        try:
            await write_history(connection, SimulationPlan(traders=40, days=8, seed=5), end=END)
            await recompute_leaderboards(connection, as_of=END)
        finally:
            await connection.close()

    asyncio.run(seed())
    return url


@pytest.fixture
async def client(market_url: str) -> AsyncIterator[httpx.AsyncClient]:
    async with client_for(open_access_settings(database_url=market_url)) as client:
        yield client


async def _ask(client: httpx.AsyncClient, query: str = PAGE) -> tuple[str | None, Any]:
    response = await client.post("/graphql", json={"query": query})
    assert response.status_code == 200, response.text
    return response.headers.get("x-perpgraph-cache"), response.json()


async def _cached(client: httpx.AsyncClient) -> Any:
    """Ask twice: the second answer comes from the cache; it is returned."""
    await _ask(client)
    state, body = await _ask(client)
    assert state == "hit"
    return body


def _top(body: Any) -> Any:
    return body["data"]["leaderboard"]["nodes"][0]


def _commit(url: str, statement: str, *params: object) -> None:
    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute(statement, params)


async def test_a_repeated_query_is_served_from_memory_with_the_same_answer(
    client: httpx.AsyncClient,
) -> None:
    first = await _ask(client)
    again = await _ask(client)
    assert first[0] == "miss"
    assert again == ("hit", first[1])


Check = Callable[[Any], bool]
Change = Callable[[Any], tuple[str, tuple[object, ...], Check]]


def _label(top: Any) -> tuple[str, tuple[object, ...], Check]:
    public_id = top["trader"]["publicId"]
    return (
        "UPDATE trader SET label = %s WHERE public_id = %s",
        ("renamed-" + public_id, public_id),
        lambda new: bool(new["trader"]["label"] == "renamed-" + public_id),
    )


def _score(top: Any) -> tuple[str, tuple[object, ...], Check]:
    return (
        "UPDATE trader_stats SET score = score + 0.5 WHERE timeframe = 'WEEK' AND trader_id = "
        "(SELECT id FROM trader WHERE public_id = %s)",
        (top["trader"]["publicId"],),
        lambda new: bool(new["score"] == pytest.approx(top["score"] + 0.5)),
    )


def _position(top: Any) -> tuple[str, tuple[object, ...], Check]:
    position = top["trader"]["positions"][0]
    _, row_id = decode_node_id(position["id"])

    def grew(new: Any) -> bool:
        now = next(p for p in new["trader"]["positions"] if p["id"] == position["id"])
        return bool(Decimal(now["size"]) == Decimal(position["size"]) + 1)

    return "UPDATE position SET size = size + 1 WHERE id = %s", (int(row_id),), grew


def _trade(top: Any) -> tuple[str, tuple[object, ...], Check]:
    return (
        "INSERT INTO trade (venue, venue_fill_id, trader_id, position_id, closed_position_id, "
        "coin, timestamp, side, direction, action, size, price, notional, start_position, "
        "realized_pnl, fee, is_liquidation, tx_hash) "
        "SELECT venue, 'cache-test', trader_id, position_id, closed_position_id, coin, "
        "timestamp + interval '1 hour', side, direction, action, size, 4242.5, notional, "
        "start_position, realized_pnl, fee, is_liquidation, tx_hash FROM trade "
        "WHERE trader_id = (SELECT id FROM trader WHERE public_id = %s) "
        "ORDER BY timestamp DESC, id DESC LIMIT 1",
        (top["trader"]["publicId"],),
        lambda new: Decimal(new["trader"]["trades"]["nodes"][0]["price"]) == Decimal("4242.5"),
    )


@pytest.mark.parametrize("change", [_label, _score, _position, _trade], ids=lambda c: c.__name__)
async def test_a_committed_change_to_any_row_it_read_is_in_the_next_answer(
    client: httpx.AsyncClient, market_url: str, change: Change
) -> None:
    # given an answer in the cache
    body = await _cached(client)
    # when a row it read changes and the change commits
    index, entry = next(
        (i, e)
        for i, e in enumerate(body["data"]["leaderboard"]["nodes"])
        if e["trader"]["positions"]
    )
    statement, params, shows_the_change = change(entry)
    _commit(market_url, statement, *params)
    # then the very next request reads the database again and shows the change
    state, body = await _ask(client)
    assert state == "miss"
    changed = body["data"]["leaderboard"]["nodes"][index]
    assert shows_the_change(changed), changed
    # and that new answer is cached in turn
    assert (await _ask(client))[0] == "hit"


async def test_no_stale_answer_right_after_a_commit_many_times_over(
    client: httpx.AsyncClient, market_url: str
) -> None:
    # the request follows each commit at once: no sleep, no polling
    public_id = _top((await _ask(client))[1])["trader"]["publicId"]
    with psycopg.connect(market_url, autocommit=True) as connection:
        for round_ in range(25):
            connection.execute(
                "UPDATE trader SET label = %s WHERE public_id = %s", (f"v{round_}", public_id)
            )
            _, body = await _ask(client)
            assert _top(body)["trader"]["label"] == f"v{round_}"


async def test_changes_to_tables_it_did_not_read_or_rolled_back_keep_it(
    client: httpx.AsyncClient, market_url: str
) -> None:
    await _cached(client)
    _commit(
        market_url,
        "INSERT INTO ingest_checkpoint (source, position, fills_written, updated_at) "
        "VALUES ('cache-test', '1', 0, now()) ON CONFLICT (source) DO UPDATE "
        "SET position = ingest_checkpoint.position || '1'",
    )
    with psycopg.connect(market_url) as connection:
        connection.execute("UPDATE trader SET label = 'never'")
        connection.rollback()
    assert (await _ask(client))[0] == "hit"


async def test_answers_that_depend_on_the_caller_or_carry_errors_are_not_kept(
    client: httpx.AsyncClient,
) -> None:
    for query in ["{ viewer { plan } }", "{ rateLimit { plan } }"]:
        first = await client.post("/graphql", json={"query": query})
        again = await client.post("/graphql", json={"query": query})
        assert first.status_code == again.status_code == 200
        assert "x-perpgraph-cache" not in again.headers
    failing = "{ leaderboard(first: 1000) { nodes { rank } } }"
    await client.post("/graphql", json={"query": failing})
    again = await client.post("/graphql", json={"query": failing})
    assert again.json()["errors"]
    assert again.headers.get("x-perpgraph-cache") == "miss"


async def test_variables_and_operation_make_different_entries(client: httpx.AsyncClient) -> None:
    query = "query Top($n: Int!) { leaderboard(timeframe: WEEK, first: $n) { nodes { rank } } }"
    one = await client.post("/graphql", json={"query": query, "variables": {"n": 1}})
    two = await client.post("/graphql", json={"query": query, "variables": {"n": 2}})
    assert len(one.json()["data"]["leaderboard"]["nodes"]) == 1
    assert len(two.json()["data"]["leaderboard"]["nodes"]) == 2
    assert two.headers["x-perpgraph-cache"] == "miss"


async def test_while_the_listener_is_down_nothing_is_served_from_memory(
    client: httpx.AsyncClient, market_url: str
) -> None:
    await _cached(client)
    # when the listening connection is cut (a failover, a restart of Postgres)
    _commit(
        market_url,
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
        "WHERE application_name = 'perpgraph-data-versions' AND datname = current_database()",
    )
    # then nothing comes from memory: changes made meanwhile could have gone unannounced
    state, _ = await _ask(client)
    assert state != "hit"
    # and once it listens again, answers are cached afresh
    deadline = asyncio.get_running_loop().time() + 15
    states = []
    while asyncio.get_running_loop().time() < deadline:
        states.append((await _ask(client))[0])
        if states[-1] == "hit":
            break
        await asyncio.sleep(0.2)
    assert states[-1] == "hit", states
    assert "miss" in states


async def test_a_hit_is_counted_against_the_callers_limits(market_url: str) -> None:
    key = new_key(market_url)
    clock = Clock(datetime(2026, 11, 21, 10, 0, 5, tzinfo=UTC))
    plan = PlanLimits(**{**ROOMY.model_dump(), "per_minute": 3})
    settings = settings_for(market_url, plan=plan)
    async with client_for(settings, clock=clock) as client:
        answers = [
            await client.post("/graphql", json={"query": PAGE}, headers=bearer(key))
            for _ in range(4)
        ]
        assert [a.status_code for a in answers] == [200, 200, 200, 429]
        assert [a.headers.get("x-perpgraph-cache") for a in answers[:3]] == [
            "miss",
            "hit",
            "hit",
        ]
        assert error_of(answers[3])["extensions"]["scope"] == "minute"
        assert answers[2].headers["ratelimit-remaining"] == "0"
        clock.advance(timedelta(minutes=1).total_seconds())
        assert (await client.post("/graphql", json={"query": PAGE}, headers=bearer(key))).headers[
            "x-perpgraph-cache"
        ] == "hit"


async def test_a_plan_that_sees_less_gets_its_own_entry(market_url: str) -> None:
    free, pro = new_key(market_url, "FREE"), new_key(market_url, "PRO")
    settings = settings_for(market_url)
    query = "{ leaderboard(timeframe: WEEK, first: 2) { nodes { rank } } }"
    async with client_for(settings) as client:
        assert (await client.post("/graphql", json={"query": query}, headers=bearer(pro))).json()[
            "data"
        ]
        refused = await client.post("/graphql", json={"query": query}, headers=bearer(free))
        assert refused.json()["errors"][0]["extensions"]["code"] == "FORBIDDEN"


@pytest.mark.parametrize(
    "body",
    [
        b"{not json",
        b"[1, 2, 3]",
        b'{"query": 12}',
        b'{"query": "{ leaderboard { nodes { rank } } }", "variables": {"n": 1' + b"0" * 40 + b"}}",
        b'{"query": "{ leaderboard { nodes { rank } ',
        b"\xff\xfe\x00",
        b'{"query": "' + b"{ a " * 2000 + b'"}',
    ],
)
async def test_malformed_requests_pass_through_to_the_same_answer_as_without_the_cache(
    market_url: str, body: bytes
) -> None:
    headers = {"content-type": "application/json"}
    answers = []
    for cached in (True, False):
        settings = open_access_settings(database_url=market_url, response_cache=cached)
        async with client_for(settings) as client:
            response = await client.post("/graphql", content=body, headers=headers)
            answers.append((response.status_code, response.headers.get("x-perpgraph-cache")))
            assert response.status_code < 500
    assert answers[0][0] == answers[1][0]
    assert answers[0][1] in (None, "miss")


async def test_a_persisted_query_sent_by_its_hash_alone_is_served_from_memory(
    market_url: str,
) -> None:
    import hashlib

    key = new_key(market_url)
    digest = hashlib.sha256(PAGE.encode()).hexdigest()
    extensions = {"persistedQuery": {"version": 1, "sha256Hash": digest}}
    async with client_for(settings_for(market_url)) as client:
        # given the query registered with its hash (Apollo's protocol)
        first = await client.post(
            "/graphql", json={"query": PAGE, "extensions": extensions}, headers=bearer(key)
        )
        # when the client then sends the hash alone
        again = await client.post("/graphql", json={"extensions": extensions}, headers=bearer(key))
        # then the same answer comes from memory
        assert first.headers["x-perpgraph-cache"] == "miss"
        assert again.headers["x-perpgraph-cache"] == "hit"
        assert again.content == first.content
        # and an unknown hash still gets the protocol's answer
        unknown = {"persistedQuery": {"version": 1, "sha256Hash": "0" * 64}}
        missing = await client.post("/graphql", json={"extensions": unknown}, headers=bearer(key))
        assert error_of(missing)["extensions"]["code"] == "PERSISTED_QUERY_NOT_FOUND"
        assert "x-perpgraph-cache" not in missing.headers
