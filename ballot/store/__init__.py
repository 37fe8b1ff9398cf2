"""Storage: SQLAlchemy models, sessions, Alembic migrations; SQLite by default, PostgreSQL.

Modules (docs/storage.md):
- ``db``: ``make_engine``, ``session_factory``, ``transaction``;
- ``models``: the tables; ``migrate``: ``upgrade(url)`` and the ``ballot db`` click group;
- ``lifecycle``: draft → key_ceremony → open → closed → tallied → published;
- ``repo``: elections, invitations, token issuance, bulletin board, tallies, audit log;
- ``csv_import``: the roll and the units from CSV files;
- ``errors``: the exceptions.
"""
