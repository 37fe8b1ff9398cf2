"""The errors raised by the election package, each a ``ValueError`` with a message naming the field."""

from __future__ import annotations

__all__ = ["ManifestError", "CountError"]


class ManifestError(ValueError):
    """A manifest, level set, rule profile, roll entry or unit that is not valid."""


class CountError(ValueError):
    """Counts or meeting figures that are not valid for the manifest they are counted under."""
