"""Which reverse proxies are trusted to say who the client is (docs/deployment.md, "Behind a
reverse proxy").

``TRUSTED_PROXIES`` in the config, or ``$BALLOT_TRUSTED_PROXIES``: addresses or networks
(``127.0.0.1, 10.0.0.0/8, ::1``), separated by commas or spaces. A request that comes from one
of them has its client address taken from ``X-Forwarded-For``, read from the right: each hop
added by a trusted proxy is skipped, and the first address that is not a trusted proxy is the
client. Whatever a client writes itself into the header is to the left of that and is never
used. ``X-Forwarded-Proto`` and ``X-Forwarded-Host`` (their last value) are taken too.

The client address keys the throttles (invitation codes, sign-in, refused ballots): without
this setting every phone behind a proxy has the proxy's address and shares one throttle
(which never blocks a right invitation code, but does slow wrong ones for all of them).
"""

from __future__ import annotations

import ipaddress
from typing import Any, Callable, Iterable

__all__ = ["parse_networks", "TrustedProxies"]

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_networks(value: str | Iterable[str] | None) -> tuple[Network, ...]:
    """``"127.0.0.1, 10.0.0.0/8"`` (or a list) → networks; ValueError names a bad entry."""
    if not value:
        return ()
    items = value.replace(",", " ").split() if isinstance(value, str) else list(value)
    out = []
    for item in items:
        try:
            out.append(ipaddress.ip_network(item.strip(), strict=False))
        except ValueError:
            raise ValueError(f"BALLOT_TRUSTED_PROXIES: {item!r} is not an address or network") \
                from None
    return tuple(out)


def _address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    text = text.strip()
    if text.startswith("[") and "]" in text:  # [v6]:port
        text = text[1:text.index("]")]
    elif text.count(":") == 1:  # v4:port
        text = text.split(":", 1)[0]
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


class TrustedProxies:
    """WSGI middleware: REMOTE_ADDR, scheme and host from trusted proxies' headers."""

    def __init__(self, app: Callable[..., Any], networks: tuple[Network, ...]):
        self.app = app
        self.networks = networks

    def trusted(self, addr: ipaddress.IPv4Address | ipaddress.IPv6Address | None) -> bool:
        return addr is not None and any(addr in net for net in self.networks
                                        if net.version == addr.version)

    def client(self, remote: str, forwarded_for: str) -> str:
        """The client's address: the first hop from the right that is not a trusted proxy."""
        addr = _address(remote)
        if not self.trusted(addr):
            return remote
        client = remote
        for hop in reversed([h for h in forwarded_for.split(",") if h.strip()]):
            hop_addr = _address(hop)
            if hop_addr is None:  # garbage from a proxy: stop at the last good address
                break
            client = str(hop_addr)
            if not self.trusted(hop_addr):
                break
        return client

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        remote = environ.get("REMOTE_ADDR", "")
        if self.trusted(_address(remote)):
            environ["ballot.proxy_addr"] = remote
            environ["REMOTE_ADDR"] = self.client(remote, environ.get("HTTP_X_FORWARDED_FOR", ""))
            proto = environ.get("HTTP_X_FORWARDED_PROTO", "").split(",")[-1].strip().lower()
            if proto in ("http", "https"):
                environ["wsgi.url_scheme"] = proto
            host = environ.get("HTTP_X_FORWARDED_HOST", "").split(",")[-1].strip()
            if host:
                environ["HTTP_HOST"] = host
        return self.app(environ, start_response)
