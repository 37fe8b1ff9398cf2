"""The k-of-n key ceremony, share checks, partial decryptions and Lagrange combination."""

from __future__ import annotations

import dataclasses
import itertools
from dataclasses import dataclass

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from nacl.public import Box, PrivateKey, PublicKey

from ballot.crypto import threshold as th
from ballot.crypto.dlog import DlogError, discrete_log
from ballot.crypto.elgamal import Ciphertext, add_all, encrypt
from ballot.crypto.encoding import sha256
from ballot.crypto.group import IDENTITY, L, Point, base_mul, encode_scalar
from ballot.crypto.proofs import ProofError, SchnorrProof
from ballot.crypto.threshold import CeremonyError, ShareError

MANIFEST = sha256("test/manifest", b"committee 2024")
OTHER_MANIFEST = sha256("test/manifest", b"another meeting")


@dataclass
class Ceremony:
    n: int
    k: int
    secrets: dict[int, th.TrusteeSecret]
    publics: dict[int, th.TrusteePublic]
    shares: dict[tuple[int, int], th.EncryptedShare]  # (sender, recipient)
    s: dict[int, int]  # secret shares
    joint: tuple[Point, ...]
    public_key: Point

    def S(self, i: int) -> Point:
        return th.public_share(self.joint, i)


def run_ceremony(n: int, k: int, manifest: bytes = MANIFEST) -> Ceremony:
    secrets, publics = {}, {}
    for i in range(1, n + 1):
        secrets[i], publics[i] = th.new_trustee(manifest, i, k)
    for pub in publics.values():
        th.verify_trustee_public(manifest, pub, k)
    shares = {}
    for i in secrets:
        for sh in th.make_shares(manifest, secrets[i], list(publics.values())):
            assert sh.sender == i
            shares[(sh.sender, sh.recipient)] = sh
    assert len(shares) == n * (n - 1)
    s = {}
    for l in secrets:
        received = {
            i: th.receive_share(manifest, secrets[l], publics[i], shares[(i, l)])
            for i in secrets
            if i != l
        }
        s[l] = th.secret_share(secrets[l], received)
    joint = th.joint_commitments(list(publics.values()))
    return Ceremony(n, k, secrets, publics, shares, s, joint, th.joint_public_key(list(publics.values())))


@pytest.fixture(scope="module", params=[(3, 2), (5, 3)], ids=["3of2", "5of3"])
def ceremony(request) -> Ceremony:
    return run_ceremony(*request.param)


@pytest.fixture(scope="module")
def c32() -> Ceremony:
    return run_ceremony(3, 2)


def _dctx(label: bytes = b"unit 1") -> bytes:
    return sha256("test/decrypt", MANIFEST, label)


# --- the ceremony -----------------------------------------------------------------------------


def test_ceremony_keys_are_consistent(ceremony):
    total = sum(sec.coefficients[0] for sec in ceremony.secrets.values()) % L
    assert ceremony.public_key == base_mul(total) == ceremony.joint[0]
    assert len(ceremony.joint) == ceremony.k
    for l, s in ceremony.s.items():
        assert 0 <= s < L
        assert ceremony.S(l) == base_mul(s)
        # s_l is the joint polynomial at l
        assert s == sum(sec.evaluate(l) for sec in ceremony.secrets.values()) % L


