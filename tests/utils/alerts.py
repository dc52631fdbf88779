"""Alert test helpers: a synthetic lexicon that makes a few made-up codes score high, and outbox reads."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from pathlib import Path

import psycopg
from psycopg.rows import dict_row

from linkwatch.records import FoundLink, Page

# In tests/utils/board.py's forum, thread 1-0 page 1 holds this code; the lexicon scores that page's
# links (its two codes and the shared one, whose context is the same short page) at HIGH.
HOT_CODE = "LwB1t0p1A"
HIGH = 0.9


def hot_lexicon(directory: Path) -> Path:
    """A lexicon file with one synthetic term (a made-up code) of weight HIGH."""
    path = directory / "lexicon.toml"
    path.write_text(f'[[term]]\nterm = "{HOT_CODE}"\nweight = {HIGH}\nnote = "synthetic test term"\n',
                    encoding="utf-8")
    return path


def outbox(db: str) -> list[dict]:
    """Every alert with its link's code, in id order."""
    with psycopg.connect(db) as conn, conn.cursor(row_factory=dict_row) as cur:
        return cur.execute("SELECT o.*, l.code FROM alert_outbox o JOIN links l ON l.id = o.link_id "
                           "ORDER BY o.id").fetchall()


def codes_scoring(db: str, threshold: float) -> set[str]:
    with psycopg.connect(db) as conn:
        return {r[0] for r in conn.execute("SELECT code FROM links WHERE score >= %s", (threshold,))}


def alert_link(code: str, *, score: float, context: str = "") -> FoundLink:
    """A made-up Telegram invite with the given score."""
    return FoundLink(platform="telegram", kind="invite", code=code, url=f"https://t.me/+{code}",
                     raw=f"t.me/+{code}", obfuscated=False, where="text", context=context or f"join {code}",
                     score=score)


def alert_page(url: str, *links: FoundLink, when: datetime | None = None) -> Page:
    """A synthetic page version holding `links` (its digest depends on the URL and the codes)."""
    digest = hashlib.sha256((url + "|".join(link.code for link in links)).encode()).hexdigest()
    return Page(url=url, fetched_at=when or datetime.now(UTC), status=200, content_type="text/html",
                body=None, title="synthetic", sha256=digest, key=url, links=links)
