"""Live delivery: the process's hub and event feed, and the graphql-transport-ws handler.

Close codes a client may see on ``/graphql`` (besides the protocol's own 44xx codes):

* ``1013`` the process is at its connection limit (``PERPGRAPH_MAX_WEBSOCKET_CONNECTIONS``):
  retry later, or on another gateway;
* ``4009`` a subscription fell too far behind the live stream (a slow or stalled reader): resume
  with ``after`` set to the last cursor received.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import OrderedDict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, cast

import orjson
from psycopg_pool import AsyncConnectionPool
from starlette.websockets import WebSocketDisconnect
from strawberry.http.exceptions import WebSocketDisconnected
from strawberry.schema.base import BaseSchema
from strawberry.subscriptions.protocols.graphql_transport_ws.types import (
    ConnectionInitMessage,
    Message,
)

from db.data_versions import DataVersions
from db.hub import Hub
from db.pool import open_pool
from gateway.settings import Settings
from gateway.shared_streams import SharedStreams, SharingSchema
from gateway.ws import AccessTransportWSHandler
from resolvers.context import Context
from resolvers.live import EventFeed
from schema.subscription import TOO_SLOW_REASON

log = logging.getLogger(__name__)

#: Strong references to fire-and-forget close tasks until they finish.
_BACKGROUND: set[asyncio.Task[None]] = set()

#: Encoded ``next`` payloads by data object: members of a shared group send the same one.
_ENCODED_PAYLOADS: OrderedDict[int, tuple[object, str]] = OrderedDict()
_ENCODED_PAYLOADS_KEPT = 1_024

CLOSE_AT_CAPACITY = 1013
CLOSE_TOO_SLOW = 4009


class GatewayState:
    """What one gateway process holds for its lifetime: pool, hub, feed, open sockets."""

    def __init__(self, *, max_connections: int) -> None:
        self.max_connections = max_connections
        self.connections = 0
        self._pool: AsyncConnectionPool | None = None
        self._hub: Hub | None = None
        self._feed: EventFeed | None = None
        self.shared = SharedStreams()
        self.data_versions: DataVersions | None = None

    @property
    def started(self) -> bool:
        return self._feed is not None

    @property
    def pool(self) -> AsyncConnectionPool:
        assert self._pool is not None, "the gateway has not started"
        return self._pool

    @property
    def hub(self) -> Hub:
        assert self._hub is not None, "the gateway has not started"
        return self._hub

    @property
    def feed(self) -> EventFeed:
        assert self._feed is not None, "the gateway has not started"
        return self._feed

    def shared_context(self) -> Context:
        """The context of a shared subscription group (no socket of its own)."""
        return Context.for_pool(self.pool, feed=self.feed)

    @asynccontextmanager
    async def running(self, database_url: str, settings: Settings) -> AsyncIterator[None]:
        self._pool = await open_pool(
            database_url, min_size=settings.pool_min_size, max_size=settings.pool_max_size
        )
        try:
            self._hub = Hub(database_url)
            await self._hub.start()
            try:
                feed = EventFeed(
                    self._hub,
                    self._pool,
                    queue_size=settings.subscriber_queue_size,
                    update_interval=settings.live_update_seconds,
                )
                await feed.start()
                self._feed = feed
                self.shared = SharedStreams(queue_size=settings.subscriber_buffer_events)
                if settings.response_cache:
                    self.data_versions = DataVersions(database_url)
                    await self.data_versions.start()
                try:
                    yield
                finally:
                    if self.data_versions is not None:
                        await self.data_versions.stop()
                        self.data_versions = None
                    await self.shared.close()
                    self._feed = None
                    await feed.stop()
            finally:
                await self._hub.stop()
        finally:
            await self._pool.close()


class LiveTransportHandler(AccessTransportWSHandler):
    """graphql-transport-ws with a per-process connection limit and slow-reader handling."""

    def on_request_accepted(self) -> None:
        super().on_request_accepted()
        self._counted = False
        state = _state_of(self.view)
        if state is not None and state.connections >= state.max_connections:
            refusal = asyncio.create_task(
                self.websocket.close(code=CLOSE_AT_CAPACITY, reason="server at capacity")
            )
            _BACKGROUND.add(refusal)
            refusal.add_done_callback(_BACKGROUND.discard)
            return
        if state is not None:
            state.connections += 1
            self._counted = True
            self.schema = cast(
                "BaseSchema",
                SharingSchema(
                    self.schema,
                    state.shared,
                    state.shared_context,
                    lambda: self._close_too_slow(TOO_SLOW_REASON),
                ),
            )

    async def handle_message(self, message: Message) -> None:
        # Strawberry indexes every message as a dict: a JSON array or a string would raise
        # TypeError and kill the socket's task. Any non-object is a protocol error (4400).
        if not isinstance(message, dict):
            await self.handle_invalid_message("WebSocket message must be a JSON object")
            return
        try:
            await super().handle_message(message)
        except TypeError:
            await self.handle_invalid_message("Failed to parse message")

    async def handle_connection_init(self, message: ConnectionInitMessage) -> None:
        if not getattr(self, "_counted", True):
            return
        self.context.extras["close_too_slow"] = self._close_too_slow
        await super().handle_connection_init(message)

    async def shutdown(self) -> None:
        try:
            await super().shutdown()
        finally:
            state = _state_of(self.view)
            if state is not None and getattr(self, "_counted", False):
                state.connections -= 1
                self._counted = False

    async def send_message(self, message: Message) -> None:
        """Send ``next`` messages with the payload encoded once for every subscriber of a
        shared group (they carry the very same data object); everything else as usual."""
        if message["type"] == "next" and message["payload"].keys() == {"data"}:
            data = message["payload"]["data"]
            encoded = _ENCODED_PAYLOADS.get(id(data))
            if encoded is None or encoded[0] is not data:
                encoded = (data, orjson.dumps(data).decode())
                _ENCODED_PAYLOADS[id(data)] = encoded
                if len(_ENCODED_PAYLOADS) > _ENCODED_PAYLOADS_KEPT:
                    _ENCODED_PAYLOADS.popitem(last=False)
            operation_id = orjson.dumps(message["id"]).decode()
            text = f'{{"id":{operation_id},"type":"next","payload":{{"data":{encoded[1]}}}}}'
            try:
                await self.websocket.ws.send_text(text)  # type: ignore[attr-defined]
            except WebSocketDisconnect as error:
                raise WebSocketDisconnected from error
            return
        await super().send_message(message)

    def _close_too_slow(self, reason: str) -> None:
        """Close the socket of a subscriber that fell behind, without waiting on it."""

        async def close() -> None:
            with contextlib.suppress(Exception):  # the peer may be gone already
                await self.websocket.close(code=CLOSE_TOO_SLOW, reason=reason[:120])

        task = asyncio.get_running_loop().create_task(close())
        _BACKGROUND.add(task)
        task.add_done_callback(_BACKGROUND.discard)


def _state_of(view: Any) -> GatewayState | None:
    state = getattr(view, "state", None)
    return state if isinstance(state, GatewayState) else None
