"""Fixtures shared by the job tests: the local fake of the platforms' public previews."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.utils.previews import FakePreviews


@pytest.fixture
def fake() -> Iterator[FakePreviews]:
    """The fake preview server on 127.0.0.1 (tests/utils/previews.py documents each page shape)."""
    server = FakePreviews().start()
    yield server
    server.stop()
