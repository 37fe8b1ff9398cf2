"""A meeting from set-up to published record: the use cases behind every page and command.

Each function takes a session factory and runs one transaction, so it is safe with several
server workers; nothing is kept in process memory between requests.
"""

from __future__ import annotations

import functools
import hashlib
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from ballot.crypto import blind_rsa
from ballot.crypto.elgamal import Ciphertext
from ballot.crypto.encoding import EncodingError, b64decode, b64encode, canonical_json, parse_json
from ballot.crypto.threshold import CeremonyError, verify_trustee_public
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
    RollEntry,
    Trustee,
    Unit,
)
from ballot.tally.context import ContextError, ElectionContext, trustee_public_from_json, trustee_public_to_json
from ballot.tally.decryption import (
    DecryptionError,
    TrusteeDecryption,
    verify_decryption,
)

from . import checker, counting, credentials, verified, voting
from . import paper as paper_instead
from .keys import KeyStore


def _checks(s: Session, election_id: int) -> dict[str, int]:
    """The board's counters: ballots received, and how many are checked, valid, invalid."""
    p = checker.progress(s, election_id)
    return {"ballots": p.received, "checked": p.checked, "valid": p.valid,
            "invalid": p.invalid, "unchecked": p.unchecked}

__all__ = ["ServiceError", "Meeting"]

if TYPE_CHECKING:
    from .ratelimit import Throttles


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


def _new_trustee_code() -> str:
    """A trustee's access code: the invitation codes' alphabet (Crockford base32, 100 bits,
    groups of five), typed in any case, with or without dashes, O/I/L read as 0/1."""
    return repo.new_invitation_code()


