"""Password guessing made slow, without letting a guesser lock anyone out.

Every attempt (a sign-in, or the old password of a password change) counts against two keys: its username
(from any address) and its client address (for any username). While a key has fewer than its limit of
attempts inside `window_s`, attempts on it go straight through. Past the limit it is *slowed*, never
closed: each further attempt waits for its turn, turns spaced `delay_s`, then twice that, and so on up to
`max_delay_s` apart. The password is checked when the turn comes, so the right password still signs in,
only later; a guesser gets one try per turn. Turns are handed out in order at arrival, so many guesses sent
at once queue behind each other instead of all being checked now; only an attempt whose turn is more than
`max_wait_s` away (a flood) is refused, with the seconds to wait.

An attempt counts as failed from the start (so parallel guesses cannot slip past the count) and is taken
back when the password was right: a success clears its username's count and takes that one attempt off
its address's (never the whole address count: one good account must not let an address guess others).
The state lives with the app (one process); a restart forgets it. argon2 already makes each
check slow (docs/benchmarks.md).

>>> now = [0.0]
>>> lim = LoginLimiter(user_limit=2, ip_limit=10, window_s=60, clock=lambda: now[0])
>>> [lim.begin("ann", "10.0.0.1").wait for _ in range(4)]      # the 3rd waits 1 s, the 4th 2 s after it
[0.0, 0.0, 1.0, 3.0]
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections import deque
from dataclasses import dataclass
from typing import Awaitable, Callable

MAX_KEYS = 100_000        # bound memory under a flood of made-up usernames
MAX_KEPT = 64             # attempts remembered per key: the spacing stops growing long before this


class TooManyAttempts(Exception):
    """Refused: this attempt's turn is further away than the longest wait allowed."""

    def __init__(self, retry_after: float):
        super().__init__(f"too many failed sign-ins; try again in {retry_after:.0f} s")
        self.retry_after = retry_after


@dataclass(frozen=True)
class Attempt:
    username: str
    ip: str | None
    at: float             # when its password may be checked (clock seconds)
    wait: float           # how long from now that is


class LoginLimiter:
    def __init__(self, user_limit: int, ip_limit: int, window_s: float, delay_s: float = 1.0,
                 max_delay_s: float = 30.0, max_wait_s: float = 60.0,
                 clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], Awaitable[None]] = asyncio.sleep):
        self.limits = {"user": user_limit, "ip": ip_limit}
        self.window_s, self.delay_s, self.max_delay_s, self.max_wait_s = window_s, delay_s, max_delay_s, max_wait_s
        self.clock, self.sleep = clock, sleep
        self._attempts: dict[tuple[str, str], deque] = {}
        self._lock = threading.Lock()

    @staticmethod
    def _keys(username: str, ip: str | None) -> list[tuple[str, str]]:
        keys = [("user", (username or "").lower())]
        return keys + [("ip", ip)] if ip else keys

    def _spacing(self, n: int, limit: int) -> float:
        """How long after the last attempt the next may start, for a key with `n` attempts in the window."""
        if n < limit:
            return 0.0
        return min(self.max_delay_s, self.delay_s * 2.0 ** min(n - limit, 40))

    def _turn(self, key: tuple[str, str], now: float) -> float:
        q = self._attempts.get(key)
        if q is None:
            return now
        while q and q[0] <= now - self.window_s:
            q.popleft()
        if not q:
            del self._attempts[key]
            return now
        return max(now, q[-1] + self._spacing(len(q), self.limits[key[0]]))

    def begin(self, username: str, ip: str | None) -> Attempt:
        """Take a turn for one password check; raises TooManyAttempts when the turn is too far away."""
        now = self.clock()
        with self._lock:
            keys = self._keys(username, ip)
            at = max(self._turn(k, now) for k in keys)
            if at - now > self.max_wait_s:
                raise TooManyAttempts(max(1.0, at - now - self.max_wait_s))
            if len(self._attempts) >= MAX_KEYS:
                self._prune(now)
            for k in keys:
                self._attempts.setdefault(k, deque(maxlen=max(self.limits.values()) + MAX_KEPT)).append(at)
        return Attempt(username, ip, at, at - now)

    async def wait(self, attempt: Attempt) -> None:
        if attempt.wait > 0:
            await self.sleep(attempt.wait)

    def succeeded(self, attempt: Attempt) -> None:
        """The password was right: forget the username's count and take this attempt off its address."""
        user_key, *ip_key = self._keys(attempt.username, attempt.ip)
        with self._lock:
            self._attempts.pop(user_key, None)
            q = self._attempts.get(ip_key[0]) if ip_key else None
            if q is not None and attempt.at in q:
                q.remove(attempt.at)

    def _prune(self, now: float) -> None:
        stale = [k for k, q in self._attempts.items() if not q or q[-1] <= now - self.window_s]
        for k in stale:
            del self._attempts[k]
        while len(self._attempts) >= MAX_KEYS:           # still full of fresh keys: forget the oldest
            del self._attempts[next(iter(self._attempts))]
