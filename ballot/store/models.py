"""The tables (docs/storage.md, "Tables").

The schema itself is created only by the Alembic migrations in ``ballot/store/migrations``
(``ballot.store.migrate.upgrade``), which also install the triggers that make the bulletin
board, the token issuance log and the audit log append-only. A test checks that these models
and the migrations agree.

All times are UTC and come back timezone-aware on every database (:class:`UTCDateTime`).
Hashes are lowercase hex strings of 64 characters. ``*_json`` columns hold canonical JSON
(``ballot.crypto.encoding.canonical_json``) as text.
"""

from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    text,
    false,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

__all__ = [
    "ELECTION_STATUSES",
    "ROLL_STATUSES",
    "UNIT_KINDS",
    "TALLY_KINDS",
    "GENESIS_HASH",
    "utcnow",
    "UTCDateTime",
    "Base",
    "Election",
    "RollEntry",
    "Unit",
    "Trustee",
    "Invitation",
    "TokenIssuance",
    "TokenSetAside",
    "BoardEntry",
    "BOARD_CHECK_STATUSES",
    "BoardCheck",
    "Tally",
    "AuditEntry",
    "Admin",
    "RateEvent",
    "AdminSession",
]

ELECTION_STATUSES = ("draft", "key_ceremony", "open", "closed", "tallied", "published")
ROLL_STATUSES = ("official", "probationary", "excluded")
UNIT_KINDS = ("member", "organisation", "leader")  # = ballot.election.units.UNIT_KINDS
TALLY_KINDS = ("aggregate", "partial_decryption", "paper_counts", "result")

#: ``prev_hash`` of the first entry of every hash chain (board per election, audit log).
GENESIS_HASH = "0" * 64

