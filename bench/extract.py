"""Extractor throughput (MB/s) on generated forum-like pages, side by side with a naive OSINT baseline.

Run: .venv/bin/python -m bench.extract [--pages N] [--runs N] [--seed N] [--files N]

Three synthetic corpora, built in memory, all codes made up:
- "mixed": Korean board pages (navigation, scripts, posts, comments), 85% with no invite link, 15%
  dense with links (plain, anchors, redirectors and disguised forms);
- "no link": the same pages without any link, nor anything the prefilter could take for one;
- "near-miss" (bench/nearmiss.py, issue #17): ~30 KB board views whose link-free pages still talk
  about messengers (share and proxy links, phone links, the words, a footer with the site's own
  channel), 15% with invites (a third disguised), one page in five EUC-KR.
The baseline is what typical OSINT scripts do: BeautifulSoup(html, "html.parser").get_text() and one
`t.me` regex. In process, each figure is the median of --runs timed passes over the same pages,
interleaved with the baseline so both see the same load: wall-clock MB/s and, in brackets, MB per
CPU-second of this process. linkwatch is timed on bytes as fetched and on decoded text (what the
crawler passes); the near-miss pages' text is decoded outside the timing.

With --files N (default 1000), N near-miss pages are also written to files and two processes are
timed on them, interleaved, --runs times: `linkwatch extract FILE…` and the baseline as a script
(read, BeautifulSoup on the bytes, get_text, regex, print). Wall clock and the child's CPU time
(user + system), interpreter start-up included.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import random
import re
import resource
import shutil
import statistics
import string
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import quote

from bs4 import BeautifulSoup

from linkwatch.extract import decode, extract
from linkwatch.extract.chars import unescape as entity_unescape
from linkwatch.extract.prefilter import _urlish_entity
from linkwatch.extract.resolve import _resolve_cached
from linkwatch.extract.spans import forget

SYLLABLES = (
    "가나다라마바사아자차카타파하거너더러머버서어저처커터퍼허고노도로모보소오조초코토포호"
    "구누두루무부수우주추쿠투푸후기니디리미비시이지치키티피히게네데레메베세에제체케테페헤"
)
WORDS = (
    "게시판", "자유", "공지", "댓글", "추천", "조회", "작성자", "오늘", "어제", "정말", "그냥", "진짜",
    "이번", "다음", "사진", "영상", "질문", "답변", "정보", "공유", "후기", "리뷰", "일상", "잡담", "유머",
    "감사합니다", "확인", "부탁", "드립니다", "회원", "가입", "로그인", "검색",
)  # fmt: skip
_BOARDS = (("free", "자유게시판"), ("humor", "유머"), ("qna", "질문답변"), ("notice", "공지사항"))
_NAV = "".join(f'<li class="nav-item"><a href="/board/{b}/list.php?page=1">{w}</a></li>' for b, w in _BOARDS)
_SCRIPT = (
    "<script>window.dataLayer=window.dataLayer||[];function gtag(){dataLayer.push(arguments);}"
    "var el=document.getElementById('content');if(el){el.classList.add('ready');}"
    "document.querySelectorAll('.btn-like').forEach(function(b){b.addEventListener('click',function(){"
    "fetch('/api/like?id='+b.dataset.id,{method:'POST'});});});</script>"
)
_STYLE = (
    "<style>.post{margin:0 auto;line-height:1.6}.post-body p{color:#333}"
    "@media (max-width:600px){.nav{display:none}}</style>"
)


def _code(rng: random.Random, n: int, alphabet: str = string.ascii_letters + string.digits) -> str:
    return "".join(rng.choice(alphabet) for _ in range(n))


def _sentence(rng: random.Random) -> str:
    words = [
        rng.choice(WORDS) if rng.random() < 0.6 else "".join(rng.choices(SYLLABLES, k=rng.randint(1, 4)))
        for _ in range(rng.randint(5, 14))
    ]
    return " ".join(words) + rng.choice([".", "!", "?", "…", "~", ""])


def _link(rng: random.Random) -> str:
    """One synthetic invite link in one of the forms forums use (made-up codes)."""
    c = _code(rng, rng.randint(12, 20), string.ascii_letters + string.digits + "_-")
    forms = [
        f"https://t.me/+{c}",
        f"t.me/joinchat/{c}",
        f'<a href="https://t.me/+{c}">입장</a>',
        f"https://discord.gg/{_code(rng, 8)}",
        f"https://open.kakao.com/o/g{_code(rng, 7)}",
        f"t[.]me/+{c}",
        f"ｔ．ｍｅ/+{c}",
        f"discord dot gg/{_code(rng, 8)}",
        f"텔레그램 @Synth{_code(rng, 6, string.ascii_lowercase)}",
        f'<a href="/go.php?url={quote("https://t.me/+" + c, safe="")}">링크</a>',
        f'<a href="/out?u={base64.b64encode(f"https://t.me/+{c}".encode()).decode()}">바로가기</a>',
        f"t.me/<b></b>+{c}",
        f"https://line.me/ti/g/{_code(rng, 10)}",
        f"https://chat.whatsapp.com/{_code(rng, 22)}",
    ]
    return rng.choice(forms)


def page(rng: random.Random, links: int) -> str:
    """A forum-like board page; `links` invite links are scattered through its posts."""
    posts = []
    for i in range(rng.randint(8, 20)):
        paras = [_sentence(rng) for _ in range(rng.randint(1, 4))]
        if links and rng.random() < 0.7:
            paras.append(f"{rng.choice(WORDS)} {_link(rng)} {rng.choice(WORDS)}")
            links -= 1
        body = "".join(f"<p>{p}</p>" for p in paras)
        when = f"2026-11-{rng.randint(1, 28):02d} {rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}"
        posts.append(
            f'<article class="post" id="post-{i}"><div class="post-head">'
            f'<span class="author">회원{rng.randint(1, 9999)}</span><span class="date">{when}</span></div>'
            f'<div class="post-body">{body}</div><img src="/data/thumb/{rng.randint(1, 99999)}.jpg" alt="">'
            f'<div class="post-foot"><a class="btn-like" data-id="{rng.randint(1, 10**6)}" href="#">'
            f"추천 {rng.randint(0, 99)}</a>"
            f'<a href="/board/free/view.php?id={rng.randint(1, 10**6)}&amp;page=2">'
            f"댓글 {rng.randint(0, 50)}</a>"
            "</div></article>"
        )
    return (
        '<!DOCTYPE html><html lang="ko"><head><meta charset="utf-8"><title>자유게시판 - 커뮤니티</title>'
        f'<link rel="stylesheet" href="/css/style.css?v=3">{_STYLE}</head><body>'
        f'<header><nav><ul>{_NAV}</ul></nav></header><main class="board">{"".join(posts)}</main>'
        f"<footer>© 2026 커뮤니티 · 문의 help@example.kr</footer>{_SCRIPT}</body></html>"
    )


def corpus(pages: int, seed: int) -> tuple[list[str], list[str]]:
    """(mixed pages, link-free pages): 85% of the mixed pages have no link, 15% have 5-30."""
    rng = random.Random(seed)
    mixed = [page(rng, rng.randint(5, 30) if rng.random() < 0.15 else 0) for _ in range(pages)]
    free = [page(rng, 0) for _ in range(pages)]
    return mixed, free


_TME = re.compile(r"t\.me/[\w+/-]+")


def naive(html: str) -> list[str]:
    """The baseline: parse, take all text, one regex."""
    return _TME.findall(BeautifulSoup(html, "html.parser").get_text())


def empty_caches() -> None:
    """Empty linkwatch's caches of recent texts, URLs and entities (before each timed pass)."""
    forget()
    _resolve_cached.cache_clear()
    entity_unescape.cache_clear()
    _urlish_entity.cache_clear()


