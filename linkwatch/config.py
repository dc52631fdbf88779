"""The one place linkwatch reads its settings (LINKWATCH_* variables); an entry point builds a Config and
passes it down."""

from __future__ import annotations

import shutil
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import platformdirs
from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from linkwatch.errors import ConfigError

# Paths tried in order when LINKWATCH_CHROMIUM is unset (Debian, Ubuntu, Google's build).
CHROMIUM_CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")

DATA_FILES = Path(__file__).resolve().parent / "data"


class Config(BaseSettings):
    """linkwatch settings; each field is LINKWATCH_<NAME> in the environment."""

    model_config = SettingsConfigDict(env_prefix="LINKWATCH_", extra="ignore")

    database_url: str | None = None
    """PostgreSQL URL. Unset: linkwatch runs its own embedded server under data_dir."""

    data_dir: Path = Field(default_factory=lambda: Path(platformdirs.user_data_dir("linkwatch")))
    """Embedded database, WARC captures, spill files, crawl job state."""

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

    check_live_hours: float = 12
    """Re-check a live link after this many hours."""
    check_dead_hours: float = 168
    """Re-check a dead link after this many hours (a dead invite can come back)."""
    check_unknown_minutes: float = 30
    """First re-check of an unknown result; doubles per consecutive unknown up to check_live_hours."""
    check_concurrency: int = 8
    """Liveness checks in flight at once."""
    check_rate: float = 1.0
    """Requests per second per platform for liveness checks; 0 turns the limit off."""
    check_timeout: float = 20
    """Seconds before one preview request gives up (the result is then unknown)."""

    schedule_check_cron: str = "0 * * * *"
    """Cron (5 fields, or 6 with seconds first) for `check --due` under `linkwatch schedule`."""
    schedule_report_cron: str = "0 9 * * mon"
    """Cron for `report weekly` under `linkwatch schedule`, in `timezone`."""
    schedule_job_timeout: float = 6 * 3600
    """Seconds a scheduled child process may run before it is killed and marked failed."""

    store_wait_seconds: float = Field(default=30.0, ge=0, le=3600)
    """At the end of a crawl, how long to keep trying an unreachable PostgreSQL before leaving what is
    not stored (and the run's figures) in the crawl journal for the next crawl or `db replay`."""

    timezone: str = "Asia/Seoul"
    """Time zone for report weeks and the scheduler."""

    bench_database_url: str | None = None
    """Database for `bench.query` (created if missing, filled with synthetic rows). Unset: embedded."""

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

    def chromium_path(self) -> str | None:
        """The Chromium binary to launch, or None when none is configured or installed."""
        if self.chromium:
            return self.chromium
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
        name = field if field in given else f"LINKWATCH_{field.upper()}"
        message = first["msg"].removeprefix("Value error, ")
        value = first.get("input")
        shown = f" (got {str(value)[:60]!r})" if isinstance(value, str | int | float) else ""
        raise ConfigError(f"{name}: {message}{shown}") from None
