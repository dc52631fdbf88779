"""`linkwatch users` and `linkwatch serve` as a person runs them, and `linkwatch demo --serve`."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
from pathlib import Path

import httpx
import psycopg
import pytest

from linkwatch.db.users import add_user
from tests.utils.console import PASSWORD, login, serve_subprocess
from tests.utils.crawl import LINKWATCH

pytestmark = pytest.mark.timeout(180)


def lw(env: dict[str, str], *args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([LINKWATCH, *args], env={**os.environ, **env}, input=stdin, capture_output=True,
                          text=True, timeout=60, check=False)


def test_users_add_list_token_disable(lw_env: dict[str, str]) -> None:
    # Each call is a process of its own (about a second): the checks are grouped to keep it short.
    added = lw(lw_env, "users", "add", "Kim.Analyst", "--role", "analyst", stdin="a-long-password-1\n")
    assert added.returncode == 0, added.stderr
    assert "added kim.analyst (analyst)" in added.stdout
    again = lw(lw_env, "users", "add", "kim.analyst", "--role", "admin", stdin="a-long-password-1\n")
    assert again.returncode == 1
    assert again.stderr.strip() == "Error: there is already a user 'kim.analyst'"
    short = lw(lw_env, "users", "add", "lee", "--role", "admin", stdin="short\n")
    assert short.stderr.strip() == "Error: the password is too short: use at least 12 characters"

    token = lw(lw_env, "users", "token", "kim.analyst")
    assert token.returncode == 0
    value = token.stdout.split()[-1]  # the token is the last word of the output
    assert value.startswith("lwt_")
    with psycopg.connect(lw_env["LINKWATCH_DATABASE_URL"]) as conn:
        stored = conn.execute("SELECT token_hash FROM api_tokens").fetchone()[0]
        audited = [r[0] for r in conn.execute("SELECT action FROM audit_log ORDER BY id")]
    assert value not in stored  # only its hash is kept
    assert audited == ["user_add", "token_add"]

    assert lw(lw_env, "users", "disable", "kim.analyst").returncode == 0
    listed = lw(lw_env, "users", "list")
    assert re.search(r"kim\.analyst\s+analyst\s+disabled\s+never\s+0", listed.stdout)  # tokens revoked
    # the shared --format vocabulary: json is one document, jsonl one object per line
    (user,) = json.loads(lw(lw_env, "users", "list", "--format", "json").stdout)
    assert (user["name"], user["role"], user["tokens"]) == ("kim.analyst", "analyst", 0)
    lines = lw(lw_env, "users", "list", "--format", "jsonl").stdout.splitlines()
    assert [json.loads(line)["name"] for line in lines] == ["kim.analyst"]
    refused = lw(lw_env, "users", "token", "kim.analyst")
    assert refused.stderr.strip() == ("Error: user 'kim.analyst' is disabled; enable them before issuing "
                                      "a token")


def test_serve_binds_loopback_says_how_to_start_and_logs_requests(lw_env: dict[str, str]) -> None:
    with serve_subprocess(lw_env) as running:
        assert running.url.startswith("http://127.0.0.1:")
        with httpx.Client(base_url=running.url) as client:
            assert client.get("/api/v1/health").status_code == 200
            assert client.get("/login").status_code == 200
    log = "\n".join(running.log)
    assert "No admin user yet" in log
    assert "linkwatch users add NAME --role admin" in log
    assert "GET /api/v1/health 200" in log
    assert "GET /login 200" in log


def test_behind_a_tls_proxy_cookies_are_secure(lw_env: dict[str, str]) -> None:
    with psycopg.connect(lw_env["LINKWATCH_DATABASE_URL"], autocommit=True) as conn:
        add_user(conn, "adm", "admin", PASSWORD)
    with serve_subprocess(lw_env, "--behind-proxy") as running, \
            httpx.Client(base_url=running.url, headers={"X-Forwarded-Proto": "https"}) as client:
        form = client.get("/login")
        assert "Secure" in form.headers["set-cookie"]
        csrf = re.search(r'name="csrf" value="([^"]+)"', form.text).group(1)
        # httpx does not send a Secure cookie over plain HTTP (a browser behind the proxy speaks HTTPS).
        r = client.post("/login", data={"name": "adm", "password": PASSWORD, "csrf": csrf},
                        headers={"Cookie": f"lw_login={csrf}"})
    assert r.status_code == 303
    assert "Secure" in r.headers["set-cookie"]
    assert "No admin user yet" not in "\n".join(running.log)


def test_serve_on_a_busy_port_is_one_sentence(lw_env: dict[str, str]) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        result = lw(lw_env, "serve", "--port", str(port))
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1].startswith(f"Error: cannot listen on 127.0.0.1:{port} (")
    assert "Traceback" not in result.stderr


def test_serve_refuses_an_unmigrated_database(empty_db: str, tmp_path: Path) -> None:
    result = lw({"LINKWATCH_DATABASE_URL": empty_db, "LINKWATCH_DATA_DIR": str(tmp_path)}, "serve")
    assert result.returncode == 1
    assert "run `linkwatch db migrate`" in result.stderr


def test_demo_ends_with_the_console_and_a_login(lw_env: dict[str, str], tmp_path: Path) -> None:
    db = lw_env["LINKWATCH_DATABASE_URL"]
    env = {**os.environ, **lw_env, "LINKWATCH_CHROMIUM": str(tmp_path / "no-chromium")}
    args = [LINKWATCH, "--database-url", db, "demo", "--out", str(tmp_path / "out"), "--serve",
            "--serve-port", "0"]
    with subprocess.Popen(args, env=env, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          text=True) as proc:
        try:
            url = password = None
            for line in proc.stdout:  # ends when the process does; the test's timeout bounds it
                if m := re.search(r"linkwatch console on (http://127\.0\.0\.1:\d+)/", line):
                    url = m.group(1)
                if m := re.search(r"demo login: user demo, password (\S+)", line):
                    password = m.group(1)
                    break
            assert url, proc.stderr.read() if proc.poll() is not None else "no console line"
            assert password
            with httpx.Client(base_url=url) as client:
                assert login(client, "demo", password).status_code == 200
                assert "DemoPlainInvite01" in client.get("/links").text
                referrals = client.get("/referrals").text
                assert re.search(r"linkwatch-referral-\d{4}-W\d{2}\.csv", referrals)
        finally:
            proc.terminate()
            proc.wait(timeout=20)
