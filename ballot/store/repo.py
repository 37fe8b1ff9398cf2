"""What the web app and the CLI do with the database (docs/storage.md, "Operations").

Every function works inside the caller's transaction (``with transaction(factory) as s:``) and
never commits; each one is correct when called concurrently from several threads or processes:

- SQLite: every write transaction starts with ``BEGIN IMMEDIATE`` (``db.py``), so writers are
  serialised by the database's write lock.
- PostgreSQL (READ COMMITTED): the election row is locked where an operation depends on its
  status or appends to its board (``SELECT ... FOR NO KEY UPDATE`` / ``FOR SHARE``), redeeming
  an invitation is one conditional ``UPDATE``, and UNIQUE constraints settle the rest: a losing
  insert becomes a clear error (one ballot per token, one token per member) or, for a position in
  a hash chain, a retry inside a savepoint.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable, Iterable
from datetime import datetime, timezone
from typing import Any, Protocol

from sqlalchemy import func, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ballot.crypto.credential import credential, credential_hash, normalize_code
from ballot.crypto.encoding import EncodingError, canonical_json, parse_json, sha256
from ballot.store.errors import (
    ChainError,
    DuplicateBallot,
    DuplicateTrackingCode,
    ElectionNotFound,
    InvitationAlreadyRedeemed,
    NotEligible,
    StoreError,
    TokenAlreadyIssued,
    UnknownInvitation,
)
from ballot.store.lifecycle import require_status
from ballot.store.models import (
    GENESIS_HASH,
    TALLY_KINDS,
    AuditEntry,
    BoardEntry,
    Election,
    Invitation,
    RollEntry,
    Tally,
    TokenIssuance,
    Trustee,
    utcnow,
)

__all__ = [
    "GENESIS_HASH",
    "SlugTaken",
    "get_election",
    "lock_election",
    "create_election",
    "set_manifest",
    "set_context",
    "add_trustee",
    "update_trustee",
    "trustees",
    "roll",
    "new_invitation_code",
    "hash_invitation_code",
    "next_round_slug",
    "create_invitations",
    "reissue_invitation",
    "redeem_invitation",
    "record_token_issued",
    "tokens_issued",
    "EntryHashFn",
    "append_board_entry",
    "board",
    "find_board_entry",
    "verify_board_chain",
    "add_tally",
    "tallies",
    "audit_entry_hash",
    "append_audit",
    "check_audit_chain",
    "verify_audit_chain",
]

_HEX64 = re.compile(r"^[0-9a-f]{64}$")
_SLUG = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$")
_MAX_APPEND_ATTEMPTS = 200


class SlugTaken(StoreError, ValueError):
    """Another election already uses this slug."""


def _check_hex(value: object, what: str) -> str:
    if not isinstance(value, str) or not _HEX64.match(value):
        raise ValueError(f"{what} must be 64 lowercase hex characters, got {value!r}")
    return value


def _check_canonical(text: object, what: str) -> str:
    if not isinstance(text, str):
        raise ValueError(f"{what} must be a str of canonical JSON")
    try:
        canonical = canonical_json(parse_json(text)).decode("utf-8")
    except EncodingError as exc:
        raise ValueError(f"{what}: {exc}") from None
    if canonical != text:
        raise ValueError(f"{what} is not in canonical form (sorted keys, no spaces)")
    return text


# --- elections --------------------------------------------------------------------------------


def get_election(session: Session, ref: int | str) -> Election:
    """The election with id ``ref`` (int) or slug ``ref`` (str)."""
    column = Election.id if isinstance(ref, int) else Election.slug
    election = session.execute(select(Election).where(column == ref)).scalar_one_or_none()
    if election is None:
        raise ElectionNotFound(f"no election {ref!r}")
    return election


def lock_election(session: Session, election_id: int, *, shared: bool = False) -> Election:
    """Read the election afresh and lock its row until the end of the transaction.

    PostgreSQL: ``FOR NO KEY UPDATE`` (exclusive among appenders and status changes; foreign-key
    checks of other inserts are not blocked), or ``FOR SHARE`` with ``shared=True`` (a status
    change waits for it). SQLite: no-op, the transaction already holds the write lock.
    """
    stmt = (
        select(Election)
        .where(Election.id == election_id)
        .execution_options(populate_existing=True)
    )
    stmt = stmt.with_for_update(read=True) if shared else stmt.with_for_update(key_share=True)
    election = session.execute(stmt).scalar_one_or_none()
    if election is None:
        raise ElectionNotFound(f"no election with id {election_id}")
    return election


def create_election(
    session: Session,
    *,
    slug: str,
    title: str,
    issuer_private_pem: str | None = None,
) -> Election:
    """A new election in draft. ``slug``: lowercase letters, digits and dashes (URL-safe).

    ``issuer_private_pem`` is for demos and development; production keeps the issuer key in
    ``keys/`` (docs/storage.md)."""
    if not isinstance(slug, str) or not _SLUG.match(slug):
        raise ValueError(
            f"slug {slug!r}: use 1-64 lowercase letters, digits and inner dashes (e.g. 'cb-2025')"
        )
    if not isinstance(title, str) or not title.strip():
        raise ValueError("an election needs a title")
    election = Election(
        slug=slug, title=title.strip(), status="draft", issuer_private_pem=issuer_private_pem
    )
    try:
        with session.begin_nested():
            session.add(election)
    except IntegrityError:
        raise SlugTaken(f"an election with slug {slug!r} already exists") from None
    return election


def set_manifest(
    session: Session, election_id: int, *, manifest_json: str, manifest_hash: str
) -> Election:
    """Store the frozen manifest (canonical JSON) and its hash; only in draft."""
    _check_canonical(manifest_json, "manifest_json")
    _check_hex(manifest_hash, "manifest_hash")
    election = lock_election(session, election_id)
    require_status(election, "draft", action="change the manifest")
    election.manifest_json = manifest_json
    election.manifest_hash = manifest_hash
    session.flush()
    return election


def set_context(
    session: Session, election_id: int, *, context_json: str, base_hash: str
) -> Election:
    """Store the election context (joint public key etc., canonical JSON) and the base hash;
    only in draft or during the key ceremony."""
    _check_canonical(context_json, "context_json")
    _check_hex(base_hash, "base_hash")
    election = lock_election(session, election_id)
    require_status(election, "draft", "key_ceremony", action="change the election context")
    election.context_json = context_json
    election.base_hash = base_hash
    session.flush()
    return election


# --- trustees ---------------------------------------------------------------------------------


def add_trustee(session: Session, election_id: int, index: int, name: str) -> Trustee:
    """Add trustee number ``index`` (1..n); only in draft."""
    election = lock_election(session, election_id)
    require_status(election, "draft", action="add a trustee")
    if not isinstance(index, int) or index < 1:
        raise ValueError(f"trustee index must be an integer ≥ 1, got {index!r}")
    if not name or not name.strip():
        raise ValueError("a trustee needs a name")
    trustee = Trustee(election_id=election_id, index=index, name=name.strip())
    try:
        with session.begin_nested():
            session.add(trustee)
    except IntegrityError:
        raise ValueError(f"trustee {index} already exists in this election") from None
    return trustee


def update_trustee(
    session: Session,
    election_id: int,
    index: int,
    *,
    public_key_json: str | None = None,
    commitments_json: str | None = None,
    ceremony_json: str | None = None,
) -> Trustee:
    """Store a trustee's ceremony data (canonical JSON); only in draft or key_ceremony.
    Arguments left as None are not changed."""
    election = lock_election(session, election_id)
    require_status(election, "draft", "key_ceremony", action="change a trustee's keys")
    trustee = session.execute(
        select(Trustee).where(Trustee.election_id == election_id, Trustee.index == index)
    ).scalar_one_or_none()
    if trustee is None:
        raise LookupError(f"no trustee {index} in this election")
    for attr, value in (
        ("public_key_json", public_key_json),
        ("commitments_json", commitments_json),
        ("ceremony_json", ceremony_json),
    ):
        if value is not None:
            setattr(trustee, attr, _check_canonical(value, attr))
    session.flush()
    return trustee


def trustees(session: Session, election_id: int) -> list[Trustee]:
    return list(
        session.execute(
            select(Trustee).where(Trustee.election_id == election_id).order_by(Trustee.index)
        ).scalars()
    )


def roll(session: Session, election_id: int) -> list[RollEntry]:
    """The roll in file order."""
    return list(
        session.execute(
            select(RollEntry)
            .where(RollEntry.election_id == election_id)
            .order_by(RollEntry.position)
        ).scalars()
    )


# --- invitations and tokens -------------------------------------------------------------------


_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def new_invitation_code() -> str:
    """A fresh invitation code: 100 random bits in Crockford base32, four groups of five
    (e.g. ``7KQ2M-9XH4T-…``), easy to type from a slip; guessing is also rate-limited."""
    raw = "".join(secrets.choice(_CROCKFORD) for _ in range(20))
    return "-".join(raw[i : i + 5] for i in range(0, 20, 5))


def normalize_invitation_code(code: str) -> str:
    """What was typed, as the code: case, spaces and dashes ignored; O read as 0, I and L as
    1 (Crockford). Anything else is kept, so a wrong code stays wrong
    (:func:`ballot.crypto.credential.normalize_code`, docs/protocol.md §7.1)."""
    return normalize_code(code)


def next_round_slug(slug: str) -> str:
    """The short name of a first round's second round: ``<slug>-v2`` (within 64 characters)."""
    return f"{slug[:61].rstrip('-')}-v2"


