"""Aggregation of the board and threshold decryption of the per-unit totals.

Only the aggregate of each unit is ever decrypted: trustee l publishes M = A^(s_l) for the
aggregate (A, B) of each unit, with a Chaum–Pedersen proof against its public share; any k
valid ones combine to g^V = B − Π M_l^(λ_l), and V's base-R digits are the counts.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable, Mapping, Sequence

from ballot.crypto.ballots import EncryptedBallot
from ballot.crypto.elgamal import ZERO_CIPHERTEXT, Ciphertext
from ballot.crypto.encoding import EncodingError, b64decode, b64encode, sha256, uint32
from ballot.crypto.group import Point, base_mul, decode_point
from ballot.crypto.dlog import (DlogError, DlogTable, baby_steps, cached_table, remember_table,
                                table_size)
from ballot.crypto.proofs import DleqProof, ProofError
from ballot.crypto.threshold import PartialDecryption, combine_partials, partial_decrypt, verify_partial
from ballot.election.counts import UnitCounts

from . import parallel
from .context import ElectionContext

__all__ = [
    "DecryptionError",
    "TrusteeDecryption",
    "aggregate",
    "aggregate_accepted",
    "decrypt_aggregate",
    "verify_decryption",
    "combine_decryptions",
    "digits_to_counts",
    "discrete_logs",
    "value_of_counts",
]

#: Below these amounts of work per worker process, the work stays in the calling process
#: (starting the workers costs about 80 ms; an addition about 15 µs, a look-up step as much).
MIN_ADDITIONS_PER_WORKER = 4000
MIN_LOGS_PER_WORKER = 16


class DecryptionError(ValueError):
    """A partial decryption that is malformed or does not verify, or too few of them."""


def aggregate(ballots: Sequence[EncryptedBallot], num_units: int) -> tuple[Ciphertext, ...]:
    """The product of every ballot's ciphertext, unit by unit."""
    totals = [ZERO_CIPHERTEXT] * num_units
    for b in ballots:
        for u, (ct, _) in enumerate(b.units):
            totals[u] = totals[u] + ct
    return tuple(totals)


def _sum_columns(rows: Sequence[Sequence[str]]) -> list[bytes]:
    """The totals of one slice of units: ``rows`` holds, per ballot, that slice's strings."""
    totals = [ZERO_CIPHERTEXT] * (len(rows[0]) if rows else 0)
    for units in rows:
        for u, text in enumerate(units):
            raw = b64decode(text)
            totals[u] = totals[u] + Ciphertext(Point(raw[:32]), Point(raw[32:64]))
    return [c.to_bytes() for c in totals]


def aggregate_accepted(unit_lists: Iterable[Sequence[str]], num_units: int, *,
                       workers: int | None = None) -> tuple[Ciphertext, ...]:
    """The aggregate of ballots the server itself accepted: their ``units`` strings, whose
    points were validated when each ballot was cast, are decoded without checking them again
    (20,000 subgroup checks for 100 × 100). The verifier never uses this: it checks everything.
    The units are shared out among ``workers`` processes (default: one per core) when there
    is enough work."""
    rows = [list(units) for units in unit_lists]
    if any(len(units) != num_units for units in rows):
        raise DecryptionError(f"a ballot on the board does not have {num_units} units")
    if not rows:
        return (ZERO_CIPHERTEXT,) * num_units
    n = parallel.worker_count(workers, len(rows) * num_units,
                              min_per_worker=MIN_ADDITIONS_PER_WORKER)
    jobs = [[units[r.start : r.stop] for units in rows] for r in parallel.slices(num_units, n)]
    with parallel.Workers(n) as pool:
        parts = pool.map(_sum_columns, jobs)
    return tuple(Ciphertext(Point(c[:32]), Point(c[32:])) for part in parts for c in part)


def partial_context(base_hash: bytes, trustee: int, unit: int) -> bytes:
    return sha256("ballot/v1/ctx/partial-decryption", base_hash, uint32(trustee), uint32(unit))


@dataclass(frozen=True)
class TrusteeDecryption:
    trustee: int
    partials: tuple[PartialDecryption, ...]  # one per unit, in manifest order

    def to_json(self) -> dict[str, Any]:
        return {
            "trustee": self.trustee,
            "units": [b64encode(p.share.data + p.proof.to_bytes()) for p in self.partials],
        }

    @classmethod
    def from_json(cls, data: Any, num_units: int, where: str = "decryption") -> "TrusteeDecryption":
        if not isinstance(data, dict) or set(data) != {"trustee", "units"}:
            raise DecryptionError(f"{where}: expected the fields trustee and units")
        t = data["trustee"]
        if isinstance(t, bool) or not isinstance(t, int) or t < 1:
            raise DecryptionError(f"{where}.trustee: a positive integer")
        units = data["units"]
        if not isinstance(units, list) or len(units) != num_units:
            raise DecryptionError(f"{where}.units: expected {num_units} entries")
        partials = []
        try:
            for u, text in enumerate(units):
                raw = b64decode(text, 96, f"{where}.units[{u}]")
                partials.append(PartialDecryption(
                    t, decode_point(raw[:32], f"{where}.units[{u}].share"),
                    DleqProof.from_bytes(raw[32:], f"{where}.units[{u}].proof")))
        except EncodingError as exc:
            raise DecryptionError(str(exc)) from None
        return cls(t, tuple(partials))


