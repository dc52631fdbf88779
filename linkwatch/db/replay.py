"""`db replay`: stores what crawls left on disk (spilled batches) and finishes the context search copy."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import psycopg

from linkwatch.db.spill import pending_spills, replay_spills
from linkwatch.db.store import StoreResult
from linkwatch.db.text_index import index_pending


@dataclass
class Replayed:
    """What replay_all() did."""

    batches: int = 0
    stored: StoreResult = field(default_factory=StoreResult)
    copied_ranges: int = 0
    left: int = 0


def replay_all(conn: psycopg.Connection, data_dir: Path) -> Replayed:
    """Replays every spilled batch under data_dir, then copies queued contexts into the search copy."""
    outcome = Replayed()
    for result in replay_spills(conn, data_dir):
        outcome.batches += 1
        outcome.stored += result
    outcome.copied_ranges = index_pending(conn)
    outcome.left = len(pending_spills(data_dir))
    return outcome