def hash_invitation_code(code: str, slug: str) -> str:
    """What the database stores for an invitation code in the election (round) ``slug``: the
    hash of the code's per-round credential, ``credential_hash(credential(slug, code))``
    (docs/protocol.md §7.1), the value the phone's request is looked up by. Codes carry 100
    random bits and failed attempts are rate-limited, so no slow hash is needed."""
    if not isinstance(code, str) or not normalize_invitation_code(code):
        raise ValueError("empty invitation code")
    return credential_hash(credential(slug, code))


def code_hasher(election: Election) -> Callable[[str], str]:
    """The stored hash of a code in ``election`` (:func:`hash_invitation_code` for its slug)."""
    slug = election.slug
    return lambda code: hash_invitation_code(code, slug)


def next_round_hasher(election: Election) -> Callable[[str], str | None]:
    """The hash a code will have in the second round of ``election`` (None for a second
    round, which has no further round): kept with the invitation, so that the second round's
    invitations are made without the codes, while round one's credentials do not work there."""
    if election.manifest_json and "ballot_b" in parse_json(election.manifest_json):
        return lambda code: None
    nxt = next_round_slug(election.slug)
    return lambda code: hash_invitation_code(code, nxt)


def create_invitations(
    session: Session,
    election_id: int,
    *,
    roll_entry_ids: Iterable[int] | None = None,
    code_factory: Callable[[], str] = new_invitation_code,
) -> dict[int, str]:
    """Create one invitation per official roll entry that has none yet (or only for
    ``roll_entry_ids``); returns ``{roll_entry_id: code}``. The codes exist only in this return
    value: print them (QR) now. Allowed once the roll is frozen (key_ceremony or open)."""
    election = lock_election(session, election_id)
    require_status(election, "key_ceremony", "open", action="create invitations")
    query = (
        select(RollEntry)
        .outerjoin(
            Invitation,
            (Invitation.election_id == RollEntry.election_id)
            & (Invitation.roll_entry_id == RollEntry.id),
        )
        .where(RollEntry.election_id == election_id, Invitation.id.is_(None))
        .order_by(RollEntry.position)
    )
    wanted = None if roll_entry_ids is None else set(roll_entry_ids)
    hasher, next_hasher = code_hasher(election), next_round_hasher(election)
    codes: dict[int, str] = {}
    for entry in session.execute(query).scalars():
        if wanted is not None and entry.id not in wanted:
            continue
        if entry.status != "official":
            if wanted is not None:
                raise NotEligible(
                    f"{entry.roll_id} ({entry.name}) is {entry.status}: only official members vote"
                )
            continue
        code = code_factory()
        session.add(
            Invitation(
                election_id=election_id,
                roll_entry_id=entry.id,
                code_hash=hasher(code),
                next_round_hash=next_hasher(code),
            )
        )
        codes[entry.id] = code
    session.flush()
    return codes


