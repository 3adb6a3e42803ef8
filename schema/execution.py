"""Executing operations: graphql-core's executor with a shortcut for plain leaf fields.

Most of a large answer is scalars read straight off an object (a trade's price, a position's
size): strawberry marks such fields as "basic" (no resolver, no extension) and resolves them
with ``getattr``. graphql-core still runs its full per-field machinery for each one (a path,
a resolve-info object, the resolver call, then value completion), which was about nine
tenths of the executor's time on the leaderboard page. :class:`FastExecutionContext` answers
those fields directly: the attribute, coerced by the field's own scalar or enum type, exactly as
graphql-core's leaf completion would. An object, or a list of objects, whose selection holds
only such fields (and plain fields holding such objects) is completed in one call of a function
generated once per selection. Anything else, and any value that would be an error (a null in a
non-null field, a value the type cannot coerce, an object of the wrong type), takes
graphql-core's own path, so answers and errors are the same as without the shortcut
(``tests/schema/test_execution.py`` compares both on every root field).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any
from weakref import WeakKeyDictionary

from graphql import (
    GraphQLEnumType,
    GraphQLLeafType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    is_leaf_type,
)
from graphql.execution.collect_fields import GroupedFieldSet
from graphql.pyutils import AwaitableOrValue, Path, Undefined
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

_DEFINITION = "strawberry-definition"


@dataclass(frozen=True, slots=True)
class _Leaf:
    attribute: str
    non_null: bool
    coerce: Callable[[Any], Any]


def _coercion(leaf_type: GraphQLLeafType) -> Callable[[Any], Any]:
    """The type's own output coercion; for a strawberry enum, its member-to-name answers
    looked up in a dict (strawberry scans the enum's values on every call)."""
    slow = leaf_type.coerce_output_value
    wrapped = getattr(leaf_type, "wrapped_cls", None)
    if not isinstance(leaf_type, GraphQLEnumType) or wrapped is None:
        return slow
    names = {member: slow(member) for member in wrapped}

    def coerce(value: Any) -> Any:
        name = names.get(value) if type(value) is wrapped else None
        return slow(value) if name is None else name

    return coerce


def _plain_fields(parent_type: GraphQLObjectType) -> Iterator[tuple[str, str, Any]]:
    """(GraphQL name, attribute, GraphQL type) of each field strawberry resolves by reading an
    attribute: no resolver, no extension, no argument."""
    for name, field in parent_type.fields.items():
        strawberry_field = (field.extensions or {}).get(_DEFINITION)
        if (
            strawberry_field is not None
            and not field.args
            and getattr(field.resolve, "_is_default", False)
            and strawberry_field.is_basic_field
            and strawberry_field.default_resolver is getattr
            and strawberry_field.python_name.isidentifier()
        ):
            yield name, strawberry_field.python_name, field.type


#: One entry of a flat selection: (response name, attribute, coercion, non-null); a None
#: coercion means the attribute slot holds a constant (``__typename``).
_Entry = tuple[str, str, Callable[[Any], Any] | None, bool]


class _Bail(Exception):  # noqa: N818  (control flow, never escapes this module)
    """A value the shortcut does not complete: graphql-core's path takes the whole field."""


Builder = Callable[[Any], dict[str, Any]]


_BUILDERS: dict[tuple[_Entry, ...], Builder] = {}
_MAX_BUILDERS = 4096


def _compiled(plan: tuple[_Entry, ...]) -> Builder:
    """The plan as straight-line Python (generated once per distinct selection, as
    dataclasses generates ``__init__``): read each attribute, coerce it with the leaf type's
    own coercion, and build the dict in the query's field order. Anything graphql-core would
    report as an error (a null in a non-null field, a failed or empty coercion, a missing
    attribute) raises ``_Bail`` instead, and graphql-core completes the value itself."""
    known = _BUILDERS.get(plan)
    if known is not None:
        return known
    namespace: dict[str, Any] = {"_Bail": _Bail, "Undefined": Undefined}
    body: list[str] = []
    items: list[str] = []
    for index, (response_name, attribute, coerce, non_null) in enumerate(plan):
        if coerce is None:
            namespace[f"k{index}"] = attribute
            items.append(f"{response_name!r}: k{index}")
            continue
        namespace[f"c{index}"] = coerce
        on_null = "raise _Bail()" if non_null else f"r{index} = None"
        body += [
            f"        v = source.{attribute}",
            "        if v is None:",
            f"            {on_null}",
            "        else:",
            f"            r{index} = c{index}(v)",
            f"            if r{index} is None or r{index} is Undefined:",
            "                raise _Bail()",
        ]
        items.append(f"{response_name!r}: r{index}")
    source = "\n".join(
        [
            "def build(source):",
            "    try:",
            *(body or ["        pass"]),
            "    except _Bail:",
            "        raise",
            "    except Exception as error:",
            "        raise _Bail() from error",
            f"    return {{{', '.join(items)}}}",
        ]
    )
    exec(source, namespace)  # noqa: S102  (code generated from the schema's own names)
    builder: Builder = namespace["build"]
    if len(_BUILDERS) >= _MAX_BUILDERS:  # distinct selections are the callers' to choose
        _BUILDERS.clear()
    _BUILDERS[plan] = builder
    return builder


@dataclass(frozen=True, slots=True)
class _Nested:
    """A plain field holding an object, or a list of objects."""

    attribute: str
    object_type: GraphQLObjectType
    non_null: bool
    is_list: bool
    items_non_null: bool


@dataclass(frozen=True, slots=True)
class _TypePlan:
    """A type's plain fields by GraphQL name: leaves, and objects or lists of objects."""

    leaves: dict[str, _Leaf]
    nested: dict[str, _Nested]


_plans: WeakKeyDictionary[GraphQLObjectType, _TypePlan] = WeakKeyDictionary()


def _plan_of(parent_type: GraphQLObjectType) -> _TypePlan:
    """The type's plain fields (computed once per type)."""
    plan = _plans.get(parent_type)
    if plan is not None:
        return plan
    leaves: dict[str, _Leaf] = {}
    nested: dict[str, _Nested] = {}
    for name, attribute, declared in _plain_fields(parent_type):
        non_null = isinstance(declared, GraphQLNonNull)
        field_type = declared.of_type if non_null else declared
        if is_leaf_type(field_type):
            leaves[name] = _Leaf(attribute, non_null, _coercion(field_type))
            continue
        is_list = isinstance(field_type, GraphQLList)
        items_non_null = False
        if is_list:
            field_type = field_type.of_type
            items_non_null = isinstance(field_type, GraphQLNonNull)
            field_type = field_type.of_type if items_non_null else field_type
        if isinstance(field_type, GraphQLObjectType):
            nested[name] = _Nested(attribute, field_type, non_null, is_list, items_non_null)
    plan = _plans[parent_type] = _TypePlan(leaves, nested)
    return plan


_COMPLETERS: dict[tuple[Builder, GraphQLObjectType, bool, bool], Callable[[Any], Any]] = {}


def _completer(
    build: Builder, object_type: GraphQLObjectType, is_list: bool, items_non_null: bool
) -> Callable[[Any], Any]:
    """Completes a nested object (or list of them) with its own builder; one function per
    (builder, type, shape), so that plans holding it stay equal across requests."""
    key = (build, object_type, is_list, items_non_null)
    known = _COMPLETERS.get(key)
    if known is not None:
        return known

    def one(value: Any) -> Any:
        if not _is_type_of(object_type, value, None):
            raise _Bail
        return build(value)

    def many(values: Any) -> Any:
        if not isinstance(values, list):
            raise _Bail
        return [_build_item(build, object_type, item, None, items_non_null) for item in values]

    completer = many if is_list else one
    if len(_COMPLETERS) >= _MAX_BUILDERS:
        _COMPLETERS.clear()
    _COMPLETERS[key] = completer
    return completer


class FastExecutionContext(StrawberryGraphQLCoreExecutionContext):
    """graphql-core's execution, answering plain leaf fields without per-field machinery,
    and objects (or lists of objects) whose selection is all plain leaves in one step."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._flat_builders: dict[int, tuple[GroupedFieldSet, Builder | None]] = {}

    def _builder_for(
        self, object_type: GraphQLObjectType, field_details_list: Any
    ) -> Builder | None:
        middleware = self.middleware_manager
        if middleware is not None and middleware.middlewares:
            return None
        fields, deferred, _ = self.collect_subfields(object_type, field_details_list)
        if deferred:
            return None
        builders = self._flat_builders
        known = builders.get(id(fields))
        if known is None:
            # Keyed by identity like graphql-core's own memo; the set is kept alive with it.
            known = builders[id(fields)] = (fields, self._flat_builder(object_type, fields))
        return known[1]

    def _flat_builder(
        self, parent_type: GraphQLObjectType, fields: GroupedFieldSet
    ) -> Builder | None:
        """A function completing the selection when it is all plain fields (leaves, and
        objects or lists of objects whose selections are all plain fields too), else None."""
        type_plan = _plan_of(parent_type)
        leaves, nested = type_plan.leaves, type_plan.nested
        plan: list[_Entry] = []
        for response_name, details in fields.items():
            name = details[0].node.name.value
            if name == "__typename":
                plan.append((response_name, parent_type.name, None, True))
                continue
            leaf = leaves.get(name)
            if leaf is not None:
                plan.append((response_name, leaf.attribute, leaf.coerce, leaf.non_null))
                continue
            inner = nested.get(name)
            if inner is None:
                return None
            build = self._builder_for(inner.object_type, details)
            if build is None:
                return None
            complete = _completer(build, inner.object_type, inner.is_list, inner.items_non_null)
            plan.append((response_name, inner.attribute, complete, inner.non_null))
        return _compiled(tuple(plan))

    def complete_object_value(
        self,
        return_type: GraphQLObjectType,
        field_details_list: Any,
        info: Any,
        path: Path,
        result: Any,
        position_context: Any,
    ) -> AwaitableOrValue[dict[str, Any]]:
        build = self._builder_for(return_type, field_details_list)
        if build is not None and _is_type_of(return_type, result, info):
            try:
                return build(result)
            except _Bail:
                pass
        return super().complete_object_value(
            return_type, field_details_list, info, path, result, position_context
        )

    def complete_list_value(
        self,
        return_type: GraphQLList[GraphQLOutputType],
        field_details_list: Any,
        info: Any,
        path: Path,
        result: Any,
        position_context: Any,
    ) -> AwaitableOrValue[list[Any]]:
        item_type: Any = return_type.of_type
        non_null = isinstance(item_type, GraphQLNonNull)
        named = item_type.of_type if non_null else item_type
        if isinstance(named, GraphQLObjectType) and isinstance(result, list):
            build = self._builder_for(named, field_details_list)
            if build is not None:
                try:
                    return [_build_item(build, named, item, info, non_null) for item in result]
                except _Bail:
                    pass
        return super().complete_list_value(
            return_type, field_details_list, info, path, result, position_context
        )

    def execute_fields(
        self,
        parent_type: GraphQLObjectType,
        source_value: Any,
        path: Path | None,
        grouped_field_set: GroupedFieldSet,
        position_context: Any = None,
    ) -> AwaitableOrValue[dict[str, Any]]:
        middleware = self.middleware_manager
        if middleware is not None and middleware.middlewares:
            return super().execute_fields(
                parent_type, source_value, path, grouped_field_set, position_context
            )
        leaves = _plan_of(parent_type).leaves
        direct: dict[str, Any] = {}
        rest: GroupedFieldSet = {}
        for response_name, details in grouped_field_set.items():
            leaf = leaves.get(details[0].node.name.value)
            if leaf is not None:
                value = getattr(source_value, leaf.attribute, Undefined)
                if value is None and not leaf.non_null:
                    direct[response_name] = None
                    continue
                if value is not None and value is not Undefined:
                    try:
                        coerced = leaf.coerce(value)
                    except Exception:
                        coerced = None
                    if coerced is not None and coerced is not Undefined:
                        direct[response_name] = coerced
                        continue
            rest[response_name] = details
        if not rest:
            return direct
        results = super().execute_fields(parent_type, source_value, path, rest, position_context)
        if self.is_awaitable(results):
            return _merged(direct, results, grouped_field_set)
        return _in_order(direct, results, grouped_field_set)  # type: ignore[arg-type]


def _is_type_of(object_type: GraphQLObjectType, value: Any, info: Any) -> bool:
    check = object_type.is_type_of
    return check is None or check(value, info) is True


def _build_item(
    build: Builder,
    object_type: GraphQLObjectType,
    item: Any,
    info: Any,
    non_null: bool,
) -> dict[str, Any] | None:
    if item is None:
        if non_null:
            raise _Bail
        return None
    if not _is_type_of(object_type, item, info):
        raise _Bail
    return build(item)


async def _merged(direct: dict[str, Any], pending: Any, order: GroupedFieldSet) -> dict[str, Any]:
    return _in_order(direct, await pending, order)


def _in_order(
    direct: dict[str, Any], resolved: dict[str, Any], order: GroupedFieldSet
) -> dict[str, Any]:
    """Both halves, in the order the query asked for the fields."""
    if not direct:
        return resolved
    if not resolved:
        return direct
    return {
        name: direct[name] if name in direct else resolved[name]
        for name in order
        if name in direct or name in resolved
    }