def _time(fn: Callable[[object], object], pages: list) -> tuple[float, float]:
    """(wall seconds, CPU seconds of this process) for one pass; linkwatch's caches of recent texts,
    URLs and entities are emptied first, so a pass only reuses what its own pages repeat (a site's
    boilerplate)."""
    empty_caches()
    start, cpu = time.perf_counter(), time.process_time()
    for p in pages:
        fn(p)
    return time.perf_counter() - start, time.process_time() - cpu


def _speeds(pages: list[str], raw: list[bytes], runs: int) -> list[tuple[float, float]]:
    """Median (wall, CPU) MB/s of linkwatch on str, on bytes, and of the baseline; runs interleaved so
    that all three see the same machine load (the box is shared). CPU MB/s is what one core would do
    alone; wall MB/s is what this process got while others ran. MB are the pages' bytes."""
    size = sum(map(len, raw))
    timed: list[list[tuple[float, float]]] = [[], [], []]
    for _ in range(runs):
        sides = ((extract, pages), (extract, raw), (naive, pages))
        for out, (fn, data) in zip(timed, sides, strict=True):
            wall, cpu = _time(fn, data)
            out.append((size / wall / 1e6, size / max(cpu, 1e-9) / 1e6))
    return [(statistics.median(w for w, _ in t), statistics.median(c for _, c in t)) for t in timed]


def naive_files(names: list[str]) -> None:
    """The baseline as a command: each file read, parsed by BeautifulSoup (its charset sniffing),
    get_text, the regex; one JSON line per match."""
    for name in names:
        with open(name, "rb") as fh:
            body = fh.read()
        for url in _TME.findall(BeautifulSoup(body, "html.parser").get_text()):
            print(json.dumps({"file": name, "url": url}, ensure_ascii=False))


