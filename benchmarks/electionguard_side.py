"""ElectionGuard 1.4.0 on the same ballot shape, run by benchmarks/suite.py in its own venv.

Runs under Python 3.10 (ElectionGuard 1.4.0 does not import on 3.11) inside
``benchmarks/.venv-eg``; it must not import anything from ``ballot``. It prints one JSON
document on stdout (progress goes to stderr).

The shape: ``--contests`` contests of ``--selections`` selections each, vote for one (an
ElectionGuard "one_of_m" contest with number_elected = votes_allowed = 1, so one placeholder
selection per contest), 3 guardians with quorum 2 — the same trustees as ours.

Measured (wall clock, medians taken by the caller):

* ``encrypt``: ``encrypt_ballot`` of one full ballot (its default: proofs made, not re-verified);
* ``verify``: ``CiphertextBallot.is_valid_encryption`` — every selection's disjunctive proof and
  every contest's constant Chaum–Pedersen proof, and the ballot's hash chain;
* ``tally``: ``CiphertextTally.append(..., should_validate=False)`` of ``--tally-ballots``
  submitted ballots (the committee has the verified board; the ballots were checked at cast);
  the ``--tally-ballots`` ballots are the ``--repeat`` encrypted ones cast again under fresh
  ballot ids, round robin: accumulation does not depend on the votes;
* ``decrypt``: guardians 1 and 2 present, guardian 3 missing: each present guardian's tally
  share (partial decryption + Chaum–Pedersen proof, which ElectionGuard self-checks), each
  present guardian's compensated share for the missing one (with proof), reconstruction of
  the missing share, and ``decrypt_tally`` (verifies every share, combines, discrete logs).
  The result is compared with the plaintext sum.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import platform
import random
import resource
import sys
import time
from datetime import datetime, timedelta


def _children_cpu() -> float:
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


def log(msg: str) -> None:
    print(f"[electionguard] {msg}", file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--contests", type=int, default=100)
    p.add_argument("--selections", type=int, default=4)
    p.add_argument("--repeat", type=int, default=3, help="ballots encrypted and verified (timed)")
    p.add_argument("--tally-ballots", type=int, default=0,
                   help="ballots in the tally; 0 skips tally and decryption")
    p.add_argument("--guardians", type=int, default=3)
    p.add_argument("--quorum", type=int, default=2)
    p.add_argument("--json", required=True, help="where to write the results")
    p.add_argument("--decrypt-via", choices=("guardian", "shared-scheduler"), default="guardian",
                   help="guardian (default): Guardian.compute_tally_share and "
                        "compute_compensated_tally_share, the documented API, which make a new "
                        "Scheduler (a process pool and a thread pool) for every contest; "
                        "shared-scheduler: the functions they call, given one Scheduler (it "
                        "made no measurable difference on the development machine)")
    p.add_argument("--keep-logging", action="store_true",
                   help="leave ElectionGuard's INFO logging on (as shipped)")
    args = p.parse_args(argv)

    t_import = time.perf_counter()
    import gmpy2
    import electionguard  # noqa: F401
    import electionguard.logs as eg_logs

    if not args.keep_logging:
        # ElectionGuard 1.4.0 logs every ElGamal encryption at INFO level to stdout, and
        # formats each message with inspect.stack() before the level is checked. That is not
        # cryptography: switch debug and info off so that the comparison is with its math.
        eg_logs.ElectionGuardLog.debug = lambda self, *a, **k: None
        eg_logs.ElectionGuardLog.info = lambda self, *a, **k: None
    from electionguard.ballot import (
        PlaintextBallot,
        PlaintextBallotContest,
        PlaintextBallotSelection,
    )
    from electionguard.ballot_box import cast_ballot
    from electionguard.decrypt_with_shares import decrypt_tally
    from electionguard.decryption import (
        compute_compensated_decryption_share,
        compute_decryption_share,
        compute_lagrange_coefficients_for_guardians,
        reconstruct_decryption_share,
    )
    from electionguard.election import make_ciphertext_election_context
    from electionguard.encrypt import EncryptionDevice, encrypt_ballot, generate_device_uuid
    from electionguard.guardian import Guardian
    from electionguard.key_ceremony import CeremonyDetails
    from electionguard.key_ceremony_mediator import KeyCeremonyMediator
    from electionguard.manifest import (
        BallotStyle,
        Candidate,
        ContestDescription,
        ElectionType,
        GeopoliticalUnit,
        InternalManifest,
        Manifest,
        ReportingUnitType,
        SelectionDescription,
        SpecVersion,
        VoteVariationType,
    )
    from electionguard.scheduler import Scheduler
    from electionguard.serialize import to_raw
    from electionguard.tally import CiphertextTally
    from electionguard.utils import get_optional

    try:
        from importlib.metadata import version

        eg_version = version("electionguard")
    except Exception:  # pragma: no cover - metadata is always there in the venv
        eg_version = "?"
    import_s = time.perf_counter() - t_import
    C, S, N, K = args.contests, args.selections, args.guardians, args.quorum

    # --- manifest: C contests x S selections, vote for one -----------------------------------
    candidates = [Candidate(f"cand-{j}") for j in range(S)]
    contests = [
        ContestDescription(
            object_id=f"contest-{c}", sequence_order=c, electoral_district_id="district",
            vote_variation=VoteVariationType.one_of_m, number_elected=1, votes_allowed=1,
            name=f"Unit {c}",
            ballot_selections=[SelectionDescription(f"contest-{c}-sel-{j}", j, f"cand-{j}")
                               for j in range(S)])
        for c in range(C)
    ]
    start = datetime(2025, 12, 15)
    manifest = Manifest(
        election_scope_id="ballot-bench", spec_version=SpecVersion.EG0_95,
        type=ElectionType.other, start_date=start, end_date=start + timedelta(days=1),
        geopolitical_units=[GeopoliticalUnit("district", "District", ReportingUnitType.unknown)],
        parties=[], candidates=candidates, contests=contests,
        ballot_styles=[BallotStyle("style", ["district"])])
    if not manifest.is_valid():
        raise SystemExit("the ElectionGuard manifest is not valid")
    internal = InternalManifest(manifest)

    # --- key ceremony: N guardians, quorum K ---------------------------------------------------
    log(f"key ceremony: {N} guardians, quorum {K}")
    t0 = time.perf_counter()
    guardians = [Guardian.from_nonce(f"guardian-{i}", i, N, K) for i in range(1, N + 1)]
    mediator = KeyCeremonyMediator("mediator", CeremonyDetails(N, K))
    for g in guardians:
        mediator.announce(g.share_key())
    for g in guardians:
        for key in get_optional(mediator.share_announced(g.id)):
            g.save_guardian_key(key)
    for g in guardians:
        g.generate_election_partial_key_backups()
        mediator.receive_backups(g.share_election_partial_key_backups())
    for g in guardians:
        for backup in get_optional(mediator.share_backups(g.id)):
            g.save_election_partial_key_backup(backup)
    for g in guardians:
        verifications = [get_optional(g.verify_election_partial_key_backup(other.id))
                         for other in guardians if other.id != g.id]
        mediator.receive_backup_verifications(verifications)
    joint = get_optional(mediator.publish_joint_key())
    context = make_ciphertext_election_context(N, K, joint.joint_public_key,
                                               joint.commitment_hash, manifest.crypto_hash())
    ceremony_s = time.perf_counter() - t0

    # --- ballots ---------------------------------------------------------------------------------
    rng = random.Random(20251215)
    device = EncryptionDevice(generate_device_uuid(), 12345, 67890, "bench")
    seed = device.get_hash()

    def plaintext(index: int) -> tuple[PlaintextBallot, list[int]]:
        picks = [rng.randrange(S) for _ in range(C)]
        return PlaintextBallot(f"ballot-{index}", "style", [
            PlaintextBallotContest(f"contest-{c}", [
                PlaintextBallotSelection(f"contest-{c}-sel-{pick}", 1)])
            for c, pick in enumerate(picks)]), picks

    encrypted, picks_all, enc_s, ver_s, enc_cpu, ver_cpu = [], [], [], [], [], []
    for i in range(args.repeat):
        pb, picks = plaintext(i)
        log(f"encrypt ballot {i + 1}/{args.repeat}")
        t0, c0 = time.perf_counter(), time.process_time()
        eb = encrypt_ballot(pb, internal, context, seed)
        enc_s.append(time.perf_counter() - t0)
        enc_cpu.append(time.process_time() - c0)
        eb = get_optional(eb)
        log(f"verify ballot {i + 1}/{args.repeat} ({enc_s[-1]:.1f} s to encrypt)")
        t0, c0 = time.perf_counter(), time.process_time()
        ok = eb.is_valid_encryption(internal.manifest_hash, context.elgamal_public_key,
                                    context.crypto_extended_base_hash)
        ver_s.append(time.perf_counter() - t0)
        ver_cpu.append(time.process_time() - c0)
        if not ok:
            raise SystemExit("ElectionGuard did not verify its own ballot")
        encrypted.append(eb)
        picks_all.append(picks)
    ballot_json_bytes = len(to_raw(encrypted[0]).encode())
    selections_per_contest = len(encrypted[0].contests[0].ballot_selections)

    out = {
        "python": platform.python_version(),
        "electionguard": eg_version,
        "gmpy2": gmpy2.version(),
        "contests": C,
        "selections": S,
        "selections_with_placeholders": selections_per_contest,
        "guardians": N,
        "quorum": K,
        "import_s": import_s,
        "ceremony_s": ceremony_s,
        "logging": "as shipped (INFO)" if args.keep_logging else "debug/info off",
        "encrypt_s": enc_s,
        "encrypt_cpu_s": enc_cpu,
        "verify_s": ver_s,
        "verify_cpu_s": ver_cpu,
        "ballot_json_bytes": ballot_json_bytes,
    }

    if args.tally_ballots:
        T = args.tally_ballots
        scheduler = Scheduler()  # its process and thread pools: created once, before timing
        submitted = []
        expected = {f"contest-{c}-sel-{j}": 0 for c in range(C) for j in range(S)}
        for b in range(T):
            src = b % len(encrypted)
            submitted.append(cast_ballot(dataclasses.replace(encrypted[src],
                                                             object_id=f"cast-{b}")))
            for c, pick in enumerate(picks_all[src]):
                expected[f"contest-{c}-sel-{pick}"] += 1
        log(f"tally: accumulate {T} ballots")
        t0, c0 = time.perf_counter(), time.process_time()
        tally = CiphertextTally("tally", internal, context)
        if not tally.batch_append([(sb.object_id, sb) for sb in submitted],
                                  should_validate=False, scheduler=scheduler):
            raise SystemExit("ElectionGuard refused the ballots in the tally")
        if tally.cast() != T:
            raise SystemExit(f"ElectionGuard tallied {tally.cast()} of {T} ballots")
        tally_s = time.perf_counter() - t0
        tally_cpu = time.process_time() - c0
        # the accumulation ran in the scheduler's worker processes: reap them to see their CPU
        k0 = _children_cpu()
        pool = getattr(scheduler, "_Scheduler__process_pool", None)
        scheduler.close()
        if pool is not None:
            pool.join()
        tally_workers_cpu = _children_cpu() - k0

        present, missing = guardians[:K], guardians[K:]
        log(f"decrypt: guardians {[g.id for g in present]} present, "
            f"{[g.id for g in missing]} missing (compensated)")
        shared = args.decrypt_via == "shared-scheduler"
        dec_scheduler = Scheduler() if shared else None
        t0, c0 = time.perf_counter(), time.process_time()

        def tally_share(g: Guardian):
            if not shared:
                return g.compute_tally_share(tally, context)
            # what Guardian.compute_tally_share does, with the one scheduler
            return compute_decryption_share(g._election_keys, tally, context, dec_scheduler)

        def compensated_share(g: Guardian, m: Guardian):
            if not shared:
                return g.compute_compensated_tally_share(m.id, tally, context)
            # what Guardian.compute_compensated_tally_share does, with the one scheduler
            coordinate = g.decrypt_backup(g._guardian_election_partial_key_backups[m.id])
            return compute_compensated_decryption_share(
                get_optional(coordinate), g.share_key(), m.share_key(), tally, context,
                dec_scheduler)

        shares = {}
        for g in present:
            shares[g.id] = get_optional(tally_share(g))
        t_shares = time.perf_counter() - t0
        lagrange = compute_lagrange_coefficients_for_guardians(
            [g.share_key() for g in present])
        for m in missing:
            comp = {g.id: get_optional(compensated_share(g, m)) for g in present}
            shares[m.id] = reconstruct_decryption_share(m.share_key(), tally, comp, lagrange)
        t_comp = time.perf_counter() - t0 - t_shares
        plaintext_tally = get_optional(decrypt_tally(
            tally, shares, context.crypto_extended_base_hash, manifest))
        decrypt_s = time.perf_counter() - t0
        decrypt_cpu = time.process_time() - c0
        got = {sid: sel.tally for contest in plaintext_tally.contests.values()
               for sid, sel in contest.selections.items()}
        if any(got.get(k) != v for k, v in expected.items()):
            raise SystemExit("ElectionGuard's decrypted tally does not match the votes")
        out.update({
            "tally_ballots": T,
            "tally_s": tally_s,
            "tally_cpu_s": tally_cpu + tally_workers_cpu,
            "tally_workers_cpu_s": tally_workers_cpu,
            "decrypt_s": decrypt_s,
            "decrypt_cpu_s": decrypt_cpu,
            "decrypt_parts_s": {"shares": t_shares, "compensated": t_comp,
                                "combine_verify_dlog": decrypt_s - t_shares - t_comp},
            "tally_correct": True,
            "decrypt_via": args.decrypt_via,
        })
    with open(args.json, "w", encoding="utf-8") as fh:
        json.dump(out, fh, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
