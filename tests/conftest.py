"""Shared fixtures: paths to the shipped sample week and the shared evaluation data."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SAMPLE_WEEK = ROOT / "examples" / "sample-week"
SHARED_DATA = ROOT.parent / "shared" / "data"

# postgres_server and postgres_url: a throwaway PostgreSQL server for the store's tests.
pytest_plugins = ["tests.postgres"]


@pytest.fixture
def shared_data() -> Path:
    """../shared/data, or a skip that says what is missing."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"shared evaluation data not found at {SHARED_DATA}")
    return SHARED_DATA
