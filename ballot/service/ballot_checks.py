"""Voting: what a ballot must pass before its proofs are checked (docs/threat-model.md,
"Abuse that costs the attacker nothing").

Checking a ballot's proofs is the one costly step of a cast (about 3.5 ms of CPU per unit).
A ballot whose *last* proof is broken used to cost all of them every time it was sent again.
So the checks run cheapest first, and the proofs only when everything else passed:

1. shape and point decoding (``ballot_from_json``, in ``Meeting.cast``);
2. the election, the token's blind signature, the ballot's Ed25519 signature
   (:meth:`BallotChecks.envelope`: microseconds);
3. in one database transaction, locked on the token (:meth:`BallotChecks.admit`): the token
   not yet on the board; this exact ballot not refused before (its hash is remembered in
   ``ballot_checks``: the same bytes again cost one indexed read); no other ballot with this
   token being checked right now (if one is, the request waits for its outcome, so a token
   never has two proof checks at once and a phone's retry gets "already cast"); the
   per-token and per-address throttles; then a ``checking`` row is claimed;
4. the proofs. A failure turns the row into ``refused`` with its reason
   (:meth:`BallotChecks.refuse`); a success deletes it in the transaction that appends the
   ballot to the board (:meth:`BallotChecks.release`).

Who can make the server check proofs? Changing any byte of a ballot breaks its signature
(step 2), so someone replaying captured traffic can only send ballots already seen: a refused
one is answered from the table, an accepted one by "already cast". Only the holder of the
token's voter key — the member's phone — can make new ballots for that token, and each of
those is throttled per token: at most ``token_limit`` refused ballots per ``window``, after
which the token is refused for the rest of the window (429) and then works again, so the
member's real ballot is accepted afterwards. Per client address (and election), refused
ballots are counted in ``rate_events``; past ``address_limit`` a token that has already been
refused is not checked again from that address, while a token's first ballot never is
blocked: honest phones do not make invalid ballots, and members behind one venue NAT must
not be locked out by one of them who does.
"""

from __future__ import annotations

import os
import socket
import time
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from ballot.crypto.ballots import EncryptedBallot
from ballot.crypto.blind_rsa import IssuerPublicKey
from ballot.crypto.token import TokenError, verify_voter_signature
from ballot.store.db import transaction
from ballot.store.models import BallotCheck, BoardEntry

from .ratelimit import Limiter, lock_key

__all__ = ["Claim", "BallotChecks"]


def _now() -> datetime:
    return datetime.now(timezone.utc).replace(microsecond=0)


def _holder() -> str:
    """This process, as written in the claims it holds."""
    return f"{socket.gethostname()}/{os.getpid()}"


def _alive(holder: str | None) -> bool:
    """False if ``holder`` is a process of this machine that no longer runs (a worker killed
    while checking: its claim need not wait for ``stale``); True otherwise, as far as known."""
    host, _, pid = (holder or "").rpartition("/")
    if host != socket.gethostname() or not pid.isdigit():
        return True
    if int(pid) == os.getpid():
        return True
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except OSError:  # e.g. another user's process: it exists
        return True
    return True


@dataclass(frozen=True)
class Claim:
    """A ``checking`` row held by one request while it checks the proofs."""

    election_id: int
    ballot_hash: str
    token_id: str
    slug: str
    client: str | None


