"""The burst: ballots received at once, checked in the background.

- board_checks: one row per board entry, written once by the background checker (valid, or
  invalid with the reason), append-only like the board itself (triggers below). The board
  entry stays as it was received; its status lives here (docs/storage.md, "board_checks").

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "board_checks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("election_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("checked_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_board_checks"),
        sa.UniqueConstraint("election_id", "position",
                            name="uq_board_checks_election_id_position"),
        sa.ForeignKeyConstraint(["election_id"], ["elections.id"],
                                name="fk_board_checks_election_id_elections"),
        sa.ForeignKeyConstraint(
            ["election_id", "position"],
            ["board_entries.election_id", "board_entries.position"],
            name="fk_board_checks_election_id_board_entries"),
        sa.CheckConstraint("status IN ('valid', 'invalid')", name="ck_board_checks_status"),
        sa.CheckConstraint("(status = 'valid') = (reason IS NULL)",
                           name="ck_board_checks_reason"),
    )
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        # ballot_append_only() was created by revision 0001.
        op.execute("CREATE TRIGGER board_checks_append_only BEFORE UPDATE OR DELETE ON "
                   "board_checks FOR EACH ROW EXECUTE FUNCTION ballot_append_only()")
        op.execute("CREATE TRIGGER board_checks_no_truncate BEFORE TRUNCATE ON board_checks "
                   "FOR EACH STATEMENT EXECUTE FUNCTION ballot_append_only()")
    elif dialect == "sqlite":
        for verb in ("UPDATE", "DELETE"):
            op.execute(f"CREATE TRIGGER board_checks_no_{verb.lower()} BEFORE {verb} ON "
                       f"board_checks FOR EACH ROW BEGIN SELECT RAISE(ABORT, "
                       f"'ballot: board_checks is append-only: {verb} refused'); END")


def downgrade() -> None:
    op.drop_table("board_checks")  # its triggers go with it
