"""A generated forum on 127.0.0.1: boards of threads of pages, each with made-up codes, every request counted.

Bigger than tests/utils/forum.py and entirely predictable (same bytes on every fetch), so a test can
say exactly which links a complete crawl must find and how many requests it should take.
"""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from tests.utils.http import PageSite

SHARED_CODE = "LwBoardShared1"


def thread_codes(board: int, thread: int, page: int) -> list[str]:
    return [f"LwB{board}t{thread}p{page}A", f"LwB{board}t{thread}p{page}B"]


class Board(PageSite):
    """`with Board(boards=10, threads=10, pages=2) as forum: forum.url`."""

    def __init__(self, boards: int = 10, threads: int = 10, pages: int = 2) -> None:
        super().__init__()
        self.boards, self.threads, self.pages = boards, threads, pages

    # -- what the forum holds ---------------------------------------------------------------------

    def page_paths(self) -> set[str]:
        paths = {"/"} | {f"/board/{b}" for b in range(self.boards)}
        return paths | {f"/thread/{b}-{t}?page={p}" for b in range(self.boards) for t in range(self.threads)
                        for p in range(1, self.pages + 1)}

    def codes(self) -> set[str]:
        found = {SHARED_CODE} | {f"LwBoard{b}x" for b in range(self.boards)}
        for b in range(self.boards):
            for t in range(self.threads):
                for p in range(1, self.pages + 1):
                    found.update(thread_codes(b, t, p))
        return found

    def page_requests(self) -> int:
        """GETs of the forum's pages (robots.txt and unknown paths not counted)."""
        with self.lock:
            return sum(n for path, n in self.counts.items() if path in self.page_paths())

    def wait_for_requests(self, n: int, timeout: float = 60.0) -> None:
        """Blocks until the forum has served at least n page requests (an event, not a clock)."""
        with self.served:
            ok = self.served.wait_for(lambda: sum(
                c for p, c in self.counts.items() if p != "/robots.txt") >= n, timeout)
        assert ok, f"the forum served fewer than {n} pages in {timeout}s"

    def page(self, target: str) -> str | None:
        parts = urlsplit(target)
        path = parts.path
        if path == "/":
            items = "".join(f'<li><a href="/board/{b}">board {b}</a></li>' for b in range(self.boards))
            return f"<html><head><title>Forum</title></head><body><ul>{items}</ul></body></html>"
        if path.startswith("/board/"):
            b = int(path.rsplit("/", 1)[1])
            if not 0 <= b < self.boards:
                return None
            items = "".join(f'<li><a href="/thread/{b}-{t}?page=1">thread {t}</a></li>'
                            for t in range(self.threads))
            return (f"<html><head><title>Board {b}</title></head><body><p>board channel t.me/+LwBoard{b}x</p>"
                    f"<ul>{items}</ul></body></html>")
        if path.startswith("/thread/"):
            b, t = (int(x) for x in path.rsplit("/", 1)[1].split("-"))
            p = int(parse_qs(parts.query).get("page", ["1"])[0])
            if not (0 <= b < self.boards and 0 <= t < self.threads and 1 <= p <= self.pages):
                return None
            a, c = thread_codes(b, t, p)
            nxt = f'<a href="/thread/{b}-{t}?page={p + 1}">next</a>' if p < self.pages else ""
            return (f"<html><head><title>Thread {b}-{t} page {p}</title></head><body>"
                    f"<p>join https://t.me/+{a} or discord.gg/{c}</p><p>all: t.me/+{SHARED_CODE}</p>"
                    f'{nxt}<a href="/board/{b}">back</a></body></html>')
        return None
