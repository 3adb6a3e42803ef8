"""Shared execution of identical live subscriptions.

Executing a subscription's selection for one event costs tens of microseconds per subscriber
(research/strawberry.md §2); a thousand subscribers each running their own copy of the same
document would not fit in one process. Subscribers whose operation is the same (document,
variables and operation name) and who asked for live events only (no ``after`` cursor to
replay from) therefore join one :class:`_Group`: the group runs the operation once and every
member receives the same results. A member that falls behind is dropped on its own; the
others go on.

A subscription with ``after`` runs on its own: its replay is its own history.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import logging
from collections.abc import AsyncGenerator, Callable
from contextlib import aclosing
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    GraphQLError,
    NullValueNode,
    OperationDefinitionNode,
    OperationType,
    VariableNode,
    parse,
)

from resolvers.mailbox import Mailbox, MailboxOverflowError

log = logging.getLogger(__name__)

GroupKey = tuple[str, str, str | None]
#: How long a group whose members all left may take to finish the result it is computing
#: before it is cancelled; one waiting for its next event stops after this long.
STOP_GRACE_SECONDS = 5.0


@functools.lru_cache(maxsize=512)
def _parsed(query: str) -> DocumentNode | None:
    try:
        return parse(query)
    except GraphQLError:
        return None


def shareable_key(
    query: str, variables: dict[str, Any] | None, operation_name: str | None
) -> GroupKey | None:
    """The group key of a live-only subscription, or None when it must run on its own."""
    document = _parsed(query)
    operation = None if document is None else _only_subscription(document, operation_name)
    if operation is None or _asks_for_replay(operation, variables or {}):
        return None
    try:
        encoded = json.dumps(variables or {}, sort_keys=True)
    except (TypeError, ValueError):
        return None
    return (query, encoded, operation_name)


def _only_subscription(
    document: DocumentNode, operation_name: str | None
) -> OperationDefinitionNode | None:
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if operation_name is not None:
        operations = [o for o in operations if o.name and o.name.value == operation_name]
    if len(operations) != 1 or operations[0].operation is not OperationType.SUBSCRIPTION:
        return None
    return operations[0]


def _asks_for_replay(operation: OperationDefinitionNode, variables: dict[str, Any]) -> bool:
    """Whether a root field has a non-null ``after`` (or is not a plain field)."""
    for selection in operation.selection_set.selections:
        if not isinstance(selection, FieldNode):
            return True
        for argument in selection.arguments or ():
            if argument.name.value != "after":
                continue
            value = argument.value
            if isinstance(value, VariableNode):
                if variables.get(value.name.value) is not None:
                    return True
            elif not isinstance(value, NullValueNode):
                return True
    return False


def _member(capacity: int, on_overflow: Callable[[], None] | None) -> Mailbox[Any]:
    def dropped() -> None:
        log.warning("a shared-subscription member fell behind and was dropped")
        if on_overflow is not None:
            on_overflow()

    return Mailbox(capacity, dropped)


class _Group:
    def __init__(self, streams: SharedStreams, key: GroupKey) -> None:
        self.streams = streams
        self.key = key
        self.members: dict[Mailbox[Any], None] = {}
        self.task: asyncio.Task[None] | None = None

    async def run(self, source: AsyncGenerator[Any, None]) -> None:
        try:
            async with aclosing(source):
                async for result in source:
                    for member in list(self.members):
                        member.offer(result)
                    if not self.members:
                        return  # the last member left (see leave): stop between results
        finally:
            for member in list(self.members):
                member.close()
            self.streams.forget(self)

    async def member_stream(self, member: Mailbox[Any]) -> AsyncGenerator[Any, None]:
        """The member's results until the group ends or the member falls behind."""
        try:
            while (item := await member.get()) is not None:
                yield item
        except MailboxOverflowError:
            return
        finally:
            self.leave(member)

    def drop_all(self) -> None:
        """The group itself fell behind the live feed: every member is dropped."""
        for member in list(self.members):
            member.drop()

    def leave(self, member: Mailbox[Any]) -> None:
        self.members.pop(member, None)
        if not self.members and self.task is not None and not self.task.done():
            self.streams.forget(self, stopping=self.task)
            # Not cancelled at once: a cancel that lands while a result is being computed leaves
            # the coroutines of resolvers graphql-core had created but not yet awaited, each a
            # "never awaited" warning. run() returns after the result it is computing; a group
            # waiting for its next event (no resolver running) is cancelled after the grace.
            asyncio.get_running_loop().call_later(STOP_GRACE_SECONDS, self._cancel)

    def _cancel(self) -> None:
        if self.task is not None and not self.task.done():
            self.task.cancel()