def decrypt_aggregate(
    ctx: ElectionContext, trustee: int, secret_share: int, totals: Sequence[Ciphertext]
) -> TrusteeDecryption:
    """What trustee ``trustee`` computes on its own device with its secret share."""
    S = ctx.public_share(trustee)
    if base_mul(secret_share) != S:
        raise DecryptionError(f"trustee {trustee}: this secret share does not match the election")
    return TrusteeDecryption(trustee, tuple(
        partial_decrypt(partial_context(ctx.base_hash, trustee, u), trustee, secret_share, S, ct.alpha)
        for u, ct in enumerate(totals)))


def verify_decryption(
    ctx: ElectionContext, totals: Sequence[Ciphertext], dec: TrusteeDecryption
) -> None:
    if not 1 <= dec.trustee <= ctx.manifest.trustees.n:
        raise DecryptionError(f"trustee {dec.trustee} is not one of the election's trustees")
    if len(dec.partials) != len(totals):
        raise DecryptionError(f"trustee {dec.trustee}: expected {len(totals)} partial decryptions")
    S = ctx.public_share(dec.trustee)
    for u, (ct, p) in enumerate(zip(totals, dec.partials)):
        if p.trustee != dec.trustee:
            raise DecryptionError(f"trustee {dec.trustee}: unit {u + 1} is signed by another trustee")
        try:
            verify_partial(partial_context(ctx.base_hash, dec.trustee, u), S, ct.alpha, p)
        except ProofError:
            raise DecryptionError(
                f"trustee {dec.trustee}: the decryption proof for unit {u + 1} does not verify"
            ) from None


def combined_points(
    ctx: ElectionContext, totals: Sequence[Ciphertext], decs: Mapping[int, TrusteeDecryption]
) -> tuple[Point, ...]:
    """g^V for each unit, from k (already verified) trustee decryptions."""
    k = ctx.threshold
    if len(decs) < k:
        raise DecryptionError(f"{len(decs)} trustee decryptions, {k} needed")
    chosen = sorted(decs)[:k]
    return tuple(
        ct.beta - combine_partials({t: decs[t].partials[u].share for t in chosen}, k)
        for u, ct in enumerate(totals)
    )


def digits_to_counts(value: int, radix: int, codes: Sequence[str], ballots: int) -> UnitCounts:
    votes = {}
    for code in codes:
        value, votes[code] = divmod(value, radix)
    if value:
        raise DecryptionError("the decrypted total has more digits than levels")
    marked = sum(votes.values())
    if marked > ballots:
        raise DecryptionError(f"{marked} marks for {ballots} ballots")
    return UnitCounts(votes, abstain=ballots - marked)


def value_of_counts(counts: UnitCounts, radix: int, codes: Sequence[str]) -> int:
    return sum(counts.vote(code) * radix**i for i, code in enumerate(codes))


def _logs(job: tuple[int, bytes | None, int, Sequence[bytes]]) -> list[int | None]:
    size, entries, bound, points = job
    table = cached_table(size) if entries is None else DlogTable(size, entries)
    out: list[int | None] = []
    for data in points:
        try:
            out.append(table.log(Point(data), bound))  # type: ignore[union-attr]
        except DlogError:
            out.append(None)
    return out


def _baby_steps(job: tuple[int, int]) -> bytes:
    return baby_steps(*job)


def discrete_logs(points: Sequence[Point], bound: int, *,
                  workers: int | None = None) -> list[int | None]:
    """m with g^m = point in [0, bound] for each point (``None`` where there is none).

    With several workers, the table (if this process has not built it yet) is built in
    slices, one per worker, then each worker searches a slice of the points."""
    size = table_size(bound)
    n = parallel.worker_count(workers, len(points), min_per_worker=MIN_LOGS_PER_WORKER)
    if n <= 1:
        return _logs((size, None, bound, [p.data for p in points]))
    with parallel.Workers(n) as pool:
        table = cached_table(size, build=False)
        if table is None:
            parts = pool.map(_baby_steps, [(r.start, r.stop) for r in parallel.slices(size, n)])
            table = remember_table(DlogTable(size, b"".join(parts)))
        jobs = [(size, table.entries, bound, [points[i].data for i in r])
                for r in parallel.slices(len(points), n)]
        return [m for part in pool.map(_logs, jobs) for m in part]


def combine_decryptions(
    ctx: ElectionContext,
    totals: Sequence[Ciphertext],
    decs: Mapping[int, TrusteeDecryption],
    ballots: int,
    *,
    workers: int | None = None,
) -> tuple[UnitCounts, ...]:
    """The electronic counts of every unit (abstentions = ballots − marks); the discrete
    logarithms are shared out among ``workers`` processes (default: one per core)."""
    radix, codes = ctx.shape.radix, ctx.manifest.levels.codes
    bound = ballots * radix ** (len(codes) - 1)
    values = discrete_logs(combined_points(ctx, totals, decs), bound, workers=workers)
    out = []
    for u, value in enumerate(values):
        if value is None:
            raise DecryptionError(f"unit {u + 1}: the decrypted total is out of range")
        out.append(digits_to_counts(value, radix, codes, ballots))
    return tuple(out)
