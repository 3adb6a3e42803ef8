"""trader_stats' trader checked once per statement instead of once per row

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-21 14:40:00.000000

A recompute writes every board again (344,663 rows on the scoring benchmark), in the one
transaction readers must wait for; the row-level foreign-key trigger on ``trader_id`` cost
about 3.9 s of it (a query and a row lock per row). As for ``trade`` (0003) and ``position``
(0004), a statement-level trigger with a transition table enforces the same rule set-wise:

* inserting or updating statistics of a trader that does not exist raises
  ``foreign_key_violation`` (SQLSTATE 23503), like the foreign key did; the traders are locked
  FOR KEY SHARE, like the foreign key did, so a concurrent delete waits;
* deleting a trader that has statistics raises the same error (the primary key, which leads
  with ``trader_id``, serves the check).

What the foreign key also did and this does not: reject a change of ``trader.id``; no code
changes it (an identity).
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0007"
down_revision: str | tuple[str, ...] | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_CHECK_REFERENCES = """
CREATE FUNCTION trader_stats_check_references() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    wanted bigint;
    found bigint;
BEGIN
    SELECT count(*) INTO wanted FROM (SELECT DISTINCT trader_id FROM inserted) AS k;
    SELECT count(*) INTO found FROM (
        SELECT 1 FROM trader WHERE id IN (SELECT trader_id FROM inserted) FOR KEY SHARE
    ) AS k;
    IF found <> wanted THEN
        RAISE foreign_key_violation USING
            MESSAGE = 'insert or update on table "trader_stats" refers to a trader that does '
                      'not exist';
    END IF;
    RETURN NULL;
END
$$
"""

_CHECK_DELETED = """
CREATE FUNCTION trader_check_not_scored() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM deleted AS d JOIN trader_stats AS s ON s.trader_id = d.id) THEN
        RAISE foreign_key_violation USING
            MESSAGE = 'delete on table "trader" would leave statistics referring to it';
    END IF;
    RETURN NULL;
END
$$
"""


def upgrade() -> None:
    op.drop_constraint("trader_stats_trader_id_fkey", "trader_stats", type_="foreignkey")
    op.execute(_CHECK_REFERENCES)
    for event in ("INSERT", "UPDATE"):
        op.execute(
            f"CREATE TRIGGER trader_stats_references_on_{event.lower()} AFTER {event} "
            "ON trader_stats REFERENCING NEW TABLE AS inserted FOR EACH STATEMENT "
            "EXECUTE FUNCTION trader_stats_check_references()"
        )
    op.execute(_CHECK_DELETED)
    op.execute(
        "CREATE TRIGGER trader_not_scored AFTER DELETE ON trader "
        "REFERENCING OLD TABLE AS deleted FOR EACH STATEMENT "
        "EXECUTE FUNCTION trader_check_not_scored()"
    )


def downgrade() -> None:
    op.execute("DROP TRIGGER trader_not_scored ON trader")
    op.execute("DROP FUNCTION trader_check_not_scored()")
    for event in ("INSERT", "UPDATE"):
        op.execute(f"DROP TRIGGER trader_stats_references_on_{event.lower()} ON trader_stats")
    op.execute("DROP FUNCTION trader_stats_check_references()")
    op.create_foreign_key(
        "trader_stats_trader_id_fkey", "trader_stats", "trader", ["trader_id"], ["id"]
    )
