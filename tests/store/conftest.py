"""Fixtures for the storage tests (helpers live in tests/store/helpers.py)."""

from __future__ import annotations

import pytest

from ballot.store.db import make_engine, session_factory


@pytest.fixture
def engine(migrated_db_url):
    eng = make_engine(migrated_db_url)
    yield eng
    eng.dispose()


@pytest.fixture
def sf(engine):
    return session_factory(engine)
