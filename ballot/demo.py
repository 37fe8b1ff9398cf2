"""``ballot demo``: a whole meeting, end to end, through the real HTTP API.

A branch of official members classifies every member under the QĐ 366 preset with the 20%
quota; three trustees (k = 2) hold the key; members obtain blind tokens and cast encrypted
ballots from separate processes over HTTP; voting closes; two trustees decrypt the totals;
the record and the minutes are written and the independent verifier checks the record.
"""

from __future__ import annotations

import random
import shutil
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from ballot.clients.http import Http
from ballot.clients.trustee import TrusteeDevice
from ballot.clients.voter import fetch_election, vote
from ballot.election.presets import branch_qd366
from ballot.election.roll import RollEntry
from ballot.election.units import Unit
from ballot.tally.trustee_keyfile import open_keys, read_keyfile, seal_keys, write_keyfile

FAMILY = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng", "Bùi",
          "Đỗ", "Hồ", "Ngô", "Dương", "Lý"]
MIDDLE = ["Văn", "Thị", "Hữu", "Đức", "Minh", "Thanh", "Ngọc", "Quốc", "Thu", "Xuân", "Hoài"]
GIVEN = ["An", "Bình", "Châu", "Dũng", "Giang", "Hà", "Hải", "Hạnh", "Hiếu", "Hoa", "Hùng",
         "Hương", "Khánh", "Lan", "Linh", "Long", "Mai", "Nam", "Nga", "Phong", "Phúc", "Quang",
         "Sơn", "Tâm", "Thảo", "Thắng", "Trang", "Trung", "Tuấn", "Vân", "Việt", "Yến"]


@dataclass
class DemoResult:
    record: Path
    minutes_html: Path | None
    minutes_pdf: Path | None
    ok: bool


def members(n: int, rng: random.Random) -> list[tuple[str, str]]:
    return [(f"DV{i:03d}", f"{rng.choice(FAMILY)} {rng.choice(MIDDLE)} {rng.choice(GIVEN)}")
            for i in range(1, n + 1)]


def preferences(units: int, voters: int, levels: int, rng: random.Random) -> list[list[int | None]]:
    """Varied but realistic: each unit has a 'true' level, voters mostly agree, some differ,
    a few abstain; every member abstains on their own row."""
    truth = [rng.choices(range(levels), weights=[2, 12, 3, 1][:levels] + [1] * (levels - 4))[0]
             for _ in range(units)]
    out = []
    for v in range(voters):
        row: list[int | None] = []
        for u in range(units):
            r = rng.random()
            if u == v or r < 0.03:
                row.append(None)
            elif r < 0.78:
                row.append(truth[u])
            else:
                row.append(max(0, min(levels - 1, truth[u] + rng.choice((-1, 1)))))
        out.append(row)
    return out


_ELECTION = {}


def _cast_one(args: tuple[str, str, str, list[int | None]]) -> dict:
    base_url, slug, code, choices = args
    http = Http(base_url)
    if slug not in _ELECTION:
        _ELECTION[slug] = fetch_election(http, slug)
    return vote(http, slug, code, choices, _ELECTION[slug])


def run_demo(*, out: Path, voters: int = 87, units: int = 87, trustees: int = 3,
             threshold: int = 2, record: Path | None = None, seed: int | None = None,
             workers: int = 2, say: Callable[[str], None] = print,
             progress: Callable[[str, int, int], None] | None = None) -> DemoResult:
    from waitress.server import create_server

    from ballot.web import create_app

    if not 1 <= threshold <= trustees:
        raise ValueError("the threshold must be between 1 and the number of trustees")
    if units > voters:
        raise ValueError("a branch classifies its own members: --units cannot exceed --voters")
    # simulated preferences, not key material (bandit B311)
    rng = random.Random(seed)  # nosec B311
    t0 = time.perf_counter()
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    app = create_app({"DATABASE_URL": f"sqlite:///{out / 'ballot.sqlite'}",
                      "KEYS_DIR": str(out / "keys"), "RECORDS_DIR": str(out)})
    meeting = app.extensions["ballot.meeting"]
    server = create_server(app, host="127.0.0.1", port=0, threads=4)
    base_url = f"http://127.0.0.1:{server.effective_port}"
    threading.Thread(target=server.run, daemon=True).start()
    say(f"Server: {base_url} (waitress, SQLite {out / 'ballot.sqlite'})")

    try:
        return _meeting(app, meeting, base_url, out=out, voters=voters, units=units,
                        trustees=trustees, threshold=threshold, record=record, rng=rng,
                        workers=workers, say=say, progress=progress, t0=t0)
    finally:
        server.close()