HASH_LEN = 64  # hex SHA-256


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class UTCDateTime(TypeDecorator):
    """A timezone-aware UTC datetime on every backend (SQLite stores it naive)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: store timezone-aware UTC times")
        value = value.astimezone(timezone.utc)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc)


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class Election(Base):
    __tablename__ = "elections"
    __table_args__ = (CheckConstraint(_in("status", ELECTION_STATUSES), name="status"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    status: Mapped[str] = mapped_column(String(16), default="draft", server_default="draft")
    title: Mapped[str] = mapped_column(String(500))
    manifest_json: Mapped[str | None] = mapped_column(Text)
    manifest_hash: Mapped[str | None] = mapped_column(String(HASH_LEN))
    base_hash: Mapped[str | None] = mapped_column(String(HASH_LEN))
    context_json: Mapped[str | None] = mapped_column(Text)
    # Demo/dev convenience only: production keeps the issuer key in keys/ (docs/storage.md).
    issuer_private_pem: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    opened_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    def __repr__(self) -> str:
        return f"<Election {self.id} {self.slug!r} {self.status}>"


class RollEntry(Base):
    __tablename__ = "roll_entries"
    __table_args__ = (
        UniqueConstraint("election_id", "roll_id"),
        UniqueConstraint("election_id", "id"),  # target of the composite foreign keys below
        CheckConstraint(_in("status", ROLL_STATUSES), name="status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    election_id: Mapped[int] = mapped_column(ForeignKey("elections.id"))
    position: Mapped[int] = mapped_column(Integer)
    roll_id: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(300))
    status: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(Text)

    def __repr__(self) -> str:
        return f"<RollEntry {self.roll_id!r} {self.status}>"


class Unit(Base):
    __tablename__ = "units"
    __table_args__ = (
        UniqueConstraint("election_id", "unit_id"),
        UniqueConstraint("election_id", "position"),
        CheckConstraint(_in("kind", UNIT_KINDS), name="kind"),
        CheckConstraint("score IS NULL OR (score >= 0 AND score <= 100)", name="score"),
        CheckConstraint("collective IS NULL OR collective <> unit_id", name="collective_not_self"),
        ForeignKeyConstraint(
            ["election_id", "collective"],
            ["units.election_id", "units.unit_id"],
            deferrable=True,
            initially="DEFERRED",
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    election_id: Mapped[int] = mapped_column(ForeignKey("elections.id"))
    unit_id: Mapped[str] = mapped_column(String(64))
    position: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(300))
    kind: Mapped[str] = mapped_column(String(16))
    grp: Mapped[str | None] = mapped_column(String(200))
    self_level: Mapped[str | None] = mapped_column(String(64))
    proposed_level: Mapped[str | None] = mapped_column(String(64))
    score: Mapped[int | None] = mapped_column(Integer)
    collective: Mapped[str | None] = mapped_column(String(64))
    disciplined: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    outstanding: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    def __repr__(self) -> str:
        return f"<Unit {self.unit_id!r} {self.kind}>"


class Trustee(Base):
    __tablename__ = "trustees"
    __table_args__ = (
        UniqueConstraint("election_id", "index"),
        CheckConstraint('"index" >= 1', name="index"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    election_id: Mapped[int] = mapped_column(ForeignKey("elections.id"))
    index: Mapped[int] = mapped_column("index", Integer)
    name: Mapped[str] = mapped_column(String(300))
    public_key_json: Mapped[str | None] = mapped_column(Text)
    commitments_json: Mapped[str | None] = mapped_column(Text)
    ceremony_json: Mapped[str | None] = mapped_column(Text)
    # SHA-256 of the trustee's access code (migration 0002); the code itself is never stored.
    access_hash: Mapped[str | None] = mapped_column(String(HASH_LEN))
    # argon2id of the access code the trustee chose at enrolment (migration 0004; frozen once
    # set); access_hash then holds nothing (the enrolment code is used up).
    credential_hash: Mapped[str | None] = mapped_column(String(200))
    # The trustee's signed approval of the election fingerprint (migration 0004; frozen once set).
    approval_json: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    def __repr__(self) -> str:
        return f"<Trustee {self.index} {self.name!r}>"


class Invitation(Base):
    __tablename__ = "invitations"
    __table_args__ = (
        UniqueConstraint("election_id", "roll_entry_id"),
        ForeignKeyConstraint(
            ["election_id", "roll_entry_id"], ["roll_entries.election_id", "roll_entries.id"]
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    election_id: Mapped[int] = mapped_column(ForeignKey("elections.id"))
    roll_entry_id: Mapped[int] = mapped_column(Integer)
    # The hash of the code's per-round credential (repo.hash_invitation_code, docs/protocol.md
    # §7.1); the code itself is never stored.
    code_hash: Mapped[str] = mapped_column(String(HASH_LEN), unique=True)
    # The same for the second round's slug (migration 0006): copied into the second round's
    # invitations when it is made; None in a second round.
    next_round_hash: Mapped[str | None] = mapped_column(String(HASH_LEN))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Set once, when the invitation is used, to the minute voting OPENED (the same for every
    # invitation of the session): a "used" mark, never the time this member came
    # (docs/storage.md "Times").
    redeemed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # SHA-256 of the blinded token message signed at redemption (migration 0002), so that a
    # phone whose answer was lost can retry with the same blinded message. It is unlinkable
    # to the token (RFC 9474 blinding).
    blinded_hash: Mapped[str | None] = mapped_column(String(HASH_LEN))


class TokenIssuance(Base):
    """Who received a token, never which one: no token, blinded message or signature here;
    no time, and a random id (repo.record_token_issued), so that nothing orders the issuances
    (migration 0006, docs/storage.md "Times")."""

    __tablename__ = "token_issuance"
    __table_args__ = (
        UniqueConstraint("election_id", "roll_entry_id"),
        ForeignKeyConstraint(
            ["election_id", "roll_entry_id"], ["roll_entries.election_id", "roll_entries.id"]
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    election_id: Mapped[int] = mapped_column(ForeignKey("elections.id"))
    roll_entry_id: Mapped[int] = mapped_column(Integer)


class TokenSetAside(Base):
    """A member who received a token and then voted on paper instead (migration 0009): that
    token is set aside and no longer counts among the tokens that may cast a ballot. Who, never
    which token (the server cannot know it)."""

    __tablename__ = "token_set_asides"
    __table_args__ = (
        UniqueConstraint("election_id", "roll_entry_id"),
        ForeignKeyConstraint(
            ["election_id", "roll_entry_id"],
            ["token_issuance.election_id", "token_issuance.roll_entry_id"],
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    election_id: Mapped[int] = mapped_column(ForeignKey("elections.id"))
    roll_entry_id: Mapped[int] = mapped_column(Integer)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class BoardEntry(Base):
    """One accepted ballot on the append-only bulletin board."""

    __tablename__ = "board_entries"
    __table_args__ = (
        UniqueConstraint("election_id", "position"),
        UniqueConstraint("election_id", "token_id"),
        UniqueConstraint("election_id", "tracking_code"),
        CheckConstraint("position >= 1", name="position"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    election_id: Mapped[int] = mapped_column(ForeignKey("elections.id"))
    position: Mapped[int] = mapped_column(Integer)
    token_id: Mapped[str] = mapped_column(String(HASH_LEN))
    ballot_json: Mapped[str] = mapped_column(Text)
    tracking_code: Mapped[str] = mapped_column(String(128))
    prev_hash: Mapped[str] = mapped_column(String(HASH_LEN))
    entry_hash: Mapped[str] = mapped_column(String(HASH_LEN))
    # No time (migration 0006): the position orders the board; a time would only link an entry
    # to other stored times (docs/storage.md "Times"). The receipt carries its own.

    def __repr__(self) -> str:
        return f"<BoardEntry {self.election_id}#{self.position} {self.tracking_code!r}>"


BOARD_CHECK_STATUSES = ("valid", "invalid")


class BoardCheck(Base):
    """The background check of one board entry's proofs (migration 0010): written once,
    append-only. An entry without a row here is *received*, not yet checked."""

    __tablename__ = "board_checks"
    __table_args__ = (
        UniqueConstraint("election_id", "position"),
        ForeignKeyConstraint(
            ["election_id", "position"],
            ["board_entries.election_id", "board_entries.position"],
            name="fk_board_checks_election_id_board_entries",
        ),
        CheckConstraint(_in("status", BOARD_CHECK_STATUSES), name="status"),
        CheckConstraint("(status = 'valid') = (reason IS NULL)", name="reason"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    election_id: Mapped[int] = mapped_column(ForeignKey("elections.id"))
    position: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(Text)
    checked_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Tally(Base):
    __tablename__ = "tallies"
    # Append-only (triggers, migration 0004): one aggregate per election, one partial
    # decryption per trustee.
    __table_args__ = (
        CheckConstraint(_in("kind", TALLY_KINDS), name="kind"),
        Index("uq_tallies_one_aggregate", "election_id", unique=True,
              sqlite_where=text("kind = 'aggregate'"), postgresql_where=text("kind = 'aggregate'")),
        Index("uq_tallies_one_decryption", "election_id", "trustee_index", unique=True,
              sqlite_where=text("kind = 'partial_decryption'"),
              postgresql_where=text("kind = 'partial_decryption'")),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    election_id: Mapped[int] = mapped_column(ForeignKey("elections.id"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    trustee_index: Mapped[int | None] = mapped_column(Integer)
    payload_json: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class AuditEntry(Base):
    """One line of the append-only, hash-chained audit log (one chain for the whole database)."""

    __tablename__ = "audit_log"
    __table_args__ = (CheckConstraint("seq >= 1", name="seq"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    election_id: Mapped[int | None] = mapped_column(ForeignKey("elections.id"), index=True)
    seq: Mapped[int] = mapped_column(Integer, unique=True)
    actor: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(100))
    detail_json: Mapped[str] = mapped_column(Text)
    prev_hash: Mapped[str] = mapped_column(String(HASH_LEN))
    entry_hash: Mapped[str] = mapped_column(String(HASH_LEN))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    def __repr__(self) -> str:
        return f"<AuditEntry {self.seq} {self.action!r}>"


class Admin(Base):
    """A secretary's account (migration 0002); the password is stored as an argon2id hash."""

    __tablename__ = "admins"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(100), unique=True)
    password_hash: Mapped[str] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class RateEvent(Base):
    """One counted event (e.g. a failed invitation redemption) for rate limiting across
    workers (migration 0003). ``key_hash`` is a SHA-256, never a raw address."""

    __tablename__ = "rate_events"
    __table_args__ = (Index("ix_rate_events_scope_key_hash_at", "scope", "key_hash", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    scope: Mapped[str] = mapped_column(String(32))
    key_hash: Mapped[str] = mapped_column(String(HASH_LEN))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


BALLOT_CHECK_STATUSES = ("checking", "refused")


class AdminSession(Base):
    """A secretary's signed-in session (migration 0008): the cookie carries a random id whose
    SHA-256 is kept here; logging out deletes the row, so a copied cookie stops working."""

    __tablename__ = "admin_sessions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    sid_hash: Mapped[str] = mapped_column(String(HASH_LEN), unique=True)
    admin_id: Mapped[int] = mapped_column(ForeignKey("admins.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