def test_decryption_with_every_subset(ceremony):
    ms = [3, 0, 7, 1]
    cts = [encrypt(ceremony.public_key, m)[0] for m in ms]
    agg = add_all(cts)
    ctx = _dctx()
    partials = {
        l: th.partial_decrypt(ctx, l, ceremony.s[l], ceremony.S(l), agg.alpha) for l in ceremony.s
    }
    for l, p in partials.items():
        assert p.trustee == l
        th.verify_partial(ctx, ceremony.S(l), agg.alpha, p)
    indices = sorted(ceremony.s)
    checked = 0
    for size in range(ceremony.k, ceremony.n + 1):
        for subset in itertools.combinations(indices, size):
            M = th.combine_partials({l: partials[l].share for l in subset}, ceremony.k)
            assert discrete_log(agg.beta - M, 100) == sum(ms), subset
            checked += 1
    assert checked == sum(1 for r in range(ceremony.k, ceremony.n + 1)
                          for _ in itertools.combinations(indices, r))
    for subset in itertools.combinations(indices, ceremony.k - 1):
        shares = {l: partials[l].share for l in subset}
        with pytest.raises(CeremonyError, match="needed"):
            th.combine_partials(shares, ceremony.k)
        # Forcing the combination with too few shares interpolates the wrong polynomial.
        wrong = th.combine_partials(shares, ceremony.k - 1) if shares else IDENTITY
        assert agg.beta - wrong != base_mul(sum(ms))
        with pytest.raises(DlogError):
            discrete_log(agg.beta - wrong, 10_000)


def test_lagrange_reconstructs_the_secret(ceremony):
    secret = sum(sec.coefficients[0] for sec in ceremony.secrets.values()) % L
    for subset in itertools.combinations(sorted(ceremony.s), ceremony.k):
        got = sum(th.lagrange_at_zero(subset, i) * ceremony.s[i] for i in subset) % L
        assert got == secret
    for subset in itertools.combinations(sorted(ceremony.s), ceremony.k - 1):
        got = sum(th.lagrange_at_zero(subset, i) * ceremony.s[i] for i in subset) % L
        assert got != secret


@settings(max_examples=50)
@given(st.sets(st.integers(1, 1000), min_size=1, max_size=8))
def test_lagrange_coefficients_sum_to_one(indices):
    idx = sorted(indices)
    assert sum(th.lagrange_at_zero(idx, i) for i in idx) % L == 1


def test_new_trustee_rejects_bad_parameters():
    for index, k in ((0, 2), (1, 0), (-1, 2)):
        with pytest.raises(CeremonyError):
            th.new_trustee(MANIFEST, index, k)


# --- shares -----------------------------------------------------------------------------------


def _bad_value_share(c: Ceremony, sender: int, recipient: int, value: int) -> th.EncryptedShare:
    """A well-formed, correctly encrypted share carrying ``value``."""
    sec = c.secrets[sender]
    box = Box(PrivateKey(sec.box_secret), PublicKey(c.publics[recipient].box_public))
    plaintext = th._share_header(MANIFEST, sender, recipient) + encode_scalar(value)
    return th.EncryptedShare(sender, recipient, bytes(box.encrypt(plaintext)))


def test_tampered_share_names_the_sender(c32):
    # Trustee 2 sends trustee 3 a share from a polynomial it did not commit to.
    sec2 = c32.secrets[2]
    cheat = dataclasses.replace(sec2, coefficients=(sec2.coefficients[0] + 1,) + sec2.coefficients[1:])
    bad = next(s for s in th.make_shares(MANIFEST, cheat, list(c32.publics.values())) if s.recipient == 3)
    with pytest.raises(ShareError, match="commitments") as info:
        th.receive_share(MANIFEST, c32.secrets[3], c32.publics[2], bad)
    assert info.value.sender == 2 and info.value.recipient == 3
    assert "trustee 2" in str(info.value)


def test_share_with_flipped_ciphertext_byte_names_the_sender(c32):
    good = c32.shares[(1, 2)]
    for pos in (0, 30, len(good.ciphertext) - 1):
        ct = bytearray(good.ciphertext)
        ct[pos] ^= 0x01
        with pytest.raises(ShareError, match="decrypt") as info:
            th.receive_share(MANIFEST, c32.secrets[2], c32.publics[1],
                             dataclasses.replace(good, ciphertext=bytes(ct)))
        assert info.value.sender == 1


