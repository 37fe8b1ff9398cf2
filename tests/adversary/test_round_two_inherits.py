"""Issue 11, "The verifier": ``ballot verify R2 --first-round R1`` checks everything round two
inherits from round one — roll, trustees, base kind, quorum, threshold. The operator who makes
round two switch its base from ``convened_minus_excluded`` to ``valid_ballots`` (turning a "not
selected" into "selected"), or add a member to its roll, is caught."""

from __future__ import annotations

from ballot.election.manifest import Manifest
from ballot.tally.verify_link import verify_link

from tally.test_verify_link import pair, rounds  # noqa: F401 - the fixtures: two real rounds


def _with_manifest(rec2, change):
    m = rec2["manifest"]
    change(m)
    Manifest.from_json(m)  # still a valid manifest: only the link can catch it
    return rec2


def failure(rec2, rec1, raw1):
    report = verify_link(rec2, rec1, raw1)
    assert not report.ok
    return report.first_failure


def test_the_right_pair_passes_the_inheritance_check(pair):
    rec2, rec1, raw1 = pair
    report = verify_link(rec2, rec1, raw1)
    assert report.ok, report.first_failure
    assert any(c.key == "link_inherited" and "as round one" in c.detail for c in report.checks)


def test_switching_the_base_to_valid_ballots_fails(pair):
    rec2, rec1, raw1 = pair
    _with_manifest(rec2, lambda m: m["rules"].update(base="valid_ballots"))
    f = failure(rec2, rec1, raw1)
    assert f.key == "link_inherited" and "valid_ballots" in f.detail


def test_a_member_added_to_round_twos_roll_fails(pair):
    rec2, rec1, raw1 = pair
    _with_manifest(rec2, lambda m: m["roll"].append(
        {**m["roll"][0], "roll_id": "X99", "name": "Người Mới"}))
    f = failure(rec2, rec1, raw1)
    assert f.key == "link_inherited" and "roll" in f.detail


def test_another_quorum_threshold_or_trustee_set_fails(pair):
    for change, word in ((lambda m: m["rules"].update(quorum="1/2"), "quorum"),
                         (lambda m: m["rules"]["thresholds"]["levels"]["agree"].update(
                             fraction="2/3", kind="at_least"), "needs"),
                         (lambda m: m["trustees"].update(threshold=1), "trustees")):
        rec2, rec1, raw1 = _fresh(pair)
        _with_manifest(rec2, change)
        f = failure(rec2, rec1, raw1)
        assert f.key == "link_inherited" and word in f.detail, f.detail


def _fresh(pair):
    import copy

    return copy.deepcopy(pair)
