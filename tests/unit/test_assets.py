"""linkwatch.assets.OnceCache: each key fetched once per crawl (also when asked for at once), bounded."""

from __future__ import annotations

import asyncio

from linkwatch.assets import OnceCache


def test_concurrent_requests_for_one_key_make_one_fetch() -> None:
    calls: list[str] = []

    async def main() -> list[bytes | None]:
        cache: OnceCache[bytes | None] = OnceCache(lambda v: len(v or b""))

        async def fetch(key: str) -> bytes | None:
            calls.append(key)
            await asyncio.sleep(0.01)
            return None if key == "refused" else key.encode() * 10

        keys = ["a.js", "a.js", "b.css", "a.js", "refused", "refused"]
        first = await asyncio.gather(*[cache.get(k, lambda k=k: fetch(k)) for k in keys])
        again = [await cache.get(k, lambda k=k: fetch(k)) for k in keys]
        assert first == again
        assert cache.fetches == 3
        assert cache.hits == len(keys) * 2 - 3
        return first

    values = asyncio.run(main())
    assert sorted(calls) == ["a.js", "b.css", "refused"]  # a refusal is an answer too
    assert values[4] is None


def test_the_cache_is_bounded_least_recently_used_first_out() -> None:
    async def main() -> None:
        cache: OnceCache[bytes] = OnceCache(len, max_bytes=250, max_entry=120)

        async def value(n: int) -> bytes:
            return b"x" * n

        await cache.get("a", lambda: value(100))
        await cache.get("b", lambda: value(100))
        await cache.get("a", lambda: value(100))  # a is now the most recent
        await cache.get("c", lambda: value(100))  # b goes
        assert cache.bytes <= 250
        assert cache.evicted == 1
        await cache.get("huge", lambda: value(500))  # handed on, never kept
        assert len(cache) == 2
        fetches = cache.fetches
        await cache.get("a", lambda: value(100))
        assert cache.fetches == fetches
        await cache.get("b", lambda: value(100))
        assert cache.fetches == fetches + 1

    asyncio.run(main())


def test_a_failed_fetch_is_tried_again_and_its_waiters_see_the_error() -> None:
    async def main() -> None:
        cache: OnceCache[bytes] = OnceCache(len)
        attempts = 0

        async def flaky() -> bytes:
            nonlocal attempts
            attempts += 1
            await asyncio.sleep(0.01)
            if attempts == 1:
                raise OSError("reset")
            return b"ok"

        results = await asyncio.gather(cache.get("k", flaky), cache.get("k", flaky), return_exceptions=True)
        assert all(isinstance(r, OSError) for r in results)
        assert await cache.get("k", flaky) == b"ok"

    asyncio.run(main())
