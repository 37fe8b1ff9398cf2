"""Credentials: what a token request is looked up by (docs/protocol.md §7.1).

The phone sends the per-round credential of the slip's code, never the code; the server
stores, per election, only the hash of that credential (``repo.hash_invitation_code``).
"""

from __future__ import annotations

from ballot.crypto.credential import credential, credential_hash, parse_credential

__all__ = ["UNKNOWN", "stored_hash"]

#: Looked up when nothing usable was sent: matches no invitation (a 403/404 that counts as a
#: failed attempt, as an unknown code does).
UNKNOWN = "0" * 64


class CredentialError(ValueError):
    """A token request whose credential (or code) is malformed: a 400 with this reason."""


def stored_hash(slug: str, *, credential_hex: object = None, invitation: object = None) -> str:
    """The ``invitations.code_hash`` a token request for election ``slug`` is looked up by.

    ``credential_hex``: what the phone sends, 64 lowercase hex digits. ``invitation``: the code
    itself, accepted from scripts and older clients only (a client that sends it shows the
    code to anyone on the network; docs/threat-model.md §3.4); the server then derives the same
    credential. Exactly one of the two."""
    if (credential_hex is None) == (invitation is None):
        raise CredentialError("send the invitation credential (docs/protocol.md §7.1) and a "
                              "blinded_msg")
    if credential_hex is not None:
        try:
            return credential_hash(parse_credential(credential_hex))
        except ValueError as exc:
            raise CredentialError(str(exc)) from None
    if not isinstance(invitation, str):
        raise CredentialError("send invitation and blinded_msg as strings")
    try:
        return credential_hash(credential(slug, invitation))
    except ValueError:
        return UNKNOWN  # an empty code: unknown, as before