def test_share_with_non_canonical_scalar_is_rejected(c32):
    # the scalar L (non-canonical), correctly encrypted and addressed
    sec = c32.secrets[1]
    box = Box(PrivateKey(sec.box_secret), PublicKey(c32.publics[3].box_public))
    plaintext = th._share_header(MANIFEST, 1, 3) + L.to_bytes(32, "little")
    bad = th.EncryptedShare(1, 3, bytes(box.encrypt(plaintext)))
    with pytest.raises(ShareError, match="canonical") as info:
        th.receive_share(MANIFEST, c32.secrets[3], c32.publics[1], bad)
    assert info.value.sender == 1


def test_check_share_on_revealed_shares(c32):
    for (i, l), enc in c32.shares.items():
        good = c32.secrets[i].evaluate(l)
        assert th.receive_share(MANIFEST, c32.secrets[l], c32.publics[i], enc) == good
        assert th.check_share(c32.publics[i], l, good)
        assert not th.check_share(c32.publics[i], l, (good + 1) % L)
        assert not th.check_share(c32.publics[i], l, 0)
        # a share for another recipient is not this recipient's share
        other = next(x for x in c32.secrets if x not in (i, l))
        assert not th.check_share(c32.publics[i], other, good)
    # and a wrong value delivered correctly is caught on receipt, naming the sender
    bad = _bad_value_share(c32, 3, 1, c32.secrets[3].evaluate(1) + 1)
    with pytest.raises(ShareError) as info:
        th.receive_share(MANIFEST, c32.secrets[1], c32.publics[3], bad)
    assert info.value.sender == 3


def test_share_addressed_to_another_trustee(c32):
    to_two = c32.shares[(1, 2)]
    with pytest.raises(ShareError, match="someone else") as info:
        th.receive_share(MANIFEST, c32.secrets[3], c32.publics[1], to_two)
    assert info.value.sender == 1
    # relabelled to look addressed to trustee 3: it does not decrypt with 3's key
    relabelled = dataclasses.replace(to_two, recipient=3)
    with pytest.raises(ShareError) as info:
        th.receive_share(MANIFEST, c32.secrets[3], c32.publics[1], relabelled)
    assert info.value.sender == 1
    # claimed to come from trustee 3 but checked against trustee 1's record: refused
    with pytest.raises(ShareError):
        th.receive_share(MANIFEST, c32.secrets[2], c32.publics[3], to_two)


def test_share_for_another_manifest(c32):
    with pytest.raises(ShareError, match="wrong election") as info:
        th.receive_share(OTHER_MANIFEST, c32.secrets[2], c32.publics[1], c32.shares[(1, 2)])
    assert info.value.sender == 1
    # shares made for another manifest are refused under this one
    other = th.make_shares(OTHER_MANIFEST, c32.secrets[1], list(c32.publics.values()))
    to_two = next(s for s in other if s.recipient == 2)
    with pytest.raises(ShareError, match="wrong election"):
        th.receive_share(MANIFEST, c32.secrets[2], c32.publics[1], to_two)


# --- published trustee records ----------------------------------------------------------------


def test_tampered_schnorr_proof_rejected(c32):
    pub = c32.publics[1]
    for j in range(c32.k):
        proofs = list(pub.proofs)
        proofs[j] = SchnorrProof((proofs[j].c + 1) % L, proofs[j].v)
        with pytest.raises(CeremonyError, match=f"coefficient {j}"):
            th.verify_trustee_public(MANIFEST, dataclasses.replace(pub, proofs=tuple(proofs)), c32.k)
        proofs[j] = SchnorrProof(pub.proofs[j].c, (pub.proofs[j].v + 1) % L)
        with pytest.raises(CeremonyError):
            th.verify_trustee_public(MANIFEST, dataclasses.replace(pub, proofs=tuple(proofs)), c32.k)
    # proofs swapped between coefficients
    swapped = dataclasses.replace(pub, proofs=pub.proofs[::-1])
    with pytest.raises(CeremonyError):
        th.verify_trustee_public(MANIFEST, swapped, c32.k)


