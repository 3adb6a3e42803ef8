"""The Starlette application: ``/graphql`` (queries, GraphiQL) and ``/healthz``."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import orjson
from psycopg_pool import AsyncConnectionPool
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL

from db.pool import open_pool
from gateway.access import AccessControl
from gateway.auth import key_from_connection_params
from gateway.graphiql import (
    graphiql_static_app,
    missing_assets,
    missing_assets_message,
    offline_graphiql_html,
)
from gateway.guard import SCOPE_KEY
from gateway.settings import Settings
from gateway.ws import AccessTransportWSHandler
from resolvers.access import ACCESS_KEY
from resolvers.context import Context
from schema import build_schema

GRAPHIQL_ASSET_PREFIX = "/graphiql-static"

DEFAULT_QUERY = """\
# Welcome to perpgraph! Press run (Ctrl-Enter): this week's
# top traders, their open positions and latest fills.
# The Docs pane (book icon, top left) documents every field.
query LeaderboardPage {
  leaderboard(timeframe: WEEK, first: 10) {
    totalCount
    updatedAt
    pageInfo { hasNextPage endCursor }
    edges {
      node {
        rank
        score
        trader {
          publicId
          address
          positions { coin side size notional entryPrice markPrice unrealizedPnl leverage openedAt }
          trades(first: 10) { nodes { timestamp coin side action size price realizedPnl fee } }
        }
      }
    }
  }
}
"""


class GatewayGraphQL(GraphQL[Context, None]):
    """Strawberry's ASGI view with our context, access control, offline GraphiQL and JSON."""

    graphql_transport_ws_handler_class = AccessTransportWSHandler

    def __init__(self, pool_holder: dict[str, AsyncConnectionPool], access: AccessControl) -> None:
        super().__init__(
            build_schema(access.extensions() if access.enabled else ()),
            subscription_protocols=[GRAPHQL_TRANSPORT_WS_PROTOCOL],
        )
        self._pool_holder = pool_holder
        self.access = access

    def decode_json(self, data: str | bytes) -> object:
        """orjson: faster, and invalid UTF-8 is a JSON error (400), not a crash (500)."""
        return orjson.loads(data)

    def encode_json(self, data: object) -> bytes:
        return orjson.dumps(data)

    async def get_context(self, request: Request | WebSocket, response: Any) -> Context:
        context = Context.for_pool(self._pool_holder["pool"], request, response)
        if (grant := request.scope.get(SCOPE_KEY)) is not None:  # admitted by AccessGuard
            context.extras[ACCESS_KEY] = grant
        return context

    async def on_ws_connect(self, context: Context) -> dict[str, object]:
        """Authenticate a socket from its ``connection_init`` payload (gateway.ws closes it
        with the refusal's code)."""
        if not self.access.enabled:
            return {}
        client = context.request.client if context.request is not None else None
        grant = await self.access.admit_socket(
            key_from_connection_params(context.connection_params),
            client.host if client else "unknown",
        )
        context.extras[ACCESS_KEY] = grant
        return {"plan": grant.plan_name}

    def should_render_graphql_ide(self, request: Any) -> bool:
        """Not for a GET that carries only a persisted query's hash (``extensions``)."""
        return super().should_render_graphql_ide(request) and (
            request.query_params.get("extensions") is None
        )

    async def render_graphql_ide(self, request: Request) -> Response:
        if missing := missing_assets():
            return PlainTextResponse(missing_assets_message(missing), status_code=503)
        key = self.access.settings.graphiql_api_key
        return HTMLResponse(
            offline_graphiql_html(
                asset_prefix=GRAPHIQL_ASSET_PREFIX,
                default_query=DEFAULT_QUERY,
                default_headers=None if key is None else f'{{"Authorization": "Bearer {key}"}}',
            )
        )


def create_app(
    settings: Settings, database_url: str, *, clock: Callable[[], float] = time.time
) -> Starlette:
    """The gateway for one database. The pool opens at start-up and closes at shutdown.
    ``clock`` (epoch seconds) drives access windows and limits; tests pass a controlled one."""
    pool_holder: dict[str, AsyncConnectionPool] = {}

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        pool = await open_pool(
            database_url, min_size=settings.pool_min_size, max_size=settings.pool_max_size
        )
        pool_holder["pool"] = pool
        try:
            yield
        finally:
            await pool.close()

    async def healthz(request: Request) -> Response:
        pool = pool_holder.get("pool")
        if pool is None:
            return JSONResponse({"status": "starting"}, status_code=503)
        async with pool.connection() as connection:
            await connection.execute("SELECT 1")
        return JSONResponse({"status": "ok"})

    access = AccessControl(settings, lambda: pool_holder["pool"], clock=clock)
    graphql = GatewayGraphQL(pool_holder, access)
    return Starlette(
        routes=[
            Route("/graphql", access.guard(graphql), methods=["GET", "POST"]),
            WebSocketRoute("/graphql", graphql),
            Route("/healthz", healthz),
            Mount(GRAPHIQL_ASSET_PREFIX, graphiql_static_app()),
        ],
        lifespan=access.around(lifespan),
    )
