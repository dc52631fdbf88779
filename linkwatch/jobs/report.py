"""The weekly referral export for the regulator (CSV, XLSX, JSON lines, manifest) and takedown stats."""

from __future__ import annotations

import csv
import hashlib
import json
import re
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import psycopg
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

from linkwatch.db import connect
from linkwatch.db.audit import audit
from linkwatch.db.sql import query
from linkwatch.errors import LinkwatchError
from linkwatch.jobs import xlsx
from linkwatch.jobs.review import CATEGORIES
from linkwatch.text import for_cell

FORMATS = ("csv", "xlsx", "jsonl")
MAX_POSTS = 20  # post URLs listed per link; the full count is its own column
# Links per row query, and rows per batch handed to the writers: the XLSX child starts on the first.
CHUNK = 2_000
# A referral item: link id, referral id (LW-2026W47-0001), reason (new, readvertised), referred at.
Item = tuple[int, str, str, datetime | None]
WEEK_RE = re.compile(r"^(\d{4})-?W(\d{2})$")

# key, Korean header, English header, XLSX column width
COLUMNS: tuple[tuple[str, str, str, int], ...] = (
    ("ref", "참조번호", "referral_id", 18),
    ("reason", "사유", "reason", 12),
    ("platform", "플랫폼", "platform", 11),
    ("kind", "유형", "kind", 10),
    ("url", "URL", "canonical_url", 45),
    ("code", "초대코드", "code", 22),
    ("category", "분류", "category", 24),
    ("first_seen", "최초 발견", "first_seen", 18),
    ("last_seen", "최근 발견", "last_seen", 18),
    ("liveness", "접속 가능 여부", "liveness", 12),
    ("checked_at", "확인 시각", "checked_at", 18),
    ("preview_title", "미리보기 제목", "preview_title", 36),
    ("member_count", "참여자 수", "member_count", 11),
    ("sightings", "발견 횟수", "sightings", 10),
    ("post_count", "게시글 수", "post_count", 10),
    ("post_urls", "게시글 URL", "post_urls", 60),
    ("first_capture_sha256", "최초 수집본 SHA-256", "first_capture_sha256", 30),
)
LABELS_KO = {
    "reason": {"new": "신규", "readvertised": "재게시"},
    "liveness": {"live": "접속 가능", "dead": "삭제됨", "unknown": "확인 불가", "unchecked": "미확인"},
    "category": {k: v[0] for k, v in CATEGORIES.items()},
}
DATE_KEYS = ("first_seen", "last_seen", "checked_at")
LIVENESS = ("live", "dead", "unknown", "unchecked")
NUMBER_KEYS = ("member_count", "sightings", "post_count")


class ReportError(LinkwatchError, ValueError):
    """Raised by parse_week() and weekly() for bad input; the message is for the user."""


@dataclass(frozen=True)
class Week:
    """An ISO week in the configured zone: [start, end) as aware datetimes."""

    year: int
    week: int
    start: datetime
    end: datetime

    @property
    def period(self) -> str:
        return f"{self.year:04d}-W{self.week:02d}"

    def ref(self, n: int) -> str:
        return f"LW-{self.year:04d}W{self.week:02d}-{n:04d}"


def make_week(year: int, week: int, tz: ZoneInfo) -> Week:
    period = f"{year:04d}-W{week:02d}"
    try:
        monday = date.fromisocalendar(year, week, 1)
        end = datetime.combine(monday + timedelta(days=7), time(), tzinfo=tz)
    except ValueError as exc:
        raise ReportError(f"{period} is not an ISO week") from exc
    except OverflowError:  # the last week of year 9999 ends after the last date there is
        raise ReportError(f"{period} is past the last week linkwatch can report") from None
    start = datetime.combine(monday, time(), tzinfo=tz)
    return Week(year, week, start, end)


def check_ended(week: Week, now: datetime, *, allow_partial: bool = False) -> None:
    """Refuses a week that has not started (a typo such as 2062 for 2026) and, unless `allow_partial`,
    the week still running: its referral would take this week's links and miss the rest of it."""
    if now < week.start:
        raise ReportError(f"{week.period} has not started yet (it begins {week.start:%Y-%m-%d}); "
                          "give a week that has ended")
    if now < week.end and not allow_partial:
        raise ReportError(f"{week.period} has not ended yet (it ends {week.end:%Y-%m-%d %H:%M %Z}); "
                          "report it after that, or give --allow-partial to refer it as it stands")


def parse_week(text: str, tz: ZoneInfo) -> Week:
    """YYYY-Www (e.g. 2026-W47) as a Week."""
    m = WEEK_RE.match(text.strip())
    if not m:
        raise ReportError(f"{text!r} is not an ISO week like 2026-W47")
    return make_week(int(m.group(1)), int(m.group(2)), tz)


