"""Distributed-crawl coordination in Redis: run token, run keys, shared seen-set and budget, liveness."""

from __future__ import annotations

import os
import secrets
import socket
import warnings
from dataclasses import dataclass
from typing import Any

import redis

# `current` lives this long without a heartbeat: a run whose workers all died is forgotten after it.
CURRENT_TTL = 60
# A run's other keys are refreshed to this on every heartbeat: a backstop if nobody cleans up.
KEY_TTL = 24 * 3600
# A worker whose heartbeat is older than this is dead: it no longer keeps the run's keys alive.
STALE_SECONDS = 15

# Atomic so a worker joining while the last one leaves either joins before the keys are deleted
# (and so keeps the run going) or starts a fresh run afterwards, never a half-deleted one.
_JOIN = """
local cur = redis.call('GET', KEYS[1])
local first = 0
if not cur then
  cur = ARGV[1]
  first = 1
end
redis.call('SET', KEYS[1], cur, 'EX', ARGV[2])
return {cur, first}
"""

_LEAVE = """
local now = tonumber(redis.call('TIME')[1])
redis.call('HDEL', KEYS[1], ARGV[1])
redis.call('HDEL', KEYS[2], ARGV[1])
local alive = redis.call('HGETALL', KEYS[1])
local live = 0
for i = 1, #alive, 2 do
  if tonumber(alive[i + 1]) >= now - tonumber(ARGV[2]) then live = live + 1 end
end
if live > 0 or ARGV[4] ~= '1' then return live end
if redis.call('GET', KEYS[3]) == ARGV[3] then redis.call('DEL', KEYS[3]) end
for i = 4, #KEYS do redis.call('DEL', KEYS[i]) end
return 0
"""

_REFRESH = """
local cur = redis.call('GET', KEYS[1])
if cur == ARGV[1] or not cur then
  redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])
end
return cur == ARGV[1] or not cur
"""


def current_key(source: str) -> str:
    """The key holding the token of the source's current distributed run."""
    return f"linkwatch:{source}:current"


def worker_id() -> str:
    """This process's name among the workers: host, pid and a random suffix."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"


@dataclass(frozen=True)
class RunKeys:
    """Every Redis key of one distributed run: `linkwatch:<source>:<token>:<part>`."""

    source: str
    token: str

    def key(self, part: str) -> str:
        return f"linkwatch:{self.source}:{self.token}:{part}"

    @property
    def requests(self) -> str:
        return self.key("requests")

    @property
    def dupefilter(self) -> str:
        return self.key("dupefilter")

    @property
    def seen(self) -> str:
        return self.key("seen")

    @property
    def budget(self) -> str:
        return self.key("budget")

    @property
    def alive(self) -> str:
        return self.key("alive")

    @property
    def busy(self) -> str:
        return self.key("busy")

    def all(self) -> list[str]:
        return [self.requests, self.dupefilter, self.seen, self.budget, self.alive, self.busy]


class SharedRun:
    """One worker's handle on a distributed run; every method is one Redis round trip."""

    def __init__(self, server: redis.Redis, keys: RunKeys, worker: str, *, first: bool = False) -> None:
        self.server = server
        self.keys = keys
        self.worker = worker
        self.first = first

    @classmethod
    def join(cls, url: str, source: str, *, worker: str | None = None) -> SharedRun:
        """Joins the source's current run, or starts one (SET NX semantics) if there is none."""
        server = redis.Redis.from_url(url, socket_connect_timeout=10, socket_timeout=30)
        token, first = server.eval(_JOIN, 1, current_key(source), secrets.token_hex(8), CURRENT_TTL)
        run = cls(server, RunKeys(source, token.decode()), worker or worker_id(), first=bool(first))
        run.heartbeat(busy=True)
        return run

    @classmethod
    def attach(cls, url: str, source: str, token: str, worker: str) -> SharedRun:
        """Another handle on a run already joined (the spider's, in the crawling process)."""
        server = redis.Redis.from_url(url, socket_connect_timeout=10, socket_timeout=30)
        return cls(server, RunKeys(source, token), worker)

    @property
    def token(self) -> str:
        return self.keys.token

    def now(self) -> float:
        """Redis server time: one clock for workers on different machines."""
        sec, usec = self.server.time()
        return sec + usec / 1e6

    def claim(self, key: str) -> bool:
        """True for the one worker that first claims this canonical URL in this run."""
        return bool(self.server.sadd(self.keys.seen, key))

    def take_budget(self, limit: int) -> bool:
        """Counts one page against the run's global budget; False once `limit` pages were taken."""
        return int(self.server.incr(self.keys.budget)) <= limit

    def budget_used(self) -> int:
        return int(self.server.get(self.keys.budget) or 0)

    def queue_length(self) -> int:
        # scrapy_redis.queue.PriorityQueue keeps the frontier in a sorted set
        return int(self.server.zcard(self.keys.requests))

    def heartbeat(self, *, busy: bool) -> None:
        """Marks this worker alive (and busy), keeps `current` and the run's keys from expiring."""
        now = self.now()
        pipe = self.server.pipeline()
        pipe.eval(_REFRESH, 1, current_key(self.keys.source), self.token, CURRENT_TTL)
        pipe.hset(self.keys.alive, self.worker, now)
        if busy:
            pipe.hset(self.keys.busy, self.worker, now)
        for key in self.keys.all():
            pipe.expire(key, KEY_TTL)
        pipe.execute()

    def others_busy_since(self, since: float) -> bool:
        """Whether another live worker was busy at or after `since` (Redis time)."""
        busy = self.server.hgetall(self.keys.busy)
        return any(w.decode() != self.worker and float(t) >= since for w, t in busy.items())

    def leave(self, *, finished: bool) -> int:
        """Leaves the run; returns the live workers left. The last to leave a finished run deletes it.

        An interrupted last worker leaves the keys: a worker started within CURRENT_TTL seconds
        resumes the run (its queue is still there); after that the next worker starts afresh.
        """
        keys = [self.keys.alive, self.keys.busy, current_key(self.keys.source), *self.keys.all()[:4]]
        return int(
            self.server.eval(_LEAVE, len(keys), *keys, self.worker, STALE_SECONDS, self.token,
                             "1" if finished else "0")
        )

    def close(self) -> None:
        self.server.close()


