"""The database layer's front door: which PostgreSQL to use (configured or embedded) and how to connect."""

from __future__ import annotations

import psycopg

from linkwatch.config import Config
from linkwatch.errors import LinkwatchError
from linkwatch.text import redact


class DatabaseError(LinkwatchError):
    """Raised when the database cannot be reached, is misconfigured or is not migrated; the message is
    one sentence for the user, with any password masked."""


def database_url(config: Config, *, announce: bool = True) -> str:
    """The configured database URL, else the embedded server's (started on demand)."""
    if config.database_url:
        return config.database_url
    return embedded_url(config, announce=announce, database=config.embedded_database)


def embedded_url(config: Config, *, announce: bool = True, database: str | None = None) -> str:
    """A database in the embedded server under config.data_dir (default `linkwatch`), started on demand."""
    from linkwatch.db import embedded

    try:
        return embedded.start(config.data_dir, announce=announce, database=database or embedded.DATABASE)
    except DatabaseError:
        raise  # already one sentence, and never holds the password (the URL only names its file)
    except Exception as exc:  # anything else (a full disk, say) still reaches the user as one sentence
        reason = redact(str(exc).strip().splitlines()[0] if str(exc).strip() else "")
        raise DatabaseError(
            f"could not start the embedded PostgreSQL under {embedded.pgdata_dir(config.data_dir)} "
            f"({exc.__class__.__name__}: {reason[:200]}); set LINKWATCH_DATABASE_URL to use "
            "your own server"
        ) from exc


def describe(exc: BaseException) -> str:
    """The first line of a database error, passwords masked: what a one-sentence message quotes."""
    text = str(exc).strip()
    first = text.splitlines()[0] if text else exc.__class__.__name__
    return redact(first)[:300]


def connect(url: str, **kwargs: object) -> psycopg.Connection:
    """A psycopg connection; a malformed URL or an unreachable server is one DatabaseError sentence."""
    try:
        return psycopg.connect(url, **kwargs)
    except psycopg.OperationalError as exc:
        raise DatabaseError(f"cannot connect to PostgreSQL ({describe(exc)})") from None
    except psycopg.ProgrammingError as exc:  # the conninfo string itself does not parse
        raise DatabaseError(
            f"the database URL is malformed ({describe(exc)}); expected postgresql://user@host:port/dbname"
        ) from None


def require_migrated(conn: psycopg.Connection) -> None:
    """Raises DatabaseError when migrations are pending, naming the command that fixes it."""
    from linkwatch.db.migrate import pending

    todo = pending(conn)
    if todo:
        raise DatabaseError(
            f"the database needs {len(todo)} migration(s) ({todo[0].name}…); run `linkwatch db migrate`"
        )


def open_database(url: str, *, autocommit: bool = True, **kwargs: object) -> psycopg.Connection:
    """A connection to a migrated database (DatabaseError saying why not)."""
    conn = connect(url, autocommit=autocommit, **kwargs)
    try:
        require_migrated(conn)
    except BaseException:
        conn.close()
        raise
    return conn
