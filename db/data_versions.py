"""How many committed changes of each data table this process has seen announced.

:class:`DataVersions` LISTENs on ``perpgraph_data`` (``db/changes.py``) on a connection of its
own and counts each table's notifications: a table's version moves whenever a transaction that
wrote it commits. What makes it exact is :meth:`DataVersions.settle`: it returns only after a
round trip on the listening connection that *started after the call*. Postgres sends a listening
session every notification committed before a command it receives ahead of that command's
result (the committing backend signals the listener before its COMMIT returns), and psycopg
hands them to the handler before the round trip completes. So once ``settle()`` returns True,
every change committed before it was called is counted. Concurrent callers share round trips:
one in flight, at most one queued behind it for those who arrived after it started.

It is a connection of its own, not the live-event hub's (``db/hub.py``): the hub waits in
psycopg's ``notifies()``, which holds its connection's lock, so no barrier query could run there
without pausing delivery to every live subscriber.

When the connection is lost, notifications may have been missed: :attr:`epoch` moves (every
version recorded before is void), ``settle()`` answers False until a new connection LISTENs,
and reconnection is retried in the background.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Mapping

import psycopg
from psycopg import AsyncConnection, Notify

from db.changes import CHANGES_CHANNEL, DATA_TABLES

log = logging.getLogger(__name__)

_CONNECTION_ERRORS = (psycopg.Error, OSError, TimeoutError)


class DataVersions:
    """Per-table change counters fed by NOTIFY, with an exact "caught up" barrier."""

    def __init__(
        self,
        database_url: str,
        *,
        drain_seconds: float = 1.0,
        reconnect_seconds: float = 1.0,
        round_trip_timeout: float = 5.0,
    ) -> None:
        self._url = database_url
        self._drain_seconds = drain_seconds
        self._reconnect_seconds = reconnect_seconds
        self._timeout = round_trip_timeout
        self._versions: dict[str, int] = dict.fromkeys(DATA_TABLES, 0)
        self.epoch = 0
        self._connection: AsyncConnection | None = None
        self._queued: asyncio.Future[bool] | None = None
        self._in_flight: asyncio.Future[bool] | None = None
        self._background: asyncio.Task[None] | None = None
        self._stopping = False

    def snapshot(self, tables: frozenset[str] | set[str]) -> Mapping[str, int]:
        return {table: self._versions[table] for table in tables}

    def current(self, versions: Mapping[str, int], epoch: int) -> bool:
        """Whether nothing recorded in ``versions`` (at ``epoch``) has changed since."""
        if epoch != self.epoch:
            return False
        return all(self._versions[table] == seen for table, seen in versions.items())

    async def start(self) -> None:
        """Connect and LISTEN (raising if that fails), then keep draining in the background."""
        await self._connect()
        self._background = asyncio.create_task(self._keep_up(), name="perpgraph-data-versions")

    async def stop(self) -> None:
        self._stopping = True
        if self._background is not None:
            self._background.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._background
        await self._drop_connection()

    async def settle(self) -> bool:
        """Wait until every change committed before this call is counted; False when that
        cannot be known (the listening connection is down)."""
        if self._connection is None:
            return False
        if self._queued is None:
            self._queued = asyncio.ensure_future(self._next_round_trip())
        return await asyncio.shield(self._queued)

    async def _next_round_trip(self) -> bool:
        if self._in_flight is not None:
            await asyncio.wait([self._in_flight])
        # Callers from here on arrived after this round trip starts: they queue another one.
        self._queued = None
        connection = self._connection
        if connection is None:
            return False
        self._in_flight = asyncio.ensure_future(self._round_trip(connection))
        try:
            return await self._in_flight
        finally:
            self._in_flight = None

    async def _round_trip(self, connection: AsyncConnection) -> bool:
        try:
            async with asyncio.timeout(self._timeout):
                await connection.execute("SELECT 1")
        except _CONNECTION_ERRORS as error:
            log.warning("data-change listener lost its connection (%s); reconnecting", error)
            await self._drop_connection()
            return False
        return True

    def _on_notify(self, notify: Notify) -> None:
        if notify.channel != CHANGES_CHANNEL:
            return
        if notify.payload in self._versions:
            self._versions[notify.payload] += 1
        else:  # a table this code does not know: nothing recorded can be trusted
            self.epoch += 1

    async def _connect(self) -> None:
        connection = await AsyncConnection.connect(
            self._url, autocommit=True, application_name="perpgraph-data-versions"
        )
        connection.add_notify_handler(self._on_notify)
        await connection.execute(f"LISTEN {CHANGES_CHANNEL}")
        # Whatever happened while no connection listened is unknown: start a new epoch.
        self.epoch += 1
        self._connection = connection

    async def _drop_connection(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            self.epoch += 1
            with contextlib.suppress(*_CONNECTION_ERRORS):
                await connection.close()

    async def _keep_up(self) -> None:
        """Read notifications while no request asks (so versions move promptly) and
        reconnect after a loss."""
        while not self._stopping:
            if self._connection is None:
                try:
                    await self._connect()
                    log.info("data-change listener connected again")
                except _CONNECTION_ERRORS as error:
                    log.debug("data-change listener still down: %s", error)
                    await asyncio.sleep(self._reconnect_seconds)
                    continue
            await asyncio.sleep(self._drain_seconds)
            await self.settle()
