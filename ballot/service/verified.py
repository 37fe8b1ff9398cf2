"""Results from a verified record only (issue 11, point 3).

Every result the server shows or prints — the results page, results.csv/json, the minutes, a
first round's minutes printing its second round — is read from the record FILE, after:

1. its SHA-256 equals the one written in the ``tallied`` audit entry at finalize (an edited
   record file is refused at once, before anything is parsed);
2. the record verified (:func:`ballot.tally.verify.verify_record`) — once: the verification is
   cached by the record's SHA-256, in this process and in ``<slug>.record.verified.json``
   next to the record. The cache holds only the checklist (never a number shown): the numbers
   are always those of the hashed file. A cache entry for other bytes is ignored.

Never from the ``tallies`` rows, which an UPDATE could change.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from ballot.crypto.encoding import EncodingError, parse_json
from ballot.tally.record import RECORD_FIELDS
from ballot.tally.verify import Check, Report, verify_record

if TYPE_CHECKING:
    from .meeting import Meeting

__all__ = ["VerifiedRecord", "verify_bytes", "verified_record", "remember", "verification_line"]

Progress = Callable[[int, int], None]

_LOCK = threading.Lock()
_CACHE: "OrderedDict[str, VerifiedRecord]" = OrderedDict()
_CACHE_SIZE = 8


@dataclass(frozen=True)
class VerifiedRecord:
    """A record file's content, its SHA-256 and the verification report of those bytes."""

    record: dict[str, Any]
    report: Report
    sha256: str

    @property
    def line(self) -> str:
        return verification_line(self)


def verification_line(v: VerifiedRecord) -> str:
    """One line for the minutes: the record's SHA-256 and its verification."""
    n = len(v.report.checks)
    state = "HỢP LỆ" if v.report.ok else "KHÔNG HỢP LỆ"
    return f"Hồ sơ bầu cử (SHA-256 {v.sha256}): {n} bước kiểm tra, kết quả: {state}"


def _load(data: bytes) -> dict[str, Any]:
    from .meeting import ServiceError

    try:
        record = parse_json(data)
    except EncodingError as exc:
        raise ServiceError(f"the record file is not a ballot record: {exc}", 409) from None
    if not isinstance(record, dict) or record.get("version") not in RECORD_FIELDS or \
            set(record) != set(RECORD_FIELDS[record["version"]]):
        raise ServiceError("the record file is not a ballot record", 409)
    return record


def verify_bytes(data: bytes, *, progress: Progress | None = None,
                 workers: int | None = None) -> VerifiedRecord:
    """Verify a record from its bytes (no cache)."""
    record = _load(data)
    return VerifiedRecord(record, verify_record(record, progress=progress, workers=workers,
                                                data=data),
                          hashlib.sha256(data).hexdigest())


def _cache_path(m: Meeting, slug: str) -> Path:
    return m.record_path(slug).with_name(f"{slug}.record.verified.json")


def _keep(v: VerifiedRecord) -> None:
    with _LOCK:
        _CACHE[v.sha256] = v
        _CACHE.move_to_end(v.sha256)
        while len(_CACHE) > _CACHE_SIZE:
            _CACHE.popitem(last=False)


def remember(m: Meeting, slug: str, v: VerifiedRecord) -> None:
    """Cache a verification, in memory and next to the record."""
    _keep(v)
    body = {"record_sha256": v.sha256, "ok": v.report.ok,
            "checks": [[c.key, c.title, c.ok, c.detail] for c in v.report.checks],
            "figures": v.report.figures}
    path = _cache_path(m, slug)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(body, ensure_ascii=False, sort_keys=True), encoding="utf-8")
    tmp.replace(path)


def _cached_report(m: Meeting, slug: str, sha: str) -> Report | None:
    try:
        body = json.loads(_cache_path(m, slug).read_text(encoding="utf-8"))
        if body.get("record_sha256") != sha or body.get("ok") is not True:
            return None
        report = Report([Check(*c) for c in body["checks"]], dict(body.get("figures") or {}))
    except (OSError, ValueError, TypeError, KeyError):
        return None
    return report if report.ok else None


def verified_record(m: Meeting, slug: str, *, progress: Progress | None = None) -> VerifiedRecord:
    """The record of a tallied election, verified (see the module's text). Raises
    ServiceError 404 before the tally, 409 if the file changed since finalize or does not
    verify."""
    from ballot.store.db import transaction

    from .counting import record_sha256_of
    from .meeting import ServiceError

    with transaction(m.factory, read_only=True) as s:
        election = m._election(s, slug)
        if election.status not in ("tallied", "published"):
            raise ServiceError("the results exist once the tally is finished", 404)
        expected = record_sha256_of(s, election)
    path = m.record_path(slug)
    try:
        data = path.read_bytes()
    except OSError:
        raise ServiceError("the record file is missing", 409) from None
    sha = hashlib.sha256(data).hexdigest()
    if expected is None or sha != expected:
        raise ServiceError(f"the record file was changed after the tally: its SHA-256 is "
                           f"{sha[:16]}…, the audit log wrote {str(expected)[:16]}… at "
                           "finalize. Nothing is shown from it.", 409)
    with _LOCK:
        hit = _CACHE.get(sha)
    if hit is None:
        report = _cached_report(m, slug, sha)
        if report is not None:
            hit = VerifiedRecord(_load(data), report, sha)
            _keep(hit)
        else:
            hit = verify_bytes(data, progress=progress)
            if hit.report.ok:
                remember(m, slug, hit)
    if not hit.report.ok:
        failure = hit.report.first_failure
        raise ServiceError("the record does not verify"
                           + (f": {failure.title}: {failure.detail}" if failure else ""), 409)
    return hit