def last_complete_week(now: datetime, tz: ZoneInfo) -> Week:
    """The most recent ISO week that has ended in the zone `tz`."""
    today = now.astimezone(tz).date()
    year, week, _ = (today - timedelta(days=today.weekday() + 7)).isocalendar()
    return make_week(year, week, tz)


@dataclass
class Result:
    """What weekly() did or, on a dry run, would do."""

    week: Week
    rows: list[dict[str, Any]]
    files: dict[str, str] = field(default_factory=dict)  # file name -> sha256
    manifest: dict[str, Any] = field(default_factory=dict)
    out_dir: Path | None = None
    reused: bool = False
    dry_run: bool = False


def _rows(conn: psycopg.Connection, items: list[Item]) -> Iterator[list[dict]]:
    """Export rows for (link_id, ref, reason, referred_at) items, in their order, CHUNK links a query.

    Each query costs what its links cost (index lookups per link), so the first rows reach the
    writers at once and the XLSX child starts while the rest are read.
    """
    statement = query("report", "rows")
    # Binary results: the server skips formatting 20 post URLs a link as array text (~15% faster).
    with conn.cursor(row_factory=dict_row, binary=True) as cur:
        for start in range(0, len(items), CHUNK):
            part = items[start:start + CHUNK]
            found = {r["id"]: r for r in cur.execute(statement, {"ids": [i[0] for i in part],
                                                             "max_posts": MAX_POSTS})}
            rows = []
            for link_id, ref, reason, referred_at in part:
                row = {"ref": ref, "reason": reason, "referred_at": referred_at, **found[link_id]}
                row["post_urls"] = list(row["post_urls"] or [])
                rows.append(row)
            yield rows


def _items(conn: psycopg.Connection, referral_id: int) -> list[Item]:
    return conn.execute(query("report", "items"), {"referral_id": referral_id}).fetchall()


def _candidates(conn: psycopg.Connection, week: Week, referred_at: datetime | None) -> list[Item]:
    """The (link_id, ref, reason, referred_at) items a new referral of `week` would hold, in ref order."""
    found = conn.execute(query("report", "candidates"), {"week_end": week.end}).fetchall()
    return [(c[0], week.ref(n), c[1], referred_at) for n, c in enumerate(found, 1)]


def _insert_items(conn: psycopg.Connection, referral_id: int, items: list[Item]) -> None:
    link_ids, refs, reasons, referred_at = [list(c) for c in zip(*items, strict=True)] or [[], [], [], []]
    conn.execute(query("report", "insert_items"), {
        "referral_id": referral_id, "link_ids": link_ids, "refs": refs, "reasons": reasons,
        "referred_at": referred_at})


def _record_items(conn: psycopg.Connection, referral_id: int, items: list[Item] | None) -> dict[str, Any]:
    """Inserts a new referral's items (None: already recorded), then returns the takedown figure."""
    if items is not None:
        _insert_items(conn, referral_id, items)
    return takedown(conn)


def _reader(url: str) -> psycopg.Connection:
    """A second connection to the same database, for reading rows while the first is busy writing."""
    reader = connect(url, autocommit=True)
    _tune(reader)
    return reader


def _tune(conn: psycopg.Connection) -> None:
    # Many cheap index lookups with large cost estimates: JIT compilation alone took longer than
    # the queries (over a second per statement) in the benchmark.
    conn.execute(query("report", "tune"))


def takedown(conn: psycopg.Connection) -> dict[str, Any]:
    """Referred links: how many were found dead after referral (median / p90 hours to that); of the
    others, how many were last found live (`alive`), unknown, or never checked (`unchecked`)."""
    with conn.cursor(row_factory=dict_row) as cur:
        out = dict(cur.execute(query("report", "takedown")).fetchone())
        to_ref = cur.execute(query("report", "to_referral")).fetchone()
    out["first_seen_to_referral_median_hours"] = to_ref["median_hours"]
    out["first_seen_to_referral_p90_hours"] = to_ref["p90_hours"]
    return {k: (round(v, 2) if isinstance(v, float) else v) for k, v in out.items()}


# -- writers ---------------------------------------------------------------------------------------

# How sheet_rows() treats each column: a number, a date, the post list, a label, or other text.
_NUMBER, _DATE, _POSTS, _LABEL, _TEXT = range(5)
KEYS = tuple(c[0] for c in COLUMNS)
_DATE_COLUMNS = tuple(i for i, key in enumerate(KEYS) if key in DATE_KEYS)
_JSON = json.JSONEncoder(ensure_ascii=False)  # one encoder: json.dumps() with options builds one a call


