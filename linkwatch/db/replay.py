"""Replay: stores what crawls left on disk (journaled pages the store had not committed, and spill files
of earlier versions), records a cut-off run's figures, and finishes the context search copy."""

from __future__ import annotations

import fcntl
import logging
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import psycopg

from linkwatch.alerts.targets import StorePolicy
from linkwatch.db import runs
from linkwatch.db.journal import JournalState, append_to, claimed, journals, read_journal
from linkwatch.db.spill import SpillError, pending_spills, read_spill, spill_dir
from linkwatch.db.store import StoreResult, store_batch
from linkwatch.db.text_index import index_pending
from linkwatch.records import Page

log = logging.getLogger(__name__)

REPLAY_BATCH = 250  # pages per transaction, as the crawl's own store writes them
# The outage and conflict errors after which a replay stops and leaves the rest for the next attempt.
RETRY_LATER = (psycopg.OperationalError, psycopg.InterfaceError, psycopg.errors.TransactionRollback)


@dataclass
class Replayed:
    """What a replay did."""

    batches: int = 0
    stored: StoreResult = field(default_factory=StoreResult)
    journals: int = 0  # journals whose pages are now all stored
    runs_recorded: int = 0  # cut-off runs whose figures were recorded from their journal
    busy: int = 0  # journals a live crawl holds (left to it)
    kept: list[Path] = field(default_factory=list)  # journals kept for `crawl --resume`
    copied_ranges: int = 0
    left: int = 0  # legacy spill files still waiting


def _batches(pages: Iterable[Page], size: int) -> Iterable[list[Page]]:
    batch: list[Page] = []
    for page in pages:
        batch.append(page)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def _figures(state: JournalState) -> tuple[int, int]:
    """Pages and distinct links a journal holds: a cut-off run's figures."""
    links: set[str] = set()
    for seq in state.pages:
        try:
            links.update(link.url for link in state.read_page(seq).links)
        except (OSError, ValueError, KeyError, TypeError):
            continue
    return len(state.pages), len(links)


def replay_journal(conn: psycopg.Connection, directory: Path, outcome: Replayed, *,
                   keep_frontier: bool = True, alerts: StorePolicy | None = None) -> None:
    """Stores a journal's unstored pages (marking them stored as each batch commits), records its run's
    end, and removes it once nothing of it is needed: no pending frontier, or `keep_frontier` False.

    A journal a live crawl holds is left alone. An outage stops the replay (the rest stays journaled).
    With `alerts`, the new links it stores are alerted as a crawl's would be.
    """
    with claimed(directory) as ours:
        if not ours:
            outcome.busy += 1
            return
        state = read_journal(directory)
        run_id = state.run_id if state.run_id is not None and runs.run_exists(conn, state.run_id) else None
        for batch in _batches(state.iter_unstored(), REPLAY_BATCH):
            outcome.stored += store_batch(conn, batch, run_id, alerts=alerts)
            outcome.batches += 1
            append_to(directory, [{"t": "s", "from": batch[0].seq, "to": batch[-1].seq}])
        outcome.journals += 1
        if run_id is not None:
            if state.end is not None:
                runs.finish_run(conn, run_id, state.end["status"], state.end["stats"])
                outcome.runs_recorded += 1
            elif runs.recover_run(conn, run_id, *_figures(state)):
                outcome.runs_recorded += 1
        if keep_frontier and state.pending():
            outcome.kept.append(Path(directory))
            return
    remove_journal(directory)


def remove_journal(directory: Path) -> None:
    """Deletes a journal whose pages are stored and whose frontier nobody needs."""
    from linkwatch.db.journal import Journal

    Journal(directory, run_id=None, source="").remove()


def replay_journals(conn: psycopg.Connection, data_dir: Path, outcome: Replayed, *,
                    source: str | None = None, keep_frontier: bool = True,
                    alerts: StorePolicy | None = None) -> None:
    """replay_journal() for every journal under data_dir (of one source), oldest first."""
    for directory in journals(data_dir, source):
        replay_journal(conn, directory, outcome, keep_frontier=keep_frontier, alerts=alerts)


def replay_spills(conn: psycopg.Connection, data_dir: Path, outcome: Replayed) -> None:
    """Replays the spill files earlier versions wrote during an outage, oldest first, deleting each after
    its commit; a damaged file is moved aside, one PostgreSQL refuses goes to spill/rejected/."""
    for path in pending_spills(data_dir):
        try:
            result = _replay_spill(conn, path)
        except SpillError as exc:
            damaged = path.with_suffix(".damaged")
            path.replace(damaged)
            log.error("%s; moved to %s", exc, damaged)
            continue
        except RETRY_LATER:
            raise  # an outage or a transient conflict: the file stays for the next attempt
        except (psycopg.Error, KeyError, TypeError, ValueError) as exc:
            target = spill_dir(data_dir) / "rejected" / path.name
            target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            path.replace(target)
            log.error("PostgreSQL refused spill file %s (%s); moved to %s", path, exc, target)
            continue
        if result is not None:
            outcome.batches += 1
            outcome.stored += result


def _replay_spill(conn: psycopg.Connection, path: Path) -> StoreResult | None:
    """Stores one spill file and deletes it after the commit; None if another process has it or did it."""
    try:
        fh = path.open("rb")
    except FileNotFoundError:
        return None
    with fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return None  # another linkwatch process is replaying it right now
        if not path.exists() or os.stat(path).st_ino != os.fstat(fh.fileno()).st_ino:
            return None  # replayed and removed while we waited
        run_id, pages = read_spill(path)
        if run_id is not None and not runs.run_exists(conn, run_id):
            run_id = None
        result = store_batch(conn, pages, run_id)
        path.unlink()  # only after the commit: a crash before this replays again, harmlessly
    return result


def replay_all(conn: psycopg.Connection, data_dir: Path, alerts: StorePolicy | None = None) -> Replayed:
    """`linkwatch db replay`: every journal and spill file under data_dir, then the search copy.

    Journals with a frontier left are kept (their pages marked stored) for `crawl --resume`.
    """
    outcome = Replayed()
    replay_spills(conn, data_dir, outcome)
    replay_journals(conn, data_dir, outcome, alerts=alerts)
    outcome.copied_ranges = index_pending(conn)
    outcome.left = len(pending_spills(data_dir))
    return outcome
