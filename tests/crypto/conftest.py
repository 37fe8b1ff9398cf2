"""Shared by the cross-language tests: the vector generators under tests/vectors/ are scripts,
loaded here by path."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import pytest

VECTORS_DIR = Path(__file__).resolve().parents[1] / "vectors"


@pytest.fixture(scope="session")
def vector_generator():
    """``vector_generator("make_protocol_vectors")``: that script, imported as a module."""
    loaded: dict[str, ModuleType] = {}

    def load(name: str) -> ModuleType:
        if name not in loaded:
            spec = importlib.util.spec_from_file_location(name, VECTORS_DIR / f"{name}.py")
            assert spec is not None and spec.loader is not None
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
            loaded[name] = module
        return loaded[name]

    return load
