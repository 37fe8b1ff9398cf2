"""The verifier catches every kind of tampering and names it (issue: `ballot verify`)."""

from __future__ import annotations

import copy
import json

import pytest
from click.testing import CliRunner

from ballot.cli import main
from ballot.crypto import blind_rsa
from ballot.crypto.ballots import ballot_from_json, encrypt_ballot
from ballot.crypto.elgamal import encrypt
from ballot.crypto.encoding import b64decode, b64encode, canonical_json
from ballot.crypto.token import Token, new_voter_key, token_message
from ballot.demo import run_demo
from ballot.election.manifest import Manifest
from ballot.tally.board import GENESIS, entry_hash
from ballot.tally.context import ElectionContext
from ballot.tally.record import load_record
from ballot.tally.verify import find_receipt, verify_record


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo")
    result = run_demo(out=out / "run", voters=6, units=4, trustees=3, threshold=2, seed=7,
                      say=lambda *_: None)
    assert result.ok
    return result.record


@pytest.fixture()
def record(demo):
    return load_record(demo)


def ctx_of(rec) -> ElectionContext:
    return ElectionContext.from_json(Manifest.from_json(rec["manifest"]), rec["context"])


def failing(rec) -> str:
    report = verify_record(rec, workers=1)
    assert not report.ok
    return report.first_failure.key


def rechain(rec) -> None:
    """Recompute positions and the hash chain, as a forger who controls the board would."""
    shape = ctx_of(rec).shape
    prev = GENESIS
    for i, e in enumerate(rec["board"], 1):
        e["position"] = i
        bh = ballot_from_json(e["ballot"], shape).ballot_hash
        e["prev_hash"] = prev.hex()
        prev = entry_hash(prev, i, bh)
        e["entry_hash"] = prev.hex()


def test_untouched_record_verifies(record):
    report = verify_record(record, workers=2)
    assert report.ok, report.first_failure
    assert report.figures["ballots"] == 6
    assert report.figures["proofs"] == 24


def test_changed_proof_byte(record):
    unit = bytearray(b64decode(record["board"][0]["ballot"]["units"][1]))
    unit[100] ^= 0x01
    record["board"][0]["ballot"]["units"][1] = b64encode(bytes(unit))
    assert failing(record) == "ballots"


def test_dropped_ballot_naively(record):
    del record["board"][2]
    assert failing(record) == "board"


def test_dropped_ballot_with_rebuilt_chain(record):
    del record["board"][2]
    rechain(record)
    assert failing(record) == "aggregate"


def test_added_ballot_with_reused_token(record):
    record["board"].append(copy.deepcopy(record["board"][0]))
    rechain(record)
    assert failing(record) == "board_count"


def test_replaced_ballot_reusing_a_token(record):
    record["board"][1] = copy.deepcopy(record["board"][0])
    rechain(record)
    assert failing(record) == "tokens_unique"


def test_added_ballot_with_forged_token(record):
    ctx = ctx_of(record)
    rogue = blind_rsa.generate_issuer_key()
    key = new_voter_key()
    prepared = blind_rsa.prepare(token_message(ctx.base_hash, bytes(key.verify_key)))
    blinded, state = blind_rsa.blind(rogue.public_key(), prepared)
    sig = blind_rsa.finalize(rogue.public_key(), prepared, blind_rsa.blind_sign(rogue, blinded), state)
    ballot, _ = encrypt_ballot(ctx.shape, ctx.base_hash, ctx.public_key, Token(prepared, sig), key,
                               [0] * ctx.shape.num_units)
    record["board"][3]["ballot"] = ballot.to_json()
    rechain(record)
    assert failing(record) == "ballots"


def test_valid_token_but_changed_ciphertext(record):
    ctx = ctx_of(record)
    raw = b64decode(record["board"][0]["ballot"]["units"][0])
    other, _ = encrypt(ctx.public_key, 1)
    record["board"][0]["ballot"]["units"][0] = b64encode(other.to_bytes() + raw[64:])
    rechain(record)
    assert failing(record) == "ballots"


def test_changed_count(record):
    c = record["electronic_counts"][0]
    code = next(iter(c["votes"]))
    c["votes"][code] += 1
    c["abstain"] -= 1
    assert failing(record) == "electronic_counts"


def test_changed_total_count(record):
    c = record["counts"][1]
    code = next(iter(c["votes"]))
    c["votes"][code] += 1
    c["abstain"] -= 1
    assert failing(record) == "counts"


def test_changed_partial_decryption(record):
    units = record["decryptions"][0]["units"]
    raw = bytearray(b64decode(units[0]))
    raw[40] ^= 0x01  # inside the proof
    units[0] = b64encode(bytes(raw))
    assert failing(record) == "decryption"


def test_swapped_partial_decryption_shares(record):
    units = record["decryptions"][0]["units"]
    units[0], units[1] = units[1], units[0]
    assert failing(record) == "decryption"


def test_too_few_decryptions(record):
    del record["decryptions"][1]
    assert failing(record) == "decryption"


def test_changed_rule_in_the_manifest(record):
    record["manifest"]["rules"]["cumulative"] = not record["manifest"]["rules"]["cumulative"]
    assert failing(record) == "manifest_binding"


def test_reordered_board(record):
    b = record["board"]
    b[0]["ballot"], b[1]["ballot"] = b[1]["ballot"], b[0]["ballot"]
    assert failing(record) == "chain"


