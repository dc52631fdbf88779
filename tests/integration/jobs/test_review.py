"""`linkwatch review`: scriptable decisions, the interactive queue fed through stdin, the two-person rule."""

from __future__ import annotations

import psycopg
from click.testing import CliRunner

from linkwatch.cli import main


def invoke(args: list[str], *, as_url: str | None = None, **kw):
    """`linkwatch review …`, connected as the test database's owner or as `as_url`'s role."""
    group = ["--database-url", as_url] if as_url else []
    return CliRunner().invoke(main, [*group, "review", *args], catch_exceptions=False, **kw)


def status_of(url: str, link_id: int) -> tuple[str, str | None]:
    with psycopg.connect(url) as conn:
        return conn.execute("SELECT status, category FROM links WHERE id = %s", (link_id,)).fetchone()


def reviews_of(url: str, link_id: int) -> list[tuple]:
    with psycopg.connect(url) as conn:
        return conn.execute("SELECT reviewer, decision, category, note FROM reviews WHERE link_id = %s "
                            "ORDER BY id", (link_id,)).fetchall()


def audit_rows(url: str) -> list[tuple]:
    with psycopg.connect(url) as conn:
        return conn.execute("SELECT actor, action, target, detail FROM audit_log ORDER BY id").fetchall()


def role_of(url: str) -> str:
    return psycopg.conninfo.conninfo_to_dict(url)["user"]


def test_confirm_and_dismiss_by_script(lw_env, seed, role_url) -> None:
    url = lw_env["LINKWATCH_DATABASE_URL"]
    analyst = role_url("analyst")
    a, b, c = (seed.link(f"synthrv{i}") for i in range(3))
    result = invoke(["confirm", str(a), str(b), "--category", "deepfake_sexual", "--note", "seen twice"],
                    as_url=analyst)
    assert result.exit_code == 0, result.output
    assert "confirmed (1/1 reviewers)" in result.output
    result = invoke(["dismiss", str(c)], as_url=analyst)
    assert result.exit_code == 0
    assert status_of(url, a) == ("confirmed", "deepfake_sexual")
    assert status_of(url, b) == ("confirmed", "deepfake_sexual")
    assert status_of(url, c) == ("dismissed", None)
    who = role_of(analyst)
    assert reviews_of(url, a) == [(who, "confirm", "deepfake_sexual", "seen twice")]
    actions = [(r[0], r[1], r[2], r[3]["decision"]) for r in audit_rows(url)]
    assert actions == [(who, "review", str(a), "confirm"), (who, "review", str(b), "confirm"),
                       (who, "review", str(c), "dismiss")]


def test_the_reviewer_is_who_postgresql_authenticated_not_a_typed_name(lw_env, seed) -> None:
    lid = seed.link("synthos1")
    forged = CliRunner().invoke(main, ["review", "dismiss", str(lid), "--reviewer", "alice2"])
    assert forged.exit_code == 2  # there is no such option any more
    assert invoke(["dismiss", str(lid)]).exit_code == 0
    url = lw_env["LINKWATCH_DATABASE_URL"]
    assert reviews_of(url, lid)[0][0] == role_of(url)


def test_confirm_needs_a_known_category(lw_env, seed) -> None:
    lid = seed.link("synthcat1")
    missing = CliRunner().invoke(main, ["review", "confirm", str(lid)])
    assert missing.exit_code == 1
    assert "needs --category" in missing.output
    unknown = CliRunner().invoke(main, ["review", "confirm", str(lid), "--category", "spam"])
    assert unknown.exit_code == 1
    assert "unknown category 'spam'" in unknown.output
    assert status_of(lw_env["LINKWATCH_DATABASE_URL"], lid) == ("new", None)


def test_unknown_link_is_an_error(lw_env, seed) -> None:
    result = CliRunner().invoke(main, ["review", "dismiss", "999999"])
    assert result.exit_code == 1
    assert "no link matches" in result.output


