"""trade's and position's reference checks find their traders through the key

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-21 19:05:00.000000

The statement-level checks of 0003 (``trade``) and 0004 (``position``) found the traders a
statement refers to with ``id IN (SELECT trader_id FROM inserted)``. The planner cannot size a
transition table, and hashed it against the whole trader table: every batch the writer
committed read every trader twice, so a batch's cost grew with the number of traders ever seen,
not with the batch (``tests/ingest/test_writer_scaling.py`` counts the sequential scans). As
0004 did for positions, each distinct trader is now probed through the primary key (a LATERAL
subquery with a locking clause stays a nested loop); what is checked and locked is unchanged.
"""

import importlib.util
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType

from alembic import op

revision: str = "0009"
down_revision: str | tuple[str, ...] | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TRADERS_HASHED = """
    SELECT count(*) INTO found FROM (
        SELECT 1 FROM trader WHERE id IN (SELECT trader_id FROM inserted) FOR KEY SHARE
    ) AS k;
"""

_TRADERS_PROBED = """
    SELECT count(*) INTO found FROM (SELECT DISTINCT trader_id AS id FROM inserted) AS k,
        LATERAL (SELECT 1 FROM trader WHERE trader.id = k.id FOR KEY SHARE) AS t;
"""


def _migration_0004() -> ModuleType:
    path = Path(__file__).with_name("0004_position_references_statement_checks.py")
    spec = importlib.util.spec_from_file_location("migration_0004", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _functions_as_of_0004() -> list[str]:
    """``CREATE OR REPLACE`` texts of both check functions as 0004 left them."""
    module = _migration_0004()
    trade = module._trade_check_references().replace(
        module._TRADE_POSITIONS_HASHED, module._TRADE_POSITIONS_PROBED
    )
    position = str(module._CHECK_REFERENCES).replace(
        "CREATE FUNCTION", "CREATE OR REPLACE FUNCTION", 1
    )
    for text in (trade, position):
        assert _TRADERS_HASHED in text
    return [trade, position]


def upgrade() -> None:
    for text in _functions_as_of_0004():
        op.execute(text.replace(_TRADERS_HASHED, _TRADERS_PROBED))


def downgrade() -> None:
    for text in _functions_as_of_0004():
        op.execute(text)
