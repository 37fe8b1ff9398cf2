"""Errors raised by the storage layer (docs/storage.md).

Every error carries a message fit to show a secretary or a voter (after translation by the web
layer); none of them leaks a secret such as an invitation code.
"""

from __future__ import annotations

__all__ = [
    "StoreError",
    "ElectionNotFound",
    "LifecycleError",
    "ElectionNotOpen",
    "InvitationError",
    "UnknownInvitation",
    "InvitationAlreadyRedeemed",
    "NotEligible",
    "TokenAlreadyIssued",
    "DuplicateBallot",
    "DuplicateTrackingCode",
    "ChainError",
]


class StoreError(Exception):
    """Base class of the storage layer's refusals."""


class ElectionNotFound(StoreError, LookupError):
    """No election with that id or slug."""


class LifecycleError(StoreError, ValueError):
    """An operation or status change the election's lifecycle forbids."""


class ElectionNotOpen(LifecycleError):
    """Tokens and ballots are accepted only while the election is open."""


class InvitationError(StoreError, ValueError):
    """An invitation code that cannot be redeemed."""


class UnknownInvitation(InvitationError):
    """No invitation with that code in this election."""


class InvitationAlreadyRedeemed(InvitationError):
    """The invitation code has already been used (a code is redeemed once)."""


class NotEligible(InvitationError):
    """The roll entry is not an official member (probationary members do not vote)."""


class TokenAlreadyIssued(StoreError, ValueError):
    """This roll entry already received its one token for this election."""


class DuplicateBallot(StoreError, ValueError):
    """A ballot was already accepted for this token (one ballot per token)."""


class DuplicateTrackingCode(StoreError, ValueError):
    """Another board entry of this election already has this tracking code."""


class ChainError(StoreError):
    """A hash chain (bulletin board or audit log) is broken.

    ``position`` is the board position or audit ``seq`` of the first bad entry.
    """

    def __init__(self, position: int, reason: str) -> None:
        super().__init__(f"entry {position}: {reason}")
        self.position = position
        self.reason = reason
