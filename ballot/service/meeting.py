"""A meeting from set-up to published record: the use cases behind every page and command.

Each function takes a session factory and runs one transaction, so it is safe with several
server workers; nothing is kept in process memory between requests.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Sequence

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session, sessionmaker

from ballot.crypto import blind_rsa
from ballot.crypto.elgamal import Ciphertext
from ballot.crypto.encoding import EncodingError, b64decode, b64encode, canonical_json, parse_json
from ballot.crypto.threshold import CeremonyError, verify_trustee_public
from ballot.election.counting import count_manifest
from ballot.election.counts import MeetingFigures, UnitCounts
from ballot.election.errors import CountError
from ballot.election.levels import LevelSet
from ballot.election.manifest import Manifest
from ballot.election.roll import RollEntry as ManifestRollEntry
from ballot.election.rules import RuleProfile
from ballot.election.trustees import Trustees
from ballot.election.units import Unit as ManifestUnit
from ballot.store import repo
from ballot.store.db import transaction
from ballot.store.errors import InvitationAlreadyRedeemed, StoreError
from ballot.store.lifecycle import require_status, transition
from ballot.store.models import (
    BoardCheck,
    Election,
    Invitation,
    RateEvent,
    RollEntry,
    TokenIssuance,
    Trustee,
    Unit,
)
from ballot.tally.board_status import entry_json
from ballot.tally.context import ContextError, ElectionContext, trustee_public_from_json, trustee_public_to_json
from ballot.tally.decryption import (
    DecryptionError,
    TrusteeDecryption,
    combine_decryptions,
    verify_decryption,
)
from ballot.tally.record import build_record, counts_to_json, paper_from_json, save_record

from . import checker, voting
from .keys import KeyStore


def _checks(s: Session, election_id: int) -> dict[str, int]:
    """The board's counters: ballots received, and how many are checked, valid, invalid."""
    p = checker.progress(s, election_id)
    return {"ballots": p.received, "checked": p.checked, "valid": p.valid,
            "invalid": p.invalid, "unchecked": p.unchecked}

__all__ = ["ServiceError", "Meeting"]


class ServiceError(ValueError):
    """A request the meeting refuses, with the reason to show (HTTP 4xx)."""

    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.status = status


_SLUG = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?")


