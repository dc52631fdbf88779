"""Browser mode with each tab routed over its own CDP session (crawler/tabroute.py): what that
session sees and what it does not. Judged from the forum's own request log.

- A dedicated worker's script is fetched by linkwatch, once per crawl like any script; the worker's
  own requests are linkwatch's (robots.txt obeyed, media refused) or end in the black hole, and media
  it asks for never reaches the forum.
- A worker started from a blob: URL reaches the tab's route as its page does (Chromium 156), so its
  requests are linkwatch's, under the same rules. A popup is closed at once: its own navigation has no
  route and ends in the black hole; what its opener writes into a blank popup goes through the
  opener's route. Nothing reaches the forum any other way.
- Chromium's memory cache is on: pages of a tab share their scripts and stylesheet, each asked of
  the forum once per crawl, and every page still renders its own links.

Every page here marks the end of what it waits for by adding `#done`, and the source waits for that
selector (`wait_for`): the tests wait on the page's own events, never on a clock.
"""

from __future__ import annotations

import json
from collections import Counter

import psycopg
import pytest

from tests.utils import forum as forum_site
from tests.utils.crawl import codes, run_linkwatch, runs

pytestmark = [pytest.mark.browser, pytest.mark.slow]

PAGES = 3  # pages per test, chained by links (each starts its own worker, popup, …)
SHARED_PAGES = 8


def _html(title: str, body: str) -> str:
    return (f"<!doctype html><html><head><meta charset='utf-8'><title>{title}</title></head>"
            f"<body>{body}</body></html>")


def _js_string(text: str) -> str:
    """`text` as a JavaScript string literal that can sit inside a <script> element."""
    return json.dumps(text).replace("</", "<\\/")


def _next(kind: str, n: int, last: int = PAGES) -> str:
    return f"<a href='/iso/{kind}/{n + 1}'>next</a>" if n < last else ""


# A page script shows what a worker tells it; `done` adds the #done the source waits for.
SHOW_JS = (
    "const out = document.getElementById('out');"
    "const show = (text) => { const p = document.createElement('p'); p.textContent = text; out.append(p); };"
    "const done = () => { const i = document.createElement('i'); i.id = 'done'; document.body.append(i); };"
    # a window has no "closed" event: done once it is seen closed
    "const closed = (w) => { if (!w || w.closed) { show('popup closed'); done(); }"
    "                        else setTimeout(() => closed(w), 20); };"
)

# The worker asks, in turn: an API that robots.txt allows (it answers an invite), a path robots.txt
# disallows, an extensionless URL that answers image/jpeg, an image, and an XHR; it reports each
# answer (or failure) to the page, then "done". A request that fails is reported, not thrown.
WORKER_JS = """
importScripts('/iso/static/worker-lib.js');
const get = (url) => fetch(url).then((r) => r.text(), (e) => 'failed');
const xhr = (url) => new Promise((resolve) => {
  const x = new XMLHttpRequest();
  x.open('GET', url);
  x.onload = () => resolve(x.responseText);
  x.onerror = () => resolve('failed');
  x.send();
});
onmessage = async (e) => {
  const n = e.data;
  postMessage('api ' + await get('/iso/api/worker?page=' + n));
  postMessage('robots ' + await get('/private/worker?page=' + n));
  postMessage('media ' + await get('/iso/worker-media?page=' + n));
  postMessage('image ' + await get('/media/worker-' + n + '.png'));
  postMessage('xhr ' + await xhr('/iso/api/worker-xhr?page=' + n));
  postMessage(LIB_READY);
  postMessage('done');
};
"""
WORKER_LIB_JS = "const LIB_READY = 'lib ready';"


def _worker_page(n: int) -> str:
    return _html("Worker", (
        f"<p>static t.me/+LwIsoWorkerPage{n}x</p><div id='out'></div>{_next('worker', n)}"
        f"<script>{SHOW_JS}"
        "const w = new Worker('/iso/static/worker.js');"
        "w.onmessage = (e) => { if (e.data === 'done') done(); else show(e.data); };"
        "w.onerror = () => { show('worker failed'); done(); };"
        f"w.postMessage({n});</script>"
    ))