def test_reordered_positions(record):
    b = record["board"]
    b[0], b[1] = b[1], b[0]
    assert failing(record) == "board"


def test_changed_issuance_log_removed_entry(record):
    record["issuance_log"].pop()
    assert failing(record) in {"board_count"}


def test_changed_issuance_log_stranger(record):
    record["issuance_log"][0] = "NOT-ON-ROLL"
    record["issuance_log"].sort()
    assert failing(record) == "issuance"


def test_changed_issuance_log_duplicate(record):
    record["issuance_log"][1] = record["issuance_log"][0]
    assert failing(record) == "issuance"


def test_changed_result(record):
    r = record["results"]["units"][0]
    r["level"] = "KHTNV" if r["level"] != "KHTNV" else "HTTNV"
    assert failing(record) == "results"


def test_changed_figures(record):
    record["figures"]["ballots_valid"] += 1
    assert failing(record) == "figures"


def test_changed_fingerprint(record):
    record["base_hash"] = "00" * 32
    assert failing(record) == "base_hash"


def test_tampered_ceremony_proof(record):
    proofs = record["context"]["trustees"][0]["proofs"]
    raw = bytearray(b64decode(proofs[0]))
    raw[0] ^= 1
    proofs[0] = b64encode(bytes(raw))
    assert failing(record) == "ceremony"


def test_receipt_lookup(record):
    shape = ctx_of(record).shape
    code = ballot_from_json(record["board"][2]["ballot"], shape).tracking_code
    assert find_receipt(record, code.lower().replace("-", "")) == (3, code)
    assert find_receipt(record, "AAAA-AAAA-AAAA-AAAA") is None


def test_cli_verify_exit_codes(demo, record, tmp_path):
    runner = CliRunner()
    ok = runner.invoke(main, ["verify", str(demo), "--workers", "1"])
    assert ok.exit_code == 0, ok.output
    assert "HỢP LỆ" in ok.output and "✓" in ok.output
    code = ballot_from_json(record["board"][0]["ballot"], ctx_of(record).shape).tracking_code
    found = runner.invoke(main, ["verify", str(demo), "--receipt", code, "--workers", "1"])
    assert found.exit_code == 0 and "position 1" in found.output
    missing = runner.invoke(main, ["verify", str(demo), "--receipt", "ZZZZ-ZZZZ-ZZZZ-ZZZZ",
                                   "--workers", "1"])
    assert missing.exit_code == 3 and "NOT on the board" in missing.output
    record["results"]["units"][0]["outcome"] = "no_majority"
    bad = tmp_path / "bad.json"
    bad.write_bytes(canonical_json(record))
    failed = runner.invoke(main, ["verify", str(bad), "--workers", "1"])
    assert failed.exit_code == 1
    assert "Results from the rules" in failed.output
    garbage = tmp_path / "garbage.json"
    garbage.write_text("{not json")
    broken = runner.invoke(main, ["verify", str(garbage)])
    assert broken.exit_code != 0 and "not a ballot record" in broken.output
    gone = runner.invoke(main, ["verify", str(tmp_path / "missing.json")])
    assert gone.exit_code != 0 and "cannot read" in gone.output


def test_record_is_canonical_json(demo):
    data = demo.read_bytes()
    assert canonical_json(json.loads(data)) == data


def _audited_ballot(rec):
    ctx = ctx_of(rec)
    key = new_voter_key()
    token = Token(blind_rsa.prepare(token_message(ctx.base_hash, bytes(key.verify_key))), b"\0" * 384)
    choices = [0, None, 2, 1][: ctx.shape.num_units]
    ballot, nonces = encrypt_ballot(ctx.shape, ctx.base_hash, ctx.public_key, token, key, choices)
    from ballot.crypto.group import encode_scalar

    return {"ballot": ballot.to_json(), "choices": choices,
            "nonces": [b64encode(encode_scalar(r)) for r in nonces]}


def test_verify_audit_cli(demo, record, tmp_path):
    doc = _audited_ballot(record)
    good = tmp_path / "audit.json"
    good.write_bytes(canonical_json(doc))
    runner = CliRunner()
    ok = runner.invoke(main, ["verify-audit", str(good), "--record", str(demo)])
    assert ok.exit_code == 0, ok.output
    assert "Audit OK" in ok.output and "must not be cast" in ok.output
    doc["choices"][0] = 1  # the phone lied about a choice
    bad = tmp_path / "bad-audit.json"
    bad.write_bytes(canonical_json(doc))
    failed = runner.invoke(main, ["verify-audit", str(bad), "--record", str(demo)])
    assert failed.exit_code != 0
    assert "unit 1: the ciphertext does not encrypt the shown choice" in failed.output
    usage = runner.invoke(main, ["verify-audit", str(good)])
    assert usage.exit_code != 0 and "--record" in usage.output


def test_verify_audit_reads_the_phone_pages_file(demo, record, tmp_path):
    flat = _audited_ballot(record)
    wrapped = {"version": "ballot/v1/audit", "election": record["base_hash"], "slug": "x",
               "tracking_code": "", "ballot": flat["ballot"],
               "audit": {"choices": flat["choices"], "nonces": flat["nonces"]}}
    path = tmp_path / "phone-audit.json"
    path.write_bytes(canonical_json(wrapped))
    ok = CliRunner().invoke(main, ["verify-audit", str(path), "--record", str(demo)])
    assert ok.exit_code == 0, ok.output
