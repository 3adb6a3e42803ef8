"""The HTTP door of ``/graphql``: authenticate and count each request before strawberry runs.

Refusals are real HTTP statuses (401, 402, 429) with a GraphQL-shaped body::

    {"errors": [{"message": "...", "extensions": {"code": "RATE_LIMITED", "scope": "minute",
                                                  "limit": 60, "retryAfterSeconds": 17}}]}

plus ``Retry-After`` on 429 and ``RateLimit-Limit/Remaining/Reset`` on every counted response.
Authentication happens here; counting happens once the query is measured, in the same Redis
round trip as its cost (``AccessControl.charge_cost``), or here as the response starts when the
request never reached execution.
The GraphiQL page itself is served without a key (its Headers tab carries the key).
"""

from __future__ import annotations

from typing import Final
from urllib.parse import parse_qs

import orjson
from starlette.datastructures import Headers
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway.access import AccessControl, RateLimited, rate_limit_headers
from gateway.auth import AccessDenied, key_from_headers

SCOPE_KEY: Final = "perpgraph.access"


def renders_graphiql(scope: Scope, headers: Headers) -> bool:
    """Whether strawberry answers this request with the GraphiQL page (no query runs)."""
    if scope["method"] != "GET":
        return False
    params = parse_qs(scope.get("query_string", b"").decode("latin-1"))
    if "query" in params or "extensions" in params:
        return False
    accept = headers.get("accept", "")
    return "text/html" in accept or "*/*" in accept


def refusal_response(denied: AccessDenied) -> Response:
    body = {"errors": [{"message": denied.message, "extensions": denied.extensions}]}
    response = Response(
        orjson.dumps(body), status_code=denied.status, media_type="application/json"
    )
    if isinstance(denied, RateLimited):
        response.headers["Retry-After"] = str(denied.retry_after)
        for name, value in rate_limit_headers(denied.window, denied.verdict.now):
            response.headers[name.decode()] = value.decode()
    elif denied.status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="perpgraph"'
    return response


class AccessGuard:
    """ASGI wrapper around the GraphQL view (HTTP only; WebSockets pass to ``gateway.ws``)."""

    def __init__(self, app: ASGIApp, access: AccessControl) -> None:
        self.app = app
        self.access = access

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        if renders_graphiql(scope, headers):
            await self.app(scope, receive, send)
            return
        client = scope.get("client")
        try:
            grant = await self.access.admit(
                key_from_headers(headers), client[0] if client else "unknown"
            )
        except AccessDenied as denied:
            await refusal_response(denied)(scope, receive, send)
            return
        scope[SCOPE_KEY] = grant

        async def send_with_limits(message: Message) -> None:
            if message["type"] == "http.response.start":
                # Counted with its cost before execution, or now if it never got that far.
                verdict = await self.access.count_request(grant)
                present = list(message.get("headers", []))
                if not any(name.lower() == b"ratelimit-limit" for name, _ in present):
                    extra = rate_limit_headers(verdict.tightest, verdict.now)
                    message = {**message, "headers": [*present, *extra]}
            await send(message)

        await self.app(scope, receive, send_with_limits)
