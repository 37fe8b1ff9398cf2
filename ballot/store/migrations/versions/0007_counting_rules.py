"""Counting rules: no schema change. The head of a collective, the quota base and the other rules
of issue 14 live in the manifest (which the count reads), not in table columns; the revision
stays so that the chain is the same on every database.

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