def test_two_person_rule(lw_env, seed, monkeypatch, role_url) -> None:
    monkeypatch.setenv("LINKWATCH_REVIEWERS_REQUIRED", "2")
    url = lw_env["LINKWATCH_DATABASE_URL"]
    kim, lee, park = role_url("kim"), role_url("lee"), role_url("park")
    lid = seed.link("synth2p")
    first = invoke(["confirm", str(lid), "--category", "nonconsensual"], as_url=kim)
    assert "confirmation 1 of 2 recorded; status stays new" in first.output
    assert status_of(url, lid) == ("new", None)
    # The same person again does not count twice.
    invoke(["confirm", str(lid), "--category", "nonconsensual"], as_url=kim)
    assert status_of(url, lid) == ("new", None)
    second = invoke(["confirm", str(lid), "--category", "deepfake_sexual"], as_url=lee)
    assert "confirmed (2/2 reviewers)" in second.output
    assert status_of(url, lid) == ("confirmed", "deepfake_sexual")
    # A dismiss overrides; two fresh confirmations (kim's still counts) bring it back.
    invoke(["dismiss", str(lid)], as_url=lee)
    assert status_of(url, lid)[0] == "dismissed"
    invoke(["confirm", str(lid), "--category", "deepfake_sexual"], as_url=park)
    assert status_of(url, lid)[0] == "confirmed"
    detail = audit_rows(url)[-1][3]
    assert detail["confirmations"] == 2
    assert detail["required"] == 2


def test_interactive_queue_via_stdin(lw_env, seed) -> None:
    url = lw_env["LINKWATCH_DATABASE_URL"]
    src = seed.source("forum-q")
    page = seed.page("http://forum-q.test/post/7", run=src)
    low = seed.link("synthq_low", score=1.0)
    high = seed.link("synthq_high", score=9.0)
    mid = seed.link("synthq_mid", score=5.0)
    seed.sighting(high, page, context="지인 합성 방 홍보 문구")
    # high: note then confirm as category 1; mid: dismiss; low: skip; then the queue ends.
    result = invoke([], input="n\nlooks organised\nc\n1\nd\ns\n")
    assert result.exit_code == 0, result.output
    out = result.output
    assert out.index("synthq_high") < out.index("synthq_mid") < out.index("synthq_low")
    assert "지인 합성 방 홍보 문구" in out
    assert "http://forum-q.test/post/7" in out
    assert "forum-q" in out
    assert "confirmed 1, dismissed 1, skipped 1" in out
    assert status_of(url, high) == ("confirmed", "deepfake_sexual")
    assert reviews_of(url, high) == [(role_of(url), "confirm", "deepfake_sexual", "looks organised")]
    assert status_of(url, mid)[0] == "dismissed"
    assert status_of(url, low)[0] == "new"
    assert ("skip", str(low)) in {(r[1], r[2]) for r in audit_rows(url)}  # every human action is logged
    # Decided links leave this reviewer's queue; the skipped one is still there.
    again = invoke([], input="q\n")
    assert "1 link(s) to review" in again.output
    assert "synthq_low" in again.output


def test_interactive_quit_and_end_of_input(lw_env, seed) -> None:
    lid = seed.link("synthq_eof", score=3)
    quit_now = invoke([], input="q\n")
    assert quit_now.exit_code == 0
    assert "confirmed 0, dismissed 0, skipped 0" in quit_now.output
    eof = invoke([], input="")
    assert eof.exit_code == 0
    assert status_of(lw_env["LINKWATCH_DATABASE_URL"], lid)[0] == "new"


def test_interactive_unknown_key_and_category_are_reasked(lw_env, seed) -> None:
    lid = seed.link("synthq_re", score=3)
    result = invoke([], input="x\nc\nbogus\nother\n")
    assert result.exit_code == 0, result.output
    assert "unknown category 'bogus'" in result.output
    assert status_of(lw_env["LINKWATCH_DATABASE_URL"], lid) == ("confirmed", "other")


def test_empty_queue(lw_env, seed) -> None:
    result = invoke([])
    assert result.exit_code == 0
    assert f"Nothing to review for {role_of(lw_env['LINKWATCH_DATABASE_URL'])}." in result.output
