"""LinkwatchError: the base of every error linkwatch reports to a person as one sentence."""

from __future__ import annotations

# Exit statuses a parent process (the scheduler, a shell script) can act on.
EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_FLAGGED = 3  # `sources status --fail-on-flags`: a source needs a look
EXIT_LOCKED = 75  # EX_TEMPFAIL: another crawl holds the source's lock; try again later
EXIT_INTERRUPTED = 130  # stopped by Ctrl-C / SIGTERM; `--resume` continues


class LinkwatchError(Exception):
    """Base class of linkwatch's errors. The message is one sentence for the user; the command line
    prints it (passwords masked) and exits with `exit_code`. Subclasses say where they are raised."""

    exit_code = EXIT_ERROR


class ConfigError(LinkwatchError):
    """Raised by linkwatch.config.load_config() when a LINKWATCH_* setting has an unusable value."""
