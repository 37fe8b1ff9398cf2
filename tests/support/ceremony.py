"""A key ceremony as the trustees hold it, over HTTP, for tests that need an open meeting."""

from __future__ import annotations

from typing import Any

from ballot.clients.http import Http
from ballot.clients.trustee import TrusteeDevice
from ballot.service.trustee_access import enrol_all


def hold_ceremony(meeting: Any, base_url: str, slug: str,
                  codes: dict[str, str]) -> tuple[list[TrusteeDevice], list[Any]]:
    """``codes``: the secretary's enrolment codes by trustee name, in trustee order (what
    ``Meeting.create`` returns). Each trustee's first sign-in (their own access code), the
    ceremony on their own devices, "Finish", and every trustee's approval of the fingerprint:
    voting may open. Returns the devices and their keys, in trustee order."""
    own = enrol_all(meeting, slug, codes)
    meeting.begin_ceremony(slug)
    devices = [TrusteeDevice(Http(base_url, bearer=own[name]), slug, i)
               for i, name in enumerate(codes, 1)]
    keys = [d.keygen() for d in devices]
    for d, k in zip(devices, keys):
        d.send_shares(k)
    keys = [d.receive_shares(k) for d, k in zip(devices, keys)]
    meeting.finish_ceremony(slug)
    for d, k in zip(devices, keys):
        d.approve(k)
    return devices, keys
