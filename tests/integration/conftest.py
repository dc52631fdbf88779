"""Fixtures shared by the integration tests (the session-wide ones are in tests/conftest.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from seeding import Seed


@pytest.fixture
def seed(db: str) -> Iterator[Seed]:
    """A Seed on the clean test database."""
    s = Seed(db)
    yield s
    s.close()
