"""The one place linkwatch reads its settings (LINKWATCH_* variables); an entry point builds a Config and
passes it down."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import platformdirs
from pydantic import Field, ValidationError, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from linkwatch.errors import ConfigError

# Paths tried in order when LINKWATCH_CHROMIUM is unset (Debian, Ubuntu, Google's build).
CHROMIUM_CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")

DATA_FILES = Path(__file__).resolve().parent / "data"
# Settings whose value is never repeated in an error message: webhook and SMTP URLs may hold a token or
# password; the recipients' validator quotes the address at fault itself.
QUIET_FIELDS = frozenset({"alert_webhooks", "alert_smtp", "alert_email_to"})


class Config(BaseSettings):
    """linkwatch settings; each field is LINKWATCH_<NAME> in the environment."""

    # allow_inf_nan: "nan" or "inf" in a LINKWATCH_* number is a typo, never a setting.
    model_config = SettingsConfigDict(env_prefix="LINKWATCH_", extra="ignore", allow_inf_nan=False)

    database_url: str | None = None
    """PostgreSQL URL. Unset: linkwatch runs its own embedded server under data_dir."""

    data_dir: Path = Field(default_factory=lambda: Path(platformdirs.user_data_dir("linkwatch")))
    """The embedded database, WARC captures, crawl journals, reports and scheduler logs."""

    embedded_database: str = Field(default="linkwatch", pattern=r"^[a-z_][a-z0-9_]{0,62}$")
    """Which database of the embedded server commands use when database_url is unset (the demo
    keeps its data in `linkwatch_demo`)."""

    chromium: str | None = None
    """Path to a Chromium/Chrome binary for browser-rendered sources. Unset: found on PATH."""

    user_agent: str = "linkwatch/0.1 (+set LINKWATCH_USER_AGENT to name your organisation)"
    """User-Agent sent on every request; should name the operator and a contact."""

    sources: Path = Path("sources.toml")
    """Default sources file for `crawl` and `sources`."""

    lexicon: Path = DATA_FILES / "lexicon.toml"
    """Risk lexicon (terms, weights, notes) used for scoring and forum search keywords."""

    redis_url: str | None = None
    """Redis URL for the distributed crawl frontier (scrapy-redis). Unset: single-process crawl."""

    reviewers_required: int = Field(default=1, ge=1, le=20)
    """Distinct reviewers who must confirm a link before it counts as confirmed (two-person rule: 2)."""

    telegram_url: str = "https://t.me"
    discord_api_url: str = "https://discord.com/api/v10"
    whatsapp_url: str = "https://chat.whatsapp.com"
    kakao_url: str = "https://open.kakao.com"
    line_url: str = "https://line.me"

    check_live_hours: float = Field(default=12, gt=0)
    """Re-check a live link after this many hours."""
    check_dead_hours: float = Field(default=168, gt=0)
    """Re-check a dead link after this many hours (a dead invite can come back)."""
    check_unknown_minutes: float = Field(default=30, gt=0)
    """First re-check of an unknown result; doubles per consecutive unknown up to check_live_hours."""
    check_concurrency: int = Field(default=8, ge=1, le=256)
    """Liveness checks in flight at once."""
    check_rate: float = Field(default=1.0, ge=0)
    """Requests per second per platform for liveness checks; 0 turns the limit off."""
    check_timeout: float = Field(default=20, gt=0)
    """Seconds before one preview request gives up (the result is then unknown)."""

    schedule_check_cron: str = "0 * * * *"
    """Cron (5 fields, or 6 with seconds first; 0 and 7 are Sunday) for `check --due` under
    `linkwatch schedule`; `off` turns the job off."""
    schedule_report_cron: str = "0 9 * * mon"
    """Cron for `report weekly` under `linkwatch schedule`, in `timezone`; `off` turns it off."""
    schedule_job_timeout: float = Field(default=6 * 3600, gt=0)
    """Seconds a scheduled child process may run before it is killed and marked failed."""

    store_wait_seconds: float = Field(default=30.0, ge=0, le=3600)
    """At the end of a crawl, how long to keep trying an unreachable PostgreSQL before leaving what is
    not stored (and the run's figures) in the crawl journal for the next crawl or `db replay`."""

    timezone: str = "Asia/Seoul"
    """Time zone for report weeks and the scheduler."""

    alert_score: float = Field(default=0.8, ge=0, le=1)
    """Alert when a crawl stores a new link scoring at least this (a source's alert_score wins)."""
    alert_webhooks: str = Field(default="", repr=False)
    """Webhook URLs (comma or space separated) that get a JSON POST per alert. Unset: no webhooks."""
    alert_smtp: str | None = Field(default=None, repr=False)
    """smtp://user:password@host:port (STARTTLS when offered) or smtps://… to e-mail alerts."""
    alert_email_from: str | None = None
    """The From address of alert e-mails (needed with alert_smtp)."""
    alert_email_to: str = Field(default="", validate_default=True)  # checked with alert_smtp even unset
    """Recipients of alert e-mails, comma separated (needed with alert_smtp)."""
    alert_timeout: float = Field(default=10.0, gt=0, le=300)
    """Seconds one delivery (a POST or an SMTP session) may take before it counts as failed."""
    alert_attempts: int = Field(default=8, ge=1, le=100)
    """Deliveries tried per alert and target before it is marked failed."""
    alert_retry_seconds: float = Field(default=30.0, gt=0, le=86400)
    """Wait before the first retry; doubled after each failure, at most an hour."""
    schedule_alerts_cron: str = "* * * * *"
    """Cron for `alerts send` under `linkwatch schedule` (when alerts are configured); `off` turns it off."""

    bench_database_url: str | None = None
    """Database for `bench.query` (created if missing, filled with synthetic rows). Unset: embedded."""

    @field_validator("alert_webhooks")
    @classmethod
    def _webhooks(cls, value: str) -> str:
        from linkwatch.alerts.targets import split_list, valid_webhook

        for n, url in enumerate(split_list(value), start=1):
            if not valid_webhook(url):
                raise ValueError(f"entry {n} is not an http(s) URL with a host")
        return value

    @field_validator("alert_smtp")
    @classmethod
    def _smtp(cls, value: str | None) -> str | None:
        from linkwatch.alerts.targets import smtp_problem

        problem = smtp_problem(value) if value else None
        if problem:
            raise ValueError(problem)
        return value or None

    @field_validator("alert_email_to")
    @classmethod
    def _recipients(cls, value: str, info: ValidationInfo) -> str:
        from linkwatch.alerts.targets import split_list, valid_address

        for address in split_list(value):
            if not valid_address(address):
                raise ValueError(f"{address[:60]!r} is not an e-mail address")
        if info.data.get("alert_smtp") and not split_list(value):
            raise ValueError("needs at least one address when LINKWATCH_ALERT_SMTP is set")
        if info.data.get("alert_smtp") and not info.data.get("alert_email_from"):
            raise ValueError("needs LINKWATCH_ALERT_EMAIL_FROM too (the From address of alert e-mails)")
        return value

    @field_validator("alert_email_from")
    @classmethod
    def _sender(cls, value: str | None) -> str | None:
        from linkwatch.alerts.targets import valid_address

        if value is not None and not valid_address(value):
            raise ValueError("is not an e-mail address")
        return value

    @field_validator("schedule_check_cron", "schedule_report_cron", "schedule_alerts_cron")
    @classmethod
    def _cron(cls, value: str) -> str:
        from linkwatch.cron import OFF, CronError, parse

        if value.strip().lower() not in OFF:
            try:
                parse(value)
            except CronError as exc:
                raise ValueError(str(exc)) from None
        return value

    @field_validator("user_agent")
    @classmethod
    def _user_agent(cls, value: str) -> str:
        if not value.strip() or any(ord(c) < 32 or ord(c) == 127 for c in value):
            raise ValueError("must be one line of text naming your organisation and a contact")
        return value.strip()

    @field_validator("telegram_url", "discord_api_url", "whatsapp_url", "kakao_url", "line_url")
    @classmethod
    def _base_url(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("must be an http(s) URL such as https://t.me")
        return value.rstrip("/")

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r} (use an IANA name such as Asia/Seoul)") from None
        return value

    @property
    def zone(self) -> ZoneInfo:
        """The configured time zone: every time linkwatch shows is in it, labelled."""
        return ZoneInfo(self.timezone)

    @property
    def default_user_agent(self) -> bool:
        """True when LINKWATCH_USER_AGENT is unset: requests go out without naming the operator."""
        return "user_agent" not in self.model_fields_set

    def ensure_data_dir(self) -> Path:
        """The data directory, created (owner only) if missing; ConfigError when it cannot be used."""
        path = Path(self.data_dir)
        try:
            path.mkdir(parents=True, exist_ok=True, mode=0o700)
            if not os.access(path, os.W_OK | os.X_OK):
                raise PermissionError(13, "Permission denied", str(path))
        except FileExistsError:
            raise ConfigError(f"LINKWATCH_DATA_DIR {path} is not a directory") from None
        except OSError as exc:
            reason = exc.strerror or exc.__class__.__name__
            where = f" ({exc.filename})" if exc.filename and str(exc.filename) != str(path) else ""
            raise ConfigError(f"LINKWATCH_DATA_DIR {path} cannot be used: {reason}{where}") from None
        return path

    def chromium_path(self) -> str | None:
        """The Chromium binary to launch, or None when none is configured or installed."""
        return find_chromium(self.chromium)


def find_chromium(configured: str | None) -> str | None:
    """The configured Chromium binary, else the first candidate on PATH, else None."""
    if configured:
        return configured
    for name in CHROMIUM_CANDIDATES:
        found = shutil.which(name)
        if found:
            return found
    return None


def load_config(**overrides: object) -> Config:
    """The configuration from the environment, with `overrides` (command-line options) on top.

    Called once, at an entry point (the command line, the web console, a benchmark); everything
    below receives the Config. An unusable value is one sentence naming its variable (ConfigError).
    """
    given = {k: v for k, v in overrides.items() if v is not None}
    try:
        return Config(**given)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = str(first["loc"][0]) if first["loc"] else "?"
        name = f"--{field.replace('_', '-')}" if field in given else f"LINKWATCH_{field.upper()}"
        if field in QUIET_FIELDS:
            first = {**first, "input": None}
        raise ConfigError(f"{name}: {_reason(first)}") from None


def _reason(error: Any) -> str:
    """A pydantic error as the end of a sentence, with the value that was given."""
    kind, ctx = error["type"], error.get("ctx") or {}
    value = error.get("input")
    got = f" (got {str(value)[:60]!r})" if isinstance(value, str | int | float) else ""
    if kind in ("int_parsing", "int_type", "int_from_float"):
        return f"must be a whole number{got}"
    if kind in ("float_parsing", "float_type", "finite_number"):
        return f"must be a number{got}"
    if kind in ("greater_than_equal", "greater_than", "less_than_equal", "less_than"):
        words = {"greater_than_equal": "at least", "greater_than": "more than",
                 "less_than_equal": "at most", "less_than": "less than"}[kind]
        limit = next(iter(ctx.values()), "?")
        return f"must be {words} {limit}{got}"
    message = str(error["msg"]).removeprefix("Value error, ")
    # a validator's own message already quotes the value
    return message if value is not None and repr(str(value)) in message else f"{message}{got}"
