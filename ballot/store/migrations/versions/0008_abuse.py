"""Abuse that costs the attacker nothing: throttles, sessions, refused ballots.

- ``ballot_checks``: ballots being checked or refused (a refused ballot sent again costs no
  proof check; a token's refusals throttle it).
- ``admin_sessions``: server-side secretaries' sessions (logout ends a copied cookie too).
- ``rate_events``: the rows kept so far hold unsalted SHA-256 of client addresses; they are
  throttle state for at most a day, so they are deleted (new rows are keyed with a secret).

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "ballot_checks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("election_id", sa.Integer(), nullable=False),
        sa.Column("ballot_hash", sa.String(64), nullable=False),
        sa.Column("token_id", sa.String(64), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("holder", sa.String(300), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("status IN ('checking', 'refused')", name="ck_ballot_checks_status"),
        sa.ForeignKeyConstraint(["election_id"], ["elections.id"],
                                name="fk_ballot_checks_election_id_elections"),
        sa.PrimaryKeyConstraint("id", name="pk_ballot_checks"),
        sa.UniqueConstraint("election_id", "ballot_hash",
                            name="uq_ballot_checks_election_id_ballot_hash"),
    )
    op.create_index("ix_ballot_checks_election_id_token_id", "ballot_checks",
                    ["election_id", "token_id"])
    op.create_table(
        "admin_sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("sid_hash", sa.String(64), nullable=False),
        sa.Column("admin_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["admin_id"], ["admins.id"], ondelete="CASCADE",
                                name="fk_admin_sessions_admin_id_admins"),
        sa.PrimaryKeyConstraint("id", name="pk_admin_sessions"),
        sa.UniqueConstraint("sid_hash", name="uq_admin_sessions_sid_hash"),
    )
    op.create_index("ix_admin_sessions_admin_id", "admin_sessions", ["admin_id"])
    op.execute("DELETE FROM rate_events")


def downgrade() -> None:
    op.drop_index("ix_admin_sessions_admin_id", "admin_sessions")
    op.drop_table("admin_sessions")
    op.drop_index("ix_ballot_checks_election_id_token_id", "ballot_checks")
    op.drop_table("ballot_checks")
