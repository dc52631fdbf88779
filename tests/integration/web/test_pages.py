"""The console's pages over real HTTP: login, sessions, CSRF, roles, security headers, hostile text in every
page, downloads, and triage claims."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
import threading
from collections.abc import Iterator

import httpx
import psycopg
import pytest

from linkwatch.db import triage
from linkwatch.db.users import sha256_hex
from tests.utils.console import (
    FORMULA,
    KOREAN,
    PASSWORD,
    SCRIPT,
    Console,
    World,
    csrf_of,
    login,
)
from tests.utils.seeding import Seed

pytestmark = pytest.mark.timeout(120)


@pytest.fixture
def browser_like(console: Console) -> Iterator[httpx.Client]:
    """A client that keeps cookies, like a browser (a new one per test: no shared session)."""
    with httpx.Client(base_url=console.url, timeout=30) as client:
        yield client


@pytest.fixture
def clients() -> Iterator[list[httpx.Client]]:
    """Every client a test opens, closed at its end."""
    opened: list[httpx.Client] = []
    yield opened
    for client in opened:
        client.close()


@pytest.fixture
def as_user(clients: list[httpx.Client]):  # type: ignore[no-untyped-def]
    """as_user(console, name): a client logged in as `name`."""

    def make(console: Console, name: str) -> httpx.Client:
        client = httpx.Client(base_url=console.url, timeout=30)
        clients.append(client)
        assert login(client, name).status_code == 200
        return client

    return make


def assert_inert(html: str) -> None:
    """Crawled markup, escapes and bidi controls appear only escaped or made visible."""
    for raw in ("<script>alert", "<svg onload", "\u202e", "\u202c", "\x1b"):
        assert raw not in html, raw


# -- login, sessions, CSRF ----------------------------------------------------------------------------

def test_login_sets_a_strict_httponly_session_stored_hashed(browser_like: httpx.Client,
                                                            module_db: str) -> None:
    form = browser_like.get("/login")
    login_cookie = form.headers["set-cookie"]
    assert "HttpOnly" in login_cookie
    assert "SameSite=strict" in login_cookie
    token = re.search(r'name="csrf" value="([^"]+)"', form.text).group(1)
    r = browser_like.post("/login", data={"name": "inv", "password": PASSWORD, "csrf": token,
                                          "next": "/links?text=x"})
    assert r.status_code == 303
    assert r.headers["location"] == "/links?text=x"
    cookie = next(v for k, v in r.headers.multi_items() if k == "set-cookie" and v.startswith("lw_session="))
    assert "HttpOnly" in cookie
    assert "SameSite=strict" in cookie
    assert "Path=/" in cookie
    value = cookie.split(";")[0].split("=", 1)[1]
    with psycopg.connect(module_db) as conn:
        stored = [r[0] for r in conn.execute("SELECT token_hash FROM web_sessions")]
    assert value not in stored
    assert sha256_hex(value) in stored


def test_login_needs_its_csrf_token_and_stays_on_the_console(browser_like: httpx.Client) -> None:
    browser_like.get("/login")
    forged = browser_like.post("/login", data={"name": "inv", "password": PASSWORD, "csrf": "forged"})
    assert forged.status_code == 403
    form = browser_like.get("/login")
    token = re.search(r'name="csrf" value="([^"]+)"', form.text).group(1)
    r = browser_like.post("/login", data={"name": "inv", "password": PASSWORD, "csrf": token,
                                          "next": "//evil.example/"})
    assert r.headers["location"] == "/"
    with httpx.Client(base_url=str(browser_like.base_url)) as other_site:
        token = re.search(r'name="csrf" value="([^"]+)"', other_site.get("/login").text).group(1)
        r = other_site.post("/login", data={"name": "inv", "password": PASSWORD, "csrf": token},
                            headers={"Origin": "http://evil.example"})
    assert r.status_code == 403


def test_wrong_passwords_are_refused_audited_and_rate_limited(fresh_console: Console, db: str) -> None:
    with httpx.Client(base_url=fresh_console.url) as client:
        for _ in range(5):
            r = login(client, "ana1", "wrong-password-1")
            assert r.status_code == 401
            assert "wrong user name or password" in r.text
        r = login(client, "ana1")  # the right password, too late
        assert r.status_code == 429
        assert "too many failed logins" in r.text
        assert int(r.headers["retry-after"]) > 0
        assert login(client, "ana2").status_code == 200  # another account is not locked
    with httpx.Client(base_url=fresh_console.url) as client:
        assert login(client, f"{SCRIPT}", "x").status_code == 401
    with psycopg.connect(db) as conn:
        rows = conn.execute("SELECT actor, detail->>'reason' FROM audit_log WHERE action = 'login_failed' "
                            "ORDER BY id").fetchall()
        logins = conn.execute("SELECT actor FROM audit_log WHERE action = 'login'").fetchall()
    assert rows[:5] == [("ana1", "wrong name or password")] * 5
    assert rows[5] == ("ana1", "rate limited")
    assert rows[6] == ("(invalid name)", "wrong name or password")
    assert logins == [("ana2",)]


def test_logout_needs_csrf_and_ends_the_session(console: Console, as_user) -> None:
    client = as_user(console, "inv")
    page = client.get("/links")
    assert client.post("/logout", data={"csrf": "forged"}).status_code == 403
    r = client.post("/logout", data={"csrf": csrf_of(page.text)})
    assert r.status_code == 303
    assert r.headers["location"] == "/login"
    assert client.get("/links").status_code == 303  # back to the login page


def test_every_page_needs_a_login(browser_like: httpx.Client, world: World) -> None:
    for path in ("/", "/links?text=%ED%95%A9", f"/links/{world.links['plain']}",
                 f"/pages/{world.pages['evidence']}/evidence", "/triage", "/sources", "/runs", "/referrals",
                 f"/referrals/{world.period}", "/audit", "/users", "/links/export.csv"):
        r = browser_like.get(path)
        assert r.status_code == 303, path
        assert r.headers["location"].startswith("/login")
    assert browser_like.get("/links?text=a").headers["location"] == "/login?next=%2Flinks%3Ftext%3Da"
    # A link followed from another site arrives without the SameSite=Strict cookie: the console
    # reloads it from itself (a same-site navigation that carries the cookie).
    bounce = browser_like.get("/links/1", headers={"Sec-Fetch-Site": "cross-site",
                                                   "Sec-Fetch-Mode": "navigate"})
    assert bounce.status_code == 200
    assert 'http-equiv="refresh" content="0; url=/links/1"' in bounce.text


def test_forms_refuse_other_sites_and_missing_tokens(fresh_console: Console, fresh_world: World,
                                                     as_user) -> None:
    client = as_user(fresh_console, "ana1")
    page = client.get("/triage")
    link = re.search(r'data-link="(\d+)"', page.text).group(1)
    csrf = csrf_of(page.text)
    url = f"/triage/{link}/skip"
    assert client.post(url, data={}).status_code == 403
    assert client.post(url, data={"csrf": csrf[:-1] + "x"}).status_code == 403
    assert client.post(url, data={"csrf": csrf}, headers={"Origin": "http://evil.example"}).status_code == 403
    assert client.post(url, data={"csrf": csrf}, headers={"Sec-Fetch-Site": "cross-site"}).status_code == 403
    assert client.post(url, data={}, headers={"X-CSRF-Token": csrf}).status_code == 303  # htmx's way
    # A disabled user's session ends at once.
    admin = as_user(fresh_console, "adm")
    users = admin.get("/users")
    assert admin.post("/users/ana1/disable", data={"csrf": csrf_of(users.text)}).status_code == 303
    assert client.get("/triage").status_code == 303
    assert admin.post("/users/adm/disable", data={"csrf": csrf_of(users.text)}).status_code == 400


# -- roles ---------------------------------------------------------------------------------------------

def test_each_role_sees_its_pages(console: Console, world: World, as_user) -> None:
    pages = ["/", "/links", f"/links/{world.links['plain']}", f"/links/{world.links['referred']}",
             f"/pages/{world.pages['evidence']}/evidence", f"/pages/{world.pages['second']}/evidence",
             "/triage", "/sources", "/runs", "/referrals", f"/referrals/{world.period}", "/audit", "/users",
             "/links/export.csv"]
    allowed = {
        "inv": {"/", "/links", f"/links/{world.links['plain']}", f"/links/{world.links['referred']}",
                f"/pages/{world.pages['evidence']}/evidence", "/links/export.csv"},
        "ana1": {"/", "/links", f"/links/{world.links['plain']}", f"/links/{world.links['referred']}",
                 f"/pages/{world.pages['evidence']}/evidence", "/triage", "/sources", "/runs",
                 "/links/export.csv"},
        "reg": {"/", f"/links/{world.links['referred']}", f"/pages/{world.pages['evidence']}/evidence",
                "/referrals", f"/referrals/{world.period}"},
        "adm": set(pages) - {f"/pages/{world.pages['second']}/evidence"},
    }
    for name, ok in allowed.items():
        client = as_user(console, name)
        for path in pages:
            status = client.get(path).status_code
            if path in ok:
                assert status == 200, (name, path, status)
            elif path.endswith(f"/pages/{world.pages['second']}/evidence") and name in ("inv", "ana1", "adm"):
                assert status == 409, (name, path, status)  # allowed, but that page has no capture
            else:
                assert status == 403, (name, path, status)
        nav = re.findall(r'<nav>(.*?)</nav>', client.get("/").text, re.S)[0]
        assert ("Audit log" in nav) == (name == "adm")
        assert ("Triage" in nav) == (name in ("ana1", "adm"))
        assert ("Referrals" in nav) == (name in ("reg", "adm"))


# -- hostile text, headers -------------------------------------------------------------------------------

def test_hostile_strings_render_inert_in_every_page(console: Console, world: World, as_user) -> None:
    client = as_user(console, "adm")
    client.get("/triage")
    paths = ["/", "/links", f"/links?text={KOREAN}", f"/links/{world.links['hostile']}",
             f"/links/{world.links['plain']}", f"/links/{world.links['referred']}",
             f"/pages/{world.pages['evidence']}/evidence",
             f"/pages/{world.pages['evidence']}/evidence/rendered",
             "/triage", f"/triage?link={world.links['plain']}", "/sources", "/runs", "/referrals",
             f"/referrals/{world.period}", "/audit", "/users", "/nonexistent"]
    for path in paths:
        r = client.get(path)
        assert r.status_code in (200, 404), (path, r.status_code)
        assert_inert(r.text)
    hostile = client.get(f"/links/{world.links['hostile']}").text
    assert "&lt;script&gt;alert(&#39;lw-xss&#39;)&lt;/script&gt;" in hostile
    assert "&#34;&gt;&lt;svg onload=alert(1)&gt;" in hostile
    assert "invite⟦U+202E⟧gnp.exe⟦U+202C⟧" in hostile
    assert "⟦U+001B⟧[31mred" in hostile
    assert "hxxps://t[.]me/+SynthWebCode01" in hostile
    assert 'href="https://t.me' not in hostile  # the invite itself is never a link
    # The link is highlighted where it was seen, with everything around it escaped.
    assert "<mark>t.me/+SynthWebCode01</mark>" in hostile


def test_security_headers(console: Console, world: World, as_user) -> None:
    client = as_user(console, "inv")
    page = client.get("/links")
    csp = page.headers["content-security-policy"]
    assert csp.startswith("default-src 'self'")
    assert "script-src 'self'" in csp
    assert "frame-ancestors 'none'" in csp
    assert "unsafe-inline" not in csp
    assert page.headers["x-frame-options"] == "DENY"
    assert page.headers["cache-control"] == "no-store"
    assert page.headers["referrer-policy"] == "no-referrer"
    assert page.headers["x-content-type-options"] == "nosniff"
    assert "<script>" not in page.text  # no inline script: every script is a file of the console
    assert all(src.startswith("/static/") for src in re.findall(r'<script src="([^"]+)"', page.text))
    rendered = client.get(f"/pages/{world.pages['evidence']}/evidence/rendered")
    policy = rendered.headers["content-security-policy"]
    assert policy.startswith("default-src 'none'; style-src 'sha256-")
    assert "sandbox" in policy
    assert "frame-ancestors 'self'" in policy
    assert rendered.headers["x-frame-options"] == "SAMEORIGIN"
    evidence = client.get(f"/pages/{world.pages['evidence']}/evidence").text
    assert 'sandbox=""' in evidence
    assert client.get("/static/app.js").headers["cache-control"].startswith("public")


# -- pages ------------------------------------------------------------------------------------------------

def test_links_page_search_in_korean_and_keyset_pages(fresh_console: Console, fresh_world: World, db: str,
                                                      as_user) -> None:
    seed = Seed(db)
    for i in range(30):
        seed.link(f"SynthWebMany{i:02d}", score=1.0 + i / 100)
    seed.close()
    client = as_user(fresh_console, "inv")
    korean = client.get("/links", params={"text": "오픈채팅"}).text
    assert re.findall(r'<td class="id"><a href="/links/(\d+)"', korean) == [
        str(fresh_world.links["korean"]), str(fresh_world.links["reissued"])]
    assert 'value="오픈채팅"' in korean  # the form keeps the search
    first = client.get("/links", params={"limit": 25})
    ids = re.findall(r'<td class="id"><a href="/links/(\d+)"', first.text)
    assert len(ids) == 25
    following = re.search(r'<a rel="next" href="(/links\?[^"]+)"', first.text).group(1)
    second = client.get(following.replace("&amp;", "&"))
    more = re.findall(r'<td class="id"><a href="/links/(\d+)"', second.text)
    assert len(more) == 10
    assert not set(ids) & set(more)
    assert client.get("/links", params={"limit": 7}).status_code == 400
    assert client.get("/links", params={"since": "soon"}).status_code == 400


def test_downloads_of_a_search_are_spreadsheet_safe_and_audited(console: Console, module_db: str,
                                                                as_user) -> None:
    client = as_user(console, "inv")
    r = client.get("/links/export.csv", params={"platform": "discord"})
    assert r.headers["content-disposition"].startswith('attachment; filename="linkwatch-links-')
    text = r.content.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0][:4] == ["id", "platform", "kind", "code"]
    assert len(rows) == 2
    title = rows[1][rows[0].index("preview_title")]
    assert title == "'" + FORMULA  # a formula is text in a spreadsheet
    lines = client.get("/links/export.jsonl", params={"text": KOREAN}).text.splitlines()
    assert [json.loads(line)["code"] for line in lines] == ["SynthWebKo02", "SynthWebKo03"]
    with psycopg.connect(module_db) as conn:
        exports = conn.execute("SELECT detail FROM audit_log WHERE actor = 'inv' AND action = 'export' "
                               "ORDER BY id").fetchall()
    assert [(d["format"], d["rows"]) for (d,) in exports][-2:] == [("csv", 1), ("jsonl", 2)]


def test_referral_files_download_with_their_sha256(console: Console, world: World, as_user) -> None:
    client = as_user(console, "reg")
    page = client.get("/referrals").text
    for name, digest in world.files.items():
        assert digest in page
        r = client.get(f"/referrals/{world.period}/files/{name}")
        assert hashlib.sha256(r.content).hexdigest() == digest
        assert r.headers["x-linkwatch-sha256"] == digest
    assert client.get(f"/referrals/{world.period}/files/..%2F..%2Fsecret").status_code == 404
    detail = client.get(f"/referrals/{world.period}").text
    assert "LW-2026W45-0001" in detail
    assert "hxxps://t[.]me/+SynthWebRef05" in detail


def test_dashboard_and_link_page_figures(console: Console, world: World, as_user) -> None:
    client = as_user(console, "inv")
    dashboard = client.get("/").text
    assert "in the triage queue" in dashboard
    assert "Times in Asia/Seoul (KST)" in dashboard
    assert "zero pages" in dashboard  # the source's health flag
    link = client.get(f"/links/{world.links['korean']}").text
    assert "2026-11-02 12:00 KST" in link
    related = link.split('id="related"')[1]
    assert f'href="/links/{world.links["reissued"]}"' in related.split("Advertised on the same page")[0]
    thread = related.split("Advertised in the same thread")[1]
    assert f'href="/links/{world.links["plain"]}"' in thread  # on page 2 of the same thread


# -- triage ------------------------------------------------------------------------------------------------

def test_two_analysts_never_hold_the_same_link(fresh_console: Console, fresh_world: World, db: str,
                                               as_user) -> None:
    one, two = as_user(fresh_console, "ana1"), as_user(fresh_console, "ana2")
    first = re.search(r'data-link="(\d+)"', one.get("/triage").text).group(1)
    second = re.search(r'data-link="(\d+)"', two.get("/triage").text).group(1)
    assert first != second
    assert re.search(r'data-link="(\d+)"', one.get("/triage").text).group(1) == first  # still theirs
    taken = two.get(f"/triage?link={first}")
    assert taken.status_code == 409
    assert "being triaged by ana1" in taken.text
    page = one.get("/triage")
    r = one.post(f"/triage/{second}/decide", data={"csrf": csrf_of(page.text), "decision": "dismiss"})
    assert r.status_code == 409  # ana2 holds it: ana1's decision is not recorded
    r = one.post(f"/triage/{first}/decide", data={"csrf": csrf_of(page.text), "decision": "confirm",
                                                  "category": "other", "note": "synthetic"})
    assert r.headers["location"] == f"/triage?last={first}"
    assert "1 of 2 confirmations" in one.get(r.headers["location"]).text
    page = one.get("/triage")
    held = re.search(r'data-link="(\d+)"', page.text).group(1)
    r = one.post(f"/triage/{held}/note", data={"csrf": csrf_of(page.text), "note": f"seen before {SCRIPT}"})
    assert r.headers["location"] == f"/triage?link={held}"
    with psycopg.connect(db) as conn:
        notes = conn.execute("SELECT actor, target, detail->>'note' FROM audit_log "
                             "WHERE action = 'note'").fetchall()
    assert notes == [("ana1", held, f"seen before {SCRIPT}")]
    # Many claimers at the same moment: every link goes to one of them at most.
    with psycopg.connect(db, autocommit=True) as conn:
        conn.execute("DELETE FROM triage_leases")
    claimed: list[int | None] = []
    start = threading.Barrier(8)

    def claimer(n: int) -> None:
        with psycopg.connect(db, autocommit=True) as conn:
            start.wait(10)
            claimed.append(triage.current_or_next(conn, f"analyst{n}"))

    threads = [threading.Thread(target=claimer, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    held = [c for c in claimed if c is not None]
    assert len(claimed) == 8
    assert len(held) == len(set(held)) == 4  # four new links, four claimers got one each