def _plan(labels: dict[str, dict[str, str]]) -> list[tuple[str, int, dict[str, str] | None]]:
    plan = []
    for key in KEYS:
        kind = (_NUMBER if key in NUMBER_KEYS else _DATE if key in DATE_KEYS else _POSTS if key == "post_urls"
                else _LABEL if key in labels else _TEXT)
        plan.append((key, kind, labels.get(key)))
    return plan


def sheet_rows(rows: list[dict], lang: str, tz: ZoneInfo) -> list[list[Any]]:
    """Cell values for CSV and XLSX: labels in `lang`, text neutralised, dates naive in `tz`."""
    plan = _plan(LABELS_KO if lang == "ko" else {})
    out = []
    for row in rows:
        cells: list[Any] = []
        append = cells.append
        for key, kind, names in plan:
            value = row[key]
            if value is None or kind == _NUMBER:
                append(value)
            elif kind == _DATE:
                append(value.astimezone(tz).replace(tzinfo=None, microsecond=0))
            elif kind == _TEXT:
                append(for_cell(value))
            elif kind == _POSTS:
                append(for_cell("\n".join(value)))
            else:
                append(for_cell(names.get(value, value)))
        out.append(cells)
    return out


def _csv_values(row: list[Any]) -> list[Any]:
    # csv writes None as an empty field; only the dates need text.
    values = list(row)
    for i in _DATE_COLUMNS:
        if values[i] is not None:
            values[i] = values[i].isoformat(sep=" ")
    return values


def _jsonl_line(row: dict, tz: ZoneInfo) -> str:
    record = {key: row[key] for key in KEYS}
    for key in DATE_KEYS:
        if record[key] is not None:
            record[key] = record[key].astimezone(tz).isoformat()
    return _JSON.encode(record) + "\n"


def header(lang: str, tz: ZoneInfo | None = None) -> list[str]:
    """The header row; date columns name the zone their (zone-less) cells are in."""
    names = [c[1] if lang == "ko" else c[2] for c in COLUMNS]
    if tz is not None:
        names = [f"{name} ({tz.key})" if key in DATE_KEYS else name
                 for name, key in zip(names, KEYS, strict=True)]
    return names


def _xlsx_args(lang: str, stamp: datetime) -> dict[str, Any]:
    # A fixed creation time (the referral's) and XlsxWriter's fixed zip times: re-runs are identical.
    return {"sheet": "referrals" if lang == "en" else "신고목록",
            "created": stamp.astimezone(ZoneInfo("UTC")).replace(tzinfo=None, microsecond=0)}


def write_files(
    chunks: Iterable[list[dict]], out_dir: Path, stem: str, formats: tuple[str, ...], lang: str,
    tz: ZoneInfo, stamp: datetime, say: Callable[[str], None],
) -> tuple[list[dict], dict[str, str]]:
    """Writes each chunk of rows to every format as it arrives; returns all rows and file → sha256.

    The XLSX is written by a child process fed chunk by chunk, so it runs alongside the CSV and
    JSON lines writing in this process.
    """
    paths = {fmt: out_dir / f"{stem}.{fmt}" for fmt in FORMATS if fmt in formats}
    rows: list[dict] = []
    with ExitStack() as stack:
        book = None
        if "xlsx" in paths:
            book = stack.enter_context(xlsx.BackgroundXlsx(
                paths["xlsx"], header(lang, tz), [c[3] for c in COLUMNS], **_xlsx_args(lang, stamp)))
        writer = jsonl = None
        if "csv" in paths:
            # UTF-8 with a BOM so spreadsheet programs read the Korean text correctly.
            fh = stack.enter_context(paths["csv"].open("w", encoding="utf-8-sig", newline=""))
            writer = csv.writer(fh, lineterminator="\r\n")
            writer.writerow(header(lang, tz))
        if "jsonl" in paths:
            jsonl = stack.enter_context(paths["jsonl"].open("w", encoding="utf-8", newline="\n"))
        say(f"writing {', '.join(p.name for p in paths.values())}…")
        for chunk in chunks:
            rows.extend(chunk)
            if book or writer:
                cells = sheet_rows(chunk, lang, tz)
                if book:
                    book.add(cells)
                if writer:
                    writer.writerows(_csv_values(row) for row in cells)
            if jsonl:
                jsonl.writelines(_jsonl_line(row, tz) for row in chunk)
        if book:
            book.close()
    return rows, {path.name: sha256_file(path) for path in paths.values()}


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


# -- the export ------------------------------------------------------------------------------------

