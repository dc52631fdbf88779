"""The links search as URL query parameters (shared by the Links page, its downloads and the API), and the
opaque keyset cursor that pages through it."""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from linkwatch.db.links import SORTS, STATUSES, LinkFilters
from linkwatch.web.errors import BadRequestError

SEEN = ("last", "first")
MAX_TEXT = 200
MAX_VALUES = 20  # values of one repeatable parameter


@dataclass
class Search:
    """A search as the person gave it (to refill the form and build links) and as LinkFilters."""

    filters: LinkFilters
    form: dict[str, Any] = field(default_factory=dict)


def _clean(values: list[str] | None, name: str, *, choices: tuple[str, ...] | None = None) -> tuple[str, ...]:
    out = []
    for value in values or []:
        for part in value.split(","):
            part = part.strip().lower()
            if not part:
                continue
            if len(part) > 60:
                raise BadRequestError(f"{name}: a value is longer than 60 characters")
            if choices is not None and part not in choices:
                raise BadRequestError(f"{name}: unknown value {part!r}; use one of: {', '.join(choices)}")
            if part not in out:
                out.append(part)
    if len(out) > MAX_VALUES:
        raise BadRequestError(f"{name}: at most {MAX_VALUES} values")
    return tuple(out)


def parse_when(text: str | None, zone: ZoneInfo, *, end: bool, name: str) -> datetime | None:
    """YYYY-MM-DD (a whole day in the configured zone; as `until` it includes that day) or ISO datetime."""
    if text is None or not text.strip():
        return None
    text = text.strip()
    try:
        if len(text) == 10:
            day = date.fromisoformat(text)
            if end:
                day += timedelta(days=1)
            return datetime.combine(day, time(), tzinfo=zone)
        value = datetime.fromisoformat(text)
    except (ValueError, OverflowError):
        raise BadRequestError(f"{name}: {text[:40]!r} is not a date (YYYY-MM-DD) or ISO datetime") from None
    return value if value.tzinfo else value.replace(tzinfo=zone)


def _score(text: str | None) -> float | None:
    if text is None or not str(text).strip():
        return None
    try:
        value = float(text)
    except ValueError:
        raise BadRequestError(f"min_score: {str(text)[:20]!r} is not a number") from None
    if value != value or value in (float("inf"), float("-inf")):
        raise BadRequestError("min_score: must be a finite number")
    return value


def _flag(value: str | bool | None) -> bool:
    if isinstance(value, bool):
        return value
    return (value or "").strip().lower() in ("1", "true", "on", "yes")


def build_search(
    zone: ZoneInfo, *, platform: list[str] | None = None, kind: list[str] | None = None,
    status: list[str] | None = None, since: str | None = None, until: str | None = None,
    seen: str | None = None, source: list[str] | None = None, text: str | None = None,
    min_score: str | float | None = None, live: str | bool | None = None, sort: str | None = None,
    limit: int = 50, cursor: str | None = None,
) -> Search:
    """The LinkFilters for these query parameters; BadRequestError naming a parameter that is unusable."""
    seen = (seen or "last").strip().lower()
    if seen not in SEEN:
        raise BadRequestError(f"seen: use first or last, not {seen[:20]!r}")
    sort = (sort or "score").strip().lower()
    if sort not in SORTS:
        raise BadRequestError(f"sort: use one of {', '.join(SORTS)}, not {sort[:20]!r}")
    text = (text or "").strip() or None
    if text is not None and len(text) > MAX_TEXT:
        raise BadRequestError(f"text: at most {MAX_TEXT} characters")
    sources = tuple(s.strip() for s in (source or []) if s.strip())[:MAX_VALUES]
    filters = LinkFilters(
        platform=_clean(platform, "platform"), kind=_clean(kind, "kind"),
        status=_clean(status, "status", choices=STATUSES),
        since=parse_when(since, zone, end=False, name="since"),
        until=parse_when(until, zone, end=True, name="until"),
        seen="first" if seen == "first" else "last", source=sources, text=text, min_score=_score(min_score),
        live=_flag(live), sort=sort, limit=limit, after=decode_cursor(cursor, sort),
    )
    form = {
        "platform": list(filters.platform), "kind": list(filters.kind), "status": list(filters.status),
        "since": (since or "").strip(), "until": (until or "").strip(), "seen": seen,
        "source": list(sources), "text": text or "", "live": filters.live, "sort": sort,
        "min_score": "" if filters.min_score is None else str(filters.min_score), "limit": limit,
    }
    return Search(filters, form)


def query_items(form: dict[str, Any], **changes: Any) -> list[tuple[str, str]]:
    """The search's URL query as (name, value) pairs, with `changes` applied (for links and pages)."""
    values = {**form, **changes}
    items: list[tuple[str, str]] = []
    for name in ("text", "platform", "kind", "status", "source", "since", "until", "seen", "min_score",
                 "live", "sort", "limit", "cursor"):
        value = values.get(name)
        if value in (None, "", [], False):
            continue
        if (name == "seen" and value == "last") or (name == "sort" and value == "score"):
            continue
        if isinstance(value, list):
            items.extend((name, str(v)) for v in value)
        else:
            items.append((name, "1" if value is True else str(value)))
    return items


def encode_cursor(sort: str, row: dict[str, Any]) -> str:
    """The cursor after `row` (the last of a page) in `sort` order: opaque to the person."""
    key = row["score"] if sort == "score" else row["last_seen"].isoformat()
    raw = json.dumps([sort, key, row["id"]], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str | None, sort: str) -> tuple[Any, int] | None:
    """(sort key, id) from a cursor this module made for the same sort; BadRequestError for anything else."""
    if cursor is None or not cursor.strip():
        return None
    bad = BadRequestError("cursor: not one that linkwatch gave for this search (start again without it)")
    if len(cursor) > 200:
        raise bad
    try:
        raw = base64.urlsafe_b64decode(cursor.strip() + "=" * (-len(cursor.strip()) % 4))
        given_sort, key, last_id = json.loads(raw)
    except (ValueError, TypeError, binascii.Error):
        raise bad from None
    if given_sort != sort or not isinstance(last_id, int) or isinstance(last_id, bool):
        raise bad
    if sort == "score":
        if not isinstance(key, int | float) or isinstance(key, bool):
            raise bad
        return float(key), last_id
    try:
        when = datetime.fromisoformat(key)
    except (TypeError, ValueError):
        raise bad from None
    if when.tzinfo is None:
        raise bad
    return when, last_id
