"""The phone's trust: per-round credentials, timestamps at the precision needed.

- ``invitations.next_round_hash``: the hash of a code's credential for the second round's slug
  (docs/protocol.md §7.1), kept so that the second round's invitations are made without the
  codes, while round one's credentials (all a listener on the Wi-Fi saw) do not work there.
- ``token_issuance.issued_at`` and ``board_entries.accepted_at`` are dropped: a time on each
  side linked a member to a board position (docs/storage.md "Times"). ``redeemed_at`` stays
  (the triggers key on it) but holds the minute voting opened, and token_issuance ids are
  drawn at random (both in ``ballot.store.repo``).

Invitations made before this revision hold the former code hashes: upgrade between meetings.

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.add_column("invitations", sa.Column("next_round_hash", sa.String(64), nullable=True))
    # SQLite (3.35+) and PostgreSQL drop a column in place: the tables' triggers stay.
    op.drop_column("token_issuance", "issued_at")
    op.drop_column("board_entries", "accepted_at")


def downgrade() -> None:
    # The times are gone for good: the columns come back empty (NULL).
    op.add_column("board_entries", sa.Column("accepted_at", TZ, nullable=True))
    op.add_column("token_issuance", sa.Column("issued_at", TZ, nullable=True))
    op.drop_column("invitations", "next_round_hash")