# The same requests from a worker started from a blob: URL; a blob: URL is no base for a relative
# URL, so the page tells the worker its origin.
BLOB_WORKER_JS = (
    "onmessage = async (e) => {"
    "  const [n, origin] = e.data;"
    "  const get = (url) => fetch(origin + url).then((r) => r.text(), () => 'failed');"
    "  postMessage('api ' + await get('/iso/api/blob?page=' + n));"
    "  postMessage('robots ' + await get('/private/blob?page=' + n));"
    "  postMessage('media ' + await get('/iso/blob-media?page=' + n));"
    "  postMessage('image ' + await get('/media/blob-' + n + '.png'));"
    "  try { importScripts(origin + '/iso/static/blob-lib.js'); postMessage(BLOB_LIB); }"
    "  catch (err) { postMessage('import failed'); }"
    "  postMessage('done');"
    "};"
)


def _blob_page(n: int) -> str:
    return _html("Blob worker", (
        f"<p>static t.me/+LwIsoBlobPage{n}x</p><div id='out'></div>{_next('blob', n)}"
        f"<script>{SHOW_JS}"
        f"const src = {_js_string(BLOB_WORKER_JS)};"
        "const w = new Worker(URL.createObjectURL(new Blob([src], {type: 'text/javascript'})));"
        "w.onmessage = (e) => { if (e.data === 'done') done(); else show(e.data); };"
        "w.onerror = () => { show('worker failed'); done(); };"
        f"w.postMessage([{n}, location.origin]);</script>"
    ))


def _popup_page(n: int) -> str:
    # On load, a popup of a forum page (which would load a script, a stylesheet, an image and a
    # fetch); #done once it is closed: linkwatch closes a popup at once.
    return _html("Popup", (
        f"<p>static t.me/+LwIsoPopupPage{n}x</p><div id='out'></div>{_next('popup', n)}"
        f"<script>{SHOW_JS}"
        "addEventListener('load', () => {"
        f"  const w = window.open('/iso/popup?from={n}');"
        "  closed(w);"
        "});</script>"
    ))


POPUP_DOCUMENT = _html("Popup", (
    "<link rel=stylesheet href='/iso/static/popup-doc.css'><script src='/iso/static/popup-doc.js'></script>"
    "<img src='/media/popup-doc.png'><p>t.me/+LwIsoNeverAsked2x</p>"
    "<script>fetch('/iso/api/popup-doc');</script>"
))


def _blank_popup_page(n: int) -> str:
    # A blank popup the opener writes into: a stylesheet, a script, an image, a media probe by fetch
    # and a fetch of a path robots.txt disallows. #done once it is closed.
    written = (
        f"<link rel=stylesheet href='/iso/static/blank.css'><img src='/media/blank-{n}.png'>"
        f"<script>fetch('/iso/blank-media?from={n}'); fetch('/private/blank?from={n}');</script>"
        "<script src='/iso/static/blank.js'></script>"
    )
    return _html("Blank popup", (
        f"<p>static t.me/+LwIsoBlankPage{n}x</p><div id='out'></div>{_next('blank-popup', n)}"
        f"<script>{SHOW_JS}"
        "addEventListener('load', () => {"
        "  const w = window.open('');"
        f"  try {{ w.document.write({_js_string(written)}); w.document.close(); }} catch (e) {{}}"
        "  closed(w);"
        "});</script>"
    ))


def _shared_page(n: int) -> str:
    # The same big script and stylesheet on every page; the script writes this page's own invite
    # (so a page rendered with another page's DOM or without the script shows the wrong one).
    return _html("Shared", (
        "<link rel=stylesheet href='/iso/static/shared.css'>"
        f"<p>static t.me/+LwIsoSharedPage{n}x</p><div id='out'></div>"
        f"{_next('shared', n, SHARED_PAGES)}"
        "<script src='/iso/static/shared.js'></script>"
        f"<script>{SHOW_JS}show('join t.me/+' + sharedCode({n})); done();</script>"
    ))


def _shared_js() -> str:
    # A few hundred kilobytes, like a forum's bundle; made-up code words only.
    filler = "".join(f"var lwFiller{i} = '{'x' * 200}';\n" for i in range(2000))
    return filler + "function sharedCode(n) { return 'LwIsoShared' + 'Script' + n + 'x'; }\n"


SHARED_JS = _shared_js()
SHARED_CSS = "body { background: url(/media/shared-bg.png); }\n#out p { margin: 2px; }\n"

PAGE_MAKERS = {"worker": _worker_page, "blob": _blob_page, "popup": _popup_page,
               "blank-popup": _blank_popup_page, "shared": _shared_page}