class SharedStreams:
    """The groups of one gateway process."""

    def __init__(self, *, queue_size: int = 256) -> None:
        self.queue_size = queue_size
        self._groups: dict[GroupKey, _Group] = {}
        #: Tasks of groups whose members all left, finishing their last result (_Group.leave).
        self._stopping: set[asyncio.Task[None]] = set()

    @property
    def group_count(self) -> int:
        return len(self._groups)

    async def close(self) -> None:
        """Stop every group (at shutdown); their members' streams end."""
        tasks = [g.task for g in self._groups.values() if g.task is not None]
        for task in [*tasks, *self._stopping]:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    def forget(self, group: _Group, *, stopping: asyncio.Task[None] | None = None) -> None:
        """No new member joins ``group``; its task, when ``stopping``, is still held until it
        ends (:meth:`close` stops it too)."""
        if self._groups.get(group.key) is group:
            del self._groups[group.key]
        if stopping is not None:
            self._stopping.add(stopping)
            stopping.add_done_callback(self._stopping.discard)

    def join(
        self,
        key: GroupKey,
        start: Callable[[_Group], Any],
        on_overflow: Callable[[], None] | None,
    ) -> AsyncGenerator[Any, None]:
        """A member's stream of the group ``key``; ``start(group)`` opens the source if the
        group is new (a coroutine returning the operation's result stream)."""
        group = self._groups.get(key)
        if group is None or group.task is None or group.task.done():
            group = _Group(self, key)
            self._groups[key] = group

            async def run() -> None:
                await group.run(await start(group))

            group.task = asyncio.create_task(run(), name="perpgraph-shared-subscription")
        member = _member(self.queue_size, on_overflow)
        group.members[member] = None
        return group.member_stream(member)


class SharingSchema:
    """Stands in for the schema in one WebSocket handler: ``stream()`` of a shareable live
    subscription joins its group; everything else goes to the real schema."""

    def __init__(
        self,
        schema: Any,
        streams: SharedStreams,
        shared_context: Callable[[], Any],
        on_overflow: Callable[[], None] | None,
    ) -> None:
        self._schema = schema
        self._streams = streams
        self._shared_context = shared_context
        self._on_overflow = on_overflow

    def __getattr__(self, name: str) -> Any:
        return getattr(self._schema, name)

    async def stream(
        self,
        query: str | None,
        variable_values: dict[str, Any] | None = None,
        context_value: Any | None = None,
        root_value: Any | None = None,
        operation_name: str | None = None,
        **kwargs: Any,
    ) -> AsyncGenerator[Any, None]:
        key = shareable_key(query, variable_values, operation_name) if query else None
        if key is None:
            result: AsyncGenerator[Any, None] = await self._schema.stream(
                query, variable_values, context_value, root_value, operation_name, **kwargs
            )
            return result

        async def start(group: _Group) -> AsyncGenerator[Any, None]:
            context = self._shared_context()
            # If the group's own feed listener falls behind, every member is told to resume.
            context.extras["close_too_slow"] = lambda _reason: group.drop_all()
            source: AsyncGenerator[Any, None] = await self._schema.stream(
                query, variable_values, context, root_value, operation_name
            )
            return source

        return self._streams.join(key, start, self._on_overflow)
