"""Fixtures: a temporary database, and the tests' own reference data (tests/fixtures/reference).

Shared helpers (rows, files, queries) are in tests/helpers.py: ``from helpers import ...``.
"""
from __future__ import annotations

from pathlib import Path

import pytest
from helpers import REFERENCE_FIXTURES


@pytest.fixture(autouse=True)
def reference_fixtures(monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test reads the tests' own trusts and ambitions, never reference_data/ (which users edit)."""
    monkeypatch.setenv("FLOW_REFERENCE_DIR", str(REFERENCE_FIXTURES))
    return REFERENCE_FIXTURES


@pytest.fixture
def db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh database path, also set as $FLOW_DB for code that reads the default."""
    path = tmp_path / "flow.duckdb"
    monkeypatch.setenv("FLOW_DB", str(path))
    return path
