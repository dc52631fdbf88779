"""Real Chromium against `linkwatch serve`: an investigator's journey (Korean search, a link, its evidence:
nothing but the console's own URLs requested), the regulator's download, and keyboard triage by two analysts
under the two-person rule."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import psycopg
import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from tests.utils.console import KOREAN, PASSWORD, build_world, serve_subprocess

pytestmark = [pytest.mark.browser, pytest.mark.timeout(180)]

CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
WAIT_MS = 15_000


@pytest.fixture
def browser(chromium_path: str) -> Iterator[Browser]:
    with sync_playwright() as p:
        launched = p.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS, timeout=WAIT_MS)
        yield launched
        launched.close()


def log_in(page: Page, base: str, name: str) -> None:
    page.goto(f"{base}/login")
    page.fill("input[name=name]", name)
    page.fill("input[name=password]", PASSWORD)
    with page.expect_navigation():
        page.click("button[type=submit]")
    expect(page.locator("header .who")).to_contain_text(name)


def test_investigator_journey_fetches_nothing_but_the_console(browser: Browser,
                                                             lw_env: dict[str, str]) -> None:
    world = build_world(lw_env["LINKWATCH_DATABASE_URL"], Path(lw_env["LINKWATCH_DATA_DIR"]))
    with serve_subprocess(lw_env) as console:
        context = browser.new_context(accept_downloads=True)
        context.set_default_timeout(WAIT_MS)
        requested: list[str] = []
        dialogs: list[str] = []
        context.on("request", lambda request: requested.append(request.url))
        page = context.new_page()
        page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))

        log_in(page, console.url, "inv")
        page.click("nav >> text=Links")
        page.fill("input[name=text]", "오픈채팅")
        page.press("input[name=text]", "Enter")  # htmx swaps the results and puts the search in the URL
        page.wait_for_url("**/links?text=*")
        results = page.locator("#results td.id a")
        expect(results).to_have_count(2)
        assert "%EC%98%A4%ED%94%88%EC%B1%84%ED%8C%85" in page.url  # the shareable URL holds the Korean text

        results.first.click()
        page.wait_for_url(f"**/links/{world.links['korean']}")
        expect(page.locator("h1")).to_contain_text(f"Link {world.links['korean']}")
        expect(page.locator("dl.facts")).to_contain_text("hxxps://t[.]me/+SynthWebKo02")
        assert page.locator("a[href*='t.me']").count() == 0  # the invite is never a link
        expect(page.locator("#sightings")).to_contain_text(KOREAN)

        page.click("#sightings >> text=evidence")
        page.wait_for_url(f"**/pages/{world.pages['evidence']}/evidence")
        frame = page.frame_locator("iframe.evidence")
        expect(frame.locator("body")).to_contain_text("[image: synthetic photo]")
        expect(frame.locator("body")).to_contain_text("오픈채팅")
        expect(page.locator("dl.facts")).to_contain_text("verified")
        page.wait_for_load_state("networkidle")

        # Every request the browser made was for one of the console's own URLs.
        base = urlsplit(console.url)
        paths = set()
        for url in requested:
            parts = urlsplit(url)
            assert (parts.scheme, parts.netloc) == (base.scheme, base.netloc), url
            paths.add(parts.path)
        evidence = f"/pages/{world.pages['evidence']}/evidence"
        assert paths - {p for p in paths if p.startswith("/static/")} <= {
            "/login", "/", "/links", f"/links/{world.links['korean']}", evidence, f"{evidence}/rendered",
            "/favicon.ico"}, paths
        assert f"{evidence}/rendered" in paths  # the recording sees the frame's requests too
        assert dialogs == []  # no crawled script ran

        # The regulator downloads a referral file; its bytes match the recorded sha256.
        with page.expect_navigation():
            page.click("header .who button")
        log_in(page, console.url, "reg")
        page.click("nav >> text=Referrals")
        name = next(n for n in world.files if n.endswith(".xlsx"))
        with page.expect_download() as download:
            page.click(f"a[href$='{name}']")
        data = Path(download.value.path()).read_bytes()
        assert hashlib.sha256(data).hexdigest() == world.files[name]
        expect(page.locator("body")).to_contain_text(world.files[name])
        context.close()
    # The server saw nothing but its own pages: no resource of the capture, relative or absolute.
    served = [line.split()[6] for line in console.log if "linkwatch.web.access" in line]
    assert served
    assert not [p for p in served if "relative" in p or "evil" in p]
    assert f"{evidence}/rendered" in served


def test_two_analysts_triage_with_the_keyboard(browser: Browser, lw_env: dict[str, str]) -> None:
    db = lw_env["LINKWATCH_DATABASE_URL"]
    world = build_world(db, Path(lw_env["LINKWATCH_DATA_DIR"]), tokens=False, referral=False)
    with serve_subprocess({**lw_env, "LINKWATCH_REVIEWERS_REQUIRED": "2"}) as console:
        one, two = browser.new_context(), browser.new_context()
        for context in (one, two):
            context.set_default_timeout(WAIT_MS)
        first, second = one.new_page(), two.new_page()
        log_in(first, console.url, "ana1")
        log_in(second, console.url, "ana2")
        first.goto(f"{console.url}/triage")
        second.goto(f"{console.url}/triage")
        top = int(first.locator("#triage").get_attribute("data-link"))
        other = int(second.locator("#triage").get_attribute("data-link"))
        assert top == world.links["hostile"]  # the highest score first
        assert other != top  # never the link the other analyst holds
        expect(second.locator(".queue")).to_contain_text(f"#{top} · claimed by ana1")

        # ana1: c, 1 (the first category), Enter.
        first.keyboard.press("c")
        expect(first.locator("#panel-confirm select")).to_be_focused()
        first.keyboard.press("1")
        with first.expect_navigation():
            first.keyboard.press("Enter")
        expect(first.locator("#outcome")).to_contain_text(f"Link {top}: status new, 1 of 2 confirmations")

        # ana2 moves up (k) to the link ana1 just decided, and confirms it: the second person.
        second.reload()
        with second.expect_navigation():
            second.keyboard.press("k")
        assert int(second.locator("#triage").get_attribute("data-link")) == top
        second.keyboard.press("c")
        second.keyboard.press("2")
        with second.expect_navigation():
            second.keyboard.press("Enter")
        expect(second.locator("#outcome")).to_contain_text(
            f"Link {top}: status confirmed, 2 of 2 confirmations")

        # ana2 dismisses the next one with a reason (d, type, Enter) and skips one (s).
        dismissed = int(second.locator("#triage").get_attribute("data-link"))
        second.keyboard.press("d")
        second.keyboard.type("synthetic: not a group chat")
        with second.expect_navigation():
            second.keyboard.press("Enter")
        expect(second.locator("#outcome")).to_contain_text(f"Link {dismissed}: status dismissed")
        skipped = int(second.locator("#triage").get_attribute("data-link"))
        with second.expect_navigation():
            second.keyboard.press("s")
        # The skipped link is not offered again (here nothing is left: ana1 holds the last one).
        assert second.locator("#triage").get_attribute("data-link") != str(skipped)
        expect(second.locator(".item")).to_contain_text("Nothing to triage right now")
        one.close()
        two.close()
    with psycopg.connect(db) as conn:
        status = dict(conn.execute("SELECT id, status FROM links").fetchall())
        reviews = conn.execute("SELECT reviewer, decision, category, note FROM reviews WHERE link_id = %s "
                               "ORDER BY id", (top,)).fetchall()
        note = conn.execute("SELECT note FROM reviews WHERE link_id = %s", (dismissed,)).fetchone()[0]
    assert status[top] == "confirmed"
    assert status[dismissed] == "dismissed"
    assert [(r[0], r[1]) for r in reviews] == [("ana1", "confirm"), ("ana2", "confirm")]
    assert reviews[0][2] == "deepfake_sexual"
    assert reviews[1][2] == "csam_suspected"
    assert note == "synthetic: not a group chat"