def _child(cmd: list[str]) -> tuple[float, float]:
    """(wall seconds, CPU seconds of the child) for one run of `cmd`, its output discarded."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(cmd, stdout=subprocess.DEVNULL, check=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def processes(pages: list[bytes], runs: int) -> list[tuple[str, float, float, int]]:
    """(name, median wall MB/s, median MB per child CPU-second, links printed) of each command."""
    size = sum(map(len, pages))
    tmp = Path(tempfile.mkdtemp(prefix="linkwatch-bench-"))
    try:
        names = []
        for i, body in enumerate(pages):
            path = tmp / f"page{i:05d}.html"
            path.write_bytes(body)
            names.append(str(path))
        exe = str(Path(sys.executable).with_name("linkwatch"))
        cmds = {
            "linkwatch extract FILES": [exe, "extract", *names],
            "naive script FILES": [sys.executable, "-m", "bench.extract", "--naive-files", *names],
        }
        counts = {
            name: len(subprocess.run(cmd, capture_output=True, check=True).stdout.splitlines())
            for name, cmd in cmds.items()
        }
        timed: dict[str, list[tuple[float, float]]] = {name: [] for name in cmds}
        for _ in range(runs):
            for name, cmd in cmds.items():
                wall, cpu = _child(cmd)
                timed[name].append((size / wall / 1e6, size / max(cpu, 1e-9) / 1e6))
        return [
            (name, statistics.median(w for w, _ in t), statistics.median(c for _, c in t), counts[name])
            for name, t in timed.items()
        ]
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--naive-files":
        naive_files(sys.argv[2:])
        return
    from bench import nearmiss  # here: nearmiss takes its words from this module

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=200, help="pages per corpus (default 200)")
    parser.add_argument("--runs", type=int, default=5, help="timed passes; the median is shown (default 5)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--files", type=int, default=1000, help="near-miss files for the process timing (0: skip)"
    )
    args = parser.parse_args()
    runs = max(5, args.runs)
    mixed, free = corpus(args.pages, args.seed)
    near_raw = nearmiss.corpus(args.pages, args.seed)
    near = [decode(p) for p in near_raw]
    extract(mixed[0])  # compile patterns once, outside the timing
    rows = []
    for name, pages, raw in (
        ("mixed", mixed, [p.encode() for p in mixed]),
        ("no link", free, [p.encode() for p in free]),
        ("near-miss", near, near_raw),
    ):
        found = sum(len(extract(p)) for p in raw)
        rows.append((name, len(pages), sum(map(len, raw)) / 1e6, found, *_speeds(pages, raw, runs)))
    from rich.console import Console
    from rich.table import Table

    load = " / ".join(f"{x:.1f}" for x in os.getloadavg())
    table = Table(
        title=f"linkwatch extract vs naive (BeautifulSoup get_text + t.me regex): {args.pages} pages per "
        f"corpus, seed {args.seed}, median of {runs} interleaved runs, one core, MB = page bytes; "
        f"wall clock (CPU time in brackets); load average {load} on {os.cpu_count()} CPUs"
    )
    for col in ("corpus", "pages", "MB", "links found", "linkwatch (str) MB/s", "linkwatch (bytes) MB/s",
                "naive MB/s", "speed-up (str)", "speed-up (bytes)"):  # fmt: skip
        table.add_column(col, justify="right")
    for name, n, mb, found, ours, ours_b, base in rows:
        speeds = [f"{w:.1f} ({c:.1f})" for w, c in (ours, ours_b)] + [f"{base[0]:.2f} ({base[1]:.2f})"]
        ratios = [f"{w / base[0]:.1f}x ({c / base[1]:.1f}x)" for w, c in (ours, ours_b)]
        table.add_row(name, str(n), f"{mb:.1f}", str(found), *speeds, *ratios)
    console = Console(width=200)
    console.print(table)
    if args.files:
        files = nearmiss.corpus(args.files, args.seed + 1)
        size = sum(map(len, files)) / 1e6
        euc = sum(1 for p in files if b'charset="euc-kr"' in p[:300])
        procs = processes(files, runs)
        load = " / ".join(f"{x:.1f}" for x in os.getloadavg())
        table = Table(
            title=f"Processes over {len(files)} near-miss files ({size:.1f} MB, {euc} EUC-KR), seed "
            f"{args.seed + 1}, median of {runs} interleaved runs, start-up included; load average {load}"
        )
        for col in ("command", "lines printed", "MB/s wall", "MB per CPU-second", "speed-up wall (CPU)"):
            table.add_column(col, justify="right")
        base = procs[-1]
        for name, wall, cpu, count in procs:
            ratio = f"{wall / base[1]:.1f}x ({cpu / base[2]:.1f}x)"
            table.add_row(name, str(count), f"{wall:.1f}", f"{cpu:.1f}", ratio)
        console.print(table)


if __name__ == "__main__":
    main()
