"""Source definitions: the `[[source]]` tables of a sources TOML file, validated with pydantic."""

from __future__ import annotations

import codecs
import re
import tomllib
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from linkwatch.errors import LinkwatchError

NAME_RE = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$"


class SourcesError(LinkwatchError, ValueError):
    """Raised by load_sources() when a sources file cannot be read or a source is invalid.

    The message is the first problem (and how many more there are); `problems` lists every one, so
    that `linkwatch sources check` reports a file's errors in one run.
    """

    def __init__(self, message: str, problems: list[str] | None = None) -> None:
        super().__init__(message)
        self.problems = problems or [message]


class Source(BaseModel):
    """One watched forum: where to start, what to follow, how to render, how politely to crawl."""

    # strict: "no" is not false and "3" is not 3 (a typo should fail, not be guessed at)
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    name: str = Field(pattern=NAME_RE)
    start_urls: list[str] = Field(min_length=1)
    allowed_domains: list[str] = Field(default_factory=list)
    allow: list[str] = Field(default_factory=list)
    deny: list[str] = Field(default_factory=list)
    render: Literal["static", "browser"] = "static"
    max_depth: int = Field(default=5, ge=0, le=100)
    max_pages: int = Field(default=1000, ge=1, le=10_000_000)
    obey_robots: bool = True
    delay: float = Field(default=0.5, ge=0, le=600)
    concurrency: int = Field(default=4, ge=1, le=64)
    scroll: int = Field(default=0, ge=0, le=100)
    wait_for: str | None = None
    click: list[str] = Field(default_factory=list)
    search_urls: list[str] = Field(default_factory=list)
    account_pages: list[str] | None = None
    """Path segments / mode-action values of account pages never fetched; unset: the default list."""
    browser_obey_robots: bool = True
    """Browser: a page's script and asset requests obey robots.txt too (false: only pages do)."""
    render_timeout: float = Field(default=30.0, ge=1, le=600)
    """Browser: seconds one page's render may take (then it is retried once)."""
    encoding: str | None = None
    full_sweep_days: float = Field(default=7.0, ge=0, le=366)
    """Days between full crawls of a source crawled incrementally in between (0: every crawl is full)."""
    schedule: str | None = None
    alert_score: float | None = Field(default=None, ge=0, le=1)
    """Alert for new links from this source scoring at least this; unset: LINKWATCH_ALERT_SCORE."""
    enabled: bool = True
    adhoc: bool = Field(default=False, exclude=True)
    """Set for `crawl --url` sources; never read from a file."""

    @field_validator("start_urls", "search_urls")
    @classmethod
    def _http_urls(cls, urls: list[str]) -> list[str]:
        for url in urls:
            parts = urlsplit(url)
            if parts.scheme not in ("http", "https") or not parts.hostname:
                raise ValueError(f"{url!r} is not an http(s) URL")
        return urls

    @field_validator("search_urls")
    @classmethod
    def _keyword_placeholder(cls, urls: list[str]) -> list[str]:
        for url in urls:
            if "{keyword}" not in url:
                raise ValueError(f"{url!r} has no {{keyword}} placeholder")
        return urls

    @field_validator("allow", "deny")
    @classmethod
    def _regexes(cls, patterns: list[str]) -> list[str]:
        for pattern in patterns:
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ValueError(f"{pattern!r} is not a valid regular expression ({exc})") from None
        return patterns

    @field_validator("encoding")
    @classmethod
    def _encoding(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                codecs.lookup(value)
            except LookupError:
                raise ValueError(f"unknown encoding {value!r}") from None
        return value

    @field_validator("schedule")
    @classmethod
    def _cron(cls, value: str | None) -> str | None:
        if value is not None:
            from linkwatch.cron import CronError, parse

            try:
                parse(value)  # standard crontab days: 0 and 7 are Sunday
            except CronError as exc:
                raise ValueError(str(exc)) from None
        return value

    @field_validator("allowed_domains")
    @classmethod
    def _domains(cls, domains: list[str]) -> list[str]:
        for domain in domains:
            if not domain or "/" in domain or ":" in domain or " " in domain:
                raise ValueError(f"{domain!r} is not a host name (no scheme, port or path)")
        return [d.lower().strip(".") for d in domains]

    @model_validator(mode="after")
    def _default_domains(self) -> Source:
        if not self.allowed_domains:
            hosts = []
            for url in self.start_urls:
                host = (urlsplit(url).hostname or "").lower()
                if host and host not in hosts:
                    hosts.append(host)
            object.__setattr__(self, "allowed_domains", hosts)
        return self

    def search_requests(self, keywords: list[str]) -> list[str]:
        """The search URLs filled with each keyword (URL-quoted)."""
        from urllib.parse import quote

        return [t.replace("{keyword}", quote(k, safe="")) for t in self.search_urls for k in keywords]


def _suggest(word: str, choices: list[str]) -> str:
    import difflib

    found = difflib.get_close_matches(word, choices, n=1, cutoff=0.6)
    return f" (did you mean {found[0]}?)" if found else ""


def _describe(error: ValidationError, label: str) -> list[str]:
    """One problem per field at fault (pydantic reports them all), each naming the source and field."""
    fields = [name for name in Source.model_fields if name != "adhoc"]
    out = []
    for item in error.errors():
        field = ".".join(str(p) for p in item["loc"] if not isinstance(p, int)) or "(table)"
        message = item["msg"]
        if item["type"] == "extra_forbidden":
            message = "unknown field" + _suggest(field, fields)
        elif item["type"] == "missing":
            message = "field required"
        elif message.startswith("Value error, "):
            message = message[len("Value error, ") :]
        problem = f"{label}, field {field!r}: {message}"
        if problem not in out:
            out.append(problem)
    return out


def check_sources(text: str, origin: str = "sources file") -> tuple[list[Source], list[str]]:
    """The valid sources in TOML text and every problem found (source and field named in each)."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        return [], [f"{origin}: not valid TOML ({exc})"]
    problems = [f"{origin}: unknown top-level key {key!r}{_suggest(key, ['source'])}; a sources file holds "
                "[[source]] tables" for key in sorted(set(data) - {"source"})]
    tables = data.get("source", [])
    if not isinstance(tables, list):
        return [], [*problems, f"{origin}: 'source' must be an array of tables ([[source]])"]
    sources: list[Source] = []
    seen: set[str] = set()
    for index, table in enumerate(tables, start=1):
        name = table.get("name") if isinstance(table, dict) else None
        label = f"{origin}: source {name!r}" if isinstance(name, str) else f"{origin}: source #{index}"
        if isinstance(table, dict) and "adhoc" in table:
            problems.append(f"{label}, field 'adhoc': unknown field")
            table = {k: v for k, v in table.items() if k != "adhoc"}
        try:
            source = Source.model_validate(table)
        except ValidationError as exc:
            problems.extend(_describe(exc, label))
            continue
        if source.name in seen:
            problems.append(f"{label}, field 'name': duplicate source name")
            continue
        seen.add(source.name)
        sources.append(source)
    return sources, problems


def parse_sources(text: str, origin: str = "sources file") -> list[Source]:
    """Sources from TOML text; SourcesError names the source and the field at fault (and lists every
    problem in `problems`)."""
    sources, problems = check_sources(text, origin)
    if problems:
        more = len(problems) - 1
        suffix = f" (and {more} more problem{'s' if more > 1 else ''}; `linkwatch sources check` lists them)"
        raise SourcesError(problems[0] + (suffix if more else ""), problems)
    return sources


def read_sources_file(path: str | Path) -> str:
    """The text of a sources file; SourcesError when it cannot be read."""
    path = Path(path)
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SourcesError(f"{path}: no such sources file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise SourcesError(f"{path}: cannot read ({exc})") from None


def load_sources(path: str | Path) -> list[Source]:
    """The sources defined in a TOML file; SourcesError names the source and the field at fault."""
    return parse_sources(read_sources_file(path), str(path))


def adhoc_source(
    url: str, *, render: str = "static", allow: list[str] | None = None, max_pages: int = 200
) -> Source:
    """A one-off source for `crawl --url`, named after the URL's host."""
    try:
        host = (urlsplit(url).hostname or "site").lower()
    except ValueError as exc:  # urlsplit refuses a broken IPv6 host ("http://[::1")
        raise SourcesError(f"--url {url}: not a URL ({exc})") from None
    name = re.sub(r"[^A-Za-z0-9._-]", "-", host)[:63] or "site"
    try:
        return Source(
            name=name,
            start_urls=[url],
            render=render,
            allow=allow or [],
            max_pages=max_pages,
            adhoc=True,
        )
    except ValidationError as exc:
        problems = _describe(exc, f"--url {url}")
        raise SourcesError(problems[0], problems) from None


def pick_sources(names: tuple[str, ...] | list[str], path: str | Path) -> list[Source]:
    """The named sources from the sources file, in the order named (duplicates once)."""
    available = {s.name: s for s in load_sources(path)}
    missing = [n for n in names if n not in available]
    if missing:
        known = ", ".join(sorted(available)) or "none"
        raise SourcesError(f"no source named {missing[0]!r} in {path} (sources: {known})")
    return [available[n] for n in dict.fromkeys(names)]
