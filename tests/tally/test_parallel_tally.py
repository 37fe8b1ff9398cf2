"""The tally's work shared out among worker processes gives exactly the serial answers."""

from __future__ import annotations

import secrets

import pytest

from ballot.crypto import dlog
from ballot.crypto.elgamal import encrypt
from ballot.crypto.encoding import b64encode
from ballot.crypto.group import base_mul, random_scalar
from ballot.tally import decryption, parallel
from ballot.tally.decryption import DecryptionError, aggregate_accepted, discrete_logs


@pytest.fixture
def small_work(monkeypatch):
    """Let tiny inputs go to two worker processes."""
    monkeypatch.setattr(decryption, "MIN_ADDITIONS_PER_WORKER", 1)
    monkeypatch.setattr(decryption, "MIN_LOGS_PER_WORKER", 1)


def test_slices_cover_everything_once():
    for n in range(0, 30):
        for parts in range(1, 6):
            cut = parallel.slices(n, parts)
            assert [i for r in cut for i in r] == list(range(n))
            assert all(len(r) > 0 for r in cut) or n == 0
    assert parallel.worker_count(None, 10, min_per_worker=100) == 1
    assert parallel.worker_count(3, 1000, min_per_worker=100) == 3
    assert parallel.worker_count(8, 250, min_per_worker=100) == 2
    with pytest.raises(ValueError):
        parallel.worker_count(0, 10, min_per_worker=1)


def test_aggregate_in_two_processes_equals_one(small_work):
    key = base_mul(random_scalar())
    ballots = [[b64encode(encrypt(key, secrets.randbelow(3), None)[0].to_bytes()) for _ in range(7)]
               for _ in range(5)]
    one = aggregate_accepted(ballots, 7, workers=1)
    two = aggregate_accepted(ballots, 7, workers=2)
    assert one == two and len(one) == 7
    assert aggregate_accepted([], 3, workers=2) == aggregate_accepted([], 3, workers=1)
    with pytest.raises(DecryptionError, match="does not have 7 units"):
        aggregate_accepted(ballots + [ballots[0][:6]], 7, workers=2)


def test_discrete_logs_in_two_processes_equal_one(small_work, monkeypatch):
    bound = 1024 * 1024 * 4 - 1  # a 2048-entry table
    values = [0, 1, 2047, 2048, 99_999, bound, 31, 1 << 20]
    points = [base_mul(m) for m in values] + [base_mul(bound + 1), base_mul(-5)]
    expected = values + [None, None]
    # the table not yet built in this process: the two workers build it in slices
    monkeypatch.setattr(dlog, "_TABLES", {})
    assert discrete_logs(points, bound, workers=2) == expected
    assert dlog.cached_table(2048, build=False) is not None  # kept for the next tally
    assert discrete_logs(points, bound, workers=2) == expected
    assert discrete_logs(points, bound, workers=1) == expected
