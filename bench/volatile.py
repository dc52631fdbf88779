"""Cost of a page's version identity (linkwatch.volatile) beside the plain body sha256 it joins.

Run: .venv/bin/python -m bench.volatile [--pages N] [--runs N] [--seed N]

Page sets: bench.extract's mixed Korean board pages, bench.nearmiss's ~30 KB board views (one in
five EUC-KR), and phpBB-style topic pages from tests/utils/phpbb.py (fresh sid, tokens, counter
and clock in each render). Each figure is the median of --runs passes over the same pages, the
two sides interleaved so that both see the same load: MB/s (wall) and MB per CPU-second. Also
counted: how many pairs of renders of one phpBB page get the same digest (the point of it).
"""

from __future__ import annotations

import argparse
import hashlib
import random
import statistics
import time
from collections.abc import Callable

from bench import extract as extract_bench
from bench import nearmiss
from linkwatch.volatile import version_digest
from tests.utils.phpbb import PhpbbBoard


def _pass(fn: Callable[[bytes], object], pages: list[bytes]) -> tuple[float, float]:
    start, cpu = time.perf_counter(), time.process_time()
    for p in pages:
        fn(p)
    return time.perf_counter() - start, time.process_time() - cpu


def _plain(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


def measure(pages: list[bytes], runs: int) -> tuple[tuple[float, float], tuple[float, float]]:
    """Median (wall MB/s, CPU MB/s) of the plain sha256 and of version_digest."""
    size = sum(map(len, pages)) / 1e6
    out: list[list[tuple[float, float]]] = [[], []]
    for _ in range(runs):
        for side, fn in zip(out, (_plain, version_digest), strict=True):
            wall, cpu = _pass(fn, pages)
            side.append((size / wall, size / max(cpu, 1e-9)))
    return tuple(  # type: ignore[return-value]
        (statistics.median(w for w, _ in s), statistics.median(c for _, c in s)) for s in out
    )


def phpbb_pages(n: int) -> tuple[list[bytes], int, int]:
    """n rendered topic pages, and (pairs of renders with one digest, pairs compared)."""
    board = PhpbbBoard(topics=max(1, n // 2), posts=10)
    paths = [p for t in range(len(board.topics)) for p in board.topic_page_paths(t)][:n]
    pages, same = [], 0
    for path in paths:
        a, b = (board.page(path) or "").encode(), (board.page(path) or "").encode()
        pages.append(a)
        same += version_digest(a) == version_digest(b)
    return pages, same, len(paths)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--seed", type=int, default=16)
    args = parser.parse_args()
    mixed, _free = extract_bench.corpus(args.pages, args.seed)
    phpbb, same, pairs = phpbb_pages(args.pages)
    sets = {
        "mixed (bench.extract)": [p.encode() for p in mixed],
        "near-miss (bench.nearmiss)": nearmiss.corpus(args.pages, args.seed),
        "phpBB topic pages": phpbb,
    }
    random.seed(args.seed)
    print(f"{'page set':28} {'pages':>6} {'MB':>7}   {'sha256 MB/s (cpu)':>20}   {'version MB/s (cpu)':>20}"
          f"   {'cost':>6}")
    for name, pages in sets.items():
        (pw, pc), (vw, vc) = measure(pages, args.runs)
        mb = sum(map(len, pages)) / 1e6
        print(f"{name:28} {len(pages):>6} {mb:>7.1f}   {pw:>9.0f} ({pc:>7.0f})   {vw:>9.0f} ({vc:>7.0f})"
              f"   {pc / vc:>5.1f}x")
    print(f"phpBB renders with one version digest: {same} of {pairs} pairs")


if __name__ == "__main__":
    main()
