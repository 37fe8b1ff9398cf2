"""The real meeting: lost phone sessions, voted on paper.

A member whose phone session is lost (the slip was opened in another browser, which holds the
token) votes on paper instead. ``token_set_asides`` records that this member's token is set
aside: it no longer counts among the tokens that may still cast a ballot (docs/threat-model.md,
"A lost phone session: voting on paper instead"). Append-only, like the token issuance log.

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

TABLE = "token_set_asides"


def upgrade() -> None:
    op.create_table(
        TABLE,
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("election_id", sa.Integer(), nullable=False),
        sa.Column("roll_entry_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["election_id"], ["elections.id"],
                                name="fk_token_set_asides_election_id_elections"),
        sa.ForeignKeyConstraint(
            ["election_id", "roll_entry_id"],
            ["token_issuance.election_id", "token_issuance.roll_entry_id"],
            name="fk_token_set_asides_election_id_roll_entry_id_token_issuance"),
        sa.PrimaryKeyConstraint("id", name="pk_token_set_asides"),
        sa.UniqueConstraint("election_id", "roll_entry_id",
                            name="uq_token_set_asides_election_id_roll_entry_id"),
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"CREATE TRIGGER {TABLE}_append_only BEFORE UPDATE OR DELETE ON {TABLE} "
                   "FOR EACH ROW EXECUTE FUNCTION ballot_append_only()")
        op.execute(f"CREATE TRIGGER {TABLE}_no_truncate BEFORE TRUNCATE ON {TABLE} "
                   "FOR EACH STATEMENT EXECUTE FUNCTION ballot_append_only()")
    else:
        for verb in ("UPDATE", "DELETE"):
            op.execute(f"CREATE TRIGGER {TABLE}_no_{verb.lower()} BEFORE {verb} ON {TABLE} "
                       f"FOR EACH ROW BEGIN SELECT RAISE(ABORT, "
                       f"'ballot: {TABLE} is append-only: {verb} refused'); END")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"DROP TRIGGER IF EXISTS {TABLE}_append_only ON {TABLE}")
        op.execute(f"DROP TRIGGER IF EXISTS {TABLE}_no_truncate ON {TABLE}")
    op.drop_table(TABLE)
