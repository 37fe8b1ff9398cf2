"""The Flask application factory (docs/architecture.md, docs/web.md)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from flask import Flask

__all__ = ["create_app"]


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """``config`` keys: INSTANCE (default: ``ballot.instance.instance_folder()``), DATABASE_URL (default: BALLOT_DATABASE_URL or SQLite in the instance
    folder), KEYS_DIR (default: BALLOT_KEYS_DIR or <instance>/keys), RECORDS_DIR,
    MAX_CONTENT_LENGTH, SECRET_KEY (default: BALLOT_SECRET_KEY or <instance>/secret_key),
    HTTPS (default: BALLOT_HTTPS=1; Secure cookies and HSTS), PUBLIC_URL (default:
    BALLOT_PUBLIC_URL or the address of the request; the base of the invitation links),
    TIMEZONE (default Asia/Ho_Chi_Minh), TRUSTED_PROXIES (default: BALLOT_TRUSTED_PROXIES;
    addresses or networks of the reverse proxies whose X-Forwarded-For is believed, see
    proxies.py; the older PROXY_COUNT / BALLOT_PROXY_COUNT trusts N hops from anyone)."""
    from ballot.instance import instance_folder

    # One instance folder for every command (ballot/instance.py): never Flask's default, which
    # for a non-editable install lies inside the virtual environment.
    app = Flask(__name__, instance_path=str(instance_folder((config or {}).get("INSTANCE"))))
    app.config.update(
        MAX_CONTENT_LENGTH=4 * 1024 * 1024,
        JSON_SORT_KEYS=False,
    )
    app.config.update(config or {})
    instance = Path(app.instance_path)
    trusted = app.config.get("TRUSTED_PROXIES") or os.environ.get("BALLOT_TRUSTED_PROXIES")
    proxies = int(app.config.get("PROXY_COUNT") or os.environ.get("BALLOT_PROXY_COUNT") or 0)
    if trusted:
        # Behind trusted reverse proxies (docs/deployment.md): the client's address (for the
        # throttles), scheme and host come from their X-Forwarded-* headers, and only theirs.
        from .proxies import TrustedProxies, parse_networks

        app.wsgi_app = TrustedProxies(app.wsgi_app, parse_networks(trusted))  # type: ignore[method-assign]
    elif proxies:
        # The older setting: behind exactly N proxies, whoever connects (ProxyFix).
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies)

    from ballot.service.keys import KeyStore
    from ballot.service.meeting import Meeting
    from ballot.store.db import make_engine, session_factory
    from ballot.store.migrate import upgrade

    url = app.config.get("DATABASE_URL") or os.environ.get("BALLOT_DATABASE_URL")
    instance.mkdir(parents=True, exist_ok=True)
    engine = make_engine(url, instance_path=instance)
    if app.config.get("MIGRATE", True):
        upgrade(str(engine.url.render_as_string(hide_password=False)))
    keys_dir = app.config.get("KEYS_DIR") or os.environ.get("BALLOT_KEYS_DIR") or instance / "keys"
    records = app.config.get("RECORDS_DIR") or instance / "records"
    app.extensions["ballot.meeting"] = Meeting(session_factory(engine), KeyStore(keys_dir), Path(records))
    app.extensions["ballot.engine"] = engine

    from . import i18n, security
    from .slips import Stash

    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = security.load_secret_key(instance)
    app.extensions["ballot.stash"] = Stash(Path(app.config.get("SEALED_DIR") or instance / "sealed"))
    security.init_app(app)
    i18n.init_app(app)

    from .admin import admin
    from .api import api
    from .errors import init_app as init_errors
    from .trustee import trustee
    from .verifier import verifier
    from .vote import public

    app.register_blueprint(api)
    app.register_blueprint(admin)
    app.register_blueprint(trustee)
    app.register_blueprint(public)
    from .gate import install as install_gate

    install_gate(app)  # drafts and unpublished results are not public
    app.register_blueprint(verifier)
    init_errors(app)
    return app