def reissue_invitation(
    session: Session,
    election_id: int,
    roll_entry_id: int,
    *,
    code_factory: Callable[[], str] = new_invitation_code,
) -> str:
    """Replace a lost, unredeemed invitation code; the old code stops working."""
    election = lock_election(session, election_id)
    require_status(election, "key_ceremony", "open", action="reissue an invitation")
    code = code_factory()
    result = session.execute(
        update(Invitation)
        .where(
            Invitation.election_id == election_id,
            Invitation.roll_entry_id == roll_entry_id,
            Invitation.redeemed_at.is_(None),
        )
        .values(code_hash=code_hasher(election)(code),
                next_round_hash=next_round_hasher(election)(code), created_at=minute(utcnow()))
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        exists = session.execute(
            select(Invitation.id).where(
                Invitation.election_id == election_id,
                Invitation.roll_entry_id == roll_entry_id,
            )
        ).first()
        if exists is None:
            raise UnknownInvitation("this roll entry has no invitation")
        raise InvitationAlreadyRedeemed("this invitation has already been used")
    return code


def redeem_invitation(
    session: Session, election_id: int, code_hash: str, *, blinded_hash: str | None = None
) -> RollEntry:
    """Use an invitation: exactly once, only while the election is open, only by an official
    member. One conditional ``UPDATE ... WHERE redeemed_at IS NULL`` decides between concurrent
    attempts. Raises UnknownInvitation, InvitationAlreadyRedeemed, NotEligible, ElectionNotOpen."""
    _check_hex(code_hash, "code_hash")
    election = lock_election(session, election_id, shared=True)
    require_status(election, "open", action="redeem an invitation")
    row = session.execute(
        select(Invitation, RollEntry)
        .join(
            RollEntry,
            (RollEntry.election_id == Invitation.election_id)
            & (RollEntry.id == Invitation.roll_entry_id),
        )
        .where(Invitation.election_id == election_id, Invitation.code_hash == code_hash)
    ).first()
    if row is None:
        raise UnknownInvitation("unknown invitation code for this election")
    invitation, entry = row
    if entry.status != "official":
        raise NotEligible(f"{entry.name} is {entry.status}: only official members vote")
    # No per-member time (docs/storage.md "Times"): the minute voting opened, the same for
    # every invitation of the session, marks it used; nothing orders the redemptions.
    result = session.execute(
        update(Invitation)
        .where(Invitation.id == invitation.id, Invitation.redeemed_at.is_(None))
        .values(redeemed_at=session_minute(election), blinded_hash=blinded_hash)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        raise InvitationAlreadyRedeemed("this invitation has already been used")
    session.expire(invitation)
    return entry


def record_token_issued(session: Session, election_id: int, roll_entry_id: int) -> TokenIssuance:
    """Record that this roll entry received its token (never which token). The UNIQUE
    constraint (election_id, roll_entry_id) turns a second issuance into TokenAlreadyIssued."""
    election = lock_election(session, election_id, shared=True)
    require_status(election, "open", action="issue a token")
    entry = session.execute(
        select(RollEntry).where(
            RollEntry.election_id == election_id, RollEntry.id == roll_entry_id
        )
    ).scalar_one_or_none()
    if entry is None:
        raise LookupError(f"no roll entry {roll_entry_id} in this election")
    if entry.status != "official":
        raise NotEligible(f"{entry.name} is {entry.status}: only official members vote")
    for _ in range(_MAX_APPEND_ATTEMPTS):
        # A random id, not the next one: the ids must not tell in which order members received
        # their tokens (docs/storage.md "Times"); no time either.
        issuance = TokenIssuance(id=secrets.randbelow(2**31 - 1) + 1, election_id=election_id,
                                 roll_entry_id=roll_entry_id)
        try:
            with session.begin_nested():
                session.add(issuance)
        except IntegrityError:
            taken = session.execute(select(TokenIssuance.id).where(
                TokenIssuance.election_id == election_id,
                TokenIssuance.roll_entry_id == roll_entry_id)).first()
            if taken is not None:
                raise TokenAlreadyIssued(f"{entry.name} has already received a token") from None
            continue  # the random id was taken: draw another
        return issuance
    raise StoreError(f"could not record the token after {_MAX_APPEND_ATTEMPTS} attempts")


def minute(at: datetime) -> datetime:
    """``at`` truncated to the minute (UTC): the finest precision of a stored time that could
    be set against another member's (docs/storage.md "Times")."""
    return at.astimezone(timezone.utc).replace(second=0, microsecond=0)


def session_minute(election: Election) -> datetime:
    """The minute voting opened in ``election`` (now, if it has no opening time)."""
    return minute(election.opened_at or utcnow())


def tokens_issued(session: Session, election_id: int) -> int:
    """How many members received a token (ballots issued, for the minutes)."""
    return session.execute(
        select(func.count()).select_from(TokenIssuance).where(
            TokenIssuance.election_id == election_id
        )
    ).scalar_one()


# --- bulletin board ---------------------------------------------------------------------------


class EntryHashFn(Protocol):
    def __call__(self, prev_hash: str, position: int, ballot_json: str) -> str: ...


def append_board_entry(
    session: Session,
    election_id: int,
    token_id: str,
    ballot_json: str,
    tracking_code: str,
    compute_entry_hash: EntryHashFn,
) -> BoardEntry:
    """Append a ballot at position last + 1, chained to the last entry_hash (GENESIS_HASH for
    position 1); ``entry_hash = compute_entry_hash(prev_hash, position, ballot_json)``.

    Raises DuplicateBallot if this token already cast a ballot, DuplicateTrackingCode,
    ElectionNotOpen. Concurrent appends get distinct consecutive positions.
    """
    _check_hex(token_id, "token_id")
    if not isinstance(ballot_json, str) or not ballot_json:
        raise ValueError("ballot_json must be a non-empty str")
    if not isinstance(tracking_code, str) or not tracking_code or len(tracking_code) > 128:
        raise ValueError("tracking_code must be a non-empty str of at most 128 characters")
    election = lock_election(session, election_id)
    require_status(election, "open", action="accept a ballot")
    for _ in range(_MAX_APPEND_ATTEMPTS):
        clash = session.execute(
            select(BoardEntry.token_id, BoardEntry.tracking_code).where(
                BoardEntry.election_id == election_id,
                (BoardEntry.token_id == token_id) | (BoardEntry.tracking_code == tracking_code),
            )
        ).first()
        if clash is not None:
            if clash.token_id == token_id:
                raise DuplicateBallot("a ballot has already been cast with this token")
            raise DuplicateTrackingCode(f"tracking code {tracking_code!r} is already on the board")
        last = session.execute(
            select(BoardEntry.position, BoardEntry.entry_hash)
            .where(BoardEntry.election_id == election_id)
            .order_by(BoardEntry.position.desc())
            .limit(1)
        ).first()
        position = 1 if last is None else last.position + 1
        prev_hash = GENESIS_HASH if last is None else last.entry_hash
        entry_hash = _check_hex(
            compute_entry_hash(prev_hash, position, ballot_json), "compute_entry_hash()"
        )
        entry = BoardEntry(
            election_id=election_id,
            position=position,
            token_id=token_id,
            ballot_json=ballot_json,
            tracking_code=tracking_code,
            prev_hash=prev_hash,
            entry_hash=entry_hash,
        )
        try:
            with session.begin_nested():
                session.add(entry)
        except IntegrityError:
            continue  # lost a race (position, token or tracking code): look again
        return entry
    raise StoreError(f"could not append to the board after {_MAX_APPEND_ATTEMPTS} attempts")


def board(session: Session, election_id: int) -> list[BoardEntry]:
    """The bulletin board in order of position."""
    return list(
        session.execute(
            select(BoardEntry)
            .where(BoardEntry.election_id == election_id)
            .order_by(BoardEntry.position)
        ).scalars()
    )


def find_board_entry(session: Session, election_id: int, tracking_code: str) -> BoardEntry | None:
    """The board entry with this tracking code (a voter checking their receipt)."""
    return session.execute(
        select(BoardEntry).where(
            BoardEntry.election_id == election_id, BoardEntry.tracking_code == tracking_code
        )
    ).scalar_one_or_none()


def verify_board_chain(
    session: Session, election_id: int, compute_entry_hash: EntryHashFn
) -> int:
    """Check positions 1..n, prev_hash links and every entry_hash; returns n or raises
    ChainError at the first bad entry."""
    expected_prev = GENESIS_HASH
    count = 0
    for count, entry in enumerate(board(session, election_id), start=1):
        if entry.position != count:
            raise ChainError(entry.position, f"expected position {count}")
        if entry.prev_hash != expected_prev:
            raise ChainError(entry.position, "prev_hash does not link to the previous entry")
        recomputed = compute_entry_hash(entry.prev_hash, entry.position, entry.ballot_json)
        if recomputed != entry.entry_hash:
            raise ChainError(entry.position, "entry_hash does not match the entry")
        expected_prev = entry.entry_hash
    return count


# --- tallies ----------------------------------------------------------------------------------


def add_tally(
    session: Session,
    election_id: int,
    kind: str,
    payload_json: str,
    *,
    trustee_index: int | None = None,
) -> Tally:
    """Store an aggregate, a trustee's partial decryption, paper counts or the result
    (canonical JSON). Only once the election is closed (or later)."""
    if kind not in TALLY_KINDS:
        raise ValueError(f"unknown tally kind {kind!r} (kinds: {', '.join(TALLY_KINDS)})")
    if (kind == "partial_decryption") != (trustee_index is not None):
        raise ValueError("a partial decryption, and only it, names its trustee_index")
    _check_canonical(payload_json, "payload_json")
    election = lock_election(session, election_id, shared=True)
    require_status(election, "closed", "tallied", action="store a tally")
    tally = Tally(
        election_id=election_id, kind=kind, trustee_index=trustee_index, payload_json=payload_json
    )
    session.add(tally)
    session.flush()
    return tally


def tallies(session: Session, election_id: int, kind: str | None = None) -> list[Tally]:
    query = select(Tally).where(Tally.election_id == election_id)
    if kind is not None:
        query = query.where(Tally.kind == kind)
    return list(session.execute(query.order_by(Tally.id)).scalars())


# --- audit log --------------------------------------------------------------------------------


def _iso_utc(at: datetime) -> str:
    if at.tzinfo is None:
        at = at.replace(tzinfo=timezone.utc)
    return at.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def audit_entry_hash(
    *,
    seq: int,
    election_id: int | None,
    actor: str,
    action: str,
    detail_json: str,
    at: datetime,
    prev_hash: str,
) -> str:
    """hex SHA-256("ballot/v1/audit-entry", prev_hash bytes, canonical JSON of the entry)."""
    body = canonical_json(
        {
            "seq": seq,
            "election_id": election_id,
            "actor": actor,
            "action": action,
            "detail": parse_json(detail_json),
            "at": _iso_utc(at),
        }
    )
    return sha256("ballot/v1/audit-entry", bytes.fromhex(prev_hash), body).hex()


_AUDIT_LOCK_KEY = 0x62616C6C6F74  # "ballot"


def append_audit(
    session: Session,
    *,
    actor: str,
    action: str,
    detail: Any = None,
    election_id: int | None = None,
) -> AuditEntry:
    """Append to the hash-chained audit log (one chain, seq 1, 2, 3...). ``detail`` is any
    canonical-JSON value (no floats). Never put secrets (codes, keys, votes) in it."""
    if not actor or not action:
        raise ValueError("an audit entry needs an actor and an action")
    detail_json = canonical_json({} if detail is None else detail).decode("utf-8")
    if session.get_bind().dialect.name == "postgresql":
        # One chain for the whole database: writers take turns (held to the end of the
        # transaction) instead of colliding on seq and retrying (SQLite already serialises).
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _AUDIT_LOCK_KEY})
    for _ in range(_MAX_APPEND_ATTEMPTS):
        last = session.execute(
            select(AuditEntry.seq, AuditEntry.entry_hash).order_by(AuditEntry.seq.desc()).limit(1)
        ).first()
        seq = 1 if last is None else last.seq + 1
        prev_hash = GENESIS_HASH if last is None else last.entry_hash
        at = utcnow()
        entry = AuditEntry(
            election_id=election_id,
            seq=seq,
            actor=actor,
            action=action,
            detail_json=detail_json,
            prev_hash=prev_hash,
            at=at,
            entry_hash=audit_entry_hash(
                seq=seq,
                election_id=election_id,
                actor=actor,
                action=action,
                detail_json=detail_json,
                at=at,
                prev_hash=prev_hash,
            ),
        )
        try:
            with session.begin_nested():
                session.add(entry)
        except IntegrityError:
            continue  # another transaction took this seq: chain onto it
        return entry
    raise StoreError(f"could not append to the audit log after {_MAX_APPEND_ATTEMPTS} attempts")


