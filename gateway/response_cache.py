"""An exact response cache in front of the GraphQL view (HTTP queries only).

An answer is stored with the versions of the data tables it read (``db/query.py`` tracks them,
``db/data_versions.py`` counts their committed changes from NOTIFY) and served again to the same
request (document, variables, operation name, extensions, and the caller's plan, which can
change what the graph shows) only while none of those tables has changed. Before every lookup
the process settles with the database (``DataVersions.settle``), so an answer is never served
after a change to what it read has committed, not even one committed a moment before the
request arrived.

Not cached: anything but a 200 answer without errors; operations that are not a single query
or that read the caller (``viewer``, ``rateLimit``); documents whose statements read something
the table tracker cannot name; every request while the listening connection is down. A POST
carrying only a persisted query's hash is keyed by the query text behind it. Requests
that cannot be cached pass through untouched. Access control still applies to a hit: the guard
admits it, and the hit is counted and charged the cost its first execution was charged
(``charge``). Responses carry ``X-Perpgraph-Cache: hit`` or ``miss`` (or nothing when not
cacheable).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any
from urllib.parse import parse_qs

import orjson
from cachetools import LRUCache
from graphql import FieldNode, GraphQLSyntaxError, OperationType, parse, visit
from graphql.language import OperationDefinitionNode, Visitor
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from db.changes import DATA_TABLES
from db.data_versions import DataVersions
from db.query import track_reads

log = logging.getLogger(__name__)

#: Fields whose answer depends on who asks, not only on the data.
CALLER_FIELDS = frozenset({"viewer", "rateLimit"})

CACHE_HEADER = b"x-perpgraph-cache"

#: Charges a hit to the caller (count and cost, as its first execution was charged); returns
#: the refusal to send instead when a limit is reached, else None.
Charge = Callable[[Scope, int], Awaitable["Refusal | None"]]
Refusal = Callable[[Scope, Receive, Send], Awaitable[None]]
PlanOf = Callable[[Scope], str | None]
#: The query text behind a persisted query's SHA-256 digest, when this process knows it.
PersistedLookup = Callable[[str], str | None]
CostOf = Callable[[Scope], int]


@dataclass(frozen=True, slots=True)
class CachedAnswer:
    body: bytes
    content_type: bytes
    epoch: int
    versions: Mapping[str, int]
    cost: int


class ResponseCache:
    """ASGI wrapper: serves stored answers while the data they read is unchanged."""

    def __init__(
        self,
        app: ASGIApp,
        versions: Callable[[], DataVersions | None],
        *,
        max_bytes: int,
        plan_of: PlanOf = lambda scope: None,
        cost_of: CostOf = lambda scope: 0,
        charge: Charge | None = None,
        persisted: PersistedLookup | None = None,
    ) -> None:
        self.app = app
        self._versions = versions
        self._answers: LRUCache[bytes, CachedAnswer] = LRUCache(
            maxsize=max_bytes, getsizeof=lambda answer: len(answer.body) + 512
        )
        self._plan_of = plan_of
        self._cost_of = cost_of
        self._charge = charge
        self._persisted = persisted

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        versions = self._versions()
        if scope["type"] != "http" or versions is None:
            await self.app(scope, receive, send)
            return
        request, receive = await _read_request(scope, receive, self._persisted)
        if request is None or not cacheable_document(request[0]):
            await self.app(scope, receive, send)
            return
        key = orjson.dumps([self._plan_of(scope), *request], option=orjson.OPT_SORT_KEYS)
        if not await versions.settle():
            await self.app(scope, receive, send)
            return
        answer = self._answers.get(key)
        if answer is not None and versions.current(answer.versions, answer.epoch):
            await self._serve(answer, scope, receive, send)
            return
        await self._run_and_store(key, versions, scope, receive, send)

    async def _serve(
        self, answer: CachedAnswer, scope: Scope, receive: Receive, send: Send
    ) -> None:
        if self._charge is not None:
            refusal = await self._charge(scope, answer.cost)
            if refusal is not None:
                await refusal(scope, receive, send)
                return
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [
                    (b"content-type", answer.content_type),
                    (b"content-length", str(len(answer.body)).encode()),
                    (CACHE_HEADER, b"hit"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": answer.body})

    async def _run_and_store(
        self, key: bytes, versions: DataVersions, scope: Scope, receive: Receive, send: Send
    ) -> None:
        epoch = versions.epoch
        start: Message | None = None
        chunks: list[bytes] = []

        async def capture(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                start = message
                headers = [*message.get("headers", []), (CACHE_HEADER, b"miss")]
                message = {**message, "headers": headers}
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))
            await send(message)

        with track_reads() as reads:
            # The versions before anything is read: a change committed from here on moves
            # them, so the answer is stored as already out of date rather than served stale.
            seen = versions.snapshot(DATA_TABLES)
            await self.app(scope, receive, capture)
        if start is None or start["status"] != 200 or not reads.known:
            return
        body = b"".join(chunks)
        content_type = _header(start, b"content-type")
        if content_type is None or not content_type.startswith(b"application/json"):
            return
        if b'"errors"' in body:
            return
        read = {table: seen[table] for table in reads.tables}
        self._answers[key] = CachedAnswer(
            body=body,
            content_type=content_type,
            epoch=epoch,
            versions=read,
            cost=self._cost_of(scope),
        )


def _header(message: Message, name: bytes) -> bytes | None:
    for key, value in message.get("headers", []):
        if key.lower() == name:
            return bytes(value)
    return None


async def _read_request(
    scope: Scope, receive: Receive, persisted: PersistedLookup | None
) -> tuple[tuple[Any, ...] | None, Receive]:
    """(query, variables, operation name, extensions) of a GraphQL request, or None when it
    is not one this cache handles; and a ``receive`` that replays the body to the view. A POST
    that carries only a persisted query's hash gets the query text ``persisted`` knows."""
    method = scope["method"]
    if method == "GET":
        params = parse_qs(scope.get("query_string", b"").decode("latin-1"))
        query = params.get("query", [None])[0]
        if query is None:
            return None, receive
        request = (
            query,
            params.get("variables", [None])[0],
            params.get("operationName", [None])[0],
            params.get("extensions", [None])[0],
        )
        return request, receive
    if method != "POST":
        return None, receive
    body = await _body(receive)

    async def replay() -> Message:
        return {"type": "http.request", "body": body, "more_body": False}

    content_type = _header({"headers": scope.get("headers", [])}, b"content-type") or b""
    payload = _json_object(body) if content_type.startswith(b"application/json") else None
    if payload is None:
        return None, replay
    query = payload.get("query")
    if query is None and persisted is not None:
        query = _persisted_query(payload.get("extensions"), persisted)
    if not isinstance(query, str):
        return None, replay
    request = (
        query,
        payload.get("variables"),
        payload.get("operationName"),
        payload.get("extensions"),
    )
    return request, replay


