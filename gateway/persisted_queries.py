"""Automatic persisted queries (Apollo's protocol): a client may send a query's SHA-256 alone.

    {"extensions": {"persistedQuery": {"version": 1, "sha256Hash": "<hex>"}}}

Unknown hash → ``PERSISTED_QUERY_NOT_FOUND``; the client then sends the hash with the query,
which is checked (``PERSISTED_QUERY_HASH_MISMATCH`` otherwise) and remembered. The store is a
bounded in-process LRU: a worker that has not seen a hash answers NOT_FOUND and the client's
normal retry registers it there too.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from collections.abc import Iterator
from typing import Final

from graphql import GraphQLError
from strawberry.extensions import SchemaExtension

DEFAULT_CAPACITY: Final = 2_000
MAX_QUERY_BYTES: Final = 100_000


class PersistedQueryStore:
    """Query texts by SHA-256 hex digest, least recently used dropped first."""

    def __init__(self, capacity: int = DEFAULT_CAPACITY) -> None:
        self.capacity = capacity
        self._queries: OrderedDict[str, str] = OrderedDict()

    def get(self, digest: str) -> str | None:
        query = self._queries.get(digest)
        if query is not None:
            self._queries.move_to_end(digest)
        return query

    def put(self, digest: str, query: str) -> None:
        self._queries[digest] = query
        self._queries.move_to_end(digest)
        while len(self._queries) > self.capacity:
            self._queries.popitem(last=False)


def _error(message: str, code: str) -> GraphQLError:
    return GraphQLError(message, extensions={"code": code})


class AutomaticPersistedQueries(SchemaExtension):
    def __init__(self, *, store: PersistedQueryStore) -> None:
        self.store = store

    def on_operation(self) -> Iterator[None]:
        context = self.execution_context
        persisted = (context.operation_extensions or {}).get("persistedQuery")
        if persisted is not None:
            digest = persisted.get("sha256Hash") if isinstance(persisted, dict) else None
            if not isinstance(digest, str) or len(digest) != 64:
                raise _error("persistedQuery needs a sha256Hash (64 hex digits)", "BAD_USER_INPUT")
            digest = digest.lower()
            if context.query:
                if len(context.query) > MAX_QUERY_BYTES:
                    raise _error("query too large to persist", "BAD_USER_INPUT")
                if hashlib.sha256(context.query.encode()).hexdigest() != digest:
                    raise _error(
                        "provided sha256Hash does not match the query",
                        "PERSISTED_QUERY_HASH_MISMATCH",
                    )
                self.store.put(digest, context.query)
            else:
                query = self.store.get(digest)
                if query is None:
                    raise _error("PersistedQueryNotFound", "PERSISTED_QUERY_NOT_FOUND")
                context.query = query
        yield
