"""The REST API over real HTTP: every endpoint, every role, every error; answers stay inert."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import httpx
import psycopg
import pytest

from linkwatch.db import triage
from linkwatch.db.users import set_disabled
from tests.utils.console import (
    BIDI,
    ESCAPES,
    EVIDENCE_HTML,
    KOREAN,
    SCRIPT,
    SVG,
    World,
    build_world,
    run_console,
)

pytestmark = pytest.mark.timeout(120)


def bearer(world: World, name: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {world.tokens[name]}"}


def assert_error(response: httpx.Response, status: int) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert body["status"] == status
    assert body["message"]
    return body


def assert_inert(response: httpx.Response) -> None:
    """No markup, terminal escape or bidi control in the bytes (the parsed JSON keeps them)."""
    raw = response.content
    for needle in (b"<script", b"<svg", b"\x1b", "\u202e".encode(), "\u202c".encode()):
        assert needle not in raw
    assert response.headers["x-content-type-options"] == "nosniff"
    assert "default-src 'none'" in response.headers["content-security-policy"]


def test_no_token_wrong_token_and_wrong_role(api: httpx.Client, world: World) -> None:
    body = assert_error(api.get("/api/v1/links"), 401)
    assert "Bearer" in body["message"]
    assert api.get("/api/v1/links").headers["www-authenticate"].startswith("Bearer")
    assert_error(api.get("/api/v1/links", headers={"Authorization": "Bearer lwt_not-a-token"}), 401)
    assert_error(api.get("/api/v1/links", headers={"Authorization": "Basic dXNlcjpwYXNz"}), 401)
    # A session cookie is no way into the API, only a token is.
    assert_error(api.get("/api/v1/links", headers={"Cookie": "lw_session=x"}), 401)
    forbidden = {
        "reg": ["/api/v1/links", "/api/v1/sources", "/api/v1/runs"],
        "inv": ["/api/v1/referrals", f"/api/v1/referrals/{world.period}", "/api/v1/sources", "/api/v1/runs"],
        "ana1": ["/api/v1/referrals"],
    }
    for name, paths in forbidden.items():
        for path in paths:
            assert_error(api.get(path, headers=bearer(world, name)), 403)
    assert_error(api.post(f"/api/v1/links/{world.links['plain']}/reviews", headers=bearer(world, "inv"),
                          json={"decision": "dismiss"}), 403)


def test_links_search_filters_and_korean_text(api: httpx.Client, world: World) -> None:
    def codes(**params: object) -> list[str]:
        r = api.get("/api/v1/links", params=params, headers=bearer(world, "inv"))
        assert r.status_code == 200, r.text
        return [item["code"] for item in r.json()["items"]]

    assert codes() == ["SynthWebCode01", "SynthWebKo02", "SynthWebKo03", "SynthWebPlain04", "SynthWebRef05"]
    assert codes(text=KOREAN) == ["SynthWebKo02", "SynthWebKo03"]  # context, page title, preview title
    assert codes(text="오픈채팅") == ["SynthWebKo02", "SynthWebKo03"]
    assert codes(platform="discord") == ["SynthWebPlain04"]
    assert codes(status="referred") == ["SynthWebRef05"]
    assert codes(live="true") == ["SynthWebCode01", "SynthWebRef05"]
    assert codes(since="2026-11-03") == []
    assert codes(until="2026-11-02", seen="first")[0] == "SynthWebCode01"
    assert codes(source=f"forum-{SCRIPT}", min_score=7.5) == ["SynthWebCode01", "SynthWebKo02"]
    assert codes(sort="last-seen")[0] == "SynthWebRef05"  # same time: the highest id first
    r = api.get("/api/v1/links", params={"limit": 1}, headers=bearer(world, "ana1"))
    item = r.json()["items"][0]
    assert item["first_seen"] == "2026-11-02T12:00:00+09:00"  # the configured zone, with its offset
    assert set(item) >= {"id", "platform", "kind", "code", "url", "status", "liveness", "score"}


def test_links_keyset_pages_cover_the_result_once(api: httpx.Client, world: World) -> None:
    for sort in ("score", "last-seen"):
        seen: list[int] = []
        cursor = None
        for _ in range(10):
            params = {"limit": 2, "sort": sort, **({"cursor": cursor} if cursor else {})}
            page = api.get("/api/v1/links", params=params, headers=bearer(world, "inv")).json()
            seen += [item["id"] for item in page["items"]]
            cursor = page["next_cursor"]
            if cursor is None:
                break
        everything = api.get("/api/v1/links", params={"sort": sort}, headers=bearer(world, "inv")).json()
        assert seen == [item["id"] for item in everything["items"]]
    assert_error(api.get("/api/v1/links", params={"cursor": "bm9wZQ"}, headers=bearer(world, "inv")), 400)
    score_cursor = api.get("/api/v1/links", params={"limit": 1}, headers=bearer(world, "inv")).json()
    assert_error(api.get("/api/v1/links", params={"cursor": score_cursor["next_cursor"], "sort": "last-seen"},
                         headers=bearer(world, "inv")), 400)


@pytest.mark.parametrize(("params", "status"), [
    ({"since": "yesterday"}, 400), ({"status": "maybe"}, 400), ({"limit": 0}, 422), ({"limit": 5000}, 422),
    ({"sort": "random"}, 422), ({"min_score": "high"}, 422), ({"text": "x" * 300}, 400),
])
def test_links_bad_parameters(api: httpx.Client, world: World, params: dict, status: int) -> None:
    body = assert_error(api.get("/api/v1/links", params=params, headers=bearer(world, "inv")), status)
    assert next(iter(params)) in body["message"]


def test_hostile_strings_are_inert_in_every_answer(api: httpx.Client, world: World) -> None:
    token = bearer(world, "adm")
    responses = [
        api.get("/api/v1/links", headers=token),
        api.get(f"/api/v1/links/{world.links['hostile']}", headers=token),
        api.get(f"/api/v1/links/{world.links['plain']}", headers=token),
        api.get(f"/api/v1/pages/{world.pages['evidence']}/evidence", headers=token),
        api.get("/api/v1/sources", headers=token),
        api.get("/api/v1/runs", headers=token),
        api.get("/api/v1/referrals", headers=token),
        api.get(f"/api/v1/referrals/{world.period}", headers=token),
        api.get("/api/v1/health"),
    ]
    for r in responses:
        assert r.status_code == 200, (r.url, r.text)
        assert_inert(r)
    link = responses[1].json()
    # The data itself is exactly what was crawled: escaping changed the bytes, not the values.
    assert link["preview_title"] == f"{SCRIPT} {BIDI}"
    assert ESCAPES in link["evidence"][0]["context"]
    assert SVG in link["evidence"][0]["context"]
    assert link["checks"][0]["title"] == f"{SVG} {ESCAPES}"


def test_one_link_with_its_evidence_lists(api: httpx.Client, world: World) -> None:
    r = api.get(f"/api/v1/links/{world.links['referred']}", headers=bearer(world, "inv"))
    link = r.json()
    assert link["status"] == "referred"
    assert [s["raw"] for s in link["evidence"]] == ["https://t.me/+SynthWebRef05"]
    assert link["evidence"][0]["page_id"] == world.pages["evidence"]
    assert link["reviews"][0]["reviewer"] == "ana1"
    assert link["referrals"][0]["period"] == world.period
    assert_error(api.get("/api/v1/links/999999", headers=bearer(world, "inv")), 404)
    assert_error(api.get("/api/v1/links/abc", headers=bearer(world, "inv")), 422)
    # The regulator sees the links that were referred, and no other.
    referred = api.get(f"/api/v1/links/{world.links['referred']}", headers=bearer(world, "reg"))
    assert referred.status_code == 200
    assert referred.json()["reviews"] == []  # who decided stays inside the monitoring team
    assert_error(api.get(f"/api/v1/links/{world.links['plain']}", headers=bearer(world, "reg")), 403)


def test_evidence_is_verified_text(api: httpx.Client, world: World) -> None:
    r = api.get(f"/api/v1/pages/{world.pages['evidence']}/evidence", headers=bearer(world, "inv"))
    evidence = r.json()
    assert evidence["verified"] is True
    assert evidence["sha256"] == hashlib.sha256(EVIDENCE_HTML.encode()).hexdigest()
    assert evidence["bytes"] == len(EVIDENCE_HTML.encode())
    assert KOREAN in evidence["text"]
    assert "alert" not in evidence["text"]  # script bodies are not text
    assert evidence["removed"]["script"] == 1
    assert "evil.example" not in evidence["text"]
    assert_error(api.get("/api/v1/pages/999999/evidence", headers=bearer(world, "inv")), 404)
    # A page without a capture: the evidence cannot be shown as captured.
    second = f"/api/v1/pages/{world.pages['second']}/evidence"
    assert_error(api.get(second, headers=bearer(world, "inv")), 409)
    # The regulator opens the pages that advertise a referred link, and no other.
    assert api.get(f"/api/v1/pages/{world.pages['evidence']}/evidence",
                   headers=bearer(world, "reg")).status_code == 200
    assert_error(api.get(second, headers=bearer(world, "reg")), 403)


def test_referrals_their_items_manifest_and_files(api: httpx.Client, world: World) -> None:
    listing = api.get("/api/v1/referrals", headers=bearer(world, "reg")).json()
    assert [r["period"] for r in listing["items"]] == [world.period]
    assert listing["items"][0]["files"] == world.files
    assert listing["takedown"]["referred"] == 1
    assert listing["takedown_by_platform"][0]["platform"] == "telegram"
    detail = api.get(f"/api/v1/referrals/{world.period}", headers=bearer(world, "reg")).json()
    assert [i["link_id"] for i in detail["items"]] == [world.links["referred"]]
    assert detail["items"][0]["ref"] == "LW-2026W45-0001"
    assert detail["manifest"]["period"] == world.period
    assert detail["next_cursor"] is None
    for name, digest in world.files.items():
        r = api.get(f"/api/v1/referrals/{world.period}/files/{name}", headers=bearer(world, "reg"))
        assert r.status_code == 200
        assert hashlib.sha256(r.content).hexdigest() == digest == r.headers["x-linkwatch-sha256"]
        assert name in r.headers["content-disposition"]
    manifest_name = f"linkwatch-referral-{world.period}-manifest.json"
    manifest = api.get(f"/api/v1/referrals/{world.period}/files/{manifest_name}",
                       headers=bearer(world, "reg"))
    assert json.loads(manifest.content)["files"].keys() == world.files.keys()
    assert_error(api.get("/api/v1/referrals/2020-W01", headers=bearer(world, "reg")), 404)
    for bad in ("secrets.txt", "..%2F..%2Fetc%2Fpasswd", "%2Fetc%2Fpasswd"):
        assert api.get(f"/api/v1/referrals/{world.period}/files/{bad}",
                       headers=bearer(world, "reg")).status_code == 404


def test_sources_and_runs(api: httpx.Client, world: World) -> None:
    sources = api.get("/api/v1/sources", headers=bearer(world, "ana1")).json()
    assert [s["name"] for s in sources] == [f"forum-{SCRIPT}"]
    assert sources[0]["last_run_status"] == "finished"
    assert sources[0]["flags"] == ["zero pages"]
    runs = api.get("/api/v1/runs", headers=bearer(world, "ana1")).json()
    assert [r["source"] for r in runs["items"]] == [f"forum-{SCRIPT}"]
    assert runs["next_cursor"] is None
    none = api.get("/api/v1/runs", params={"source": "nope"}, headers=bearer(world, "ana1"))
    assert none.json()["items"] == []
    assert_error(api.get("/api/v1/runs", params={"cursor": "x"}, headers=bearer(world, "ana1")), 400)


def test_health_needs_no_token(api: httpx.Client, world: World) -> None:
    health = api.get("/api/v1/health")
    assert health.status_code == 200
    body = health.json()
    assert body["status"] == "ok"
    assert body["database"] == {"reachable": True}
    assert body["migrations"] == {"current": True, "pending": []}
    assert body["sources"][0]["name"] == f"forum-{SCRIPT}"
    assert body["sources"][0]["last_crawl"] is not None
    assert set(body["scheduler"]) == {"last_activity", "running"}


def test_openapi_and_docs_are_served_locally(api: httpx.Client) -> None:
    spec = api.get("/api/v1/openapi.json").json()
    assert set(spec["paths"]) == {
        "/api/v1/links", "/api/v1/links/{link_id}", "/api/v1/links/{link_id}/reviews",
        "/api/v1/pages/{page_id}/evidence", "/api/v1/referrals", "/api/v1/referrals/{period}",
        "/api/v1/referrals/{period}/files/{name}", "/api/v1/sources", "/api/v1/runs", "/api/v1/health"}
    assert "HTTPBearer" in spec["components"]["securitySchemes"]
    docs = api.get("/api/v1/docs")
    assert docs.status_code == 200
    assert "/static/vendor/swagger-ui/swagger-ui-bundle.js" in docs.text
    assert "http" not in docs.text.replace("http-equiv", "")  # no other host named anywhere
    assert "default-src 'self'" in docs.headers["content-security-policy"]
    assert api.get("/static/vendor/swagger-ui/swagger-ui-bundle.js").status_code == 200


def test_every_api_read_is_audited(api: httpx.Client, world: World, module_db: str) -> None:
    api.get("/api/v1/links", params={"text": KOREAN}, headers=bearer(world, "inv"))
    api.get(f"/api/v1/links/{world.links['korean']}", headers=bearer(world, "inv"))
    api.get(f"/api/v1/pages/{world.pages['evidence']}/evidence", headers=bearer(world, "inv"))
    name = next(iter(world.files))
    api.get(f"/api/v1/referrals/{world.period}/files/{name}", headers=bearer(world, "reg"))
    with psycopg.connect(module_db) as conn:
        rows = conn.execute("SELECT actor, action, target, detail FROM audit_log "
                            "WHERE actor IN ('inv', 'reg') ORDER BY id").fetchall()
    actions = [(actor, action) for actor, action, _t, _d in rows]
    assert ("inv", "query") in actions
    assert ("inv", "show") in actions
    assert ("inv", "evidence") in actions
    assert ("reg", "download") in actions
    query = next(d for a, act, _t, d in rows if act == "query" and d["filters"].get("text") == KOREAN)
    assert query["filters"]["text"] == KOREAN


def test_reviews_count_distinct_users_and_respect_claims(fresh_console, fresh_world: World, db: str) -> None:
    link = fresh_world.links["korean"]
    with httpx.Client(base_url=fresh_console.url) as api:
        def review(name: str, **body: object) -> httpx.Response:
            return api.post(f"/api/v1/links/{link}/reviews", json=body, headers=bearer(fresh_world, name))

        assert_error(review("ana1", decision="confirm"), 400)  # confirming needs a category
        assert_error(review("ana1", decision="confirm", category="nonsense"), 400)
        assert_error(review("ana1", decision="maybe"), 422)
        # While another analyst holds the link in triage, a decision on it is refused.
        with psycopg.connect(db, autocommit=True) as conn:
            triage.claim(conn, "ana2", link)
        refused = assert_error(review("ana1", decision="confirm", category="other"), 409)
        assert "being triaged by ana2" in refused["message"]
        with psycopg.connect(db, autocommit=True) as conn:
            triage.release(conn, "ana2", link)
        first = review("ana1", decision="confirm", category="other", note="synthetic")
        assert first.json() == {"link_id": link, "decision": "confirm", "status": "new", "confirmations": 1,
                                "required": 2}
        again = review("ana1", decision="confirm", category="other").json()
        assert again["confirmations"] == 1  # the same user twice is still one reviewer
        second = review("ana2", decision="confirm", category="other").json()
        assert second["status"] == "confirmed"
        assert second["confirmations"] == 2
        assert_error(api.post("/api/v1/links/999999/reviews", json={"decision": "dismiss"},
                              headers=bearer(fresh_world, "ana1")), 400)
        # A disabled user's token stops working at once.
        with psycopg.connect(db, autocommit=True) as conn:
            set_disabled(conn, "ana2", True)
        assert_error(api.get("/api/v1/links", headers=bearer(fresh_world, "ana2")), 401)
    with psycopg.connect(db) as conn:
        reviewers = conn.execute("SELECT DISTINCT reviewer FROM reviews WHERE link_id = %s",
                                 (link,)).fetchall()
    assert sorted(r[0] for r in reviewers) == ["ana1", "ana2"]


def test_a_changed_referral_file_is_refused(db: str, tmp_path: Path) -> None:
    world = build_world(db, tmp_path / "data")
    name = next(n for n in world.files if n.endswith(".csv"))
    path = tmp_path / "data" / "reports" / world.period / name
    path.write_bytes(path.read_bytes().replace(b"SynthWebRef05", b"SynthWebXXX05"))
    with run_console(db, world.data_dir) as running, httpx.Client(base_url=running.url) as api:
        url = f"/api/v1/referrals/{world.period}/files/{name}"
        body = assert_error(api.get(url, headers=bearer(world, "reg")), 409)
        assert "no longer matches the sha256" in body["message"]
        path.unlink()
        assert_error(api.get(url, headers=bearer(world, "reg")), 404)


def test_health_says_when_the_database_is_unreachable(tmp_path: Path, unused_tcp_port: int) -> None:
    nowhere = f"postgresql://nobody@127.0.0.1:{unused_tcp_port}/nothing?connect_timeout=2"
    with run_console(nowhere, tmp_path, pool_timeout=1) as running, \
            httpx.Client(base_url=running.url, timeout=30) as api:
        health = api.get("/api/v1/health")
        assert health.status_code == 503
        assert health.json()["database"] == {"reachable": False}
        # Everything else answers one sentence too, not a stack trace.
        assert_error(api.get("/api/v1/links", headers={"Authorization": "Bearer lwt_x"}), 503)
