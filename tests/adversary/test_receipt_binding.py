"""Issue 11, point 5: the receipt key is bound to the election (in the manifest, hence the
fingerprint) and ``ballot verify RECORD --receipt FILE`` checks the file the phone saves
("Lưu biên nhận"): its signature, its position and its entry hash."""

from __future__ import annotations

import json

from click.testing import CliRunner
from nacl.signing import SigningKey

from ballot.cli import main
from ballot.crypto.encoding import b64encode
from ballot.tally.board import GENESIS, entry_hash
from ballot.tally.record import load_record
from ballot.tally.verify import verify_record

from service.test_meeting_flow import server  # noqa: F401

from .record_support import edited, tallied_meeting, write


def saved_receipt(tmp_path, receipt, name="receipt.json"):
    """As the phone saves it: JSON.stringify(receipt, null, 1)."""
    path = tmp_path / name
    path.write_text(json.dumps(receipt, indent=1, ensure_ascii=False), encoding="utf-8")
    return path


def verify_cli(*args):
    return CliRunner().invoke(main, ["verify", *map(str, args), "--workers", "1"])


def test_the_receipt_key_is_in_the_manifest_and_checked(server, tmp_path):
    meeting, base_url = server
    path, _, _ = tallied_meeting(meeting, base_url)
    record = load_record(path)
    assert record["manifest"]["receipt_key"] == record["receipt_key"]
    # A record naming another receipt key (to disown the signed receipts) fails.
    other = b64encode(bytes(SigningKey.generate().verify_key))
    report = verify_record(edited(path, lambda r: r.update(receipt_key=other)), workers=1)
    assert not report.ok and report.first_failure.key == "receipt_key"
    # Changing it in the manifest too changes the manifest hash: the ceremony no longer binds.
    def both(r):
        r["receipt_key"] = r["manifest"]["receipt_key"] = other
    report = verify_record(edited(path, both), workers=1)
    assert not report.ok and report.first_failure.key == "manifest_binding"


def test_the_saved_receipt_file_is_found_with_its_signature(server, tmp_path):
    meeting, base_url = server
    path, receipts, _ = tallied_meeting(meeting, base_url)
    r = verify_cli(path, "--receipt", saved_receipt(tmp_path, receipts[2]))
    assert r.exit_code == 0, r.output
    assert "on the board as signed" in r.output and "signature: the server's receipt key" in r.output
    # The tracking code alone still works.
    r = verify_cli(path, "--receipt", receipts[2]["tracking_code"])
    assert r.exit_code == 0 and "position 3" in r.output


def test_a_reordered_and_rechained_board_fails_the_receipt_file(server, tmp_path):
    """The operator swaps two ballots and re-chains the board: the tracking code is still on
    the board, but not at the position and entry hash the server signed."""
    meeting, base_url = server
    path, receipts, _ = tallied_meeting(meeting, base_url)

    def reorder(r):
        board = r["board"]
        board[0]["ballot"], board[2]["ballot"] = board[2]["ballot"], board[0]["ballot"]
        from ballot.crypto.ballots import ballot_from_json
        from ballot.election.manifest import Manifest
        from ballot.tally.context import ElectionContext

        ctx = ElectionContext.from_json(Manifest.from_json(r["manifest"]), r["context"])
        prev = GENESIS
        for e in board:
            h = entry_hash(prev, e["position"], ballot_from_json(e["ballot"], ctx.shape).ballot_hash)
            e["prev_hash"], e["entry_hash"] = prev.hex(), h.hex()
            prev = h

    forged = tmp_path / "forged.record.json"
    write(edited(path, reorder), forged)
    receipt = saved_receipt(tmp_path, receipts[2])
    assert verify_cli(forged, "--receipt", receipts[2]["tracking_code"]).exit_code != 3
    r = verify_cli(forged, "--receipt", receipt)
    assert r.exit_code == 3 and "DOES NOT CHECK" in r.output and "position 3" in r.output, r.output


def test_a_receipt_with_a_forged_signature_or_another_election_fails(server, tmp_path):
    meeting, base_url = server
    path, receipts, _ = tallied_meeting(meeting, base_url)
    bad = dict(receipts[0], signature=b64encode(bytes(64)))
    r = verify_cli(path, "--receipt", saved_receipt(tmp_path, bad))
    assert r.exit_code == 3 and "signature does not verify" in r.output
    other = dict(receipts[0], election="00" * 32)
    r = verify_cli(path, "--receipt", saved_receipt(tmp_path, other, "o.json"))
    assert r.exit_code == 3 and "for election" in r.output
    junk = tmp_path / "junk.json"
    junk.write_text("{not json")
    r = verify_cli(path, "--receipt", junk)
    assert r.exit_code == 1 and "cannot read the receipt file" in r.output
