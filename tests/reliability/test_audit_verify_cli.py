"""The audit log is append-only (the database refuses UPDATE, DELETE and, on PostgreSQL,
TRUNCATE) and hash-chained; ``ballot audit verify`` (``audit_group``) recomputes the chain and
names the first bad entry, in the database or in an exported copy."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, IntegrityError

from ballot.crypto.encoding import canonical_json
from ballot.election.presets import branch_qd366
from ballot.election.roll import RollEntry
from ballot.election.units import Unit
from ballot.service.audit_cli import audit_group
from ballot.service.keys import KeyStore
from ballot.service.meeting import Meeting
from ballot.store import repo
from ballot.store.db import make_engine, session_factory, transaction
from tests.reliability.helpers import is_postgres
from tests.store.helpers import triggers_disabled

pytestmark = pytest.mark.concurrency


@pytest.fixture
def logged(migrated_db_url, tmp_path):
    """A database whose audit log has a few real entries (a meeting created, its ceremony
    begun) and a few more from the secretary's tools."""
    engine = make_engine(migrated_db_url)
    factory = session_factory(engine)
    meeting = Meeting(factory, KeyStore(tmp_path / "keys"), tmp_path / "records")
    levels, rules = branch_qd366()
    roll = [RollEntry(f"M{i}", f"Đảng viên {i}", "official", None) for i in range(1, 4)]
    meeting.create(slug="cb-audit", title="Xếp loại 2025", organisation="Chi bộ thử",
                   date="2025-12-20", meeting_kind="branch_members", levels=levels,
                   rules=rules, roll=roll,
                   units=[Unit(unit_id="M1", name="Đảng viên 1", kind="member")],
                   trustee_names=["T1"], threshold=1)
    meeting.begin_ceremony("cb-audit")
    with transaction(factory) as s:
        for i in range(3):
            repo.append_audit(s, actor="thư ký", action="invitation.reissued",
                              detail={"roll_id": f"M{i + 1}", "lý do": "mất phiếu mời"})
    yield migrated_db_url, engine
    engine.dispose()


def run(*args: str):
    result = CliRunner().invoke(audit_group, list(args))
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result


@pytest.mark.parametrize("sql", [
    "UPDATE audit_log SET actor = 'kẻ gian' WHERE seq = 2",
    "UPDATE audit_log SET detail_json = '{}'",
    "DELETE FROM audit_log WHERE seq = 3",
    "DELETE FROM audit_log",
])
def test_the_database_refuses_to_change_the_log(logged, sql):
    url, engine = logged
    with pytest.raises(IntegrityError, match="ballot:"):
        with engine.begin() as conn:
            conn.execute(text(sql))
    assert run("verify", "--database-url", url).exit_code == 0


def test_truncate_is_refused_on_postgresql(logged):
    url, engine = logged
    if not is_postgres(url):
        pytest.skip("SQLite has no TRUNCATE")
    with pytest.raises(DBAPIError, match="ballot:"):
        with engine.begin() as conn:
            conn.execute(text("TRUNCATE audit_log"))


def test_verify_an_intact_log(logged):
    url, engine = logged
    result = run("verify", "--database-url", url)
    assert result.exit_code == 0, result.output
    assert "Audit log OK: 5 entries" in result.output
    with engine.connect() as conn:
        seq, digest = conn.execute(text(
            "SELECT seq, entry_hash FROM audit_log ORDER BY seq DESC LIMIT 1")).one()
    assert f"Last entry: {seq}:{digest}" in result.output
    assert run("verify", "--database-url", url, "--head", f"{seq}:{digest}").exit_code == 0


@pytest.mark.parametrize("sql,entry,reason", [
    ("UPDATE audit_log SET actor = 'kẻ gian' WHERE seq = 3", 3, "entry_hash does not match"),
    ("UPDATE audit_log SET detail_json = '{\"roll_id\":\"M9\"}' WHERE seq = 4", 4,
     "entry_hash does not match"),
    ("DELETE FROM audit_log WHERE seq = 2", 3, "expected seq 2"),
    ("UPDATE audit_log SET prev_hash = entry_hash WHERE seq = 5", 5, "prev_hash does not link"),
])
def test_tampering_behind_the_triggers_is_named(logged, sql, entry, reason):
    url, engine = logged
    with triggers_disabled(engine, "audit_log"):  # an administrator with raw access
        with engine.begin() as conn:
            conn.execute(text(sql))
    result = run("verify", "--database-url", url)
    assert result.exit_code == 1
    assert f"Audit log BROKEN at entry {entry}: " in result.output
    assert reason in result.output


def _rechain(lines: list[dict]) -> list[dict]:
    """What a forger with the whole table would do: recompute every hash after a change."""
    from datetime import datetime

    prev = "0" * 64
    for row in lines:
        row["prev_hash"] = prev
        row["entry_hash"] = repo.audit_entry_hash(
            seq=row["seq"], election_id=row["election_id"], actor=row["actor"],
            action=row["action"], detail_json=row["detail_json"],
            at=datetime.fromisoformat(row["at"].replace("Z", "+00:00")), prev_hash=prev)
        prev = row["entry_hash"]
    return lines


def test_an_exported_copy_is_checked_and_a_rewrite_is_caught_by_the_head(logged, tmp_path):
    url, _ = logged
    copy = tmp_path / "audit.jsonl"
    result = run("export", "--database-url", url, "--out", str(copy))
    assert result.exit_code == 0 and "5 audit entries" in result.output
    ok = run("verify", "--file", str(copy))
    assert ok.exit_code == 0 and "Audit log OK: 5 entries" in ok.output
    head = ok.output.split("Last entry: ")[1].split()[0]

    lines = [json.loads(line) for line in copy.read_text(encoding="utf-8").splitlines()]
    lines[1]["detail_json"] = canonical_json({"roll_id": "M2", "lý do": "khác"}).decode()
    tampered = tmp_path / "tampered.jsonl"
    tampered.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in lines),
                        encoding="utf-8")
    bad = run("verify", "--file", str(tampered))
    assert bad.exit_code == 1 and "Audit log BROKEN at entry 2: entry_hash does not match" in bad.output

    # Recomputing every hash hides the change from the chain check alone...
    rewritten = tmp_path / "rewritten.jsonl"
    rewritten.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n"
                                 for r in _rechain(lines)), encoding="utf-8")
    assert run("verify", "--file", str(rewritten)).exit_code == 0
    # ...but not from the head written in the minutes.
    caught = run("verify", "--file", str(rewritten), "--head", head)
    assert caught.exit_code == 1 and "the log was rewritten" in caught.output
    assert f"BROKEN at entry {head.split(':')[0]}" in caught.output


def test_unreadable_input_exits_2(tmp_path):
    assert run("verify", "--file", str(tmp_path / "missing.jsonl")).exit_code == 2
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"seq": 1}\n', encoding="utf-8")
    result = run("verify", "--file", str(bad))
    assert result.exit_code != 0 and "line 1: not an audit entry" in result.output
    assert run("verify", "--head", "nonsense", "--file", str(bad)).exit_code == 2
