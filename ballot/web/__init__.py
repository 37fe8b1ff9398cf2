"""The Flask application factory (docs/architecture.md)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from flask import Flask

__all__ = ["create_app"]


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """``config`` keys: DATABASE_URL (default: BALLOT_DATABASE_URL or SQLite in the instance
    folder), KEYS_DIR (default: BALLOT_KEYS_DIR or <instance>/keys), RECORDS_DIR,
    MAX_CONTENT_LENGTH."""
    app = Flask(__name__, instance_path=os.environ.get("BALLOT_INSTANCE") or None)
    app.config.update(
        MAX_CONTENT_LENGTH=4 * 1024 * 1024,
        JSON_SORT_KEYS=False,
    )
    app.config.update(config or {})
    instance = Path(app.instance_path)

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

    from .api import api

    app.register_blueprint(api)
    return app
