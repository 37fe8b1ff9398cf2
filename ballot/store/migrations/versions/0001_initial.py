"""Initial schema: elections, roll, units, trustees, invitations, token issuance, bulletin
board, tallies, audit log; triggers that make the append-only tables append-only.

Revision ID: 0001
Revises:
Create Date: 2025-11-25

This file is frozen: later changes go into new revisions. The trigger SQL is written out here
(not imported) for the same reason. docs/storage.md describes every invariant.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)
HASH = sa.String(64)

APPEND_ONLY = ("board_entries", "token_issuance", "audit_log")

# (from, to) pairs of the election lifecycle; ballot.store.lifecycle.TRANSITIONS must match.
TRANSITIONS = (
    ("draft", "key_ceremony"),
    ("key_ceremony", "open"),
    ("open", "closed"),
    ("closed", "tallied"),
    ("tallied", "published"),
)


def _transition_sql() -> str:
    return " OR ".join(
        f"(OLD.status = '{a}' AND NEW.status = '{b}')" for a, b in TRANSITIONS
    )


def _pk(table: str) -> sa.PrimaryKeyConstraint:
    return sa.PrimaryKeyConstraint("id", name=f"pk_{table}")


def _election_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["election_id"], ["elections.id"], name=f"fk_{table}_election_id_elections"
    )


def _create_tables() -> None:
    op.create_table(
        "elections",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("slug", sa.String(64), nullable=False),
        sa.Column("status", sa.String(16), server_default="draft", nullable=False),
        sa.Column("title", sa.String(500), nullable=False),
        sa.Column("manifest_json", sa.Text(), nullable=True),
        sa.Column("manifest_hash", HASH, nullable=True),
        sa.Column("base_hash", HASH, nullable=True),
        sa.Column("context_json", sa.Text(), nullable=True),
        sa.Column("issuer_private_pem", sa.Text(), nullable=True),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("opened_at", TZ, nullable=True),
        sa.Column("closed_at", TZ, nullable=True),
        _pk("elections"),
        sa.UniqueConstraint("slug", name="uq_elections_slug"),
        sa.CheckConstraint(
            "status IN ('draft', 'key_ceremony', 'open', 'closed', 'tallied', 'published')",
            name="ck_elections_status",
        ),
    )
    op.create_table(
        "roll_entries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("election_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("roll_id", sa.String(64), nullable=False),
        sa.Column("name", sa.String(300), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        _pk("roll_entries"),
        _election_fk("roll_entries"),
        sa.UniqueConstraint("election_id", "roll_id", name="uq_roll_entries_election_id_roll_id"),
        sa.UniqueConstraint("election_id", "id", name="uq_roll_entries_election_id_id"),
        sa.CheckConstraint(
            "status IN ('official', 'probationary', 'excluded')", name="ck_roll_entries_status"
        ),
    )
    op.create_table(
        "units",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("election_id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.String(64), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(300), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("grp", sa.String(200), nullable=True),
        sa.Column("self_level", sa.String(64), nullable=True),
        sa.Column("proposed_level", sa.String(64), nullable=True),
        sa.Column("score", sa.Integer(), nullable=True),
        sa.Column("collective", sa.String(64), nullable=True),
        sa.Column("disciplined", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("outstanding", sa.Boolean(), server_default=sa.false(), nullable=False),
        _pk("units"),
        _election_fk("units"),
        sa.UniqueConstraint("election_id", "unit_id", name="uq_units_election_id_unit_id"),
        sa.UniqueConstraint("election_id", "position", name="uq_units_election_id_position"),
        sa.CheckConstraint(
            "kind IN ('member', 'organisation', 'leader')", name="ck_units_kind"
        ),
        sa.CheckConstraint(
            "score IS NULL OR (score >= 0 AND score <= 100)", name="ck_units_score"
        ),
        sa.CheckConstraint(
            "collective IS NULL OR collective <> unit_id", name="ck_units_collective_not_self"
        ),
        sa.ForeignKeyConstraint(
            ["election_id", "collective"],
            ["units.election_id", "units.unit_id"],
            name="fk_units_election_id_collective_units",
            deferrable=True,
            initially="DEFERRED",
        ),
    )
    op.create_table(
        "trustees",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("election_id", sa.Integer(), nullable=False),
        sa.Column("index", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(300), nullable=False),
        sa.Column("public_key_json", sa.Text(), nullable=True),
        sa.Column("commitments_json", sa.Text(), nullable=True),
        sa.Column("ceremony_json", sa.Text(), nullable=True),
        sa.Column("created_at", TZ, nullable=False),
        _pk("trustees"),
        _election_fk("trustees"),
        sa.UniqueConstraint("election_id", "index", name="uq_trustees_election_id_index"),
        sa.CheckConstraint('"index" >= 1', name="ck_trustees_index"),
    )
    op.create_table(
        "invitations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("election_id", sa.Integer(), nullable=False),
        sa.Column("roll_entry_id", sa.Integer(), nullable=False),
        sa.Column("code_hash", HASH, nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("redeemed_at", TZ, nullable=True),
        _pk("invitations"),
        _election_fk("invitations"),
        sa.UniqueConstraint("code_hash", name="uq_invitations_code_hash"),
        sa.UniqueConstraint(
            "election_id", "roll_entry_id", name="uq_invitations_election_id_roll_entry_id"
        ),
        sa.ForeignKeyConstraint(
            ["election_id", "roll_entry_id"],
            ["roll_entries.election_id", "roll_entries.id"],
            name="fk_invitations_election_id_roll_entry_id_roll_entries",
        ),
    )
    op.create_table(
        "token_issuance",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("election_id", sa.Integer(), nullable=False),
        sa.Column("roll_entry_id", sa.Integer(), nullable=False),
        sa.Column("issued_at", TZ, nullable=False),
        _pk("token_issuance"),
        _election_fk("token_issuance"),
        sa.UniqueConstraint(
            "election_id", "roll_entry_id", name="uq_token_issuance_election_id_roll_entry_id"
        ),
        sa.ForeignKeyConstraint(
            ["election_id", "roll_entry_id"],
            ["roll_entries.election_id", "roll_entries.id"],
            name="fk_token_issuance_election_id_roll_entry_id_roll_entries",
        ),
    )
    op.create_table(
        "board_entries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("election_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("token_id", HASH, nullable=False),
        sa.Column("ballot_json", sa.Text(), nullable=False),
        sa.Column("tracking_code", sa.String(128), nullable=False),
        sa.Column("prev_hash", HASH, nullable=False),
        sa.Column("entry_hash", HASH, nullable=False),
        sa.Column("accepted_at", TZ, nullable=False),
        _pk("board_entries"),
        _election_fk("board_entries"),
        sa.UniqueConstraint(
            "election_id", "position", name="uq_board_entries_election_id_position"
        ),
        sa.UniqueConstraint(
            "election_id", "token_id", name="uq_board_entries_election_id_token_id"
        ),
        sa.UniqueConstraint(
            "election_id", "tracking_code", name="uq_board_entries_election_id_tracking_code"
        ),
        sa.CheckConstraint("position >= 1", name="ck_board_entries_position"),
    )
    op.create_table(
        "tallies",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("election_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("trustee_index", sa.Integer(), nullable=True),
        sa.Column("payload_json", sa.Text(), nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        _pk("tallies"),
        _election_fk("tallies"),
        sa.CheckConstraint(
            "kind IN ('aggregate', 'partial_decryption', 'paper_counts', 'result')",
            name="ck_tallies_kind",
        ),
    )
    op.create_index("ix_tallies_election_id", "tallies", ["election_id"])
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("election_id", sa.Integer(), nullable=True),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("action", sa.String(100), nullable=False),
        sa.Column("detail_json", sa.Text(), nullable=False),
        sa.Column("prev_hash", HASH, nullable=False),
        sa.Column("entry_hash", HASH, nullable=False),
        sa.Column("at", TZ, nullable=False),
        _pk("audit_log"),
        _election_fk("audit_log"),
        sa.UniqueConstraint("seq", name="uq_audit_log_seq"),
        sa.CheckConstraint("seq >= 1", name="ck_audit_log_seq"),
    )
    op.create_index("ix_audit_log_election_id", "audit_log", ["election_id"])


# --- triggers -------------------------------------------------------------------------------
# Messages all start with "ballot:" so that callers can recognise a refusal by the database.

_PG_FUNCTIONS = (
    """
    CREATE OR REPLACE FUNCTION ballot_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION 'ballot: % is append-only: % refused', TG_TABLE_NAME, TG_OP
            USING ERRCODE = 'restrict_violation';
    END
    $$
    """,
    f"""
    CREATE OR REPLACE FUNCTION ballot_elections_guard() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'INSERT' THEN
            IF NEW.status <> 'draft' THEN
                RAISE EXCEPTION 'ballot: a new election starts in draft, not %', NEW.status
                    USING ERRCODE = 'restrict_violation';
            END IF;
            RETURN NEW;
        END IF;
        IF TG_OP = 'DELETE' THEN
            IF OLD.status <> 'draft' THEN
                RAISE EXCEPTION 'ballot: only a draft election can be deleted (this one is %)',
                    OLD.status USING ERRCODE = 'restrict_violation';
            END IF;
            RETURN OLD;
        END IF;
        IF NEW.id <> OLD.id THEN
            RAISE EXCEPTION 'ballot: an election id never changes'
                USING ERRCODE = 'restrict_violation';
        END IF;
        IF NEW.status <> OLD.status AND NOT ({_transition_sql()}) THEN
            RAISE EXCEPTION 'ballot: election status cannot go from % to %', OLD.status, NEW.status
                USING ERRCODE = 'restrict_violation';
        END IF;
        IF OLD.status <> 'draft' AND (
            NEW.manifest_json IS DISTINCT FROM OLD.manifest_json
            OR NEW.manifest_hash IS DISTINCT FROM OLD.manifest_hash
            OR NEW.slug IS DISTINCT FROM OLD.slug
        ) THEN
            RAISE EXCEPTION 'ballot: the manifest is frozen once the election leaves draft'
                USING ERRCODE = 'restrict_violation';
        END IF;
        IF OLD.status NOT IN ('draft', 'key_ceremony')
            AND (NEW.context_json IS DISTINCT FROM OLD.context_json
                 OR NEW.base_hash IS DISTINCT FROM OLD.base_hash) THEN
            RAISE EXCEPTION 'ballot: the election context is frozen once the election is open'
                USING ERRCODE = 'restrict_violation';
        END IF;
        RETURN NEW;
    END
    $$
    """,
    """
    CREATE OR REPLACE FUNCTION ballot_invitations_guard() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF OLD.redeemed_at IS NOT NULL THEN
            RAISE EXCEPTION 'ballot: a redeemed invitation cannot be changed: % refused', TG_OP
                USING ERRCODE = 'restrict_violation';
        END IF;
        IF TG_OP = 'DELETE' THEN
            RETURN OLD;
        END IF;
        IF NEW.election_id <> OLD.election_id OR NEW.roll_entry_id <> OLD.roll_entry_id THEN
            RAISE EXCEPTION 'ballot: an invitation stays with its roll entry'
                USING ERRCODE = 'restrict_violation';
        END IF;
        RETURN NEW;
    END
    $$
    """,
)


def _pg_upgrade() -> None:
    for sql in _PG_FUNCTIONS:
        op.execute(sql)
    for table in APPEND_ONLY:
        op.execute(
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION ballot_append_only()"
        )
        op.execute(
            f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION ballot_append_only()"
        )
    op.execute(
        "CREATE TRIGGER elections_guard BEFORE INSERT OR UPDATE OR DELETE ON elections "
        "FOR EACH ROW EXECUTE FUNCTION ballot_elections_guard()"
    )
    op.execute(
        "CREATE TRIGGER invitations_guard BEFORE UPDATE OR DELETE ON invitations "
        "FOR EACH ROW EXECUTE FUNCTION ballot_invitations_guard()"
    )


def _sqlite_trigger(name: str, when: str, condition: str | None, message: str) -> str:
    where = f" WHEN {condition}" if condition else ""
    return (
        f"CREATE TRIGGER {name} {when} FOR EACH ROW{where} "
        f"BEGIN SELECT RAISE(ABORT, '{message}'); END"
    )


def _sqlite_upgrade() -> None:
    statements = []
    for table in APPEND_ONLY:
        for verb in ("UPDATE", "DELETE"):
            statements.append(
                _sqlite_trigger(
                    f"{table}_no_{verb.lower()}",
                    f"BEFORE {verb} ON {table}",
                    None,
                    f"ballot: {table} is append-only: {verb} refused",
                )
            )
    statements += [
        _sqlite_trigger(
            "elections_insert_draft",
            "BEFORE INSERT ON elections",
            "NEW.status <> 'draft'",
            "ballot: a new election starts in draft",
        ),
        _sqlite_trigger(
            "elections_delete_draft",
            "BEFORE DELETE ON elections",
            "OLD.status <> 'draft'",
            "ballot: only a draft election can be deleted",
        ),
        _sqlite_trigger(
            "elections_id_fixed",
            "BEFORE UPDATE ON elections",
            "NEW.id <> OLD.id",
            "ballot: an election id never changes",
        ),
        _sqlite_trigger(
            "elections_status_guard",
            "BEFORE UPDATE ON elections",
            f"NEW.status <> OLD.status AND NOT ({_transition_sql()})",
            "ballot: forbidden election status change",
        ),
        _sqlite_trigger(
            "elections_manifest_frozen",
            "BEFORE UPDATE ON elections",
            "OLD.status <> 'draft' AND (NEW.manifest_json IS NOT OLD.manifest_json"
            " OR NEW.manifest_hash IS NOT OLD.manifest_hash OR NEW.slug IS NOT OLD.slug)",
            "ballot: the manifest is frozen once the election leaves draft",
        ),
        _sqlite_trigger(
            "elections_context_frozen",
            "BEFORE UPDATE ON elections",
            "OLD.status NOT IN ('draft', 'key_ceremony')"
            " AND (NEW.context_json IS NOT OLD.context_json OR NEW.base_hash IS NOT OLD.base_hash)",
            "ballot: the election context is frozen once the election is open",
        ),
        _sqlite_trigger(
            "invitations_redeemed_no_update",
            "BEFORE UPDATE ON invitations",
            "OLD.redeemed_at IS NOT NULL",
            "ballot: a redeemed invitation cannot be changed: UPDATE refused",
        ),
        _sqlite_trigger(
            "invitations_redeemed_no_delete",
            "BEFORE DELETE ON invitations",
            "OLD.redeemed_at IS NOT NULL",
            "ballot: a redeemed invitation cannot be changed: DELETE refused",
        ),
        _sqlite_trigger(
            "invitations_keep_roll_entry",
            "BEFORE UPDATE ON invitations",
            "NEW.election_id <> OLD.election_id OR NEW.roll_entry_id <> OLD.roll_entry_id",
            "ballot: an invitation stays with its roll entry",
        ),
    ]
    for sql in statements:
        op.execute(sql)


def upgrade() -> None:
    _create_tables()
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        _pg_upgrade()
    elif dialect == "sqlite":
        _sqlite_upgrade()
    else:  # pragma: no cover - only the two supported databases
        raise RuntimeError(f"ballot supports SQLite and PostgreSQL, not {dialect}")


def downgrade() -> None:
    for table in ("audit_log", "tallies", "board_entries", "token_issuance", "invitations",
                  "trustees", "units", "roll_entries", "elections"):
        op.drop_table(table)  # triggers go with their tables
    if op.get_bind().dialect.name == "postgresql":
        for fn in ("ballot_append_only", "ballot_elections_guard", "ballot_invitations_guard"):
            op.execute(f"DROP FUNCTION IF EXISTS {fn}()")
