"""People who use the web console and API: users with roles, argon2 passwords, sessions and API tokens."""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from psycopg.rows import dict_row

from linkwatch.db.sql import query
from linkwatch.errors import LinkwatchError

ROLES = ("investigator", "analyst", "regulator", "admin")
NAME_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{0,62}$")
MIN_PASSWORD = 12
MAX_PASSWORD = 1024  # argon2 hashes any length; a megabyte "password" is only a way to burn CPU
TOKEN_PREFIX = "lwt_"  # noqa: S105 (a marker that makes tokens recognisable, not a secret)

# argon2id with the library's defaults (RFC 9106's second recommendation: 64 MiB, 3 passes).
_HASHER = PasswordHasher()
# Verified against when the user does not exist, so an unknown name costs as long as a wrong password.
_DUMMY_HASH = _HASHER.hash(secrets.token_urlsafe(16))


class UserError(LinkwatchError, ValueError):
    """Raised for a bad user name, role or password, or an unknown or existing user; one sentence."""


@dataclass(frozen=True)
class User:
    """A console user as the web layer sees them (never with the password hash)."""

    id: int
    name: str
    role: str
    created_at: datetime
    last_login_at: datetime | None = None
    disabled_at: datetime | None = None

    @property
    def active(self) -> bool:
        return self.disabled_at is None


def _user(row: dict[str, Any]) -> User:
    return User(row["id"], row["name"], row["role"], row["created_at"], row["last_login_at"],
                row["disabled_at"])


def sha256_hex(secret: str) -> str:
    """How session cookies and API tokens are stored: their sha256 (they are 256 random bits)."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def check_name(name: str) -> str:
    """The user name, lower-cased and validated (it is also the reviewer name on reviews)."""
    value = name.strip().lower()
    if not NAME_RE.match(value):
        raise UserError(f"{name[:70]!r} is not a usable user name: use 1-63 of a-z, 0-9, '.', '_', '-' "
                        "starting with a letter or digit")
    return value


def check_role(role: str) -> str:
    if role not in ROLES:
        raise UserError(f"unknown role {role!r}; use one of: {', '.join(ROLES)}")
    return role


def check_password(password: str) -> str:
    if len(password) < MIN_PASSWORD:
        raise UserError(f"the password is too short: use at least {MIN_PASSWORD} characters")
    if len(password) > MAX_PASSWORD:
        raise UserError(f"the password is too long: use at most {MAX_PASSWORD} characters")
    return password


def hash_password(password: str) -> str:
    return _HASHER.hash(check_password(password))


def add_user(conn: psycopg.Connection, name: str, role: str, password: str) -> User:
    """Creates a user; UserError when the name is taken or anything given is unusable."""
    name, role = check_name(name), check_role(role)
    digest = hash_password(password)
    try:
        with conn.transaction(), conn.cursor(row_factory=dict_row) as cur:
            params = {"name": name, "role": role, "hash": digest}
            row = cur.execute(query("web", "user_insert"), params).fetchone()
    except psycopg.errors.UniqueViolation:
        raise UserError(f"there is already a user {name!r}") from None
    return _user(row)


def reset_user(conn: psycopg.Connection, name: str, role: str, password: str) -> User:
    """The user `name` with this role and password, enabled: created, or updated if it exists (the demo)."""
    try:
        return add_user(conn, name, role, password)
    except UserError:
        pass
    set_password(conn, name, password)
    set_disabled(conn, name, False)
    conn.execute(query("web", "user_set_role"), {"name": check_name(name), "role": check_role(role)})
    return get_user(conn, name)


def get_user(conn: psycopg.Connection, name: str) -> User:
    with conn.cursor(row_factory=dict_row) as cur:
        row = cur.execute(query("web", "user_by_name"), {"name": name.strip().lower()}).fetchone()
    if row is None:
        raise UserError(f"there is no user {name[:70]!r}")
    return _user(row)


def list_users(conn: psycopg.Connection) -> list[dict[str, Any]]:
    """Every user (no hashes) with their live token and session counts, by name."""
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(query("web", "user_list")).fetchall()


def count_users(conn: psycopg.Connection) -> tuple[int, int]:
    """(active users, active admins)."""
    active, admins = conn.execute(query("web", "user_count")).fetchone()
    return int(active), int(admins)


def set_password(conn: psycopg.Connection, name: str, password: str) -> None:
    """Replaces the user's password and ends their sessions (the old password's sessions)."""
    digest = hash_password(password)
    with conn.transaction():
        params = {"name": check_name(name), "hash": digest}
        row = conn.execute(query("web", "user_set_password"), params).fetchone()
        if row is None:
            raise UserError(f"there is no user {name[:70]!r}")
        conn.execute(query("web", "sessions_of_user_delete"), {"user_id": row[0]})


def set_disabled(conn: psycopg.Connection, name: str, disabled: bool) -> None:
    """Disables a user (ending their sessions and revoking their tokens at once) or enables them."""
    with conn.transaction():
        row = conn.execute(query("web", "user_disable" if disabled else "user_enable"),
                           {"name": name.strip().lower()}).fetchone()
        if row is None:
            raise UserError(f"there is no user {name[:70]!r}")
        if disabled:
            conn.execute(query("web", "sessions_of_user_delete"), {"user_id": row[0]})
            conn.execute(query("web", "tokens_of_user_revoke"), {"user_id": row[0]})


def authenticate(conn: psycopg.Connection, name: str, password: str) -> User | None:
    """The active user with this name and password, else None (unknown names cost the same time)."""
    if len(password) > MAX_PASSWORD:
        return None
    with conn.cursor(row_factory=dict_row) as cur:
        row = cur.execute(query("web", "user_by_name"), {"name": name.strip().lower()[:64]}).fetchone()
    try:
        _HASHER.verify(row["password_hash"] if row else _DUMMY_HASH, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return None
    if row is None or row["disabled_at"] is not None:
        return None
    if _HASHER.check_needs_rehash(row["password_hash"]):
        conn.execute(query("web", "user_set_password"), {"name": row["name"], "hash": _HASHER.hash(password)})
    conn.execute(query("web", "user_login"), {"id": row["id"]})
    return _user(row)


# -- sessions -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Session:
    """A logged-in browser: its user and the CSRF token its forms must carry."""

    user: User
    csrf: str


def create_session(conn: psycopg.Connection, user: User, idle_seconds: int) -> tuple[str, Session]:
    """A new session for `user`: (the cookie value, the session). Only the value's hash is stored."""
    token = secrets.token_urlsafe(32)
    csrf = secrets.token_urlsafe(32)
    conn.execute(query("web", "session_insert"), {"token_hash": sha256_hex(token), "user_id": user.id,
                                                  "csrf": csrf, "idle": idle_seconds})
    return token, Session(user, csrf)


