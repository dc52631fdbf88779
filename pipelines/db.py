"""Connections: resolves the database URL (configured or embedded) and opens psycopg connections."""

from __future__ import annotations

from functools import cache

import psycopg

from crawler.config import SQL_DIR, Config, get_config


class DatabaseError(RuntimeError):
    """Raised when the database cannot be reached or is not migrated; the message is for the user."""


def database_url(config: Config | None = None, *, announce: bool = True) -> str:
    """The configured LINKWATCH_DATABASE_URL, else the embedded server's (started on demand)."""
    config = config or get_config()
    if config.database_url:
        return config.database_url
    return embedded_url(config, announce=announce)


def embedded_url(config: Config, *, announce: bool = True, database: str | None = None) -> str:
    """A database in the embedded server under config.data_dir (default `linkwatch`), started on demand."""
    from pipelines import embedded

    try:
        return embedded.start(config.data_dir, announce=announce, database=database or embedded.DATABASE)
    except DatabaseError:
        raise  # already one sentence, and never holds the password (the URL only names its file)
    except Exception as exc:  # anything else (a full disk, say) still reaches the user as one sentence
        raise DatabaseError(
            f"could not start the embedded PostgreSQL under {embedded.pgdata_dir(config.data_dir)} "
            f"({exc.__class__.__name__}: {str(exc).strip()[:200]}); set LINKWATCH_DATABASE_URL to use "
            "your own server"
        ) from exc


def connect(url: str, **kwargs: object) -> psycopg.Connection:
    """A psycopg connection, with a one-sentence error when the server is unreachable."""
    try:
        return psycopg.connect(url, **kwargs)
    except psycopg.OperationalError as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else exc.__class__.__name__
        raise DatabaseError(f"cannot connect to PostgreSQL ({first})") from exc


def require_migrated(conn: psycopg.Connection) -> None:
    """Raises DatabaseError when migrations are pending, naming the command that fixes it."""
    from pipelines.migrate import pending

    todo = pending(conn)
    if todo:
        raise DatabaseError(
            f"the database needs {len(todo)} migration(s) ({todo[0].name}…); run `linkwatch db migrate`"
        )


@cache
def load_query(area: str, name: str) -> str:
    """The text of sql/queries/<area>/<name>.sql (cached)."""
    return (SQL_DIR / "queries" / area / f"{name}.sql").read_text(encoding="utf-8")
