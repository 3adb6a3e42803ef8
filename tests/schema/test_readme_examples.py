"""Every GraphQL example in the README is valid against the schema it documents."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from graphql import parse, validate

from schema import schema

README = Path(__file__).resolve().parents[2] / "README.md"
EXAMPLES = re.findall(r"```graphql\n(.*?)```", README.read_text(encoding="utf-8"), re.S)


def test_the_readme_has_examples() -> None:
    assert len(EXAMPLES) >= 5


@pytest.mark.parametrize("example", EXAMPLES, ids=[f"example{i}" for i in range(len(EXAMPLES))])
def test_example_is_valid(example: str) -> None:
    errors = validate(schema._schema, parse(example))
    assert [error.message for error in errors] == []
