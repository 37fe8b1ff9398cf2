"""Counting from a verified record: attendance and the board head at close.

No schema change: what the close fixes (attendance, paper figures, the board's final head) is
the detail of the ``close`` entry of the hash-chained audit log, the record's SHA-256 that of
the ``tallied`` entry, and the verification cache a file next to the record (docs/storage.md).

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
