"""Re-check policy: when a link is next due, given what its latest check found."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from linkwatch.previews.preview import DEAD, LIVE


@dataclass(frozen=True)
class Policy:
    """Re-check intervals: live every live_hours, dead every dead_hours, unknown soon with backoff."""

    live_hours: float = 12
    dead_hours: float = 168
    unknown_minutes: float = 30

    def next_check(self, result: str, now: datetime, *, unknown_streak: int = 1,
                   has_preview: bool = True) -> datetime | None:
        """The next due time; None for links whose platform shows no public preview (never re-checked)."""
        if not has_preview:
            return None
        if result == LIVE:
            return now + timedelta(hours=self.live_hours)
        if result == DEAD:
            return now + timedelta(hours=self.dead_hours)
        # unknown: 30 min, 1 h, 2 h, … doubling per consecutive unknown, capped at the live interval.
        exponent = min(max(unknown_streak, 1) - 1, 20)
        minutes = min(self.unknown_minutes * (2**exponent), self.live_hours * 60)
        return now + timedelta(minutes=minutes)
