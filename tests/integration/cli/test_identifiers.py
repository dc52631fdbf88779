"""One way to name a link everywhere: `check`, `links show` and `review` take its id, canonical URL or code,
and say the same sentence when nothing matches."""

from __future__ import annotations

import json
from collections.abc import Iterator

import psycopg
import pytest
from click.testing import CliRunner

from linkwatch.cli import main
from tests.utils.previews import FakePreviews

NOT_FOUND = "no link matches 'liveNoSuch9'; give a link id, its canonical URL or its code"


@pytest.fixture
def fake(lw_env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Iterator[FakePreviews]:
    server = FakePreviews().start()
    for key, value in {**server.env(), "LINKWATCH_CHECK_RATE": "0"}.items():
        monkeypatch.setenv(key, value)
    yield server
    server.stop()


def test_id_url_and_code_name_the_same_link_in_every_command(lw_env, seed, fake) -> None:
    link_id = seed.link("liveIdent1", url="https://t.me/+liveIdent1")
    seed.link("liveOther2")
    for ident in (str(link_id), "https://t.me/+liveIdent1", "liveIdent1"):
        shown = CliRunner().invoke(main, ["links", "show", ident, "--format", "json"])
        assert shown.exit_code == 0, shown.output
        assert json.loads(shown.output)["id"] == link_id
        checked = CliRunner().invoke(main, ["check", ident, "--format", "jsonl"])
        assert checked.exit_code == 0, checked.output
        assert [json.loads(line)["id"] for line in checked.stdout.splitlines()] == [link_id]
        reviewed = CliRunner().invoke(main, ["review", "dismiss", ident])
        assert reviewed.exit_code == 0, reviewed.output
    with psycopg.connect(lw_env["LINKWATCH_DATABASE_URL"]) as conn:
        assert conn.execute("SELECT count(*) FROM reviews WHERE link_id = %s", (link_id,)).fetchone()[0] == 3
        assert conn.execute("SELECT count(*) FROM link_checks").fetchone()[0] == 3


def test_nothing_matching_is_the_same_sentence_everywhere(lw_env, seed, fake) -> None:
    seed.link("liveIdent1")
    for args in (["links", "show", "liveNoSuch9"], ["check", "liveNoSuch9"],
                 ["review", "confirm", "liveIdent1", "liveNoSuch9", "--category", "other"]):
        result = CliRunner().invoke(main, args)
        assert result.exit_code == 1, (args, result.output)
        assert result.output.strip() == f"Error: {NOT_FOUND}", args
    with psycopg.connect(lw_env["LINKWATCH_DATABASE_URL"]) as conn:
        # every LINK is looked up before the first decision: the known one was not confirmed alone
        assert conn.execute("SELECT count(*) FROM reviews").fetchone()[0] == 0
