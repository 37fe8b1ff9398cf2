"""Use cases over the store and the tally: what the web app and the CLI both call.

The web blueprints and ``ballot demo`` go through these functions, so the demo exercises the
same code as a real meeting (docs/architecture.md).
"""
