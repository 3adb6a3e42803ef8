"""Hostile input at the door: malformed credentials and abusive documents each get a clean,
coded refusal (never a 500), and none of them makes the serving path run SQL."""

from __future__ import annotations

import json
import random
import string
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed
from websockets.typing import Subprotocol

from db.query import record_statements
from gateway.keys import KEY_PREFIX
from tests.gateway.access_support import (
    bearer,
    client_for,
    new_key,
    settings_for,
)
from tests.serving import served

SEED = 20261121
PING = "{ viewer { plan } }"
CLIENT_ERRORS = range(400, 500)


def _malformed_headers(rng: random.Random) -> Iterator[dict[str, str]]:
    printable = string.ascii_letters + string.digits + string.punctuation + " "
    yield {"authorization": ""}
    yield {"authorization": "Bearer"}
    yield {"authorization": "Bearer  "}
    yield {"authorization": "bearer " + KEY_PREFIX}
    yield {"authorization": "Bearer " + KEY_PREFIX + "!" * 43}
    yield {"authorization": "Bearer " + KEY_PREFIX + "a" * 44}
    yield {"authorization": "Bearer " + KEY_PREFIX + "a" * 10_000}
    yield {"authorization": "Token " + KEY_PREFIX + "a" * 43}
    yield {"x-api-key": ""}
    yield {"x-api-key": "' OR 1=1 --"}
    yield {"x-api-key": KEY_PREFIX + "a" * 42 + "\t"}
    for _ in range(60):
        length = rng.choice([1, 5, 20, 52, 53, 200])
        value = "".join(rng.choice(printable) for _ in range(length)).strip() or "x"
        name = rng.choice(["authorization", "x-api-key"])
        prefix = rng.choice(["", "Bearer ", "Basic ", KEY_PREFIX, "Bearer " + KEY_PREFIX])
        yield {name: prefix + value}


def _hostile_documents(rng: random.Random) -> Iterator[dict[str, Any]]:
    yield {"query": "{ " + "viewer { plan } " * 100_000 + "}"}  # huge: ~1.6 MB
    yield {"query": "{ viewer " * 3000 + "{ plan }" + " }" * 3000}  # deeply nested
    yield {
        "query": "{ " + " ".join(f"a{i}: leaderboard {{ totalCount }}" for i in range(2000)) + "}"
    }
    yield {
        "query": '{ trader(address: "x") { ...A } } fragment A on Trader { ...B } '
        "fragment B on Trader { ...A }"
    }  # circular fragments
    laughs = " ".join(
        f"fragment F{i} on Trader {{ a: trader {{ ...F{i + 1} }} b: trader {{ ...F{i + 1} }} }}"
        for i in range(30)
    )
    yield {"query": '{ trader(address: "x") { ...F0 } } ' + laughs}  # fragment fan-out bomb
    nested_positions = "positions { trader { " * 12 + "publicId" + " } }" * 12
    yield {"query": "{ leaderboard { nodes { trader { " + nested_positions + " } } } }"}
    yield {
        "query": "{ leaderboard(first: 100) { nodes { trader { trades(first: 100) { nodes {"
        " trader { trades(first: 100) { nodes { price } } } } } } } } }"
    }  # 100 x 100 x 100
    yield {
        "query": "query Q($n: Int!) { leaderboard(first: $n) { totalCount } }",
        "variables": {"n": "1' OR '1'='1"},
    }
    yield {
        "query": "query Q($n: Int!) { leaderboard(first: $n) { totalCount } }",
        "variables": {"n": [[[[[[[1]]]]]]]},
    }
    yield {"query": "{ leaderboard { totalCount } }", "operationName": "Missing"}
    yield {"query": "query A { viewer { plan } } query A { viewer { plan } }"}
    yield {
        "query": "{ __schema { types { fields { type { fields { type { fields { name } } } } } }"
        " } }"
    }
    yield {"query": "subscription { viewer { plan } }"}
    yield {"query": "mutation { viewer }"}
    yield {"query": "{ viewer { plan } }", "extensions": {"persistedQuery": {"sha256Hash": "00"}}}
    yield {"extensions": {"persistedQuery": {"version": 1, "sha256Hash": "f" * 64}}}
    vocabulary = [
        "{",
        "}",
        "(",
        ")",
        "...",
        "fragment",
        "on",
        "query",
        "$n",
        ":",
        "leaderboard",
        "trades",
        "first",
        "100",
        '"x"',
        "@include",
        "@skip(if: true)",
        "nodes",
        "trader",
        "Int!",
        "=",
        "[",
        "]",
        "#",
        "\\u0000",
        '"""',
        "0x1",
        "1e999",
        "-",
        "!",
        "|",
        "&",
    ]
    for _ in range(200):
        tokens = [rng.choice(vocabulary) for _ in range(rng.randint(1, 60))]
        yield {"query": " ".join(tokens)}


def _assert_clean_refusal(response: httpx.Response, what: object) -> None:
    assert response.status_code != 500, what
    assert response.status_code in CLIENT_ERRORS or response.status_code == 200, what
    if response.status_code in CLIENT_ERRORS and not response.headers.get(
        "content-type", ""
    ).startswith("application/json"):
        assert response.text, what  # strawberry's own 400s are plain text with a reason
        return
    body = response.json()
    errors = body.get("errors")
    assert errors, (what, body)
    for error in errors:
        assert error.get("extensions", {}).get("code"), (what, error)
        assert error["extensions"]["code"] != "INTERNAL_SERVER_ERROR", (what, error)


@pytest.mark.slow
async def test_malformed_credentials_and_hostile_documents_are_refused_cleanly(
    seeded_url: str,
) -> None:
    rng = random.Random(SEED)
    key = new_key(seeded_url)
    async with client_for(settings_for(seeded_url)) as client:
        # given a known key whose lookup is already cached
        warm = await client.post("/graphql", json={"query": PING}, headers=bearer(key))
        assert warm.status_code == 200
        with record_statements() as statements:
            # when malformed credentials come
            for headers in _malformed_headers(rng):
                response = await client.post("/graphql", json={"query": PING}, headers=headers)
                # then each is a 401 with a code
                assert response.status_code == 401, headers
                _assert_clean_refusal(response, headers)
            # when hostile documents come with a good key
            for body in _hostile_documents(rng):
                response = await client.post("/graphql", json=body, headers=bearer(key))
                _assert_clean_refusal(response, str(body)[:300])
                assert statements == [], (str(body)[:300], response.text[:300])
        # then not one statement reached the database
        assert statements == []


async def test_hostile_connection_init_payloads_close_with_a_code(seeded_url: str) -> None:
    payloads: list[object] = [
        None,
        [],
        "key",
        42,
        {"apiKey": 42},
        {"apiKey": None},
        {"apiKey": ["x"]},
        {"Authorization": {"Bearer": "x"}},
        {"headers": "x"},
        {"headers": {"x-api-key": 1}},
        {"apiKey": KEY_PREFIX + "!" * 43},
        {"APIKEY": "x" * 100_000},
    ]
    protocol = [Subprotocol("graphql-transport-ws")]
    async with served(settings_for(seeded_url)) as address:
        for payload in payloads:
            async with connect(f"ws://{address}/graphql", subprotocols=protocol) as ws:
                await ws.send(json.dumps({"type": "connection_init", "payload": payload}))
                with pytest.raises(ConnectionClosed) as closed:
                    await ws.recv()
            assert closed.value.rcvd is not None, payload
            assert closed.value.rcvd.code in {4001, 4400}, (payload, closed.value.rcvd)