def quiet_scrapy_redis() -> None:
    """Silences the two Scrapy deprecations scrapy-redis 0.9.1 triggers (fixed upstream, unreleased).

    It passes spider= to stats.inc_value() on every request, and announces a resumed queue (a worker
    joining a run) with Spider.log(): without this, every worker's log carries the same warnings.
    Only warnings raised from scrapy_redis are filtered; its messages are still logged.
    """
    from scrapy.exceptions import ScrapyDeprecationWarning

    for message in (r"Passing a 'spider' argument", r"Spider\.log\(\) is deprecated"):
        warnings.filterwarnings("ignore", message=message, category=ScrapyDeprecationWarning,
                                module=r"scrapy_redis\.")


def scrapy_settings(url: str, keys: RunKeys, worker: str, idle_seconds: float) -> dict[str, Any]:
    """The Scrapy settings that put one crawl on the shared frontier (scrapy-redis)."""

    def literal(key: str) -> str:
        # scrapy-redis formats these keys with `% {"spider": name}`
        return key.replace("%", "%%")

    return {
        "SCHEDULER": "scrapy_redis.scheduler.Scheduler",
        "DUPEFILTER_CLASS": "scrapy_redis.dupefilter.RFPDupeFilter",
        "SCHEDULER_QUEUE_CLASS": "scrapy_redis.queue.PriorityQueue",  # pop never blocks the reactor
        "REDIS_URL": url,
        "SCHEDULER_QUEUE_KEY": literal(keys.requests),
        "SCHEDULER_DUPEFILTER_KEY": literal(keys.dupefilter),
        # Never flush on close: other workers may still be using the keys (leave() cleans up).
        "SCHEDULER_PERSIST": True,
        "SCHEDULER_IDLE_BEFORE_CLOSE": 0,
        "LINKWATCH_REDIS_URL": url,
        "LINKWATCH_REDIS_TOKEN": keys.token,
        "LINKWATCH_REDIS_WORKER": worker,
        "LINKWATCH_REDIS_IDLE": idle_seconds,
    }
