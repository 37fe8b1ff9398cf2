"""Trustees check what they act on: frozen keys, approvals, an append-only tally.

- ``tallies`` is append-only (UPDATE, DELETE, TRUNCATE refused), with one aggregate per
  election and one partial decryption per trustee (partial unique indexes): the server never
  reads an aggregate back as truth (it recomputes it from the board), and no row that a
  trustee's decryption or a result was made from can be changed afterwards;
- a trustee's published keys (``public_key_json``) never change and the trustee row is not
  deleted once they are published (the key-substitution attack of issue 11);
- ``trustees.approval_json``: the trustee's signed approval of the election fingerprint
  (ballot/tally/approval.py), frozen once set;
- ``trustees.credential_hash``: argon2id of the access code the trustee chose at first sign-in
  (ballot/service/trustee_access.py), frozen once set: the secretary's code only enrols.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

_PG_TRUSTEES = """
CREATE OR REPLACE FUNCTION ballot_trustees_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.public_key_json IS NOT NULL THEN
        IF TG_OP = 'DELETE' THEN
            RAISE EXCEPTION 'ballot: a trustee whose keys are published cannot be deleted'
                USING ERRCODE = 'restrict_violation';
        END IF;
        IF NEW.public_key_json IS DISTINCT FROM OLD.public_key_json
           OR NEW."index" <> OLD."index" OR NEW.election_id <> OLD.election_id THEN
            RAISE EXCEPTION 'ballot: a trustee''s published keys are frozen'
                USING ERRCODE = 'restrict_violation';
        END IF;
    END IF;
    IF TG_OP = 'UPDATE' AND OLD.approval_json IS NOT NULL
       AND NEW.approval_json IS DISTINCT FROM OLD.approval_json THEN
        RAISE EXCEPTION 'ballot: a trustee''s approval is frozen'
            USING ERRCODE = 'restrict_violation';
    END IF;
    IF TG_OP = 'UPDATE' AND OLD.credential_hash IS NOT NULL
       AND (NEW.credential_hash IS DISTINCT FROM OLD.credential_hash
            OR NEW.access_hash IS NOT NULL) THEN
        RAISE EXCEPTION 'ballot: a trustee''s own access code is frozen'
            USING ERRCODE = 'restrict_violation';
    END IF;
    IF TG_OP = 'DELETE' THEN
        RETURN OLD;
    END IF;
    RETURN NEW;
END
$$
"""


def _sqlite_trigger(name: str, when: str, condition: str | None, message: str) -> str:
    where = f" WHEN {condition}" if condition else ""
    return (f"CREATE TRIGGER {name} {when} FOR EACH ROW{where} "
            f"BEGIN SELECT RAISE(ABORT, '{message}'); END")


def upgrade() -> None:
    # SQLite: plain ADD COLUMN keeps the table (and its triggers) in place.
    op.add_column("trustees", sa.Column("approval_json", sa.Text(), nullable=True))
    op.add_column("trustees", sa.Column("credential_hash", sa.String(200), nullable=True))
    op.create_index("uq_tallies_one_aggregate", "tallies", ["election_id"], unique=True,
                    sqlite_where=sa.text("kind = 'aggregate'"),
                    postgresql_where=sa.text("kind = 'aggregate'"))
    op.create_index("uq_tallies_one_decryption", "tallies", ["election_id", "trustee_index"],
                    unique=True, sqlite_where=sa.text("kind = 'partial_decryption'"),
                    postgresql_where=sa.text("kind = 'partial_decryption'"))
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        # ballot_append_only() is migration 0001's function.
        op.execute("CREATE TRIGGER tallies_append_only BEFORE UPDATE OR DELETE ON tallies "
                   "FOR EACH ROW EXECUTE FUNCTION ballot_append_only()")
        op.execute("CREATE TRIGGER tallies_no_truncate BEFORE TRUNCATE ON tallies "
                   "FOR EACH STATEMENT EXECUTE FUNCTION ballot_append_only()")
        op.execute(_PG_TRUSTEES)
        op.execute("CREATE TRIGGER trustees_guard BEFORE UPDATE OR DELETE ON trustees "
                   "FOR EACH ROW EXECUTE FUNCTION ballot_trustees_guard()")
    elif dialect == "sqlite":
        for verb in ("UPDATE", "DELETE"):
            op.execute(_sqlite_trigger(f"tallies_no_{verb.lower()}", f"BEFORE {verb} ON tallies",
                                       None, f"ballot: tallies is append-only: {verb} refused"))
        op.execute(_sqlite_trigger(
            "trustees_keys_frozen", "BEFORE UPDATE ON trustees",
            "OLD.public_key_json IS NOT NULL AND (NEW.public_key_json IS NOT OLD.public_key_json"
            " OR NEW.\"index\" <> OLD.\"index\" OR NEW.election_id <> OLD.election_id)",
            "ballot: a trustee''s published keys are frozen"))
        op.execute(_sqlite_trigger(
            "trustees_approval_frozen", "BEFORE UPDATE ON trustees",
            "OLD.approval_json IS NOT NULL AND NEW.approval_json IS NOT OLD.approval_json",
            "ballot: a trustee''s approval is frozen"))
        op.execute(_sqlite_trigger(
            "trustees_credential_frozen", "BEFORE UPDATE ON trustees",
            "OLD.credential_hash IS NOT NULL AND (NEW.credential_hash IS NOT OLD.credential_hash"
            " OR NEW.access_hash IS NOT NULL)",
            "ballot: a trustee''s own access code is frozen"))
        op.execute(_sqlite_trigger(
            "trustees_keys_no_delete", "BEFORE DELETE ON trustees",
            "OLD.public_key_json IS NOT NULL",
            "ballot: a trustee whose keys are published cannot be deleted"))
    else:  # pragma: no cover - only the two supported databases
        raise RuntimeError(f"ballot supports SQLite and PostgreSQL, not {dialect}")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS trustees_guard ON trustees")
        op.execute("DROP FUNCTION IF EXISTS ballot_trustees_guard()")
        op.execute("DROP TRIGGER IF EXISTS tallies_append_only ON tallies")
        op.execute("DROP TRIGGER IF EXISTS tallies_no_truncate ON tallies")
    else:
        for name in ("tallies_no_update", "tallies_no_delete", "trustees_keys_frozen",
                     "trustees_approval_frozen", "trustees_credential_frozen",
                     "trustees_keys_no_delete"):
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
    op.drop_index("uq_tallies_one_decryption", "tallies")
    op.drop_index("uq_tallies_one_aggregate", "tallies")
    with op.batch_alter_table("trustees") as batch:
        batch.drop_column("credential_hash")
        batch.drop_column("approval_json")
