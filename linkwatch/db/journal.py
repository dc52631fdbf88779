"""The crawl journal: a crawl's frontier and every page it extracted, on local disk before they count as done.

One journal per crawl run, `<data dir>/journal/<source>/<run id>/`, holds JSON-lines segments of records:

    h  header: format, run id, source
    q  a URL the crawl scheduled (its frontier key, URL and depth)
    p  a page it extracted, with its links and evidence reference; the page's key is then done
    d  a key done without a page (an error, a refusal, not a page)
    s  a range of page records the store committed to PostgreSQL
    e  the run's end: its status and figures, kept when PostgreSQL could not take them

Appending never waits for the disk: a flusher thread writes the records and fsyncs them in groups
(`SYNC_RECORDS` records or `SYNC_SECONDS`, whichever comes first), so a page counts as done only once
its record is durable, and a kill at any moment loses no page whose links were extracted: the next crawl
(or `linkwatch db replay`) stores the pages the store had not committed, and `crawl --resume` continues
the frontier (scheduled minus done).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import shutil
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from linkwatch.errors import LinkwatchError
from linkwatch.records import Page

log = logging.getLogger(__name__)

FORMAT = "linkwatch-journal/1"
SYNC_RECORDS = 64  # fsync after this many records…
SYNC_SECONDS = 0.05  # …or this long after the first unsynced one (an fsync costs ~0.2 ms here)
SEGMENT_BYTES = 64 * 1024 * 1024
RETRY_SECONDS = 1.0  # after a write error (a full disk), the flusher tries again this often
MAX_BUFFER_BYTES = 256 * 1024 * 1024  # records waiting for a disk that does not take them
LOCK_NAME = "lock"


class JournalError(LinkwatchError):
    """Raised when a journal cannot be opened, written or read; the message names the directory."""


def journal_root(data_dir: Path) -> Path:
    """Where every source's journals live."""
    return Path(data_dir) / "journal"


def run_journal_dir(data_dir: Path, source: str, run_id: int) -> Path:
    """The journal directory of one crawl run."""
    return journal_root(data_dir) / source / str(run_id)


def _segment_name(number: int) -> str:
    return f"{number:06d}.jsonl"