def _persisted_query(extensions: Any, persisted: PersistedLookup) -> str | None:
    entry = extensions.get("persistedQuery") if isinstance(extensions, dict) else None
    digest = entry.get("sha256Hash") if isinstance(entry, dict) else None
    if not isinstance(digest, str) or len(digest) != 64:
        return None
    return persisted(digest.lower())


def _json_object(body: bytes) -> dict[str, Any] | None:
    try:
        payload = orjson.loads(body)
    except orjson.JSONDecodeError:
        return None
    return payload if isinstance(payload, dict) else None


async def _body(receive: Receive) -> bytes:
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


@lru_cache(maxsize=1024)
def cacheable_document(query: str) -> bool:
    """Whether this document's answer depends on the data alone: one query operation (or
    several, one chosen by name), none of whose fields reads the caller."""
    try:
        document = parse(query)
    except GraphQLSyntaxError:
        return False
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if not operations or any(op.operation != OperationType.QUERY for op in operations):
        return False
    finder = _CallerFieldFinder()
    visit(document, finder)
    return not finder.found


class _CallerFieldFinder(Visitor):
    def __init__(self) -> None:
        super().__init__()
        self.found = False

    def enter_field(self, node: FieldNode, *_: Any) -> None:
        if node.name.value in CALLER_FIELDS:
            self.found = True