STATIC = {
    "/iso/static/worker.js": (WORKER_JS, {}),
    "/iso/static/worker-lib.js": (WORKER_LIB_JS, {}),
    "/iso/static/blob-lib.js": ("const BLOB_LIB = 'blob lib ready';", {}),
    "/iso/static/popup-doc.js": ("fetch('/iso/api/popup-doc-script');", {}),
    "/iso/static/popup-doc.css": ("body { background: url(/media/popup-doc-bg.png); }", {}),
    "/iso/static/blank.js": ("fetch('/iso/api/blank-script');", {}),
    "/iso/static/blank.css": ("body { background: url(/media/blank-bg.png); }", {}),
    # cacheable, like a real bundle: a tab may keep it in its memory cache across pages
    "/iso/static/shared.js": (SHARED_JS, {"Cache-Control": "public, max-age=3600"}),
    "/iso/static/shared.css": (SHARED_CSS, {}),
}


API_CODES = {"/iso/api/worker": "LwIsoWorkerApi", "/iso/api/worker-xhr": "LwIsoWorkerXhr",
             "/iso/api/blob": "LwIsoBlobApi"}


class IsolationHandler(forum_site.Handler):
    """The test forum (robots.txt disallows /private/) plus the /iso/ pages above."""

    def _route(self, head: bool) -> None:
        path = self.path.split("?", 1)[0]
        if not path.startswith("/iso/"):
            return super()._route(head)
        entry = self._log()
        parts = path.split("/")  # ["", "iso", kind, n]
        if len(parts) == 4 and parts[2] in PAGE_MAKERS and parts[3].isdigit():
            return self._send(200, PAGE_MAKERS[parts[2]](int(parts[3])), head=head)
        if path in STATIC:
            body, headers = STATIC[path]
            ctype = "text/css" if path.endswith(".css") else "text/javascript"
            return self._send(200, body, ctype, headers=headers, head=head)
        if path in API_CODES:
            page = self.path.rsplit("=", 1)[-1]
            invite = f"t.me/+{API_CODES[path]}{page}x"
            return self._send(200, json.dumps({"invite": invite}), "application/json", head=head)
        if path in ("/iso/worker-media", "/iso/blob-media", "/iso/blank-media"):
            return self._send_media(entry, "image/jpeg", head)  # extensionless, answers image/jpeg
        if path.startswith("/iso/api/"):  # the popups' API: never asked
            return self._send(200, '{"invite": "t.me/+LwIsoNeverAsked1x"}', "application/json", head=head)
        if path == "/iso/popup":
            return self._send(200, POPUP_DOCUMENT, head=head)
        return self._send(404, "not found", "text/plain", head=head)


@pytest.fixture
def forum():
    site = forum_site.TestForum()
    site.server.RequestHandlerClass = IsolationHandler
    with site:
        yield site


def _crawl(forum, lw_env, tmp_path, chromium_path, kind: str, *, concurrency: int = 1) -> dict:
    sources = tmp_path / "sources.toml"
    sources.write_text(
        f"""
[[source]]
name = "iso"
start_urls = ["{forum.url}/iso/{kind}/1"]
allow = ["/iso/{kind}/"]
render = "browser"
wait_for = "#done"
delay = 0.0
concurrency = {concurrency}
max_depth = 20
max_pages = 50
""",
        encoding="utf-8",
    )
    result = run_linkwatch(["crawl", "iso", "--sources", str(sources)],
                           {**lw_env, "LINKWATCH_CHROMIUM": chromium_path})
    assert result.returncode == 0, result.stderr
    (run,) = runs(lw_env["LINKWATCH_DATABASE_URL"])
    assert run["status"] == "finished"
    assert run["errors"] == 0
    # every page reached its #done: what the test waits on happened on every page
    assert run["stats"].get("linkwatch/browser/wait_for_missed", 0) == 0, run["stats"]
    return run


def _rendered_pages(db: str) -> set[str]:
    with psycopg.connect(db) as conn:
        return {r[0] for r in conn.execute("SELECT url FROM pages WHERE rendered")}


def _blocked_for(run: dict, forum, prefix: str) -> list[str]:
    """Request lines the black hole saw for the forum's `prefix` (it keeps the first 20)."""
    target = f"{forum.url}{prefix}"
    return [line for line in run["stats"].get("linkwatch/browser/blocked_requests", []) if target in line]


def _assert_chromium_fetched_nothing(forum) -> None:
    assert forum.from_chromium() == [], [(r.path, r.sec_fetch_mode) for r in forum.from_chromium()]
    assert forum.media_bodies() == []
    assert forum.paths("/media/") == []
    assert forum.paths("/private") == []
    assert forum.with_cookies() == []


