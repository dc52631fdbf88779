"""Instructions the extractor executes per pass over the near-miss pages, counted by valgrind.

Run: .venv/bin/python -m bench.instructions [--pages N] [--bytes] [--against COMMIT]

Wall-clock figures move with a shared machine's load (15% between runs of the same code is common);
instruction counts do not. A child process extracts the near-miss pages (bench/nearmiss.py) once to
warm up, then --passes times, emptying the caches before each pass as bench.extract does; valgrind's
callgrind counts the whole process for 0 and for --passes passes, and the difference divided by
--passes is one pass. With --against COMMIT the same is counted for that commit's code (checked out
in a temporary git worktree, put first on PYTHONPATH) in the same run. Needs valgrind
(`apt-get install valgrind`); each count takes about a minute.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

_CHILD = """
import sys
from bench import nearmiss
from linkwatch.extract import decode, extract
try:
    from bench.extract import empty_caches
except ImportError:  # code from before empty_caches: the same caches, by name
    from bench.extract import _resolve_cached, _urlish_entity, forget, markup_unescape, text_unescape
    def empty_caches():
        forget()
        for f in (_resolve_cached, _urlish_entity, markup_unescape, text_unescape):
            f.cache_clear()
pages, passes, as_bytes = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3] == "bytes"
raw = nearmiss.corpus(pages, 7)
pages = raw if as_bytes else [decode(r) for r in raw]
for p in pages:
    extract(p)
for _ in range(passes):
    empty_caches()
    for p in pages:
        extract(p)
"""
_COLLECTED = re.compile(r"Collected : (\d+)")


def _count(root: Path, pages: int, passes: int, kind: str) -> int:
    """Instructions of one child process run from `root`'s code."""
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [
            "valgrind", "--tool=callgrind", f"--callgrind-out-file={tmp}/out",
            sys.executable, "-c", _CHILD, str(pages), str(passes), kind,
        ]  # fmt: skip
        env = {**os.environ, "PYTHONPATH": str(root), "PYTHONHASHSEED": "0"}
        out = subprocess.run(cmd, cwd=root, env=env, capture_output=True, text=True, check=True)
    m = _COLLECTED.search(out.stderr)
    if m is None:
        raise SystemExit(f"bench.instructions: no count in valgrind's output: {out.stderr[-300:]}")
    return int(m.group(1))


def per_pass(root: Path, pages: int, passes: int, kind: str) -> float:
    """Millions of instructions per pass over `pages` near-miss pages, as `kind` (str or bytes)."""
    return (_count(root, pages, passes, kind) - _count(root, pages, 0, kind)) / passes / 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=200, help="near-miss pages (default 200)")
    parser.add_argument("--passes", type=int, default=2, help="timed passes per count (default 2)")
    parser.add_argument("--bytes", action="store_true", help="pages as fetched bytes (default: text)")
    parser.add_argument("--against", metavar="COMMIT", help="count this commit's code too")
    args = parser.parse_args()
    if shutil.which("valgrind") is None:
        raise SystemExit("bench.instructions: valgrind is not installed (apt-get install valgrind)")
    here = Path(__file__).resolve().parent.parent
    kind = "bytes" if args.bytes else "str"
    rows = [("this code", per_pass(here, args.pages, args.passes, kind))]
    if args.against:
        with tempfile.TemporaryDirectory() as tmp:
            tree = Path(tmp) / "tree"
            git = ["git", "-C", str(here), "worktree"]
            subprocess.run([*git, "add", "--detach", "-q", str(tree), args.against], check=True)
            try:
                rows.append((args.against, per_pass(tree, args.pages, args.passes, kind)))
            finally:
                subprocess.run([*git, "remove", "--force", str(tree)], check=True)
    print(f"million instructions per pass over {args.pages} near-miss pages as {kind}:")
    for name, value in rows:
        change = f"  ({value / rows[-1][1] - 1:+.1%})" if len(rows) > 1 and name == "this code" else ""
        print(f"  {name:>12}: {value:8.1f}{change}")


if __name__ == "__main__":
    main()
