"""Benchmarks: scripts that print measured numbers (``python -m ballot.bench crypto``).

Performance is measured here, never asserted in timed tests (DEVELOPERS.md, "Standards").
"""
