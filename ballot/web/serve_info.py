"""What ``ballot serve`` tells the person who started it, and its request log.

- :func:`addresses`: the addresses people use — the public URL (``PUBLIC_URL`` /
  ``$BALLOT_PUBLIC_URL``) or, without one, this machine's LAN addresses — with the secretary's
  page and the projector's, rather than the address the server listens on.
- :class:`RequestLog`: one line per request (time, method, path, status, duration). Never the
  client's address, and never the query string (``/v/<slug>?code=…`` may carry an invitation
  code; invitation codes normally travel in the fragment, which no server sees).
"""

from __future__ import annotations

import os
import socket
import sys
import time
from datetime import datetime
from typing import Any, Callable, Iterable, TextIO

__all__ = ["addresses", "lan_ips", "RequestLog"]


def lan_ips() -> list[str]:
    """This machine's IPv4 addresses that other devices on the network can reach (best effort,
    no packet sent: a UDP socket's route choice, towards a documentation address)."""
    ips: list[str] = []
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.connect(("192.0.2.1", 9))  # no packet is sent; this only picks the outgoing address
            ips.append(s.getsockname()[0])
    except OSError:
        pass
    try:
        ips += socket.gethostbyname_ex(socket.gethostname())[2]
    except OSError:
        pass
    out = []
    for ip in ips:
        # The wildcard address is left out of what a person is told to type: not a bind.
        if ip not in out and not ip.startswith("127.") and ip != "0.0.0.0":  # nosec B104
            out.append(ip)
    return out


def lan_address() -> str | None:
    """The first of :func:`lan_ips`, or None (a page served from it is not a secure context:
    the browser tests and benchmarks load the phone's page from it, as phones on the LAN do)."""
    return next(iter(lan_ips()), None)


def addresses(host: str, port: int, public_url: str | None = None) -> list[tuple[str, str]]:
    """(what, URL) lines to print at start: phones, the secretary, the projector."""
    if public_url is None:
        public_url = os.environ.get("BALLOT_PUBLIC_URL") or None
    if public_url:
        bases = [public_url.rstrip("/")]
    # A comparison with the wildcard addresses the server was asked to listen on, not a bind.
    elif host in ("0.0.0.0", "", "::"):  # nosec B104
        bases = [f"http://{ip}:{port}" for ip in lan_ips()] or [f"http://127.0.0.1:{port}"]
    else:
        bases = [f"http://{host}:{port}"]
    lines = []
    for base in bases:
        lines += [("Phones / Điện thoại", f"{base}/"),
                  ("Secretary / Thư ký", f"{base}/admin"),
                  ("Projector / Máy chiếu", f"{base}/p/<short name>")]
    if not public_url and host in ("127.0.0.1", "localhost", "::1"):
        lines.append(("Note / Lưu ý", "this address is this computer only: phones cannot reach "
                      "it; start with --host 0.0.0.0 (and set BALLOT_PUBLIC_URL)"))
    return lines


class RequestLog:
    """WSGI middleware: one line per request, without the client's address or query string."""

    def __init__(self, app: Callable, out: TextIO | None = None):
        self.app = app
        self.out = out

    def __call__(self, environ: dict[str, Any], start_response: Callable) -> Iterable[bytes]:
        started = time.perf_counter()
        status_holder: list[str] = []

        def start(status: str, headers: list, exc_info: Any = None):
            status_holder.append(status.split(" ", 1)[0])
            return start_response(status, headers, exc_info) if exc_info is not None \
                else start_response(status, headers)

        try:
            return self.app(environ, start)
        finally:
            ms = (time.perf_counter() - started) * 1000
            path = environ.get("PATH_INFO", "")
            out = self.out or sys.stdout
            print(f"{datetime.now().strftime('%H:%M:%S')} {environ.get('REQUEST_METHOD', '')} "
                  f"{path} {status_holder[0] if status_holder else '-'} {ms:.0f} ms",
                  file=out, flush=True)
