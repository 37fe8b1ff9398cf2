"""Step 6: ElectionGuard 1.4.0 from PyPI, in its own virtual environment, under Python 3.10.

``benchmarks/.venv-eg`` is created on the first run with a Python 3.10 interpreter (ElectionGuard
1.4.0 does not import on 3.11: a dataclass default error) and ``pip install electionguard==1.4.0``
from PyPI. ``benchmarks/electionguard_side.py`` then runs inside it as a subprocess and writes
its measurements as JSON. Any failure is reported with its reason and the suite goes on.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from _common import BENCH, say

VENV = BENCH / ".venv-eg"
SIDE = BENCH / "electionguard_side.py"
EG_VERSION = "1.4.0"
PY310_CANDIDATES = ("/root/.pyenv/versions/3.10.13/bin/python3.10", "python3.10")


def _python310() -> str | None:
    env = os.environ.get("BALLOT_BENCH_PY310")
    for candidate in ((env,) if env else ()) + PY310_CANDIDATES:
        path = candidate if os.path.isabs(candidate) else shutil.which(candidate)
        if path and os.path.exists(path):
            return path
    return None


def _venv_python() -> Path:
    return VENV / "bin" / "python"


def _probe() -> dict[str, str] | None:
    """Versions inside the venv if ElectionGuard imports there, else None."""
    py = _venv_python()
    if not py.exists():
        return None
    code = ("import json, platform, gmpy2, electionguard; from importlib.metadata import version;"
            "print(json.dumps({'python': platform.python_version(), 'electionguard': "
            "version('electionguard'), 'gmpy2': gmpy2.version(), 'gmpy2_file': gmpy2.__file__}))")
    proc = subprocess.run([str(py), "-c", code], capture_output=True, text=True, timeout=120)
    if proc.returncode != 0:
        return None
    try:
        return json.loads(proc.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        return None


INSTALL_NOTE = VENV / "ballot-bench-install.json"


def ensure_venv() -> tuple[dict[str, Any] | None, str | None]:
    """(versions and install facts, None) or (None, why it is unavailable)."""
    probe = _probe()
    if probe and probe.get("electionguard") == EG_VERSION:
        try:
            note = json.loads(INSTALL_NOTE.read_text())
        except (OSError, ValueError):
            note = {}
        return {**probe, **note, "installed_now": False}, None
    py310 = _python310()
    if py310 is None:
        return None, ("no Python 3.10 interpreter (ElectionGuard 1.4.0 needs < 3.11); "
                      "set BALLOT_BENCH_PY310=/path/to/python3.10")
    say(f"ElectionGuard: creating {VENV} with {py310} and installing electionguard=={EG_VERSION} "
        "from PyPI (once)")
    if VENV.exists():
        shutil.rmtree(VENV)
    proc = subprocess.run([py310, "-m", "venv", str(VENV)], capture_output=True, text=True)
    if proc.returncode != 0:
        return None, f"python3.10 -m venv failed: {proc.stderr.strip()[-500:]}"
    pip = [str(_venv_python()), "-m", "pip", "install", "--disable-pip-version-check",
           "--only-binary", "gmpy2", f"electionguard=={EG_VERSION}"]
    proc = subprocess.run(pip, capture_output=True, text=True, timeout=1800)
    log = proc.stdout + proc.stderr
    if proc.returncode != 0:
        tail = "\n".join(log.strip().splitlines()[-12:])
        return None, f"pip install electionguard=={EG_VERSION} failed:\n{tail}"
    probe = _probe()
    if probe is None:
        return None, "electionguard installed but does not import in the venv"
    wheel = next((line.strip() for line in log.splitlines()
                  if "gmpy2" in line and ".whl" in line), "")
    note = {"gmpy2_wheel": wheel, "installed_at": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
            "installed_with": py310}
    INSTALL_NOTE.write_text(json.dumps(note, indent=1))
    return {**probe, **note, "installed_now": True}, None


def run(contests: int, selections: int, repeat: int, tally_ballots: int,
        timeout: int = 3600) -> dict[str, Any]:
    """Run electionguard_side.py in the venv; returns its JSON, or {"error": reason}."""
    versions, why = ensure_venv()
    if versions is None:
        say(f"ElectionGuard skipped: {why}")
        return {"error": why}
    with tempfile.TemporaryDirectory(prefix="ballot-bench-eg-") as tmp:
        out = Path(tmp) / "eg.json"
        cmd = [str(_venv_python()), str(SIDE), "--contests", str(contests), "--selections",
               str(selections), "--repeat", str(repeat), "--tally-ballots", str(tally_ballots),
               "--json", str(out)]
        say(f"ElectionGuard {versions['electionguard']} under Python {versions['python']} "
            f"(gmpy2 {versions['gmpy2']}): {contests} contests x {selections} selections, "
            f"{repeat} ballots" + (f", tally of {tally_ballots}" if tally_ballots else ""))
        # ElectionGuard prints its own log lines on stdout: keep them out of the table
        proc = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                              timeout=timeout, cwd=tmp)
        for line in proc.stderr.splitlines():
            if line.startswith("[electionguard]"):
                print(line, file=sys.stderr, flush=True)
        if proc.returncode != 0 or not out.is_file():
            tail = "\n".join(proc.stderr.strip().splitlines()[-8:])
            say(f"ElectionGuard failed (exit {proc.returncode}): {tail}")
            return {"error": f"electionguard_side.py exited {proc.returncode}: {tail}"}
        data = json.loads(out.read_text())
    data["venv"] = {**versions, "path": str(VENV)}
    return data
