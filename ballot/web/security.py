"""The security base of every page: secret key, session cookie, CSRF, response headers.

- **Secret key** (signs the session cookie): ``SECRET_KEY`` in the config, else
  ``$BALLOT_SECRET_KEY``, else 32 random bytes kept in ``<instance>/secret_key`` (mode 0600,
  created once; every worker process reads the same file).
- **Session cookie**: HttpOnly, SameSite=Lax, Secure when ``HTTPS`` is on (config ``HTTPS`` or
  ``$BALLOT_HTTPS=1``, for a deployment behind TLS), 12 hours. The session holds only who is
  logged in, the CSRF token and the keys of sealed stashes (``slips.py``).
- **CSRF**: a random token per session, a hidden ``csrf_token`` field in every form, checked
  on every non-API POST together with the Origin header when the browser sends one. The JSON
  API does not use the session cookie (phones are anonymous, trustees send a bearer code) and
  needs ``Content-Type: application/json``, which a cross-site form cannot send.
- **Headers**: a strict Content-Security-Policy without ``unsafe-inline`` (pages that run the
  WebAssembly crypto add ``'wasm-unsafe-eval'``, which allows compiling WebAssembly and nothing
  else: the phone and audit pages, and the trustee's page, which calls :func:`use_wasm`),
  X-Content-Type-Options, Referrer-Policy no-referrer, frame-ancestors 'none', and
  ``Cache-Control: no-store`` on everything but static files.
"""

from __future__ import annotations

import functools
import hmac
import os
import secrets
from datetime import timedelta
from pathlib import Path
from typing import Any, Callable
from urllib.parse import urlsplit

from flask import Flask, abort, current_app, g, redirect, request, session, url_for

__all__ = ["init_app", "csrf_token", "load_secret_key", "login_required", "admin_user",
           "use_wasm", "CSP"]

CSP = ("default-src 'self'; script-src 'self'{wasm}; style-src 'self'; img-src 'self' data:; "
       "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; "
       "frame-ancestors 'none'; form-action 'self'")


def load_secret_key(instance: Path) -> bytes:
    env = os.environ.get("BALLOT_SECRET_KEY")
    if env:
        return env.encode()
    path = instance / "secret_key"
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        pass
    else:
        with os.fdopen(fd, "wb") as f:
            f.write(secrets.token_bytes(32))
    data = path.read_bytes()
    if len(data) < 32:  # another worker is still writing it
        import time

        time.sleep(0.2)
        data = path.read_bytes()
    return data


def csrf_token() -> str:
    token = session.get("csrf")
    if not token:
        token = session["csrf"] = secrets.token_urlsafe(32)
    return token


def use_wasm() -> None:
    """This page runs the WebAssembly crypto: allow compiling WebAssembly in its CSP."""
    g.csp_wasm = True


def admin_user() -> str | None:
    """The signed-in secretary: the cookie's session id must still be open on the server
    (signin.py; logging out ends it), checked once per request."""
    if "ballot_admin" not in g:
        user = None
        if session.get("admin"):
            from .signin import session_user

            factory = current_app.extensions["ballot.meeting"].factory
            user = session_user(factory, session.get("sid"))
            if user != session.get("admin"):
                user = None
        g.ballot_admin = user
    return g.ballot_admin


def login_required(view: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if not admin_user():
            if request.method == "GET":
                return redirect(url_for("admin.login", next=request.full_path.rstrip("?")))
            abort(403)
        return view(*args, **kwargs)

    wrapped.login_required = True  # type: ignore[attr-defined]
    return wrapped


def _same_origin(origin: str) -> bool:
    # The host only: behind a TLS proxy the app may see http while the browser says https.
    return urlsplit(origin).netloc == request.host


def init_app(app: Flask) -> None:
    https = bool(app.config.get("HTTPS")) or os.environ.get("BALLOT_HTTPS") == "1"
    app.config["HTTPS"] = https
    if app.config.get("SESSION_COOKIE_NAME") in (None, "session"):
        app.config["SESSION_COOKIE_NAME"] = "ballot_session"
    app.config.update(
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=https,
        PERMANENT_SESSION_LIFETIME=timedelta(hours=12),
        PREFERRED_URL_SCHEME="https" if https else "http",
    )
    app.jinja_env.globals["csrf_token"] = csrf_token

    @app.before_request
    def _check_csrf() -> None:
        if request.method in ("GET", "HEAD", "OPTIONS") or request.blueprint == "api":
            return
        origin = request.headers.get("Origin")
        if origin and origin != "null" and not _same_origin(origin):
            abort(403, "cross-site request refused")
        sent = request.form.get("csrf_token", "")
        token = session.get("csrf", "")
        if not token or not sent or not hmac.compare_digest(sent, token):
            abort(400, "the form has expired or was not sent by this site: reload the page "
                       "and try again")

    @app.after_request
    def _headers(response):
        h = response.headers
        # The sealing worker gets its policy from its own response: it compiles the wasm too.
        wasm = g.get("csp_wasm") or (request.endpoint == "static"
                                      and request.path.endswith("/js/seal-worker.js"))
        h.setdefault("Content-Security-Policy", CSP.format(wasm=" 'wasm-unsafe-eval'" if wasm else ""))
        h.setdefault("X-Content-Type-Options", "nosniff")
        h.setdefault("Referrer-Policy", "no-referrer")
        h.setdefault("X-Frame-Options", "DENY")
        h.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
        if https:  # browsers ignore (and complain about) COOP on plain HTTP
            h.setdefault("Strict-Transport-Security", "max-age=31536000")
            h.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        if request.endpoint != "static":
            h.setdefault("Cache-Control", "no-store")
        return response



def public_base_url() -> str:
    """The address phones use: ``PUBLIC_URL`` (or $BALLOT_PUBLIC_URL) if set, else the
    address this request came to."""
    base = current_app.config.get("PUBLIC_URL") or os.environ.get("BALLOT_PUBLIC_URL")
    return (base or request.host_url).rstrip("/")


def is_loopback_url(url: str) -> bool:
    host = urlsplit(url).hostname or ""
    return host in ("localhost", "::1") or host.startswith("127.") or host.endswith(".localhost")