def test_tampered_commitment_rejected(c32):
    pub = c32.publics[2]
    for j in range(c32.k):
        commitments = list(pub.commitments)
        commitments[j] = commitments[j] + base_mul(1)
        with pytest.raises(CeremonyError, match=f"coefficient {j}"):
            th.verify_trustee_public(
                MANIFEST, dataclasses.replace(pub, commitments=tuple(commitments)), c32.k)
        commitments[j] = IDENTITY
        with pytest.raises(CeremonyError, match="identity"):
            th.verify_trustee_public(
                MANIFEST, dataclasses.replace(pub, commitments=tuple(commitments)), c32.k)


def test_trustee_record_bound_to_index_manifest_and_shape(c32):
    pub = c32.publics[1]
    with pytest.raises(CeremonyError):
        th.verify_trustee_public(MANIFEST, dataclasses.replace(pub, index=2), c32.k)
    with pytest.raises(CeremonyError):
        th.verify_trustee_public(OTHER_MANIFEST, pub, c32.k)
    with pytest.raises(CeremonyError, match="expected"):
        th.verify_trustee_public(MANIFEST, pub, c32.k + 1)
    with pytest.raises(CeremonyError, match="expected"):
        th.verify_trustee_public(MANIFEST, dataclasses.replace(pub, proofs=pub.proofs[:1]), c32.k)
    with pytest.raises(CeremonyError, match="Box"):
        th.verify_trustee_public(MANIFEST, dataclasses.replace(pub, box_public=b"\x01" * 31), c32.k)


# --- partial decryptions ----------------------------------------------------------------------


def test_wrong_partial_decryption_fails(c32):
    ct, _ = encrypt(c32.public_key, 5)
    ctx = _dctx()
    S1 = c32.S(1)
    honest = th.partial_decrypt(ctx, 1, c32.s[1], S1, ct.alpha)
    th.verify_partial(ctx, S1, ct.alpha, honest)
    # wrong exponent, with a proof honestly made for that exponent
    wrong = th.partial_decrypt(ctx, 1, c32.s[1] + 1, S1, ct.alpha)
    with pytest.raises(ProofError):
        th.verify_partial(ctx, S1, ct.alpha, wrong)
    # honest proof attached to a wrong share
    with pytest.raises(ProofError):
        th.verify_partial(ctx, S1, ct.alpha,
                          dataclasses.replace(honest, share=honest.share + base_mul(1)))
    # honest partial checked against another trustee's public share, ciphertext or context
    with pytest.raises(ProofError):
        th.verify_partial(ctx, c32.S(2), ct.alpha, honest)
    other, _ = encrypt(c32.public_key, 5)
    with pytest.raises(ProofError):
        th.verify_partial(ctx, S1, other.alpha, honest)
    with pytest.raises(ProofError):
        th.verify_partial(_dctx(b"unit 2"), S1, ct.alpha, honest)


def test_wrong_partial_gives_wrong_plaintext(c32):
    ct, _ = encrypt(c32.public_key, 5)
    good = {l: ct.alpha * c32.s[l] for l in (1, 2)}
    assert discrete_log(ct.beta - th.combine_partials(good, 2), 100) == 5
    bad = dict(good)
    bad[2] = ct.alpha * (c32.s[2] + 1)
    assert ct.beta - th.combine_partials(bad, 2) != base_mul(5)


def test_combine_ignores_order_of_trustees(c32):
    ct, _ = encrypt(c32.public_key, 9)
    parts = {l: ct.alpha * c32.s[l] for l in (3, 1)}
    assert th.combine_partials(parts, 2) == th.combine_partials(dict(sorted(parts.items())), 2)
    assert Ciphertext(ct.alpha, ct.beta - th.combine_partials(parts, 2)).beta == base_mul(9)