def _trustee_hash(code: str) -> str:
    from .trustee_access import enrolment_hash

    return enrolment_hash(code)


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

    def _receipt_key_b64(self) -> str:
        """The receipt key, bound into every new manifest (hence the fingerprint)."""
        return b64encode(bytes(self.keys.receipt_key().verify_key))

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
            receipt_key=self._receipt_key_b64(),
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
                codes[name] = _new_trustee_code()
                t.access_hash = _trustee_hash(codes[name])
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
            if t.credential_hash is not None:
                raise ServiceError(f"trustee {index} has chosen their own access code: the "
                                   "secretary can no longer replace it", 409)
            code = _new_trustee_code()
            t.access_hash = _trustee_hash(code)
            repo.append_audit(s, election_id=election.id, actor="secretary",
                              action="new_trustee_code", detail={"trustee": index})
            return t.name, code

    def trustee_login(self, s: Session, election: Election, index: int, code: str) -> Trustee:
        """The trustee whose own access code (chosen at enrolment) this is
        (service/trustee_access.py); the secretary's enrolment code is refused."""
        from .trustee_access import check_trustee

        return check_trustee(self, s, election, index, code)

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
                    "approved": t.approval_json is not None,
                    "enrolled": t.credential_hash is not None,
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
            if election.status == "key_ceremony" and election.context_json:
                from .ceremony import require_approvals

                require_approvals(self, s, election)  # every trustee approved the fingerprint
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
                # the key bound in the manifest (older manifests: the server's)
                "receipt_key": ctx.manifest.receipt_key or self._receipt_key_b64(),
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

    @functools.cached_property
    def throttles(self) -> "Throttles":
        """The abuse throttles (ratelimit.py), counted in the database."""
        from .ratelimit import Throttles

        return Throttles(self.factory, self.keys)

    def issue_token(self, slug: str, invitation: str | None, blinded: str, *,
                    client: str | None = None, credential: str | None = None) -> str:
        """:meth:`_issue_token`, its refusals counted per (client address, election) across
        every worker (ratelimit.InvitationThrottle: a right code is never blocked).
        ``credential``: the per-round credential the phone sends (docs/protocol.md §7.1);
        ``invitation``: the code itself (scripts)."""
        def redeem() -> str:
            if credential is None and isinstance(invitation, str) and \
                    not repo.normalize_invitation_code(invitation):
                raise ServiceError("the invitation code is empty: type the code on your slip")
            return self._issue_token(slug, invitation, blinded, credential=credential)

        return self.throttles.invitations.run(slug, client, redeem)

    def _issue_token(self, slug: str, invitation: str | None, blinded: str, *,
                     credential: str | None = None) -> str:
        """Redeem the invitation once and blind-sign the voter's blinded token message.

        Only "roll entry X received a token" is written. Sending the same invitation with the
        same blinded message again returns the same signature (a lost response can be
        retried); a different blinded message is refused.
        """
        if not isinstance(blinded, str):
            raise ServiceError("send invitation and blinded_msg as strings")
        try:
            code_hash = credentials.stored_hash(slug, credential_hex=credential, invitation=invitation)
        except credentials.CredentialError as exc:
            raise ServiceError(str(exc)) from None
        with transaction(self.factory) as s:
            election = self._election(s, slug)
            require_status(election, "open", action="issue a token")
            key = self.keys.issuer_key(slug)
            try:
                blinded_raw = b64decode(blinded, key.public_key().modulus_bytes, "blinded_msg")
            except EncodingError as exc:
                raise ServiceError(str(exc)) from None
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

    def cast(self, slug: str, ballot_json: Any, *, client: str | None = None) -> dict[str, Any]:
        """Receive a ballot: the cheap checks, the board append, the signed receipt; its
        proofs are checked in the background (:mod:`ballot.service.voting`). ``client``: the
        sender's address (kept for the API's signature; receiving costs no proof check, so a
        replayed ballot costs only the cheap checks and is refused as "token already used")."""
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

    def set_aside_token(self, slug: str, roll_id: str) -> dict[str, int]:
        """A member whose phone session is lost votes on paper instead (service/paper.py)."""
        return paper_instead.set_aside_token(self, slug, roll_id)

    def paper_instead(self, slug: str) -> dict[str, Any]:
        return paper_instead.paper_instead_view(self, slug)

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

    def close_voting(self, slug: str, *, present: int | None = None,
                     paper: dict[str, Any] | None = None, wait: bool = True) -> dict[str, Any]:
        """Close voting with the attendance and the paper figures (:mod:`.counting`); with
        ``wait``, also finish checking the received ballots and store the aggregate of the
        valid ones (:func:`ballot.service.voting.finish_close`)."""
        closed = counting.close_voting(self, slug, present=present, paper=paper)
        if wait:
            voting.finish_close(self, slug)
        else:
            # The checker's work may already be done: then the aggregate is there at once.
            with transaction(self.factory, read_only=True) as s:
                election_id = self._election(s, slug).id
            checker.store_aggregate_if_ready(self.factory, election_id)
        return closed

    def finish_close(self, slug: str, *, budget: float | None = None) -> bool:
        """Check what is still unchecked of a closed election (for ``budget`` seconds at
        most), then store the aggregate once all are checked. True once it exists."""
        return voting.finish_close(self, slug, budget=budget)

    def close_state(self, slug: str) -> dict[str, Any] | None:
        return counting.close_state(self, slug)

    # -- tally -------------------------------------------------------------------------------
    def _totals(self, s: Session, election: Election) -> tuple[Ciphertext, ...]:
        """The aggregate of the valid ballots, recomputed from the board every time
        (service/decryption.py)."""
        from .decryption import board_totals

        return board_totals(self, s, election)

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
            counting.require_paper_counts_before_decryption(self, s, election)
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
        """Per-unit paper counts, before the first decryption (:mod:`.counting`)."""
        counting.enter_paper_counts(self, slug, paper)

    def finalize(self, slug: str, *, progress: Any = None) -> Path:
        """Count, write the record and verify it; → tallied (:mod:`.counting`)."""
        return counting.finalize(self, slug, progress=progress)

    def verified_record(self, slug: str) -> verified.VerifiedRecord:
        """The tallied election's record, verified (cached by its SHA-256)."""
        return verified.verified_record(self, slug)

    def results(self, slug: str) -> dict[str, Any]:
        """The counts and results of a tallied election, from its verified record file."""
        v = self.verified_record(slug)
        with transaction(self.factory, read_only=True) as s:
            status = self._election(s, slug).status
        return {"manifest": v.record["manifest"], "base_hash": v.record["base_hash"],
                "status": status, "counts": v.record["counts"], "results": v.record["results"],
                "record_sha256": v.sha256, "verified": v.report.ok}

    def publish(self, slug: str) -> None:
        with transaction(self.factory) as s:
            election = self._election(s, slug)
            transition(s, election, "published")

    def published_meetings(self) -> list[dict[str, Any]]:
        """For the home page (service/publishing.py)."""
        from .publishing import published_meetings

        return published_meetings(self)

    def record_path(self, slug: str) -> Path:
        return self.records_dir / f"{slug}.record.json"

    # -- the second round (ballot B) ---------------------------------------------------------
    @staticmethod
    def second_round_slug(slug: str) -> str:
        """The short name of a first round's second round: ``<slug>-v2`` (within 64 characters)."""
        return repo.next_round_slug(slug)

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
        v = self.verified_record(slug)  # results from the verified record only
        with transaction(self.factory, read_only=True) as s:
            first = self._election(s, slug)
            results = v.record["results"]
            ballots = results.get("second_round") or []
            if not ballots:
                raise ServiceError("the results send no candidate to a second round", 409)
            if self._linked_second_round(s, slug) is not None:
                raise ServiceError(f"the second round already exists: "
                                   f"{self.second_round_slug(slug)}", 409)
            record_sha256 = v.sha256
            trustee_hashes = {t.index: (t.access_hash, t.credential_hash)
                              for t in repo.trustees(s, first.id)}
            # Each invitation's hash for the second round's slug (made with the code at
            # round one), in roll order: the rows' own order could follow the redemptions.
            first_roll = {e.id: (e.position, e.roll_id) for e in repo.roll(s, first.id)}
            codes = [(roll_id, h) for _, roll_id, h in sorted(
                (*first_roll[i.roll_entry_id], i.next_round_hash) for i in s.execute(
                    select(Invitation).where(Invitation.election_id == first.id,
                                             Invitation.next_round_hash.is_not(None))).scalars())]
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
                receipt_key=self._receipt_key_b64(),
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
                # the round-one access codes log in (the trustee's own, once enrolled)
                t.access_hash, t.credential_hash = trustee_hashes.get(i, (None, None))
            s.flush()
            entry_ids = {e.roll_id: e.id for e in repo.roll(s, election.id)}
            # The same invitation codes, unused, under this round's credentials (docs/protocol.md
            # §7.1): round one's credentials, all a listener on the Wi-Fi saw, do not work here.
            # A member whose invitation predates them (migration 0006) gets a new slip.
            s.add_all(Invitation(election_id=election.id, roll_entry_id=entry_ids[roll_id],
                                 code_hash=next_hash)
                      for roll_id, next_hash in codes if roll_id in entry_ids)
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
            manifest = self.manifest(s, other)
            other_slug = other.slug
        v = self.verified_record(other_slug)  # refused if round two's record does not verify
        if v.record["manifest"] != manifest.to_json():
            raise ServiceError("the second round's record is not for its manifest", 409)
        agree, disagree = (lv.code for lv in manifest.levels)
        counts, results = v.record["counts"], v.record["results"]
        texts = {(g.get("group") or ""): g["text"]["vi"] for g in results.get("ballot_b") or []}
        if not texts:  # no group counted: the quorum failed
            texts = {(b.group or ""): results["quorum"]["text"]["vi"]
                     for b in manifest.ballot_b.ballots}  # type: ignore[union-attr]
        return {"second_round": {
            "agree": {c["unit_id"]: c["votes"].get(agree, 0) for c in counts},
            "disagree": {c["unit_id"]: c["votes"].get(disagree, 0) for c in counts},
            "outcome": {u["unit_id"]: u["outcome"] for u in results["units"]},
            "texts": texts, "verification": v.line}}
