"""WebSocket access (graphql-transport-ws): the key arrives in ``connection_init``.

Close codes, as MillionScan's: 4001 missing or invalid key, 4002 access expired, 4008 too many
sockets for this key; 1013 (this process holds ``max_websocket_connections`` already) is sent by
gateway.live when the socket is accepted. An operation over the plan's messages-per-minute gets
an ``error`` message (code RATE_LIMITED) and the socket stays open. Sockets per key are counted
across processes (gateway.sockets).
"""

from __future__ import annotations

from typing import Final

from graphql import GraphQLError
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
)
from strawberry.subscriptions.protocols.graphql_transport_ws.types import (
    ConnectionInitMessage,
    ErrorMessage,
    SubscribeMessage,
)

from gateway.access import AccessControl, Grant, SocketRefused
from resolvers.access import ACCESS_KEY
from resolvers.context import Context

_MAX_REASON_BYTES: Final = 123  # RFC 6455: a close frame's reason fits in 123 bytes


def close_reason(text: str) -> str:
    encoded = text.encode()[:_MAX_REASON_BYTES]
    return encoded.decode(errors="ignore")


class AccessTransportWSHandler(BaseGraphQLTransportWSHandler[Context, None]):
    """Strawberry's handler with our close codes, message limits and socket accounting."""

    def _access(self) -> AccessControl:
        access: AccessControl = getattr(self.view, "access")  # noqa: B009  (GatewayGraphQL)
        return access

    def _grant(self) -> Grant | None:
        grant = self.context.extras.get(ACCESS_KEY)
        return grant if isinstance(grant, Grant) else None

    async def handle_connection_init(self, message: ConnectionInitMessage) -> None:
        try:
            await super().handle_connection_init(message)
        except SocketRefused as refused:
            await self.websocket.close(code=refused.close_code, reason=close_reason(refused.reason))

    async def handle_subscribe(self, message: SubscribeMessage) -> None:
        grant = self._grant()
        if grant is not None and self.connection_acknowledged:
            refusal = await self._access().count_socket_message(grant)
            if refusal is not None:
                error = GraphQLError(refusal.message, extensions=refusal.extensions)
                await self.send_message(
                    ErrorMessage(id=message["id"], type="error", payload=[error.formatted])
                )
                return
        await super().handle_subscribe(message)

    async def shutdown(self) -> None:
        try:
            await super().shutdown()
        finally:
            grant = self._grant()
            if grant is not None:
                self.context.extras.pop(ACCESS_KEY, None)
                await self._access().release_socket(grant)
