"""Rate limits per grant (requests per minute, rows per day) and on failed sign-ins, with ``limits``.

Counters live in memory (one set per worker process) unless ``NDX_REDIS_URL`` names a Redis server, which
every worker and replica then shares. A refused call is a 429 with ``Retry-After``.
"""

from __future__ import annotations

import math
import time
from functools import lru_cache

from limits import RateLimitItem, RateLimitItemPerDay, RateLimitItemPerMinute
from limits.storage import MemoryStorage, Storage, storage_from_string
from limits.strategies import FixedWindowRateLimiter

from ndx.errors import RateLimited
from policies.rules_model import RateRule


@lru_cache(maxsize=256)
def _per_minute(n: int) -> RateLimitItem:
    return RateLimitItemPerMinute(n, namespace="ndx-rpm")


@lru_cache(maxsize=256)
def _per_day(n: int) -> RateLimitItem:
    return RateLimitItemPerDay(n, namespace="ndx-rows")


# Failed sign-ins, in 15 minutes: ten per account from one client address, so one address cannot lock the
# owner out from theirs; a hundred per account from all addresses together (guessing spread over many);
# fifty per address (one address trying many accounts). Only failures count, and a success clears the
# account's counts; while any is spent, the form refuses to check passwords.
LOGIN_PER_ACCOUNT_FROM = RateLimitItemPerMinute(10, 15, namespace="ndx-login")
LOGIN_PER_ACCOUNT = RateLimitItemPerMinute(100, 15, namespace="ndx-login-any")
LOGIN_PER_ADDRESS = RateLimitItemPerMinute(50, 15, namespace="ndx-login-from")


@lru_cache(maxsize=4096)
def _storage_key(item: RateLimitItem, key: str) -> str:
    return item.key_for(key)


class SweepingMemoryStorage(MemoryStorage):
    """limits' memory storage, but expired counters are swept at most once a second on the calling thread.

    The stock storage starts a timer thread every 10 ms while counters change, which costs more than the
    whole rest of a rate-limit check on the hot path. Reads already drop expired counters, so the sweep only
    frees memory and may run rarely.
    """

    STORAGE_SCHEME = ["ndx-memory"]  # noqa: RUF012  (limits' registry reads a list)
    _last_sweep = 0.0

    # ``get`` and ``incr`` as limits' MemoryStorage has them, without the second layer of error wrapping
    # that limits' ``__init_subclass__`` adds around the inherited (already wrapped) methods.

    def _live(self, key: str) -> int:
        if self.expirations.get(key, 0) <= time.time():
            self.storage.pop(key, None)
            self.expirations.pop(key, None)
            self.locks.pop(key, None)
        return self.storage.get(key, 0)

    def get(self, key: str) -> int:
        return self._live(key)

    def incr(self, key: str, expiry: float, amount: int = 1) -> int:
        self._live(key)
        self._MemoryStorage__schedule_expiry()
        with self.locks[key]:
            self.storage[key] += amount
            if self.storage[key] == amount:
                self.expirations[key] = time.time() + expiry
        return self.storage.get(key, 0)

    def _MemoryStorage__schedule_expiry(self) -> None:  # noqa: N802  (overrides the name-mangled private)
        now = time.monotonic()
        if now - self._last_sweep >= 1.0:
            self._last_sweep = now
            self._MemoryStorage__expire_events()  # type: ignore[attr-defined]


class RateLimiter:
    def __init__(self, redis_url: str | None = None) -> None:
        storage = storage_from_string(redis_url) if redis_url else SweepingMemoryStorage()
        assert isinstance(storage, Storage)
        self.storage = storage
        self._limiter = FixedWindowRateLimiter(storage)

    def _retry_after(self, item: RateLimitItem, key: str) -> int:
        reset = self._limiter.get_window_stats(item, key).reset_time
        return max(1, math.ceil(reset - time.time()))

    # The hot path calls the storage as limits' FixedWindowRateLimiter does (incr under the item's key,
    # compared with its amount), with the key strings cached: the strategy rebuilds them on every call.

    def hit_request(self, key: str, rate: RateRule) -> None:
        """Count one call under ``key`` (a grant); RateLimited when the minute's allowance is spent."""
        item = _per_minute(rate.requests_per_minute)
        if self.storage.incr(_storage_key(item, key), item.get_expiry(), amount=1) > item.amount:
            raise RateLimited(
                f"rate limit: {rate.requests_per_minute} requests per minute for this grant",
                retry_after=self._retry_after(item, key),
            )

    def rows_left(self, key: str, rate: RateRule) -> int:
        """Rows still allowed today; RateLimited when none are."""
        item = _per_day(rate.rows_per_day)
        left = item.amount - self.storage.get(_storage_key(item, key))
        if left <= 0:
            raise RateLimited(
                f"rate limit: {rate.rows_per_day} rows per day for this grant",
                retry_after=self._retry_after(item, key),
            )
        return int(left)

    def take_rows(self, key: str, rate: RateRule, rows: int) -> None:
        if rows > 0:
            item = _per_day(rate.rows_per_day)
            self.storage.incr(_storage_key(item, key), item.get_expiry(), amount=rows)

    def give_back(self, key: str, rate: RateRule, rows: int) -> None:
        """Undo one ``hit_request`` and ``take_rows(rows)`` under ``key`` (a call run again after its first run
        answered nothing). Within the same window, which is where a run and its rerun a millisecond apart fall."""
        minute = _per_minute(rate.requests_per_minute)
        self.storage.incr(_storage_key(minute, key), minute.get_expiry(), amount=-1)
        if rows > 0:
            day = _per_day(rate.rows_per_day)
            self.storage.incr(_storage_key(day, key), day.get_expiry(), amount=-rows)

    def usage(self, key: str, rate: RateRule) -> tuple[int, int]:
        """Calls counted this minute and rows today under ``key``."""
        minute, day = _per_minute(rate.requests_per_minute), _per_day(rate.rows_per_day)
        return int(self.storage.get(_storage_key(minute, key))), int(self.storage.get(_storage_key(day, key)))

    def _login_keys(self, email: str, address: str) -> tuple[tuple[RateLimitItem, str], ...]:
        account = email.strip().lower()
        return (
            (LOGIN_PER_ACCOUNT_FROM, f"{account}|{address}"),
            (LOGIN_PER_ACCOUNT, account),
            (LOGIN_PER_ADDRESS, address),
        )

    def login_wait(self, email: str, address: str) -> int:
        """Seconds until a sign-in may be tried again for this account or from this address; 0: now."""
        for item, key in self._login_keys(email, address):
            if not self._limiter.test(item, key):
                return self._retry_after(item, key)
        return 0

    def login_failed(self, email: str, address: str) -> None:
        for item, key in self._login_keys(email, address):
            self._limiter.hit(item, key)

    def login_succeeded(self, email: str, address: str) -> None:
        account = email.strip().lower()
        self._limiter.clear(LOGIN_PER_ACCOUNT_FROM, f"{account}|{address}")
        self._limiter.clear(LOGIN_PER_ACCOUNT, account)

    def reset(self) -> None:
        self.storage.reset()
