"""The audit log: append-only, hash-chained, verifiable; tampering is detected."""

from __future__ import annotations

import dataclasses
from datetime import datetime, timezone

import pytest
from sqlalchemy import bindparam, text

from ballot.store import repo
from ballot.store.db import transaction
from ballot.store.errors import ChainError
from ballot.store.models import GENESIS_HASH, UTCDateTime
from tests.store.helpers import make_draft, run_threads, triggers_disabled


def _fill(sf, n=3, election_id=None):
    with transaction(sf) as s:
        for i in range(n):
            repo.append_audit(
                s, actor="thư ký", action="roll.imported", detail={"rows": i, "tên": "Chi bộ 1"},
                election_id=election_id,
            )


def test_append_and_verify(sf):
    election_id = make_draft(sf)
    _fill(sf, 3, election_id)
    _fill(sf, 1)
    with transaction(sf) as s:
        assert repo.verify_audit_chain(s) == 4
        entries = s.execute(text("SELECT seq, prev_hash, entry_hash FROM audit_log ORDER BY seq")).all()
    assert [e.seq for e in entries] == [1, 2, 3, 4]
    assert entries[0].prev_hash == GENESIS_HASH
    assert all(b.prev_hash == a.entry_hash for a, b in zip(entries, entries[1:]))


def test_empty_log_verifies(sf):
    with transaction(sf) as s:
        assert repo.verify_audit_chain(s) == 0


def test_detail_must_be_canonical_json_values(sf):
    with pytest.raises(ValueError, match="floats"):
        with transaction(sf) as s:
            repo.append_audit(s, actor="a", action="b", detail={"x": 0.5})


@pytest.mark.parametrize(
    "sql,reason",
    [
        ("UPDATE audit_log SET actor = 'kẻ gian' WHERE seq = 2", "entry 2: entry_hash does not match"),
        ("UPDATE audit_log SET detail_json = '{ \"rows\":1}' WHERE seq = 2", "entry 2: detail is not in canonical form"),
        ("DELETE FROM audit_log WHERE seq = 2", "entry 3: expected seq 2"),
        ("UPDATE audit_log SET prev_hash = entry_hash WHERE seq = 3", "entry 3: prev_hash does not link"),
    ],
)
def test_tampering_is_detected(engine, sf, sql, reason):
    _fill(sf, 3)
    with triggers_disabled(engine, "audit_log"):
        with engine.begin() as conn:
            conn.exec_driver_sql(sql)
    with transaction(sf) as s:
        with pytest.raises(ChainError, match=reason):
            repo.verify_audit_chain(s)


def test_tampered_timestamp_is_detected(engine, sf):
    _fill(sf, 2)
    backdate = text("UPDATE audit_log SET at = :at WHERE seq = 1").bindparams(
        bindparam("at", type_=UTCDateTime)
    )
    with triggers_disabled(engine, "audit_log"):
        with engine.begin() as conn:
            conn.execute(backdate, {"at": datetime(2000, 1, 1, tzinfo=timezone.utc)})
    with transaction(sf) as s:
        with pytest.raises(ChainError, match="entry 1: entry_hash"):
            repo.verify_audit_chain(s)


def test_check_audit_chain_on_a_copy(sf):
    """Verification needs only the rows: here a copy, with one row altered."""
    from ballot.store.models import AuditEntry

    _fill(sf, 3)
    with transaction(sf) as s:
        rows = [
            SimpleRow(**{f: getattr(e, f) for f in SimpleRow.__dataclass_fields__})
            for e in s.query(AuditEntry).order_by(AuditEntry.seq)
        ]
    assert repo.check_audit_chain(rows) == 3
    rows[1] = dataclasses.replace(rows[1], action="roll.deleted")
    with pytest.raises(ChainError, match="entry 2"):
        repo.check_audit_chain(rows)


@dataclasses.dataclass(frozen=True)
class SimpleRow:
    seq: int
    election_id: int | None
    actor: str
    action: str
    detail_json: str
    at: object
    prev_hash: str
    entry_hash: str


@pytest.mark.concurrency
def test_concurrent_appends_keep_one_chain(sf):
    def append(i):
        with transaction(sf) as s:
            return repo.append_audit(s, actor=f"t{i}", action="test", detail={"i": i}).seq

    results = run_threads(20, append)
    assert all(kind == "ok" for kind, _ in results), results
    assert sorted(r for _, r in results) == list(range(1, 21))
    with transaction(sf) as s:
        assert repo.verify_audit_chain(s) == 20