def _now() -> str:
    return datetime.now(timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def _hash_secret(tag: str, code: str) -> str:
    return hashlib.sha256(f"{tag}\0{code.strip()}".encode()).hexdigest()


@dataclass
class Meeting:
    """The use cases of one deployment: a database and a keys folder."""

    factory: sessionmaker[Session]
    keys: KeyStore
    records_dir: Path
    _contexts: dict[str, tuple[str, ElectionContext]] = field(default_factory=dict, repr=False)

    # -- small helpers -----------------------------------------------------------------------
    def _election(self, session: Session, slug: str) -> Election:
        # A slug is lowercase letters, digits and dashes: anything else cannot name an election
        # (and a NUL byte would not even reach PostgreSQL's text type).
        if not isinstance(slug, str) or not _SLUG.fullmatch(slug):
            raise ServiceError(f"no election {slug!r}", 404)
        election = session.execute(select(Election).where(Election.slug == slug)).scalar_one_or_none()
        if election is None:
            raise ServiceError(f"no election {slug!r}", 404)
        return election

    def manifest(self, session: Session, election: Election) -> Manifest:
        if not election.manifest_json:
            raise ServiceError("this election has no manifest yet", 409)
        return Manifest.from_json(parse_json(election.manifest_json))

    def context(self, session: Session, election: Election) -> ElectionContext:
        """The election context, checked once per process and then cached by its base hash
        (the database refuses any change to the manifest or the context after opening)."""
        if not election.context_json:
            raise ServiceError("the key ceremony is not finished", 409)
        cached = self._contexts.get(election.base_hash)
        if cached is not None and cached[0] == election.context_json:
            return cached[1]
        ctx = ElectionContext.from_json(self.manifest(session, election),
                                        parse_json(election.context_json))
        self._contexts[ctx.base_hash.hex()] = (election.context_json, ctx)
        return ctx

    # -- set-up (secretary) ------------------------------------------------------------------
    def create(
        self,
        *,
        slug: str,
        title: str,
        organisation: str,
        date: str,
        meeting_kind: str,
        levels: LevelSet,
        rules: RuleProfile,
        roll: Sequence[ManifestRollEntry],
        units: Sequence[ManifestUnit],
        trustee_names: Sequence[str],
        threshold: int,
    ) -> dict[str, str]:
        """Create a draft meeting; returns each trustee's access code (shown once)."""
        issuer = blind_rsa.generate_issuer_key()
        manifest = Manifest(
            title=title, organisation=organisation, date=date, meeting_kind=meeting_kind,
            roll=tuple(roll), units=tuple(units), levels=levels, rules=rules,
            trustees=Trustees(tuple(trustee_names), threshold),
            issuer_public_key=b64encode(issuer.public_key().to_der()),
        )
        codes = {}
        with transaction(self.factory) as s:
            try:
                election = repo.create_election(s, slug=slug, title=title)
            except repo.SlugTaken as exc:
                raise ServiceError(str(exc), 409) from None
            s.add_all(RollEntry(election_id=election.id, position=i, roll_id=e.roll_id, name=e.name,
                                status=e.status, reason=e.reason)
                      for i, e in enumerate(manifest.roll, 1))
            s.add_all(Unit(election_id=election.id, position=i, unit_id=u.unit_id, name=u.name,
                           kind=u.kind, grp=u.group, self_level=u.self_level,
                           proposed_level=u.proposed_level, score=u.score,
                           collective=u.collective, disciplined=u.disciplined)
                      for i, u in enumerate(manifest.units, 1))
            for i, name in enumerate(trustee_names, 1):
                t = repo.add_trustee(s, election.id, i, name)
                codes[name] = secrets.token_urlsafe(12)
                t.access_hash = _hash_secret("trustee", codes[name])
            repo.set_manifest(s, election.id, manifest_json=manifest.canonical_bytes().decode(),
                              manifest_hash=manifest.manifest_hash().hex())
            repo.append_audit(s, election_id=election.id, actor="secretary", action="create",
                              detail={"manifest_hash": manifest.manifest_hash().hex()})
            # Only now that the slug is ours (the row holds it until commit) is the key written;
            # a failure here rolls the election back.
            self.keys.save_issuer_key(slug, issuer)
        return codes

    def begin_ceremony(self, slug: str) -> None:
        with transaction(self.factory) as s:
            election = self._election(s, slug)
            transition(s, election, "key_ceremony")
            repo.append_audit(s, election_id=election.id, actor="secretary",
                              action="begin_ceremony", detail={})

    # -- key ceremony (trustees) -------------------------------------------------------------
    def new_trustee_code(self, slug: str, index: int) -> tuple[str, str]:
        """A new access code for trustee ``index`` (one who lost theirs), before that trustee
        has published keys: the old code stops working. Returns (name, code), to show once.
        Once keys are published a new code would let someone else act as that trustee."""
        with transaction(self.factory) as s:
            election = self._election(s, slug)
            if election.status not in ("draft", "key_ceremony"):
                raise ServiceError("access codes can be replaced only before the key ceremony "
                                   "is finished", 409)
            t = s.execute(select(Trustee).where(Trustee.election_id == election.id,
                                                Trustee.index == index)).scalar_one_or_none()
            if t is None:
                raise ServiceError(f"there is no trustee {index}", 404)
            if t.public_key_json is not None:
                raise ServiceError(f"trustee {index} has already published keys: their code "
                                   "can no longer be replaced", 409)
            code = secrets.token_urlsafe(12)
            t.access_hash = _hash_secret("trustee", code)
            repo.append_audit(s, election_id=election.id, actor="secretary",
                              action="new_trustee_code", detail={"trustee": index})
            return t.name, code

    def trustee_login(self, s: Session, election: Election, index: int, code: str) -> Trustee:
        t = s.execute(select(Trustee).where(Trustee.election_id == election.id,
                                            Trustee.index == index)).scalar_one_or_none()
        if t is None or not t.access_hash or not secrets.compare_digest(
                t.access_hash, _hash_secret("trustee", code or "")):
            raise ServiceError("unknown trustee or wrong access code", 403)
        return t

    def submit_trustee_public(self, slug: str, index: int, code: str, public: Any) -> None:
        with transaction(self.factory) as s:
            election = self._election(s, slug)
            require_status(election, "key_ceremony", action="publish trustee keys")
            t = self.trustee_login(s, election, index, code)
            manifest = self.manifest(s, election)
            try:
                pub = trustee_public_from_json(public, "public")
                if pub.index != index:
                    raise CeremonyError(f"keys for trustee {pub.index} sent as trustee {index}")
                verify_trustee_public(manifest.manifest_hash(), pub, manifest.trustees.threshold)
            except (ContextError, CeremonyError) as exc:
                raise ServiceError(str(exc)) from None
            if t.public_key_json is not None:
                raise ServiceError("this trustee's keys are already published", 409)
            repo.update_trustee(s, election.id, index,
                                public_key_json=canonical_json(trustee_public_to_json(pub)).decode())
            repo.append_audit(s, election_id=election.id, actor=f"trustee {index}",
                              action="trustee_public", detail={})

    def ceremony_state(self, slug: str) -> dict[str, Any]:
        with transaction(self.factory, read_only=True) as s:
            election = self._election(s, slug)
            manifest = self.manifest(s, election)
            ts = repo.trustees(s, election.id)
            return {
                "status": election.status,
                "base_hash": election.base_hash,
                "manifest": manifest.to_json(),
                "manifest_hash": manifest.manifest_hash().hex(),
                "threshold": manifest.trustees.threshold,
                "trustees": [{
                    "index": t.index, "name": t.name,
                    "public": parse_json(t.public_key_json) if t.public_key_json else None,
                    "shares_sent": bool(state.get("shares")),
                    "accepted": bool(state.get("accepted")),
                } for t, state in ((t, self._ceremony(t)) for t in ts)],
            }

    def _ceremony(self, t: Trustee) -> dict[str, Any]:
        return parse_json(t.ceremony_json) if t.ceremony_json else {}

    def submit_shares(self, slug: str, index: int, code: str, shares: Any) -> None:
        """Trustee ``index`` posts P_index(l), Box-encrypted to each other trustee l."""
        with transaction(self.factory) as s:
            election = self._election(s, slug)
            require_status(election, "key_ceremony", action="send shares")
            t = self.trustee_login(s, election, index, code)
            ts = repo.trustees(s, election.id)
            if any(x.public_key_json is None for x in ts):
                raise ServiceError("wait until every trustee has published keys", 409)
            others = {x.index for x in ts} - {index}
            if not isinstance(shares, list) or not all(isinstance(sh, dict) for sh in shares) \
                    or len(shares) != len(others) \
                    or {sh.get("recipient") for sh in shares} != others:
                raise ServiceError(f"send exactly one share to each of trustees {sorted(others)}")
            clean = []
            for sh in shares:
                if set(sh) != {"recipient", "ciphertext"}:
                    raise ServiceError("a share has the fields recipient and ciphertext")
                try:
                    b64decode(sh["ciphertext"], 24 + 16 + 64, "share.ciphertext")
                except EncodingError as exc:
                    raise ServiceError(str(exc)) from None
                clean.append({"sender": index, "recipient": sh["recipient"],
                              "ciphertext": sh["ciphertext"]})
            state = self._ceremony(t)
            if state.get("shares"):
                raise ServiceError("this trustee's shares are already sent", 409)
            state["shares"] = clean
            repo.update_trustee(s, election.id, index, ceremony_json=canonical_json(state).decode())

    def shares_for(self, slug: str, index: int, code: str) -> list[dict[str, Any]]:
        with transaction(self.factory, read_only=True) as s:
            election = self._election(s, slug)
            self.trustee_login(s, election, index, code)
            out = []
            for t in repo.trustees(s, election.id):
                for sh in self._ceremony(t).get("shares", []):
                    if sh["recipient"] == index:
                        out.append(sh)
            return out

    def accept_shares(self, slug: str, index: int, code: str, complaints: Sequence[dict]) -> None:
        """Trustee ``index`` says every share it received checked against the commitments, or
        names the senders whose share did not (the ceremony then cannot finish)."""
        with transaction(self.factory) as s:
            election = self._election(s, slug)
            require_status(election, "key_ceremony", action="accept shares")
            t = self.trustee_login(s, election, index, code)
            state = self._ceremony(t)
            state["accepted"] = not complaints
            state["complaints"] = [{"sender": int(c["sender"]), "reason": str(c["reason"])[:500]}
                                   for c in complaints]
            repo.update_trustee(s, election.id, index, ceremony_json=canonical_json(state).decode())
            repo.append_audit(s, election_id=election.id, actor=f"trustee {index}",
                              action="accept_shares" if not complaints else "complain",
                              detail={"complaints": state["complaints"]})

    def finish_ceremony(self, slug: str) -> str:
        """Once every trustee has published keys and accepted its shares: the context and the
        base hash. Returns the base hash (hex)."""
        with transaction(self.factory) as s:
            election = self._election(s, slug)
            require_status(election, "key_ceremony", action="finish the key ceremony")
            manifest = self.manifest(s, election)
            ts = repo.trustees(s, election.id)
            waiting = [t.index for t in ts if t.public_key_json is None
                       or not self._ceremony(t).get("accepted")]
            complaints = [c for t in ts for c in self._ceremony(t).get("complaints", [])]
            if complaints:
                raise ServiceError(f"shares were rejected: {complaints}", 409)
            if waiting:
                raise ServiceError(f"waiting for trustees {waiting}", 409)
            ctx = ElectionContext(manifest, tuple(trustee_public_from_json(parse_json(t.public_key_json))
                                                  for t in ts))
            ctx.validate()
            repo.set_context(s, election.id, context_json=canonical_json(ctx.to_json()).decode(),
                             base_hash=ctx.base_hash.hex())
            repo.append_audit(s, election_id=election.id, actor="system", action="ceremony_done",
                              detail={"base_hash": ctx.base_hash.hex()})
            return ctx.base_hash.hex()

    # -- voting ------------------------------------------------------------------------------
    def open_voting(self, slug: str) -> dict[str, str]:
        """Open; returns {roll_id: invitation code} for every official member (print them now)."""
        with transaction(self.factory) as s:
            election = self._election(s, slug)
            transition(s, election, "open")
            codes = repo.create_invitations(s, election.id)
            ids = {e.id: e.roll_id for e in repo.roll(s, election.id)}
            repo.append_audit(s, election_id=election.id, actor="secretary", action="open",
                              detail={"invitations": len(codes)})
            return {ids[k]: v for k, v in codes.items()}

    def public_info(self, slug: str) -> dict[str, Any]:
        """What a phone needs: manifest, context, keys, status."""
        with transaction(self.factory, read_only=True) as s:
            election = self._election(s, slug)
            ctx = self.context(s, election)
            info = {
                "slug": slug,
                "status": election.status,
                "manifest": ctx.manifest.to_json(),
                "context": ctx.to_json(),
                "base_hash": ctx.base_hash.hex(),
                "receipt_key": b64encode(bytes(self.keys.receipt_key().verify_key)),
                # "at most K agree" groups of ballot B (empty for a first round): the phone
                # builds the same ballot shape (and checks it against the manifest).
                "limits": [{"units": list(ix), "max": k} for ix, k in ctx.shape.limits],
            }
            bb = ctx.manifest.ballot_b
            if bb is not None:
                info.update(round=2, first_round=bb.first_round.slug)
            else:
                other = self._linked_second_round(s, slug)
                info.update(round=1, second_round=other.slug if other is not None else None)
            return info

    #: Failed invitation redemptions allowed from one client address per window.
    REDEEM_FAILURE_LIMIT = 20
    REDEEM_WINDOW = timedelta(minutes=10)

    def _rate_key(self, client: str) -> str:
        return hashlib.sha256(f"ballot/v1/rate\0{client}".encode()).hexdigest()

    def _check_rate(self, client: str | None) -> None:
        if client is None:
            return
        since = datetime.now(timezone.utc) - self.REDEEM_WINDOW
        with transaction(self.factory, read_only=True) as s:
            failures = s.scalar(select(func.count()).select_from(RateEvent).where(
                RateEvent.scope == "redeem", RateEvent.key_hash == self._rate_key(client),
                RateEvent.at >= since))
        if failures >= self.REDEEM_FAILURE_LIMIT:
            minutes = int(self.REDEEM_WINDOW.total_seconds() // 60)
            raise ServiceError(f"too many failed invitation codes from this device; wait "
                               f"{minutes} minutes or ask the secretary", 429)

    def _count_failure(self, client: str | None) -> None:
        if client is None:
            return
        with transaction(self.factory) as s:
            s.add(RateEvent(scope="redeem", key_hash=self._rate_key(client)))
            s.execute(delete(RateEvent).where(
                RateEvent.at < datetime.now(timezone.utc) - timedelta(days=1)))

    def issue_token(self, slug: str, invitation: str, blinded: str, *,
                    client: str | None = None) -> str:
        """:meth:`_issue_token`, rate-limited per client address across every worker: failed
        redemptions are counted in the database."""
        self._check_rate(client)
        try:
            return self._issue_token(slug, invitation, blinded)
        except ServiceError as exc:
            if exc.status in (403, 404, 409):
                self._count_failure(client)
            raise

    def _issue_token(self, slug: str, invitation: str, blinded: str) -> str:
        """Redeem the invitation once and blind-sign the voter's blinded token message.

        Only "roll entry X received a token" is written. Sending the same invitation with the
        same blinded message again returns the same signature (a lost response can be
        retried); a different blinded message is refused.
        """
        if not isinstance(invitation, str) or not isinstance(blinded, str):
            raise ServiceError("send invitation and blinded_msg as strings")
        with transaction(self.factory) as s:
            election = self._election(s, slug)
            require_status(election, "open", action="issue a token")
            key = self.keys.issuer_key(slug)
            try:
                blinded_raw = b64decode(blinded, key.public_key().modulus_bytes, "blinded_msg")
            except EncodingError as exc:
                raise ServiceError(str(exc)) from None
            code_hash = repo.hash_invitation_code(invitation) if invitation.strip() else "0" * 64
            if self.context(s, election).manifest.ballot_b is not None:
                code_hash = repo.second_round_code_hash(code_hash, slug)
            blinded_hash = hashlib.sha256(blinded_raw).hexdigest()
            inv = s.execute(select(Invitation).where(Invitation.election_id == election.id,
                                                     Invitation.code_hash == code_hash)).scalar_one_or_none()
            if inv is not None and inv.redeemed_at is not None:
                if inv.blinded_hash != blinded_hash:
                    raise ServiceError("this invitation has already been used", 409)
            else:
                try:
                    entry = repo.redeem_invitation(s, election.id, code_hash,
                                                   blinded_hash=blinded_hash)
                    repo.record_token_issued(s, election.id, entry.id)
                except InvitationAlreadyRedeemed:
                    # A concurrent request redeemed it first: a retry of the same request
                    # (same blinded message) gets the same signature, anything else is refused.
                    winner = s.scalar(select(Invitation.blinded_hash).where(Invitation.id == inv.id))
                    if winner != blinded_hash:
                        raise ServiceError("this invitation has already been used", 409) from None
                except StoreError as exc:
                    raise ServiceError(str(exc), 409 if "already" in str(exc) else 403) from None
            try:
                sig = blind_rsa.blind_sign(key, blinded_raw)
            except blind_rsa.BlindSignatureError as exc:
                raise ServiceError(str(exc)) from None
            # No audit entry per token: token_issuance already records who received one, and a
            # timed entry per voter would only add contention (one chain for every meeting).
            return b64encode(sig)

    def cast(self, slug: str, ballot_json: Any) -> dict[str, Any]:
        """Receive a ballot: the cheap checks, the board append, the signed receipt; its
        proofs are checked in the background (:mod:`ballot.service.voting`)."""
        return voting.receive(self, slug, ballot_json)

    def ballot_status(self, slug: str, position: Any) -> dict[str, Any]:
        """One board entry's status: received, valid or invalid (with the reason)."""
        return voting.entry_status(self, slug, position)

    def counters(self, slug: str) -> dict[str, int | str]:
        """Counts only, for the projector page."""
        with transaction(self.factory, read_only=True) as s:
            election = self._election(s, slug)
            eligible = s.scalar(select(func.count()).select_from(RollEntry).where(
                RollEntry.election_id == election.id, RollEntry.status == "official"))
            return {
                "status": election.status,
                "eligible": eligible,
                "tokens": repo.tokens_issued(s, election.id),
                **_checks(s, election.id),
            }

    def board(self, slug: str) -> list[dict[str, Any]]:
        with transaction(self.factory, read_only=True) as s:
            election = self._election(s, slug)
            checks = {c.position: (c.status, c.reason) for c in s.execute(
                select(BoardCheck).where(BoardCheck.election_id == election.id)).scalars()}
            out = []
            for e in repo.board(s, election.id):
                status, reason = checks.get(e.position, ("received", None))
                entry = {"position": e.position, "tracking_code": e.tracking_code,
                         "entry_hash": e.entry_hash, "status": status}
                if reason is not None:
                    entry["reason"] = reason
                out.append(entry)
            return out

    def close_voting(self, slug: str, *, wait: bool = True) -> None:
        """Stop receiving ballots; with ``wait``, also finish checking them and store the
        aggregate of the valid ones (:func:`ballot.service.voting.close_voting`)."""
        voting.close_voting(self, slug, wait=wait)

    def finish_close(self, slug: str, *, budget: float | None = None) -> bool:
        """Check what is still unchecked of a closed election (for ``budget`` seconds at
        most), then store the aggregate once all are checked. True once it exists."""
        return voting.finish_close(self, slug, budget=budget)

    # -- tally -------------------------------------------------------------------------------
    def _totals(self, s: Session, election: Election) -> tuple[Ciphertext, ...]:
        rows = repo.tallies(s, election.id, "aggregate")
        if not rows:
            if election.status == "closed":
                p = checker.progress(s, election.id)
                raise ServiceError(f"the ballots are still being checked: {p.checked} of "
                                   f"{p.received} done", 409)
            raise ServiceError("voting is not closed yet", 409)
        units = parse_json(rows[-1].payload_json)["units"]
        return tuple(Ciphertext.from_bytes(b64decode(u, 64)) for u in units)

    def aggregate_for_trustees(self, slug: str) -> dict[str, Any]:
        with transaction(self.factory, read_only=True) as s:
            election = self._election(s, slug)
            election_id, status = election.id, election.status
        if status == "closed":  # the checker's last step, if it has not run yet
            checker.store_aggregate_if_ready(self.factory, election_id)
        with transaction(self.factory, read_only=True) as s:
            election = self._election(s, slug)
            ctx = self.context(s, election)
            return {"base_hash": ctx.base_hash.hex(), "context": ctx.to_json(),
                    "manifest": ctx.manifest.to_json(),
                    "aggregate": [b64encode(c.to_bytes()) for c in self._totals(s, election)]}

    def submit_decryption(self, slug: str, index: int, code: str, data: Any) -> int:
        """Check a trustee's partial decryptions and store them; returns how many are in."""
        with transaction(self.factory) as s:
            election = self._election(s, slug)
            require_status(election, "closed", action="decrypt the tally")
            self.trustee_login(s, election, index, code)
            ctx = self.context(s, election)
            totals = self._totals(s, election)
            try:
                dec = TrusteeDecryption.from_json(data, len(totals))
                if dec.trustee != index:
                    raise DecryptionError(f"decryption by trustee {dec.trustee} sent as trustee {index}")
                verify_decryption(ctx, totals, dec)
            except DecryptionError as exc:
                raise ServiceError(f"decryption refused: {exc}", 422) from None
            done = {t.trustee_index for t in repo.tallies(s, election.id, "partial_decryption")}
            if index in done:
                raise ServiceError("this trustee's decryption is already in", 409)
            repo.add_tally(s, election.id, "partial_decryption",
                           canonical_json(dec.to_json()).decode(), trustee_index=index)
            repo.append_audit(s, election_id=election.id, actor=f"trustee {index}",
                              action="decryption", detail={})
            return len(done) + 1

    def enter_paper_counts(self, slug: str, paper: dict[str, Any]) -> None:
        """Counts of paper ballots per unit, from the committee; kept apart in the record.

        ``paper``: ballots_issued, ballots_valid, ballots_invalid, voters (members who voted
        on paper) and counts (one {unit_id, votes, abstain, blank} per unit, in order)."""
        with transaction(self.factory) as s:
            election = self._election(s, slug)
            require_status(election, "closed", action="enter paper counts")
            manifest = self.manifest(s, election)
            try:
                counts = paper_from_json(paper, [u.unit_id for u in manifest.units])
                for c in counts:
                    unknown = set(dict(c.votes)) - set(manifest.levels.codes)
                    if unknown:
                        raise CountError(f"paper counts: unknown levels {sorted(unknown)}")
                if paper["ballots_valid"] + paper["ballots_invalid"] > paper["ballots_issued"]:
                    raise CountError("paper: valid + invalid ballots exceed ballots issued")
                if paper["ballots_issued"] > paper["voters"]:
                    raise CountError("paper: more ballots issued than members voting on paper")
                tokens = repo.tokens_issued(s, election.id)
                if tokens + paper["voters"] > len(manifest.eligible_voters()):
                    raise CountError(f"paper: {paper['voters']} paper voters + {tokens} tokens "
                                     f"exceed the {len(manifest.eligible_voters())} eligible members")
            except (CountError, ValueError) as exc:
                raise ServiceError(str(exc), 422) from None
            if repo.tallies(s, election.id, "paper_counts"):
                raise ServiceError("paper counts are already entered", 409)
            repo.add_tally(s, election.id, "paper_counts", canonical_json(paper).decode())
            repo.append_audit(s, election_id=election.id, actor="committee", action="paper_counts",
                              detail={"ballots_valid": paper["ballots_valid"],
                                      "ballots_invalid": paper["ballots_invalid"],
                                      "voters": paper["voters"]})

    def finalize(self, slug: str, *, present: int | None = None) -> Path:
        """Combine k decryptions, count, apply the rules, write the record; → tallied."""
        with transaction(self.factory) as s:
            election = self._election(s, slug)
            require_status(election, "closed", action="finalize the tally")
            ctx = self.context(s, election)
            manifest = ctx.manifest
            totals = self._totals(s, election)
            decs = {t.trustee_index: TrusteeDecryption.from_json(parse_json(t.payload_json), len(totals))
                    for t in repo.tallies(s, election.id, "partial_decryption")}
            if len(decs) < ctx.threshold:
                raise ServiceError(f"{len(decs)} of the {ctx.threshold} decryptions needed are in", 409)
            board_rows = repo.board(s, election.id)
            statuses = {c.position: (c.status, c.reason) for c in s.execute(
                select(BoardCheck).where(BoardCheck.election_id == election.id)).scalars()}
            if len(statuses) != len(board_rows):
                raise ServiceError("the ballots are still being checked", 409)
            B = sum(1 for st, _ in statuses.values() if st == "valid")
            B_invalid = len(board_rows) - B
            electronic = combine_decryptions(ctx, totals, decs, B)
            paper_rows = repo.tallies(s, election.id, "paper_counts")
            paper = parse_json(paper_rows[-1].payload_json) if paper_rows else None
            unit_ids = [u.unit_id for u in manifest.units]
            paper_counts = ([UnitCounts(c["votes"], c["abstain"], c["blank"]) for c in paper["counts"]]
                            if paper else [UnitCounts({}) for _ in unit_ids])
            codes = manifest.levels.codes
            totals_counts = [UnitCounts({c: e.vote(c) + p.vote(c) for c in codes},
                                        e.abstain + p.abstain, e.blank + p.blank)
                             for e, p in zip(electronic, paper_counts)]
            issued_ids = {r.roll_entry_id for r in s.execute(select(TokenIssuance).where(
                TokenIssuance.election_id == election.id)).scalars()}
            roll_ids = sorted(e.roll_id for e in repo.roll(s, election.id) if e.id in issued_ids)
            tokens = len(roll_ids)
            p_voters = paper["voters"] if paper else 0
            try:
                figures = MeetingFigures(
                    convened=manifest.convened(), excluded=manifest.excluded(),
                    present=present if present is not None else tokens + p_voters,
                    ballots_valid=B + (paper["ballots_valid"] if paper else 0),
                    ballots_invalid=B_invalid + (paper["ballots_invalid"] if paper else 0),
                    ballots_issued=tokens + (paper["ballots_issued"] if paper else 0))
            except CountError as exc:
                raise ServiceError(f"the meeting's figures do not add up: {exc}", 409) from None
            try:
                results = count_manifest(manifest, dict(zip(unit_ids, totals_counts)), figures)
            except CountError as exc:
                raise ServiceError(f"cannot count: {exc}", 409) from None
            record = build_record(
                ctx=ctx, receipt_key=bytes(self.keys.receipt_key().verify_key),
                issued_roll_ids=roll_ids,
                board=[entry_json(position=e.position, ballot=parse_json(e.ballot_json),
                                  prev_hash=e.prev_hash, entry_hash=e.entry_hash,
                                  status=statuses[e.position][0],
                                  reason=statuses[e.position][1]) for e in board_rows],
                aggregate=totals, decryptions=list(decs.values()), electronic_counts=electronic,
                paper=paper, figures=figures, counts=totals_counts, results=results)
            repo.add_tally(s, election.id, "result", canonical_json(
                {"counts": counts_to_json(unit_ids, totals_counts),
                 "results": results.to_json()}).decode())
            transition(s, election, "tallied")
            path = save_record(record, self.records_dir / f"{slug}.record.json")
            repo.append_audit(s, election_id=election.id, actor="system", action="tallied",
                              detail={"record_sha256": hashlib.sha256(path.read_bytes()).hexdigest()})
            return path

    def results(self, slug: str) -> dict[str, Any]:
        """The counts and results of a tallied election (the record's, from the database)."""
        with transaction(self.factory, read_only=True) as s:
            election = self._election(s, slug)
            rows = repo.tallies(s, election.id, "result")
            if not rows:
                raise ServiceError("the results exist once the tally is finished", 404)
            manifest = self.manifest(s, election)
            return {"manifest": manifest.to_json(), "base_hash": election.base_hash,
                    "status": election.status, **parse_json(rows[-1].payload_json)}

    def publish(self, slug: str) -> None:
        with transaction(self.factory) as s:
            election = self._election(s, slug)
            transition(s, election, "published")

    def record_path(self, slug: str) -> Path:
        return self.records_dir / f"{slug}.record.json"

    # -- the second round (ballot B) ---------------------------------------------------------
    @staticmethod
    def second_round_slug(slug: str) -> str:
        """The short name of a first round's second round: ``<slug>-v2`` (within 64 characters)."""
        return f"{slug[:61].rstrip('-')}-v2"

    def _linked_second_round(self, s: Session, slug: str) -> Election | None:
        """The second-round election made from ``slug`` by :meth:`create_second_round`, if any."""
        other = s.execute(select(Election).where(
            Election.slug == self.second_round_slug(slug))).scalar_one_or_none()
        if other is None or not other.manifest_json:
            return None
        bb = parse_json(other.manifest_json).get("ballot_b")
        return other if isinstance(bb, dict) and bb.get("first_round", {}).get("slug") == slug \
            else None

    def create_second_round(self, slug: str, *, today: str | None = None) -> str:
        """From a finalized first round whose results send candidates to a second round: a new
        election (ballot B, "agree / disagree", at most K per group) linked to it, with the same
        roll, trustees (and their access codes) and invitation codes. Its trustees hold a new
        key ceremony. ``today``: the round's date (ISO), in the meeting's time zone (the web
        app passes it; the server's clock may be UTC). Returns the new election's slug."""
        from datetime import date

        from ballot.election.ballot_b import BallotB, FirstRound
        from ballot.election.levels import Level
        from ballot.election.results import SecondRoundBallot
        from ballot.election.rules import SecondRoundRule

        with transaction(self.factory, read_only=True) as s:
            first = self._election(s, slug)
            manifest = self.manifest(s, first)
            if manifest.ballot_b is not None:
                raise ServiceError("this election is already a second round", 409)
            if first.status not in ("tallied", "published"):
                raise ServiceError("the first round is not finalized yet: finish its tally "
                                   "before holding the second round", 409)
            rows = repo.tallies(s, first.id, "result")
            if not rows:
                raise ServiceError("the first round has no results", 409)
            results = parse_json(rows[-1].payload_json)["results"]
            ballots = results.get("second_round") or []
            if not ballots:
                raise ServiceError("the results send no candidate to a second round", 409)
            if self._linked_second_round(s, slug) is not None:
                raise ServiceError(f"the second round already exists: "
                                   f"{self.second_round_slug(slug)}", 409)
            path = self.record_path(slug)
            if not path.exists():
                raise ServiceError("the first round's record file is missing", 409)
            record_sha256 = hashlib.sha256(path.read_bytes()).hexdigest()
            trustee_hashes = {t.index: t.access_hash for t in repo.trustees(s, first.id)}
            first_roll = {e.id: e.roll_id for e in repo.roll(s, first.id)}
            codes = [(first_roll[i.roll_entry_id], i.code_hash) for i in s.execute(
                select(Invitation).where(Invitation.election_id == first.id)).scalars()]
        new_slug = self.second_round_slug(slug)
        groups = tuple(SecondRoundBallot(b["group"], tuple(b["candidates"]), b["k"]) for b in ballots)
        units = []
        for b in groups:
            for uid in b.candidates:
                u = manifest.unit(uid)
                units.append(ManifestUnit(unit_id=u.unit_id, name=u.name, kind=u.kind,
                                          group=u.group, score=u.score,
                                          disciplined=u.disciplined, outstanding=u.outstanding))
        levels = LevelSet((Level("agree", "Đồng ý", "Agree", "Đồng ý"),
                           Level("disagree", "Không đồng ý", "Disagree", "Không đồng ý")))
        r1 = manifest.rules
        # agree needs what the first round's top level needed (more than 1/2 of N, or 2/3)
        rules = RuleProfile(base=r1.base, quorum=r1.quorum, abstain_allowed=True,
                            quota=None, second_round=SecondRoundRule(False),
                            level_thresholds=(("agree", r1.threshold_for(manifest.levels.top.code)),))
        issuer = blind_rsa.generate_issuer_key()
        try:
            manifest2 = Manifest(
                title=f"{manifest.title} — vòng hai / second round",
                organisation=manifest.organisation, date=today or date.today().isoformat(),
                meeting_kind=manifest.meeting_kind, roll=manifest.roll, units=tuple(units),
                levels=levels, rules=rules, trustees=manifest.trustees,
                issuer_public_key=b64encode(issuer.public_key().to_der()),
                ballot_b=BallotB(FirstRound(slug, manifest.manifest_hash().hex(), record_sha256),
                                 int(results["base"]), groups))
        except ValueError as exc:
            raise ServiceError(f"cannot make the second round: {exc}", 409) from None
        with transaction(self.factory) as s:
            try:
                election = repo.create_election(s, slug=new_slug, title=manifest2.title)
            except repo.SlugTaken:
                raise ServiceError(f"the short name {new_slug!r} is already used by another "
                                   "meeting", 409) from None
            s.add_all(RollEntry(election_id=election.id, position=i, roll_id=e.roll_id,
                                name=e.name, status=e.status, reason=e.reason)
                      for i, e in enumerate(manifest2.roll, 1))
            s.add_all(Unit(election_id=election.id, position=i, unit_id=u.unit_id, name=u.name,
                           kind=u.kind, grp=u.group, self_level=None, proposed_level=None,
                           score=u.score, collective=None, disciplined=u.disciplined)
                      for i, u in enumerate(manifest2.units, 1))
            for i, name in enumerate(manifest2.trustees.members, 1):
                t = repo.add_trustee(s, election.id, i, name)
                t.access_hash = trustee_hashes.get(i)  # the round-one access codes log in
            s.flush()
            entry_ids = {e.roll_id: e.id for e in repo.roll(s, election.id)}
            # The same invitation codes, unused: the stored hash is bound to this election
            # (repo.second_round_code_hash), since a code hash appears once in the table.
            s.add_all(Invitation(election_id=election.id, roll_entry_id=entry_ids[roll_id],
                                 code_hash=repo.second_round_code_hash(code_hash, new_slug))
                      for roll_id, code_hash in codes if roll_id in entry_ids)
            repo.set_manifest(s, election.id, manifest_json=manifest2.canonical_bytes().decode(),
                              manifest_hash=manifest2.manifest_hash().hex())
            repo.append_audit(s, election_id=election.id, actor="secretary",
                              action="create_second_round",
                              detail={"manifest_hash": manifest2.manifest_hash().hex(),
                                      "first_round": slug, "record_sha256": record_sha256})
            self.keys.save_issuer_key(new_slug, issuer)
        return new_slug

    def rounds(self, slug: str) -> dict[str, Any]:
        """``{"round": 1 or 2, "first_round": slug | None, "second_round": slug | None,
        "second_round_status": status | None, "candidates": bool}``: how this election is
        linked to another, for the pages."""
        with transaction(self.factory, read_only=True) as s:
            election = self._election(s, slug)
            manifest = self.manifest(s, election) if election.manifest_json else None
            if manifest is not None and manifest.ballot_b is not None:
                return {"round": 2, "first_round": manifest.ballot_b.first_round.slug,
                        "second_round": None, "second_round_status": None, "candidates": False}
            other = self._linked_second_round(s, slug)
            rows = repo.tallies(s, election.id, "result")
            candidates = bool(rows and parse_json(rows[-1].payload_json)["results"].get("second_round"))
            return {"round": 1, "first_round": None,
                    "second_round": other.slug if other is not None else None,
                    "second_round_status": other.status if other is not None else None,
                    "candidates": candidates}

    def second_round_minutes(self, slug: str) -> dict[str, Any] | None:
        """For the first round's minutes: ``{"second_round": {"agree", "disagree", "outcome",
        "texts"}}`` from its finalized second round — its counts, and its results as that
        round counted them (its own N and quorum), never counted again — or None while there
        is none."""
        with transaction(self.factory, read_only=True) as s:
            self._election(s, slug)
            other = self._linked_second_round(s, slug)
            if other is None or other.status not in ("tallied", "published"):
                return None
            rows = repo.tallies(s, other.id, "result")
            if not rows:
                return None
            manifest = self.manifest(s, other)
            agree, disagree = (lv.code for lv in manifest.levels)
            payload = parse_json(rows[-1].payload_json)
            counts, results = payload["counts"], payload["results"]
            texts = {(g.get("group") or ""): g["text"]["vi"] for g in results.get("ballot_b") or []}
            if not texts:  # no group counted: the quorum failed
                texts = {(b.group or ""): results["quorum"]["text"]["vi"]
                         for b in manifest.ballot_b.ballots}  # type: ignore[union-attr]
            return {"second_round": {
                "agree": {c["unit_id"]: c["votes"].get(agree, 0) for c in counts},
                "disagree": {c["unit_id"]: c["votes"].get(disagree, 0) for c in counts},
                "outcome": {u["unit_id"]: u["outcome"] for u in results["units"]},
                "texts": texts}}
