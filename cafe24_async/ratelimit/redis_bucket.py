"""One leaky bucket per mall, kept in Redis and shared by every worker process.

Cafe24 meters a mall with one leaky bucket, whoever calls. Two processes that
each keep their own bucket both believe they may fill it, and both get 429s.
`RedisBucket` keeps the mall's bucket in Redis instead; every process acquires
from it, so N processes together stay within the mall's bucket. Give it to the
client as `Cafe24(..., shared_bucket=RedisBucket(redis))`.

Everything happens in one Lua script, so each step is atomic across processes,
and the script leaks by Redis's own clock (`TIME`), so the processes' clocks
never have to agree. The semantics are those of the in-process
`LeakyBucketLimiter`:

- acquire: leak, then admit the call (level + 1) if it fits under the capacity
  (or a route's lower "Request Limit" ceiling), else answer how many seconds
  until it would fit. The caller sleeps that long (bounded, with jitter) and
  asks again; it never polls in a tight loop. Within a process only the oldest
  waiting call asks Redis; the others queue behind it.
- sync: every response's `X-Api-Call-Limit` is taken in as "the larger of the
  two": the level becomes max(level, used) and the capacity the server's, so
  calls by other apps, or by processes not using Redis, are accounted for.
- in-flight floor: calls admitted and not yet answered are kept in a sorted set
  with a lease (`lease` seconds, so a crashed process's calls stop counting);
  the level never leaks below their number.
- first-report gate: until some process has seen the server's report for the
  mall, only one call at a time is let through, across all processes (for at
  most `probe_timeout` seconds per probing call).
- per-second cap: `max_per_second` is kept in Redis too, so it also holds for
  the processes together, and as in `SlidingWindow` a call holds its place
  from its admission until a second after its answer (its report), so that no
  second at the server sees more; while every place is held by a call still in
  flight, the answer is to ask again after `ANSWER_POLL` seconds.

What it does not do: estimate other apps' drain rate (the in-process bucket's
`foreign_rate`); other apps' use is taken in through the reports only.

Keys (the braces are literal: they keep a mall's keys in one Redis Cluster slot):

    <prefix>:{<client_id>:<mall_id>}:bucket      hash: level, ts, cap, rep, probe
    <prefix>:{<client_id>:<mall_id>}:inflight    sorted set: call -> lease end
    <prefix>:{<client_id>:<mall_id>}:second      sorted set: call -> answer time (lease end while in flight)

Each expires `key_ttl` seconds after its last use, so Redis does not fill up
with malls nobody calls any more.

Redis unreachable at the first call raises `RedisUnavailableError`. Redis lost
later: with `on_loss="local"` (the default) the mall falls back to an
in-process `LeakyBucketLimiter` with a warning, and tries Redis again every
`retry_after` seconds; with `on_loss="fail"` the call raises
`RedisUnavailableError`.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import math
import random
import secrets
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal

import attrs

from cafe24_async.clock import Clock
from cafe24_async.ratelimit.headers import CALL_LIMIT, parse_call_limit
from cafe24_async.ratelimit.limiter import LeakyBucketLimiter, RateLimitSettings
from cafe24_async.ratelimit.permit import Permit
from cafe24_async.redis_support import RedisUnavailableError, address, as_client, guarded, ping
from cafe24_async.routes.route import Route
from cafe24_async.stats import MallStats

if TYPE_CHECKING:
    from redis.asyncio import Redis

log = logging.getLogger("cafe24_async.ratelimit")

#: Stands for "the bucket is full" in a report without a figure (a bare 429).
FULL = 1_000_000_000
#: Seconds to wait before asking again while every per-second place is held by a
#: call still waiting for its answer.
ANSWER_POLL = 0.05

#: KEYS: bucket hash, in-flight sorted set, per-second sorted set.
#: ARGV: op ("acquire" | "report"), default capacity, leak rate, key ttl (ms), then
#:   acquire: ceiling (0: none), call id, lease (s), max per second (0: none),
#:            probe timeout (s; 0: no first-report gate), answer poll (s)
#:   report:  call id to release ("" : none), used (-1: no report), reported capacity (0: none)
#: Returns {wait, level, capacity} as strings: wait 0 = admitted, > 0 = seconds until
#: room, -1 = waiting for the first report of the server.
SCRIPT = """
if redis.replicate_commands then redis.replicate_commands() end  -- Redis < 5: writes after TIME
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local op = ARGV[1]
local rate = tonumber(ARGV[3])
local ttl = tonumber(ARGV[4])
local state = redis.call('HMGET', KEYS[1], 'level', 'ts', 'cap', 'rep', 'probe')
local level = tonumber(state[1]) or 0
local last = tonumber(state[2]) or now
local cap = tonumber(state[3]) or tonumber(ARGV[2])
local rep = state[4] == '1'
local probe = tonumber(state[5]) or 0
if now > last then
  level = level - (now - last) * rate
  if level < 0 then level = 0 end