def test_a_dedicated_workers_script_and_requests_go_through_linkwatch_or_nowhere(
    forum, lw_env, tmp_path, chromium_path
) -> None:
    db = lw_env["LINKWATCH_DATABASE_URL"]
    run = _crawl(forum, lw_env, tmp_path, chromium_path, "worker")
    assert _rendered_pages(db) == {f"{forum.url}/iso/worker/{n}" for n in range(1, PAGES + 1)}
    counts = Counter(forum.paths())

    # Nothing reached the forum from Chromium itself: the worker's script, its import, its fetch,
    # its XHR and its media requests were all linkwatch's or never left Chromium.
    _assert_chromium_fetched_nothing(forum)
    # The worker's script (and what it imports) is a script: fetched by linkwatch once per crawl.
    assert counts["/iso/static/worker.js"] == 1
    assert counts["/iso/static/worker-lib.js"] == 1
    # Each document once, by linkwatch.
    assert all(counts[f"/iso/worker/{n}"] == 1 for n in range(1, PAGES + 1))
    # The worker's own fetch/XHR: through linkwatch (asked once each) and shown, robots.txt obeyed
    # (/private/ never asked) and media refused at the headers (asked, body never sent).
    found = codes(db)
    assert {f"LwIsoWorkerPage{n}x" for n in range(1, PAGES + 1)} <= found
    assert found >= {f"LwIsoWorkerApi{n}x" for n in range(1, PAGES + 1)}
    assert found >= {f"LwIsoWorkerXhr{n}x" for n in range(1, PAGES + 1)}
    for n in range(1, PAGES + 1):
        assert counts[f"/iso/api/worker?page={n}"] == 1
        assert counts[f"/iso/api/worker-xhr?page={n}"] == 1
    media = [r for r in forum.requests() if r.path.startswith("/iso/worker-media")]
    assert sorted(r.path for r in media) == [f"/iso/worker-media?page={n}" for n in range(1, PAGES + 1)]
    assert all(r.body_sent is False for r in media)

    stats = run["stats"]
    assert stats["linkwatch/browser/robots_refused"] == PAGES
    assert stats["linkwatch/browser/media_refused"] == 2 * PAGES  # the probe at headers, the .png by name
    assert stats["linkwatch/browser/asset_fetches"] == 2  # worker.js, worker-lib.js
    assert _blocked_for(run, forum, "/") == []  # nothing the worker asked went around the route


def test_a_blob_workers_requests_go_through_linkwatch_like_a_workers(
    forum, lw_env, tmp_path, chromium_path
) -> None:
    """Chromium 156 routes a blob: worker's requests through the tab's session (as its page's main
    frame), not around it: they are linkwatch's to fetch or refuse, like a dedicated worker's. Were
    they ever not, they would end in the black hole (and the forum-side checks here still hold)."""
    db = lw_env["LINKWATCH_DATABASE_URL"]
    run = _crawl(forum, lw_env, tmp_path, chromium_path, "blob")
    assert _rendered_pages(db) == {f"{forum.url}/iso/blob/{n}" for n in range(1, PAGES + 1)}
    # nothing from Chromium itself, no media body, nothing robots.txt disallows
    _assert_chromium_fetched_nothing(forum)

    counts = Counter(forum.paths())
    assert counts["/iso/static/blob-lib.js"] == 1  # what the worker imports: a script, once per crawl
    for n in range(1, PAGES + 1):
        assert counts[f"/iso/blob/{n}"] == 1
        assert counts[f"/iso/api/blob?page={n}"] == 1
    media = [r for r in forum.requests() if r.path.startswith("/iso/blob-media")]
    assert sorted(r.path for r in media) == [f"/iso/blob-media?page={n}" for n in range(1, PAGES + 1)]
    assert all(r.body_sent is False for r in media)
    found = codes(db)
    assert found == ({f"LwIsoBlobPage{n}x" for n in range(1, PAGES + 1)}
                     | {f"LwIsoBlobApi{n}x" for n in range(1, PAGES + 1)})

    stats = run["stats"]
    assert stats["linkwatch/browser/robots_refused"] == PAGES
    assert stats["linkwatch/browser/media_refused"] == 2 * PAGES  # the probe at headers, the .png by name
    assert _blocked_for(run, forum, "/") == []