class Journal:
    """The writing side: append() from the crawl, a flusher thread that writes and fsyncs in groups.

    Thread-safe. `durable` is the highest sequence number known to be on disk; `flush()` waits for it.
    Page records are indexed as they are written, so `read_page(seq)` can give a page back once the
    store has let go of its copy.
    """

    def __init__(self, directory: Path, *, run_id: int | None, source: str,
                 sync_records: int = SYNC_RECORDS, sync_seconds: float = SYNC_SECONDS,
                 segment_bytes: int = SEGMENT_BYTES) -> None:
        self.directory = Path(directory)
        self.run_id = run_id
        self.source = source
        self.sync_records = max(1, sync_records)
        self.sync_seconds = max(0.0, sync_seconds)
        self.segment_bytes = segment_bytes
        self.error: str | None = None  # the last write error, None once writing works again
        self._cond = threading.Condition()
        self._buffer: list[tuple[int, str, bytes]] = []  # (seq, kind, line) not yet written
        self._buffer_bytes = 0
        self._seq = 0
        self._written = 0
        self._durable = 0
        self._index: dict[int, tuple[int, int, int]] = {}  # page seq -> (segment, offset, length)
        self._segment = 0
        self._fh: Any = None
        self._lock_fh: Any = None
        self._thread: threading.Thread | None = None
        self._stopping = False
        self._urgent = False  # flush() asked for everything now
        self._oldest = 0.0  # when the oldest record not yet durable was appended

    # -- lifecycle ----------------------------------------------------------------------------------

    def open(self) -> Journal:
        """Creates the directory (0700), takes its lock, writes the header and starts the flusher."""
        try:
            self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
            self._lock_fh = (self.directory / LOCK_NAME).open("a")
            fcntl.flock(self._lock_fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
            self._next_segment()
        except BlockingIOError:
            raise JournalError(f"the crawl journal {self.directory} is in use by another process") from None
        except OSError as exc:
            raise JournalError(
                f"cannot create the crawl journal in {self.directory} ({exc.strerror})") from None
        self.append({"t": "h", "format": FORMAT, "run": self.run_id, "source": self.source,
                     "at": time.time()})
        self._thread = threading.Thread(target=self._run, name="linkwatch-journal", daemon=True)
        self._thread.start()
        return self

    def close(self, timeout: float = 30.0) -> bool:
        """Writes and syncs what is buffered (bounded by `timeout`) and stops the flusher; True when every
        record is durable."""
        if self._thread is not None:
            with self._cond:
                self._stopping = True
                self._cond.notify_all()
            self._thread.join(timeout)
            self._thread = None
        durable = self.durable >= self.last
        for fh in (self._fh, self._lock_fh):
            if fh is not None:
                with contextlib.suppress(OSError):
                    fh.close()
        self._fh = self._lock_fh = None
        return durable

    def remove(self) -> None:
        """Deletes the journal (its run is finished and stored)."""
        shutil.rmtree(self.directory, ignore_errors=True)
        with contextlib.suppress(OSError):
            self.directory.parent.rmdir()  # the source's directory, when no other run is left

    # -- appending ----------------------------------------------------------------------------------

    @property
    def last(self) -> int:
        """The sequence number of the last record appended."""
        return self._seq

    @property
    def durable(self) -> int:
        """Records up to this sequence number are on disk (fsynced)."""
        return self._durable

    def append(self, record: dict[str, Any]) -> int:
        """Queues one record for the disk and returns its sequence number; never waits for the disk.

        Raises JournalError when the disk has refused writes for so long that the records waiting for
        it passed MAX_BUFFER_BYTES: the caller must then hold on to what it was journaling.
        """
        kind = record.get("t", "?")
        with self._cond:
            if self._buffer_bytes > MAX_BUFFER_BYTES:
                raise JournalError(
                    f"the crawl journal {self.directory} cannot be written ({self.error or 'too slow'})")
            idle = not self._pending()
            if idle:
                self._oldest = time.monotonic()
            self._seq += 1
            seq = self._seq
            line = (json.dumps({**record, "n": seq}, ensure_ascii=False, separators=(",", ":"),
                               default=str) + "\n").encode("utf-8", "surrogatepass")
            self._buffer.append((seq, kind, line))
            self._buffer_bytes += len(line)
            if idle or len(self._buffer) >= self.sync_records:
                self._cond.notify_all()  # an idle flusher starts its clock; a full group goes out now
        return seq

    def scheduled(self, key: str, url: str, depth: int) -> int:
        return self.append({"t": "q", "k": key, "u": url, "d": depth})

    def done(self, key: str) -> int:
        return self.append({"t": "d", "k": key})

    def page(self, page: Page) -> int:
        return self.append({"t": "p", "page": page.to_json()})

    def stored(self, first: int, last: int) -> int:
        return self.append({"t": "s", "from": first, "to": last})

    def end(self, status: str, stats: dict[str, Any]) -> int:
        return self.append({"t": "e", "status": status, "stats": stats})

    def flush(self, timeout: float = 10.0) -> bool:
        """Waits until every record appended so far is durable; False on timeout or a failing disk (one
        that still refuses writes after a retry)."""
        target = self._seq
        if self.error is not None:
            timeout = min(timeout, 2 * RETRY_SECONDS)
        deadline = time.monotonic() + timeout
        with self._cond:
            self._urgent = True
            self._cond.notify_all()
            while self._durable < target:
                left = deadline - time.monotonic()
                if left <= 0 or self._thread is None:
                    return False
                self._cond.wait(min(left, 0.5))
        return True

    # -- reading back -------------------------------------------------------------------------------

    def read_page(self, seq: int) -> Page:
        """A page record already written to disk, read back by its sequence number."""
        where = self._index.get(seq)
        if where is None:
            raise JournalError(f"page record {seq} of {self.directory} is not on disk")
        segment, offset, length = where
        with (self.directory / _segment_name(segment)).open("rb") as fh:
            fh.seek(offset)
            line = fh.read(length)
        return Page.from_json(json.loads(line)["page"], seq=seq)

    def on_disk(self, seq: int) -> bool:
        """Whether a page record has been written (read_page can give it back)."""
        return seq in self._index

    # -- the flusher --------------------------------------------------------------------------------

    def _next_segment(self) -> None:
        if self._fh is not None:
            self._fh.close()
        self._segment += 1
        path = self.directory / _segment_name(self._segment)
        self._fh = path.open("ab")
        with contextlib.suppress(OSError):
            os.chmod(path, 0o600)

    def _pending(self) -> bool:
        return bool(self._buffer) or self._written > self._durable

    def _run(self) -> None:
        while True:
            with self._cond:
                # Wake for a full group, an old enough record, a flush() or close(); not for every record.
                while not (self._stopping or self._urgent or len(self._buffer) >= self.sync_records):
                    if not self._pending():
                        self._cond.wait()
                        continue
                    left = self._oldest + self.sync_seconds - time.monotonic()
                    if left <= 0:
                        break
                    self._cond.wait(left)
                self._urgent = False
                batch, self._buffer = self._buffer, []
                self._buffer_bytes = 0
                stopping = self._stopping
            if batch and not self._write(batch):
                with self._cond:  # the disk refused: keep them, in order, for the next try
                    self._buffer = batch + self._buffer
                    self._buffer_bytes = sum(len(line) for _s, _k, line in self._buffer)
                    if not stopping:
                        self._cond.wait(RETRY_SECONDS)
                if stopping:
                    return  # close() reports what is not durable
                continue
            if self._written > self._durable:
                self._sync()
            with self._cond:
                if stopping and not self._pending():
                    return

    def _write(self, batch: list[tuple[int, str, bytes]]) -> bool:
        fh = self._fh
        start = fh.tell()
        try:
            if start > self.segment_bytes:
                self._sync()
                self._next_segment()
                fh, start = self._fh, 0
            offset = start
            index = {}
            for seq, kind, line in batch:
                if kind == "p":
                    index[seq] = (self._segment, offset, len(line))
                offset += len(line)
            fh.write(b"".join(line for _s, _k, line in batch))
            fh.flush()
        except OSError as exc:
            self._failed(exc)
            with contextlib.suppress(OSError):  # no half record may stay in front of the retry
                fh.truncate(start)
                fh.seek(start)
            return False
        self._index.update(index)
        self._written = batch[-1][0]
        self.error = None
        return True

    def _sync(self) -> bool:
        written = self._written
        try:
            os.fsync(self._fh.fileno())
        except OSError as exc:
            self._failed(exc)
            return False
        with self._cond:
            self._durable = written
            self._cond.notify_all()
        return True

    def _failed(self, exc: OSError) -> None:
        message = f"{exc.strerror or exc}"
        if self.error != message:
            log.error("cannot write the crawl journal %s: %s; retrying", self.directory, message)
        self.error = message


@dataclass
class JournalState:
    """What a journal on disk says about its run: frontier, pages not yet stored, the recorded end."""

    directory: Path
    run_id: int | None = None
    source: str | None = None
    scheduled: dict[str, tuple[str, int]] = field(default_factory=dict)  # key -> (url, depth)
    done: set[str] = field(default_factory=set)
    pages: dict[int, tuple[Path, int, int]] = field(default_factory=dict)  # seq -> where on disk
    stored: list[tuple[int, int]] = field(default_factory=list)
    end: dict[str, Any] | None = None
    damaged_lines: int = 0

    def pending(self) -> list[tuple[str, str, int]]:
        """(key, url, depth) of every scheduled URL not done, in the order they were scheduled."""
        return [(k, url, depth) for k, (url, depth) in self.scheduled.items() if k not in self.done]

    def unstored(self) -> list[int]:
        """Sequence numbers of the page records the store did not commit, in order."""
        return [seq for seq in sorted(self.pages) if not any(a <= seq <= b for a, b in self.stored)]

    def read_page(self, seq: int) -> Page:
        path, offset, length = self.pages[seq]
        with path.open("rb") as fh:
            fh.seek(offset)
            return Page.from_json(json.loads(fh.read(length))["page"], seq=seq)

    def iter_unstored(self) -> Iterator[Page]:
        """The pages not yet stored; a record that cannot be read is logged and skipped."""
        for seq in self.unstored():
            try:
                yield self.read_page(seq)
            except (OSError, ValueError, KeyError, TypeError) as exc:
                log.error("page record %d of %s is unreadable (%s); skipped", seq, self.directory, exc)


@dataclass
class Frontier:
    """What a resumed crawl continues from: every URL its interrupted runs scheduled, and those done."""

    scheduled: dict[str, tuple[str, int]]
    done: set[str]
    journals: list[Path]

    def pending(self) -> list[tuple[str, str, int]]:
        """(key, url, depth) of every URL scheduled and not done, in the order it was scheduled."""
        return [(k, url, depth) for k, (url, depth) in self.scheduled.items() if k not in self.done]

    def discard(self) -> None:
        """Removes the journals it came from, once the resumed run's own journal holds the frontier
        (their pages were stored before the crawl started)."""
        for directory in self.journals:
            Journal(directory, run_id=None, source="").remove()


def frontier_of(states: list[JournalState]) -> Frontier | None:
    """The frontier several interrupted runs of one source leave together (None when nothing is left).

    A later run's journal repeats what it took over, so the union is right even when a run was killed
    while it was still copying an earlier frontier.
    """
    scheduled: dict[str, tuple[str, int]] = {}
    done: set[str] = set()
    for state in states:
        for key, value in state.scheduled.items():
            scheduled.setdefault(key, value)
        done |= state.done
    if not scheduled:
        return None
    return Frontier(scheduled, done, [s.directory for s in states])


def read_journal(directory: Path) -> JournalState:
    """Everything a journal directory holds. A damaged line (a crash mid-write) is counted and skipped."""
    state = JournalState(Path(directory))
    for path in sorted(state.directory.glob("*.jsonl")):
        with path.open("rb") as fh:
            offset = 0
            for line in fh:
                start, offset = offset, offset + len(line)
                try:
                    record = json.loads(line)
                    kind = record["t"]
                except (ValueError, KeyError, TypeError):
                    state.damaged_lines += 1
                    continue
                if kind == "q":
                    state.scheduled.setdefault(record["k"], (record["u"], int(record["d"])))
                elif kind == "p":
                    state.pages[int(record["n"])] = (path, start, len(line))
                    key = (record.get("page") or {}).get("key")
                    if key:
                        state.done.add(key)
                elif kind == "d":
                    state.done.add(record["k"])
                elif kind == "s":
                    state.stored.append((int(record["from"]), int(record["to"])))
                elif kind == "e":
                    state.end = {"status": record.get("status"), "stats": record.get("stats") or {}}
                elif kind == "h":
                    if record.get("format") != FORMAT:
                        raise JournalError(f"{path} is not a linkwatch crawl journal")
                    state.run_id, state.source = record.get("run"), record.get("source")
    return state


def journals(data_dir: Path, source: str | None = None) -> list[Path]:
    """The journal directories under data_dir (of one source), oldest run first."""
    root = journal_root(data_dir)
    parents = [root / source] if source else sorted(p for p in root.glob("*") if p.is_dir())
    found = []
    for parent in parents:
        if parent.is_dir():
            found += [p for p in parent.iterdir() if p.is_dir() and p.name.isdigit()]
    return sorted(found, key=lambda p: (p.parent.name, int(p.name)))


def append_to(directory: Path, records: list[dict[str, Any]]) -> None:
    """Adds records to a journal no crawl is writing any more (a new segment, fsynced): the stored
    marks of a replay, or a run's end that PostgreSQL could not take."""
    directory = Path(directory)
    numbers = [int(p.stem) for p in directory.glob("*.jsonl") if p.stem.isdigit()]
    path = directory / _segment_name(max(numbers, default=0) + 1)
    lines = b"".join(json.dumps(r, ensure_ascii=False, separators=(",", ":"), default=str).encode() + b"\n"
                     for r in records)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(lines)
            fh.flush()
            os.fsync(fh.fileno())
    except OSError as exc:
        raise JournalError(f"cannot write to the crawl journal {directory} ({exc.strerror})") from None


@contextlib.contextmanager
def claimed(directory: Path) -> Iterator[bool]:
    """Holds a journal's lock while its pages are replayed; yields False when a live crawl holds it."""
    try:
        fh = (Path(directory) / LOCK_NAME).open("a")
    except OSError:
        yield False
        return
    with fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        yield True