class BallotChecks:
    """The checks before the proofs, and the memory of refused ballots."""

    ADDRESS_SCOPE = "ballot"

    def __init__(self, factory: sessionmaker[Session], limiter: Limiter, *,
                 token_limit: int = 3, address_limit: int = 20,
                 window: timedelta = timedelta(minutes=10),
                 stale: timedelta = timedelta(minutes=2),
                 wait: timedelta = timedelta(seconds=60), poll: float = 0.1):
        self.factory, self.limiter = factory, limiter
        self.token_limit, self.address_limit = token_limit, address_limit
        self.window = window
        #: a ``checking`` row older than this belongs to a request that died: it is retaken
        #: (sooner when its holder is a process of this machine that no longer runs)
        self.stale = stale
        #: how long a request waits for another check of the same token, and how often it looks
        self.wait, self.poll = wait, poll

    @staticmethod
    def envelope(ballot: EncryptedBallot, base_hash: bytes, num_units: int,
                 num_limits: int, issuer: IssuerPublicKey) -> None:
        """The cheap checks (ValueError with the reason): election, unit and limit counts,
        the token's blind signature, the ballot's signature by the token's voter key."""
        if ballot.election != base_hash:
            raise ValueError("the ballot is for another election")
        if len(ballot.units) != num_units or len(ballot.limits or ()) != num_limits:
            raise ValueError("the ballot does not have this election's shape")
        try:
            voter = ballot.token.check(issuer, base_hash)
            verify_voter_signature(voter, ballot.ballot_hash, ballot.signature)
        except TokenError as exc:
            raise ValueError(str(exc)) from None

    def admit(self, election_id: int, slug: str, ballot: EncryptedBallot,
              client: str | None) -> Claim:
        """Step 3: refuse (ServiceError) or claim the ballot for its proof check. While
        another ballot with the same token is being checked (a phone's retry, parallel
        copies, or ballots made to vote twice), wait for that check: its outcome decides
        (already cast, refused before), and a token never has two proof checks at once."""
        from .meeting import ServiceError

        deadline = time.monotonic() + self.wait.total_seconds()
        token_id = ballot.token.token_id.hex()
        while True:
            claim = self._try_admit(election_id, slug, ballot, client)
            if claim is not None:
                return claim
            # Wait with plain reads (no write lock, which SQLite holds for the whole file).
            while True:
                if time.monotonic() > deadline:
                    raise ServiceError("another ballot with this token is still being "
                                       "checked: look for its tracking code on the board", 409)
                time.sleep(self.poll)
                if not self._busy(election_id, token_id):
                    break

    def _busy(self, election_id: int, token_id: str) -> bool:
        """Is a ballot with this token being checked by a live request?"""
        now = _now()
        with transaction(self.factory, read_only=True) as s:
            rows = s.execute(select(BallotCheck.at, BallotCheck.holder).where(
                BallotCheck.election_id == election_id, BallotCheck.token_id == token_id,
                BallotCheck.status == "checking")).all()
        return any(at > now - self.stale and _alive(holder) for at, holder in rows)

    def _try_admit(self, election_id: int, slug: str, ballot: EncryptedBallot,
                   client: str | None) -> Claim | None:
        from .meeting import ServiceError

        token_id = ballot.token.token_id.hex()
        bhash = ballot.ballot_hash.hex()
        now = _now()
        with transaction(self.factory) as s:
            lock_key(s, token_id)
            if s.scalar(select(BoardEntry.id).where(BoardEntry.election_id == election_id,
                                                    BoardEntry.token_id == token_id)) is not None:
                raise ServiceError("a ballot has already been cast with this token", 409)
            rows = {r.ballot_hash: r for r in s.execute(select(BallotCheck).where(
                BallotCheck.election_id == election_id,
                BallotCheck.token_id == token_id)).scalars()}
            own = rows.get(bhash)
            if own is not None and own.status == "refused":
                raise ServiceError(f"ballot refused (this same ballot was refused before): "
                                   f"{own.reason}", 422)
            if any(r.status == "checking" and r.at > now - self.stale and _alive(r.holder)
                   for r in rows.values()):
                return None  # wait for that check
            earlier = sum(1 for h, r in rows.items()
                          if h != bhash and r.status == "refused" and r.at >= now - self.window)
            minutes = max(1, int(self.window.total_seconds() // 60))
            if earlier >= self.token_limit:
                raise ServiceError(f"too many refused ballots with this token; wait {minutes} "
                                   "minutes, then send the ballot again", 429)
            if earlier and client is not None and self.limiter.count_in(
                    s, self.ADDRESS_SCOPE, self._address_key(slug, client),
                    self.window) >= self.address_limit:
                raise ServiceError(f"too many refused ballots from this device; wait {minutes} "
                                   "minutes, then send the ballot again", 429)
            # Claims left by dead requests are retaken (this one) or dropped (the others).
            s.execute(delete(BallotCheck).where(
                BallotCheck.election_id == election_id, BallotCheck.token_id == token_id,
                BallotCheck.status == "checking", BallotCheck.ballot_hash != bhash))
            if own is not None:
                s.execute(update(BallotCheck).where(BallotCheck.id == own.id).values(
                    at=now, holder=_holder()))
            else:
                s.add(BallotCheck(election_id=election_id, ballot_hash=bhash, token_id=token_id,
                                  status="checking", at=now, holder=_holder()))
                try:
                    s.flush()
                except IntegrityError:  # a parallel copy claimed it first (not expected: the
                    s.rollback()       # token's key is locked), so wait for it as above
                    return None
        return Claim(election_id, bhash, token_id, slug, client)

    def _address_key(self, slug: str, client: str) -> str:
        return self.limiter.key(self.ADDRESS_SCOPE, slug, client)

    def refuse(self, claim: Claim, reason: str) -> None:
        """Step 4 failed: remember the ballot as refused and count it for the address."""
        with transaction(self.factory) as s:
            s.execute(update(BallotCheck).where(
                BallotCheck.election_id == claim.election_id,
                BallotCheck.ballot_hash == claim.ballot_hash).values(
                    status="refused", reason=reason[:500], at=_now()))
        if claim.client is not None:
            key = self._address_key(claim.slug, claim.client)
            self.limiter.hit(self.ADDRESS_SCOPE, key, 10 * self.address_limit, self.window)

    @staticmethod
    def release(s: Session, claim: Claim) -> None:
        """Step 4 passed: drop the claim (inside the board append's transaction)."""
        s.execute(delete(BallotCheck).where(BallotCheck.election_id == claim.election_id,
                                            BallotCheck.ballot_hash == claim.ballot_hash,
                                            BallotCheck.status == "checking"))

    def abandon(self, claim: Claim) -> None:
        """The request ended otherwise (e.g. the board append was refused): drop the claim."""
        with transaction(self.factory) as s:
            self.release(s, claim)