def test_a_popup_is_closed_and_neither_it_nor_what_it_would_load_reaches_the_forum(
    forum, lw_env, tmp_path, chromium_path
) -> None:
    db = lw_env["LINKWATCH_DATABASE_URL"]
    run = _crawl(forum, lw_env, tmp_path, chromium_path, "popup")
    assert _rendered_pages(db) == {f"{forum.url}/iso/popup/{n}" for n in range(1, PAGES + 1)}
    _assert_chromium_fetched_nothing(forum)

    # From the forum's log: the documents, once each, and nothing of the popups: neither their
    # document nor its script, stylesheet, image or fetch.
    assert sorted(forum.paths("/iso/")) == [f"/iso/popup/{n}" for n in range(1, PAGES + 1)]
    found = codes(db)
    assert found == {f"LwIsoPopupPage{n}x" for n in range(1, PAGES + 1)}
    # One popup per page, each closed by linkwatch (the page saw it closed before its #done). The
    # popup has no route: its document, if asked for before it was closed, was asked of the black hole.
    stats = run["stats"]
    assert stats["linkwatch/browser/popups_closed"] == PAGES
    assert {line.split()[1] for line in _blocked_for(run, forum, "/")} <= {
        f"{forum.url}/iso/popup?from={n}" for n in range(1, PAGES + 1)
    }


def test_what_an_opener_writes_into_a_blank_popup_is_fetched_only_through_linkwatch(
    forum, lw_env, tmp_path, chromium_path
) -> None:
    """A blank popup's document takes its opener's loaders (Chromium): what the opener writes into it
    is asked through the opener tab's route, as the opener's own requests (scripts and stylesheets
    from the crawl's cache, fetches checked by linkwatch, images and media never), until the popup
    is closed. Nothing of it is asked by Chromium itself."""
    db = lw_env["LINKWATCH_DATABASE_URL"]
    run = _crawl(forum, lw_env, tmp_path, chromium_path, "blank-popup")
    pages = range(1, PAGES + 1)
    assert _rendered_pages(db) == {f"{forum.url}/iso/blank-popup/{n}" for n in pages}
    # nothing from Chromium itself, no image, no media body, nothing robots.txt disallows
    _assert_chromium_fetched_nothing(forum)

    counts = Counter(forum.paths("/iso/"))
    for n in pages:
        assert counts.pop(f"/iso/blank-popup/{n}") == 1
    # whatever else was asked (how much the popup got to ask before it was closed varies), was asked
    # at most once (a script or stylesheet once per crawl) and only among what was written into it
    written = {"/iso/static/blank.css", "/iso/static/blank.js", "/iso/api/blank-script",
               *(f"/iso/blank-media?from={n}" for n in pages)}
    assert set(counts) <= written, counts
    assert all(c == 1 for c in counts.values()), counts
    assert all(r.body_sent is False for r in forum.requests() if r.path.startswith("/iso/blank-media"))
    assert codes(db) == {f"LwIsoBlankPage{n}x" for n in pages}
    assert run["stats"]["linkwatch/browser/popups_closed"] == PAGES
    assert _blocked_for(run, forum, "/") == []


def test_pages_of_a_tab_share_scripts_and_stylesheets_each_fetched_once(
    forum, lw_env, tmp_path, chromium_path
) -> None:
    db = lw_env["LINKWATCH_DATABASE_URL"]
    # Two tabs, so pages share assets both within a tab (memory cache) and across tabs (linkwatch's).
    run = _crawl(forum, lw_env, tmp_path, chromium_path, "shared", concurrency=2)
    pages = range(1, SHARED_PAGES + 1)
    assert _rendered_pages(db) == {f"{forum.url}/iso/shared/{n}" for n in pages}
    _assert_chromium_fetched_nothing(forum)

    counts = Counter(forum.paths("/iso/"))
    assert counts["/iso/static/shared.js"] == 1
    assert counts["/iso/static/shared.css"] == 1
    assert {p: c for p, c in counts.items() if c != 1} == {}
    assert len(counts) == SHARED_PAGES + 2  # the documents and the two assets, nothing else

    # Every page's links: its own static one and the one its (shared, maybe memory-cached) script wrote.
    found = codes(db)
    assert found == ({f"LwIsoSharedPage{n}x" for n in pages} | {f"LwIsoSharedScript{n}x" for n in pages})
    stats = run["stats"]
    assert stats["linkwatch/browser/rendered"] == SHARED_PAGES
    assert stats["linkwatch/browser/asset_fetches"] == 2
