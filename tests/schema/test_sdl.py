"""The schema is a reviewed contract: the committed SDL must match, and everything is described."""

from __future__ import annotations

from collections.abc import Iterator

from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLObjectType,
)

from schema import SDL_PATH, schema, sdl


def test_committed_sdl_matches_the_live_schema() -> None:
    # given the committed schema/schema.graphql
    committed = SDL_PATH.read_text(encoding="utf-8")
    # then it is exactly what the code builds
    assert committed == sdl(), (
        "schema/schema.graphql drifted from the code: review the change, then run "
        "`perpgraph export-schema -o schema/schema.graphql`"
    )


def _described_things() -> Iterator[tuple[str, str | None]]:
    """(path, description) of every type, field, argument, input field and enum value."""
    builtin = {"String", "Int", "Float", "Boolean", "ID"}
    for name, named_type in schema._schema.type_map.items():
        if name.startswith("__") or name in builtin:
            continue
        yield name, named_type.description
        if isinstance(named_type, GraphQLObjectType | GraphQLInterfaceType):
            for field_name, field in named_type.fields.items():
                yield f"{name}.{field_name}", field.description
                for arg_name, arg in field.args.items():
                    yield f"{name}.{field_name}({arg_name})", arg.description
        elif isinstance(named_type, GraphQLInputObjectType):
            for field_name, input_field in named_type.fields.items():
                yield f"{name}.{field_name}", input_field.description
        elif isinstance(named_type, GraphQLEnumType):
            for value_name, value in named_type.values.items():
                yield f"{name}.{value_name}", value.description


def test_every_type_field_argument_and_enum_value_has_a_description() -> None:
    undocumented = [path for path, description in _described_things() if not description]
    assert undocumented == []


def test_core_names_of_the_design_contract_exist() -> None:
    text = sdl()
    for fragment in (
        "interface Node",
        "enum Timeframe",
        "enum Side",
        "enum TradeAction",
        "enum LeaderboardTier",
        "type Trader implements Node",
        "type Position implements Node",
        "type Trade implements Node",
        "type LeaderboardEntry",
        "type LeaderboardConnection",
        "type PositionConnection",
        "type TradeConnection",
    ):
        assert fragment in text, fragment