def weekly(
    conn: psycopg.Connection,
    week: Week,
    out_dir: Path,
    *,
    url: str,
    formats: tuple[str, ...] = FORMATS,
    lang: str = "ko",
    tz: ZoneInfo,
    who: str,
    dry_run: bool = False,
    allow_partial: bool = False,
    now: datetime | None = None,
    progress: Callable[[str], None] | None = None,
) -> Result:
    """Records the week's referral (once) and writes its files; a re-run rewrites the same files.

    `url` is the database's URL (a second connection reads the rows while `conn` records the items).
    A week that has not ended is refused unless `allow_partial` (check_ended).
    `now` is when the referral is recorded (tests pass it to place a referral inside a past week);
    `progress` receives a short line at each stage (the CLI prints them on stderr).
    """
    say = progress or (lambda _message: None)
    unknown = [f for f in formats if f not in FORMATS]
    if unknown or not formats:
        raise ReportError(f"unknown format {', '.join(unknown) or '(none)'}; use csv, xlsx, jsonl")
    if lang not in ("ko", "en"):
        raise ReportError(f"unknown language {lang!r}; use ko or en")
    now = now or datetime.now(tz)
    check_ended(week, now, allow_partial=allow_partial)
    _tune(conn)
    if dry_run:
        existing = conn.execute(query("report", "referral_of_week"), {"period": week.period}).fetchone()
        items = _items(conn, existing[0]) if existing else _candidates(conn, week, None)
        rows = [row for chunk in _rows(conn, items) for row in chunk]
        return Result(week, rows, dry_run=True, reused=bool(existing))

    say(f"recording the referral for {week.period}…")
    out_dir.mkdir(parents=True, exist_ok=True)
    stem = f"linkwatch-referral-{week.period}"
    # One transaction: the referral, its items and its files' digests are recorded together, or
    # (on any error) not at all. The items are inserted in a thread on this connection while a
    # second connection reads the rows and the files are written: the two overlap.
    with conn.transaction(), ThreadPoolExecutor(1, thread_name_prefix="lw-referral") as pool:
        conn.execute(query("report", "lock_week"), {"week": week.year * 100 + week.week})
        existing = conn.execute(query("report", "referral_of_week"), {"period": week.period}).fetchone()
        if existing:
            referral_id, created_at = existing
            items = _items(conn, referral_id)
        else:
            items = _candidates(conn, week, now)
            params = {"period": week.period, "now": now, "out_dir": str(out_dir)}
            referral_id, created_at = conn.execute(query("report", "insert_referral"), params).fetchone()
        # The takedown figure needs the new items, and both need only `conn`: off the critical path.
        recording = pool.submit(_record_items, conn, referral_id, None if existing else items)
        say(f"reading {len(items)} link(s)…")
        # On an error here the pool (left first) waits for the insert before the transaction rolls
        # back: the connection is the thread's until then.
        with _reader(url) as reader:
            rows, files = write_files(_rows(reader, items), out_dir, stem, formats, lang, tz,
                                      created_at, say)
        figure = recording.result()  # its error, if any, rolls the referral back
        counts = {
            "links": len(rows),
            "new": sum(r["reason"] == "new" for r in rows),
            "readvertised": sum(r["reason"] == "readvertised" for r in rows),
            # every liveness its own figure: a link never checked is not a live one
            **{state: sum(r["liveness"] == state for r in rows) for state in LIVENESS},
            "by_platform": dict(sorted(_count(rows, "platform").items())),
            "by_category": dict(sorted(_count(rows, "category").items())),
        }
        manifest = {
            "period": week.period,
            "week_start": week.start.isoformat(),
            "week_end": week.end.isoformat(),
            "timezone": str(tz),
            "referral_created_at": created_at.astimezone(tz).isoformat(),
            "language": lang,
            "files": {name: {"sha256": digest, "bytes": (out_dir / name).stat().st_size}
                      for name, digest in files.items()},
            "counts": counts,
            "takedown": figure,
        }
        (out_dir / f"{stem}-manifest.json").write_text(
            json.dumps(manifest, ensure_ascii=False, indent=2, sort_keys=True) + "\n", encoding="utf-8"
        )
        conn.execute(query("report", "record_files"), {
            "out_dir": str(out_dir), "files": Jsonb(files), "counts": Jsonb(counts), "id": referral_id})
        audit(conn, who, "export", week.period, {"out_dir": str(out_dir), "files": files,
                                                 "counts": counts, "rerun": bool(existing)})
    return Result(week, rows, files, manifest, out_dir, bool(existing))


def _count(rows: list[dict], key: str) -> dict[str, int]:
    out: dict[str, int] = {}
    for row in rows:
        name = row[key] or "(none)"
        out[name] = out.get(name, 0) + 1
    return out
