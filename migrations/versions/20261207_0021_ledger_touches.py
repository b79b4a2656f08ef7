"""``ledger_count`` also follows the writes that change what Manage Integrations shows without
changing a state (issue 17 point 2): a re-check that gives a held entry another reason, Amazon's
change that marks a posted entry for review, a Xero document id recorded, a date or amount
corrected. Each such update adds a ``0`` row for the organisation (a "touch"), so the
organisation's ``ledger_count`` rows change on every write the entries list can show, and the
rendered parts cached under them (``plugin.manage.part_cache``) are never served after it.
Sums are unchanged (a ``0`` adds nothing; folding drops it).

PostgreSQL: the statement-level function of 0017 adds one ``0`` row per organisation whose rows
changed a shown column and no state (one per statement, however many rows). SQLite: one more
row-level trigger, ``ledger_count_touch``.

Revision ID: 0021
Revises: 0020
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0021"
down_revision: str | Sequence[str] | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SHOWN = (
    "organisation_id",
    "amazon_transaction_id",
    "transaction_type",
    "transaction_date",
    "amount",
    "currency",
    "payment_method_key",
    "order_id",
    "purchase_orders",
    "buyer_name",
    "reason_code",
    "reason",
    "needs_review",
    "xero_document_type",
    "xero_document_id",
)
"""The columns the entries list and its reason groups show (``plugin.manage.entries``)."""

_CHANGED_PG = " OR ".join(f"o.{c} IS DISTINCT FROM n.{c}" for c in SHOWN)
_CHANGED_SQLITE = " OR ".join(f"OLD.{c} IS NOT NEW.{c}" for c in SHOWN)

POSTGRES_FUNCTION = f"""
CREATE OR REPLACE FUNCTION ledger_count_follow() RETURNS trigger AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    INSERT INTO ledger_count (organisation_id, state, delta)
      SELECT organisation_id, state, count(*) FROM new_rows GROUP BY organisation_id, state;
  ELSIF TG_OP = 'DELETE' THEN
    INSERT INTO ledger_count (organisation_id, state, delta)
      SELECT organisation_id, state, -count(*) FROM old_rows GROUP BY organisation_id, state;
  ELSE
    INSERT INTO ledger_count (organisation_id, state, delta)
      SELECT organisation_id, state, sum(change) FROM (
        SELECT organisation_id, state, -1 AS change FROM old_rows
        UNION ALL
        SELECT organisation_id, state, 1 AS change FROM new_rows
      ) AS moves
      GROUP BY organisation_id, state
      HAVING sum(change) <> 0;
    INSERT INTO ledger_count (organisation_id, state, delta)
      SELECT n.organisation_id, min(n.state), 0
      FROM new_rows n JOIN old_rows o ON o.id = n.id
      WHERE o.state IS NOT DISTINCT FROM n.state AND ({_CHANGED_PG})
      GROUP BY n.organisation_id;
  END IF;
  RETURN NULL;
END
$$ LANGUAGE plpgsql
"""  # noqa: S608 - the column names are SHOWN's

PREVIOUS_POSTGRES_FUNCTION = """
CREATE OR REPLACE FUNCTION ledger_count_follow() RETURNS trigger AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    INSERT INTO ledger_count (organisation_id, state, delta)
      SELECT organisation_id, state, count(*) FROM new_rows GROUP BY organisation_id, state;
  ELSIF TG_OP = 'DELETE' THEN
    INSERT INTO ledger_count (organisation_id, state, delta)
      SELECT organisation_id, state, -count(*) FROM old_rows GROUP BY organisation_id, state;
  ELSE
    INSERT INTO ledger_count (organisation_id, state, delta)
      SELECT organisation_id, state, sum(change) FROM (
        SELECT organisation_id, state, -1 AS change FROM old_rows
        UNION ALL
        SELECT organisation_id, state, 1 AS change FROM new_rows
      ) AS moves
      GROUP BY organisation_id, state
      HAVING sum(change) <> 0;
  END IF;
  RETURN NULL;
END
$$ LANGUAGE plpgsql
"""

SQLITE_TOUCH = (
    "CREATE TRIGGER ledger_count_touch AFTER UPDATE ON ledger_entry WHEN OLD.state IS NEW.state "  # noqa: S608
    f"AND ({_CHANGED_SQLITE}) BEGIN INSERT INTO ledger_count (organisation_id, state, delta) "
    "VALUES (NEW.organisation_id, NEW.state, 0); END"
)


def create_touch_trigger(bind: sa.engine.Connection) -> None:
    """(Re)create what adds the touches (after SQLite rebuilt ``ledger_entry``, with 0017's
    ``create_triggers``)."""
    if bind.dialect.name == "postgresql":
        bind.exec_driver_sql(POSTGRES_FUNCTION)
        return
    bind.exec_driver_sql("DROP TRIGGER IF EXISTS ledger_count_touch")
    bind.exec_driver_sql(SQLITE_TOUCH)


def upgrade() -> None:
    create_touch_trigger(op.get_bind())


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        bind.exec_driver_sql(PREVIOUS_POSTGRES_FUNCTION)
    else:
        bind.exec_driver_sql("DROP TRIGGER IF EXISTS ledger_count_touch")
