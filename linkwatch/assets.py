"""A crawl's bounded in-memory cache of page assets (scripts, stylesheets): each fetched once."""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class OnceCache(Generic[T]):
    """Fetches each key once and keeps the answer, least recently used first out, within a byte bound.

    Requests for a key being fetched wait for that fetch instead of starting another (tabs that
    open pages of one forum at once all want its scripts at once). A fetch must not raise: its
    answer, a refusal or a failure included, is the answer for the whole crawl. An answer bigger
    than `max_entry` bytes is handed on but not kept.
    """

    def __init__(self, size: Callable[[T], int], max_bytes: int = 64 * 1024 * 1024,
                 max_entry: int = 8 * 1024 * 1024) -> None:
        self._size = size
        self.max_bytes = max_bytes
        self.max_entry = max_entry
        self._items: OrderedDict[str, T] = OrderedDict()
        self._pending: dict[str, asyncio.Future[T]] = {}
        self.bytes = 0
        self.hits = 0
        self.fetches = 0
        self.evicted = 0

    def __len__(self) -> int:
        return len(self._items)

    async def get(self, key: str, fetch: Callable[[], Awaitable[T]]) -> T:
        """The answer for key: kept, being fetched (waited for), or fetched now."""
        if key in self._items:
            self._items.move_to_end(key)
            self.hits += 1
            return self._items[key]
        pending = self._pending.get(key)
        if pending is not None:
            self.hits += 1
            return await asyncio.shield(pending)
        future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._pending[key] = future
        self.fetches += 1
        try:
            value = await fetch()
        except BaseException as exc:
            # a cancelled or broken fetch is not an answer: waiters get it, the next get() tries again
            self._pending.pop(key, None)
            if not future.done():
                future.set_exception(exc)
                future.exception()  # retrieved here, so an unwaited future logs nothing
            raise
        self._pending.pop(key, None)
        self._keep(key, value)
        future.set_result(value)
        return value

    def _keep(self, key: str, value: T) -> None:
        size = self._size(value)
        if size > self.max_entry or size > self.max_bytes:
            return
        self._items[key] = value
        self.bytes += size
        while self.bytes > self.max_bytes and self._items:
            _old, dropped = self._items.popitem(last=False)
            self.bytes -= self._size(dropped)
            self.evicted += 1