def _meeting(app, meeting, base_url, *, out, voters, units, trustees, threshold, record, rng,
             workers, say, progress, t0) -> DemoResult:
    from ballot.tally.record import load_record
    from ballot.tally.verify import verify_record

    slug = "chi-bo-demo"
    levels, rules = branch_qd366()
    people = members(voters, rng)
    roll = [RollEntry(rid, name, "official", None) for rid, name in people]
    unit_rows = [Unit(unit_id=rid, name=name, kind="member", group="đảng viên",
                      self_level=levels.codes[1], proposed_level=levels.codes[1],
                      score=rng.randint(70, 98))
                 for rid, name in people[:units]]
    names = [f"Ủy viên kiểm phiếu {i}" for i in range(1, trustees + 1)]
    codes = meeting.create(slug=slug, title="Đánh giá, xếp loại chất lượng đảng viên năm 2025",
                           organisation="Chi bộ Demo", date="2025-12-15",
                           meeting_kind="branch_members", levels=levels, rules=rules, roll=roll,
                           units=unit_rows, trustee_names=names, threshold=threshold)
    say(f"Meeting: {voters} official members, {units} units, {len(levels)} levels + abstain, "
        f"{trustees} trustees (k = {threshold})")

    # Key ceremony: each trustee on "their own device", over HTTP, key files under a passphrase.
    meeting.begin_ceremony(slug)
    devices = [TrusteeDevice(Http(base_url, bearer=codes[n]), slug, i)
               for i, n in enumerate(names, 1)]
    for i, d in enumerate(devices, 1):  # first sign-in: each trustee chooses their own code
        d.enrol(f"demo access code {i}")
    keys = [d.keygen() for d in devices]
    for d, k in zip(devices, keys):
        d.send_shares(k)
    keys = [d.receive_shares(k) for d, k in zip(devices, keys)]
    keyfiles = []
    for i, k in enumerate(keys, 1):
        keyfiles.append(write_keyfile(out / "keys" / f"trustee-{i}.json",
                                      seal_keys(k, f"demo passphrase {i}")))
    base_hash = meeting.finish_ceremony(slug)
    say(f"Key ceremony done: election fingerprint {base_hash[:16]}…")
    # Each trustee's device checks the election key against the keys its shares were checked
    # against and approves the fingerprint; voting opens only then.
    for d, k in zip(devices, keys):
        d.approve(k)
    say(f"Every trustee approved the fingerprint ({trustees} approvals).")

    invitations = meeting.open_voting(slug)
    choices = preferences(units, voters, len(levels), rng)
    jobs = [(base_url, slug, invitations[rid], choices[v]) for v, (rid, _) in enumerate(people)]
    receipts = []
    t1 = time.perf_counter()
    with ProcessPoolExecutor(workers) as pool:
        for r in pool.map(_cast_one, jobs):
            receipts.append(r)
            if progress:
                progress("Voting", len(receipts), len(jobs))
    say(f"Voting: {len(receipts)} encrypted ballots cast and receipted in "
        f"{time.perf_counter() - t1:.1f} s")
    t2 = time.perf_counter()
    meeting.close_voting(slug)

    # Two of the three trustees decrypt; trustee 2 does not come.
    present_trustees = [1, 3][:threshold] if trustees >= 3 else list(range(1, threshold + 1))
    if len(present_trustees) < threshold:
        present_trustees = list(range(1, threshold + 1))
    for i in present_trustees:
        k = open_keys(read_keyfile(keyfiles[i - 1]), f"demo passphrase {i}")
        t_check = time.perf_counter()

        def shown(checked, i=i, t_check=t_check) -> bool:
            # the trustee's device checked the whole board itself and shows its head, which the
            # committee compares with the projector before anything is decrypted
            say(f"Trustee {i}: board checked in {time.perf_counter() - t_check:.1f} s: "
                f"{checked.ballots} ballots ({checked.tokens} tokens issued), head "
                f"{checked.head[:16]}…; decrypting the totals it recomputed")
            return True

        devices[i - 1].decrypt(k, confirm=shown)
    path = meeting.finalize(slug)
    if record is not None:
        record.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, record)
        path = record
    say(f"Tally: decrypted by trustees {present_trustees}; record written to {path}")
    rec = load_record(path)
    from ballot.tally.report import results_table

    say(f"Tally done in {time.perf_counter() - t2:.1f} s (close; each trustee downloads and "
        "checks the whole board and recomputes the aggregate; 2 partial decryptions with "
        "proofs, combine, discrete logs, rules, record).")
    say(results_table(rec))
    t3 = time.perf_counter()
    report = verify_record(rec, progress=(lambda d, t: progress("Verifying", d, t)) if progress else None)
    verify_seconds = time.perf_counter() - t3
    html = pdf = None
    try:
        from ballot.tally.minutes import write_minutes

        html, pdf = write_minutes(rec, report, out, name=slug)
        say(f"Minutes: {html} and {pdf}")
    except ImportError:
        pass
    from ballot.tally.report import checklist

    say(checklist(report))
    say(f"Verification took {verify_seconds:.1f} s. Done in {time.perf_counter() - t0:.1f} s.")
    return DemoResult(path, html, pdf, report.ok)