end
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
local inflight = redis.call('ZCARD', KEYS[2])
if level < inflight then level = inflight end
local wait = 0
if op == 'acquire' then
  local ceiling = tonumber(ARGV[5])
  local limit = cap
  if ceiling > 0 and ceiling < limit then limit = ceiling end
  local per_second = tonumber(ARGV[8])
  local gate = tonumber(ARGV[9])
  if gate > 0 and not rep and now < probe then
    wait = -1
  elseif level + 1 > limit + 1e-9 then
    wait = (level + 1 - limit) / rate
  elseif per_second > 0 then
    -- a place frees a second after its call's answer; calls in flight hold theirs
    redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', now - 1)
    if redis.call('ZCARD', KEYS[3]) >= per_second then
      local oldest = tonumber(redis.call('ZRANGE', KEYS[3], 0, 0, 'WITHSCORES')[2])
      if oldest > now then
        wait = tonumber(ARGV[10]) or 0.05
      else
        wait = math.max(0.001, oldest + 1 - now)
      end
    end
  end
  if wait == 0 then
    level = level + 1
    if gate > 0 and not rep then probe = now + gate end
    redis.call('ZADD', KEYS[2], now + tonumber(ARGV[7]), ARGV[6])
    if per_second > 0 then
      redis.call('ZADD', KEYS[3], now + tonumber(ARGV[7]), ARGV[6])
      redis.call('PEXPIRE', KEYS[3], ttl)
    end
  end
else
  if ARGV[5] ~= '' then
    redis.call('ZREM', KEYS[2], ARGV[5])
    redis.call('ZADD', KEYS[3], 'XX', now, ARGV[5])
  end
  local used = tonumber(ARGV[6])
  if used >= 0 then
    local reported = tonumber(ARGV[7])
    if reported >= 1 then
      cap = reported
      redis.call('HSET', KEYS[1], 'cap', tostring(cap))
    end
    if used > cap then used = cap end
    if used > level then level = used end
    rep = true
  end
  -- a call ended without a report (a failure): let the next call probe at once
  if ARGV[5] ~= '' and not rep then probe = 0 end
end
redis.call('HSET', KEYS[1], 'level', tostring(level), 'ts', tostring(now), 'rep', rep and '1' or '0',
  'probe', tostring(probe))