class _AuditRow(Protocol):
    seq: int
    election_id: int | None
    actor: str
    action: str
    detail_json: str
    at: datetime
    prev_hash: str
    entry_hash: str


def check_audit_chain(entries: Iterable[_AuditRow]) -> int:
    """Verify audit entries given in seq order (from any source, e.g. a copy of the table):
    seq 1..n without gaps, canonical detail, prev_hash links and entry hashes. Returns n or
    raises ChainError at the first bad entry."""
    expected_prev = GENESIS_HASH
    count = 0
    for count, entry in enumerate(entries, start=1):
        if entry.seq != count:
            raise ChainError(entry.seq, f"expected seq {count} (an entry is missing)")
        try:
            canonical = canonical_json(parse_json(entry.detail_json)).decode("utf-8")
        except EncodingError as exc:
            raise ChainError(entry.seq, f"detail is not valid JSON: {exc}") from None
        if canonical != entry.detail_json:
            raise ChainError(entry.seq, "detail is not in canonical form")
        if entry.prev_hash != expected_prev:
            raise ChainError(entry.seq, "prev_hash does not link to the previous entry")
        recomputed = audit_entry_hash(
            seq=entry.seq,
            election_id=entry.election_id,
            actor=entry.actor,
            action=entry.action,
            detail_json=entry.detail_json,
            at=entry.at,
            prev_hash=entry.prev_hash,
        )
        if recomputed != entry.entry_hash:
            raise ChainError(entry.seq, "entry_hash does not match the entry (altered)")
        expected_prev = entry.entry_hash
    return count


def verify_audit_chain(session: Session) -> int:
    """Verify the whole audit log in the database; returns the number of entries."""
    return check_audit_chain(
        session.execute(select(AuditEntry).order_by(AuditEntry.seq)).scalars()
    )
