"""A private PostgreSQL (linkwatch's embedded server) that a test may stop, restart and throw away."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from linkwatch.db import embedded


class ThrowawayServer:
    """Its own cluster under a temporary directory: never the shared server a session's tests use."""

    def __init__(self) -> None:
        self.data_dir = Path(tempfile.mkdtemp(prefix="lw-pg-"))
        self.url = embedded.start(self.data_dir, announce=False, database="postgres")

    def stop(self) -> None:
        """A server that goes away the way a restart or a crash of PostgreSQL does (fast shutdown)."""
        embedded.stop(self.data_dir)

    def start(self) -> str:
        """The server back on the same data and socket; its URL (unchanged)."""
        url = embedded.start(self.data_dir, announce=False, database="postgres")
        assert url == self.url, "the restarted server moved its socket"
        return url

    def remove(self) -> None:
        embedded.remove(self.data_dir)
        shutil.rmtree(self.data_dir, ignore_errors=True)
