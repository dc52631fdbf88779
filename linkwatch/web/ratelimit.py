"""Login rate limiting: failed attempts per user name and per client address in a sliding window."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict, deque

from linkwatch.web.errors import TooManyAttemptsError

WINDOW_SECONDS = 15 * 60
PER_NAME = 5  # a person mistyping; a guesser gets 5 tries a quarter hour per account
PER_ADDRESS = 20  # one address trying many names
MAX_KEYS = 10_000  # memory stays bounded whatever a client sends


class LoginLimiter:
    """Counts failures in memory (one console process); refuses a login while a key is over its limit."""

    def __init__(self, window: float = WINDOW_SECONDS, per_name: int = PER_NAME,
                 per_address: int = PER_ADDRESS, clock=time.monotonic) -> None:
        self.window = window
        self.limits = {"name": per_name, "addr": per_address}
        self.clock = clock
        self._failures: OrderedDict[str, deque[float]] = OrderedDict()
        self._lock = threading.Lock()

    def _keys(self, name: str, address: str) -> list[tuple[str, str]]:
        return [("name", f"name:{name.strip().lower()[:64]}"), ("addr", f"addr:{address}")]

    def check(self, name: str, address: str) -> None:
        """TooManyAttemptsError (with the seconds to wait) when this name or address has failed too often."""
        now = self.clock()
        with self._lock:
            for kind, key in self._keys(name, address):
                times = self._failures.get(key)
                if not times:
                    continue
                while times and times[0] <= now - self.window:
                    times.popleft()
                if len(times) >= self.limits[kind]:
                    wait = int(times[0] + self.window - now) + 1
                    minutes = max(1, round(wait / 60))
                    raise TooManyAttemptsError(
                        f"too many failed logins; try again in {minutes} minute{'s' if minutes > 1 else ''}",
                        wait)

    def failed(self, name: str, address: str) -> None:
        now = self.clock()
        with self._lock:
            for _kind, key in self._keys(name, address):
                self._failures.setdefault(key, deque(maxlen=100)).append(now)
                self._failures.move_to_end(key)
            while len(self._failures) > MAX_KEYS:
                self._failures.popitem(last=False)

    def succeeded(self, name: str) -> None:
        """A correct password clears the name's failures (the address keeps its count)."""
        with self._lock:
            self._failures.pop(f"name:{name.strip().lower()[:64]}", None)
