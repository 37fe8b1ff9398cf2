"""Trustee access codes, retry-safe token issuance, secretary accounts.

- trustees.access_hash: SHA-256 of the access code a trustee's device presents;
- invitations.blinded_hash: SHA-256 of the blinded message signed at redemption (set in the
  same UPDATE that redeems, so the "redeemed invitations never change" trigger still holds);
- admins: the secretaries' accounts (argon2id password hashes).

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("trustees") as batch:
        batch.add_column(sa.Column("access_hash", sa.String(64), nullable=True))
    # SQLite: plain ADD COLUMN keeps the table (and its triggers) in place.
    op.add_column("invitations", sa.Column("blinded_hash", sa.String(64), nullable=True))
    op.create_table(
        "admins",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(100), nullable=False),
        sa.Column("password_hash", sa.String(300), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_admins"),
        sa.UniqueConstraint("username", name="uq_admins_username"),
    )


def downgrade() -> None:
    op.drop_table("admins")
    op.drop_column("invitations", "blinded_hash")
    with op.batch_alter_table("trustees") as batch:
        batch.drop_column("access_hash")