redis.call('PEXPIRE', KEYS[1], ttl)
redis.call('PEXPIRE', KEYS[2], ttl)
return {tostring(wait), tostring(level), tostring(cap)}
"""


@attrs.frozen(slots=True)
class RedisBucketSettings:
    """How the shared bucket uses Redis (the bucket itself follows `RateLimitSettings`)."""

    #: First part of every key.
    prefix: str = "cafe24"
    #: Seconds a mall's keys live after their last use.
    key_ttl: float = 300.0
    #: Seconds an admitted call counts as in flight at most (a crashed process's calls
    #: stop counting after this); keep it above the longest request timeout.
    lease: float = 180.0
    #: Longest single sleep before asking Redis again.
    max_sleep: float = 0.5
    #: Each sleep is lengthened by up to this fraction, at random, so that processes
    #: woken for the same room do not all ask at the same instant.
    jitter: float = 0.1
    #: Sleep between asks while the first call's report is awaited.
    probe_interval: float = 0.02
    #: Seconds the first-report gate waits for a probing call's report before it lets
    #: another call probe (a probe whose report never reaches Redis must not block the mall).
    probe_timeout: float = 10.0
    #: Redis lost after a first success: "local" falls back to an in-process bucket
    #: with a warning; "fail" raises `RedisUnavailableError`.
    on_loss: Literal["local", "fail"] = "local"
    #: While fallen back, seconds between attempts to use Redis again.
    retry_after: float = 5.0

    def __attrs_post_init__(self) -> None:
        if self.key_ttl <= 0 or self.lease <= 0 or self.max_sleep <= 0 or self.jitter < 0:
            raise ValueError("key_ttl, lease and max_sleep must be > 0, jitter >= 0")
        if self.on_loss not in ("local", "fail"):
            raise ValueError(f"on_loss must be 'local' or 'fail', not {self.on_loss!r}")


@attrs.frozen(slots=True)
class ScriptAnswer:
    wait: float
    level: float
    capacity: float


class RedisBucket:
    """The shared leaky buckets of every mall, in one Redis.

    `redis` is a redis-py asyncio client (closed by its owner) or a URL (a client
    is made, see `redis_support.connect`, and closed by `aclose`). One
    `RedisBucket` may serve any number of `Cafe24` clients and malls.
    """

    def __init__(self, redis: Redis | str, settings: RedisBucketSettings | None = None) -> None:
        self.redis, self._owns = as_client(redis)
        self.settings = settings or RedisBucketSettings()
        self.address = address(self.redis)
        self._script: Any = self.redis.register_script(SCRIPT)
        #: True once Redis has answered; a failure after that is a loss, not a start-up error.
        self.contacted = False
        self._tasks: set[asyncio.Task[None]] = set()

    def __repr__(self) -> str:
        return f"RedisBucket({self.address}, prefix={self.settings.prefix!r})"

    def keys(self, client_id: str, mall_id: str) -> tuple[str, str, str]:
        base = f"{self.settings.prefix}:{{{client_id}:{mall_id}}}"
        return f"{base}:bucket", f"{base}:inflight", f"{base}:second"

    def limiter(
        self, client_id: str, mall_id: str, settings: RateLimitSettings, clock: Clock, stats: MallStats
    ) -> RedisLeakyBucketLimiter:
        return RedisLeakyBucketLimiter(self, self.keys(client_id, mall_id), mall_id, settings, clock, stats)

    async def check(self) -> None:
        """Raise `RedisUnavailableError` unless Redis answers (call it when a worker starts)."""
        await ping(self.redis, "shared bucket")
        self.contacted = True

    async def run(self, keys: Sequence[str], args: Sequence[str | float | int]) -> ScriptAnswer:
        pending = self._script(keys=list(keys), args=list(args))
        answer: Any = await guarded(self.redis, "shared bucket", pending)
        self.contacted = True
        wait, level, capacity = (float(value) for value in answer)
        return ScriptAnswer(wait, level, capacity)

    def spawn(self, keys: Sequence[str], args: Sequence[str | float | int]) -> None:
        """Run the script in the background (for `release`, which may not wait)."""
        task = asyncio.get_running_loop().create_task(self._background(keys, args))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _background(self, keys: Sequence[str], args: Sequence[str | float | int]) -> None:
        try:
            await self.run(keys, args)
        except RedisUnavailableError as exc:
            # The next acquire meets the same failure and handles it; the call's
            # in-flight entry expires with its lease.
            log.debug("shared bucket report not delivered: %s", exc)

    async def flush(self) -> None:
        """Wait for reports still on their way to Redis."""
        while self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)

    async def aclose(self) -> None:
        """Deliver pending reports, and close the Redis client if it was made here."""
        await self.flush()
        if self._owns:
            await self.redis.aclose()


class RedisLeakyBucketLimiter:
    """A mall's Admin and Front calls, paced by the bucket in Redis (see the module doc)."""

    def __init__(
        self,
        bucket: RedisBucket,
        keys: tuple[str, str, str],
        mall_id: str,
        settings: RateLimitSettings,
        clock: Clock,
        stats: MallStats,
    ) -> None:
        self.bucket = bucket
        self.keys = keys
        self.mall_id = mall_id
        self.settings = settings
        self._options = bucket.settings
        self._clock = clock
        self._stats = stats
        self._queue = asyncio.Lock()
        self._tag = secrets.token_hex(6)
        self._ids = itertools.count()
        self._rng = random.Random()
        #: Calls let through and not yet released (by Redis or by the fallback).
        self._held = 0
        self._level = 0.0
        self._capacity = float(settings.bucket_capacity)
        self._level_at = clock.monotonic()
        #: The in-process bucket used while Redis is lost (on_loss="local").
        self._fallback: LeakyBucketLimiter | None = None
        self._degraded = False
        self._retry_at = 0.0

    def __repr__(self) -> str:
        state = "fallen back to local" if self._degraded else "shared"
        return (
            f"RedisLeakyBucketLimiter(mall={self.mall_id!r}, level={self.level:.2f}/{self._capacity:g}, "
            f"{state}, held={self._held})"
        )

    # -- reading ---------------------------------------------------------------------

    @property
    def level(self) -> float:
        """The level last read from Redis, leaked since (or the fallback's level)."""
        if self._degraded and self._fallback is not None:
            return self._fallback.level
        elapsed = self._clock.monotonic() - self._level_at
        return max(0.0, self._level - elapsed * self.settings.leak_rate)

    @property
    def degraded(self) -> bool:
        """True while Redis is lost and the mall is paced by the in-process fallback."""
        return self._degraded

    def ceiling(self, route: Route) -> int | None:
        return self.settings.route_ceiling(route)

    # -- acquire -----------------------------------------------------------------------

    def try_acquire(self, route: Route) -> Permit | None:
        """Never: every call asks the shared bucket in Redis (`acquire`)."""
        return None

    async def acquire(self, route: Route) -> Permit:
        permit = Permit()
        permit.call = await self._shared_turn(route)
        if permit.call is None:  # Redis is lost: the in-process bucket paces (and counts its wait)
            permit.fallback = await self._fallback_limiter().acquire(route)
        self._held += 1
        return permit

    async def _shared_turn(self, route: Route) -> str | None:
        """The call's id once the bucket in Redis lets it through; None while Redis is lost."""
        if self._use_fallback():
            return None
        stats = self._stats
        started = stats.wait_began(self._clock.monotonic())
        try:
            async with self._queue:
                if self._use_fallback():
                    return None
                try:
                    return await self._take(self.ceiling(route))
                except RedisUnavailableError as exc:
                    self._lost(exc)
                    return None
        finally:
            stats.wait_ended(started, self._clock.monotonic())

    async def _take(self, ceiling: int | None) -> str:
        call = f"{self._tag}:{next(self._ids)}"
        per_second = self.settings.max_per_second or 0
        options = self._options
        args = self._args(
            "acquire", ceiling or 0, call, options.lease, per_second, options.probe_timeout, ANSWER_POLL
        )
        while True:
            try:
                answer = await self.bucket.run(self.keys, args)
            except asyncio.CancelledError:
                # The script may have admitted the call before the cancellation: hand it back.
                self.bucket.spawn(self.keys, self._args("report", call, -1, 0))
                raise
            self._note(answer)
            if self._degraded:
                self._degraded = False
                log.warning("Redis at %s answers again: mall %s is back on the shared bucket",
                            self.bucket.address, self.mall_id)
            if answer.wait == 0:
                return call
            delay = self._options.probe_interval if answer.wait < 0 else answer.wait
            delay = min(delay, self._options.max_sleep) * (1.0 + self._rng.uniform(0, self._options.jitter))
            await asyncio.sleep(max(0.001, delay))

    def _args(self, op: str, *rest: str | float | int) -> list[str | float | int]:
        ttl_ms = math.ceil(self._options.key_ttl * 1000)
        return [op, self.settings.bucket_capacity, self.settings.leak_rate, ttl_ms, *rest]

    def _note(self, answer: ScriptAnswer) -> None:
        self._level, self._capacity = answer.level, answer.capacity
        self._level_at = self._clock.monotonic()

    # -- losing Redis --------------------------------------------------------------------

    def _use_fallback(self) -> bool:
        return self._degraded and self._clock.monotonic() < self._retry_at

    def _lost(self, exc: RedisUnavailableError) -> None:
        """Redis failed: re-raise (never reached, or on_loss="fail"), or fall back."""
        if not self.bucket.contacted or self._options.on_loss == "fail":
            raise exc
        if not self._degraded:
            log.warning(
                "%s; mall %s falls back to an in-process bucket (other processes are not "
                "counted) and retries Redis every %gs", exc, self.mall_id, self._options.retry_after,
            )
        self._degraded = True
        self._retry_at = self._clock.monotonic() + self._options.retry_after

    def _fallback_limiter(self) -> LeakyBucketLimiter:
        if self._fallback is None:
            self._fallback = LeakyBucketLimiter(self.settings, self._clock, self._stats)
        return self._fallback

    # -- after the call ----------------------------------------------------------------

    def observe(self, permit: Permit, status: int, headers: Mapping[str, str]) -> None:
        reported = parse_call_limit(headers.get(CALL_LIMIT))
        if reported is not None:
            used, capacity = reported
            self._stats.server_level, self._stats.server_capacity = used, capacity
        elif status == 429:
            used, capacity = FULL, 0
        else:
            return
        if permit.call is not None:
            permit.report = (used, capacity)  # handed to Redis with the call's release
        if self._degraded:
            if self._fallback is not None:
                self._fallback.observe(permit.fallback or Permit(), status, headers)
        elif permit.call is None:
            self.bucket.spawn(self.keys, self._args("report", "", used, capacity))

    def release(self, permit: Permit) -> None:
        if permit.call is not None:
            used, capacity = permit.report if permit.report is not None else (-1, 0)
            self.bucket.spawn(self.keys, self._args("report", permit.call, used, capacity))
        elif permit.fallback is not None and self._fallback is not None:
            self._fallback.release(permit.fallback)
        else:
            raise RuntimeError("release() of a permit this limiter did not give")
        permit.call = permit.fallback = None  # a second release of it raises
        self._held -= 1
