"""Abuse that costs the attacker nothing: throttles and sessions. (Ballots cost no proof check
on receipt any more: they are checked in the background, migration 0010.)

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