def session_for(conn: psycopg.Connection, token: str, idle_seconds: int, absolute_seconds: int,
                touch_after_seconds: int = 60) -> Session | None:
    """The live session with this cookie value (extended while in use), or None."""
    if not token or len(token) > 100:
        return None
    token_hash = sha256_hex(token)
    with conn.cursor(row_factory=dict_row) as cur:
        row = cur.execute(query("web", "session_user"), {"token_hash": token_hash}).fetchone()
        if row is None:
            return None
        # Extend at most once a minute: a page with several requests writes once.
        if row["idle_seconds"] > touch_after_seconds:
            cur.execute(query("web", "session_touch"), {"token_hash": token_hash, "idle": idle_seconds,
                                                        "absolute": absolute_seconds})
    return Session(_user(row), row["csrf"])


def end_session(conn: psycopg.Connection, token: str) -> None:
    conn.execute(query("web", "session_delete"), {"token_hash": sha256_hex(token)})


def purge_sessions(conn: psycopg.Connection) -> int:
    """Deletes expired sessions; how many."""
    return conn.execute(query("web", "session_purge")).rowcount


# -- API tokens -----------------------------------------------------------------------------------

def create_token(conn: psycopg.Connection, name: str) -> str:
    """A new API token for the active user `name`, returned once; only its hash is stored."""
    user = get_user(conn, name)
    if not user.active:
        raise UserError(f"user {user.name!r} is disabled; enable them before issuing a token")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    conn.execute(query("web", "token_insert"), {"user_id": user.id, "token_hash": sha256_hex(token),
                                                "prefix": token[:10]})
    return token


def user_for_token(conn: psycopg.Connection, token: str, touch_after_seconds: int = 60) -> User | None:
    """The active user of a live API token, or None (last use recorded at most once a minute)."""
    if not token.startswith(TOKEN_PREFIX) or len(token) > 100:
        return None
    with conn.cursor(row_factory=dict_row) as cur:
        row = cur.execute(query("web", "token_user"), {"token_hash": sha256_hex(token)}).fetchone()
        if row is None:
            return None
        if row["unused_seconds"] is None or row["unused_seconds"] > touch_after_seconds:
            cur.execute(query("web", "token_touch"), {"id": row["token_id"]})
    return _user(row)
