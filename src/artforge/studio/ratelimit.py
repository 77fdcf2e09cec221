"""Failed sign-ins, counted per username and per client address: past a limit, refuse for a while.

A sliding window in memory: each key keeps the times of its recent failures. A key with `limit` failures
inside `window_s` is refused until the oldest of them leaves the window. A success clears the username's
count (never the address's: one good account must not let an address go on guessing others). The state
lives with the app (one process), and a restart forgets it: the point is to make password guessing slow,
and argon2 already makes each guess cost the server ~50 ms.

>>> lim = LoginLimiter(user_limit=2, ip_limit=10, window_s=60, clock=lambda: 0.0)
>>> lim.failed("ann", "10.0.0.1"); lim.failed("ann", "10.0.0.1")
>>> lim.retry_after("ann", "10.0.0.2")
60.0
"""

from __future__ import annotations

import threading
import time
from collections import deque
from typing import Callable

MAX_KEYS = 100_000        # bound memory under a flood of made-up usernames


class LoginLimiter:
    def __init__(self, user_limit: int, ip_limit: int, window_s: float, clock: Callable[[], float] = time.monotonic):
        self.limits = {"user": user_limit, "ip": ip_limit}
        self.window_s, self.clock = window_s, clock
        self._failures: dict[tuple[str, str], deque] = {}
        self._lock = threading.Lock()

    def _keys(self, username: str, ip: str | None) -> list[tuple[str, str]]:
        keys = [("user", (username or "").lower())]
        return keys + [("ip", ip)] if ip else keys

    def retry_after(self, username: str, ip: str | None) -> float:
        """Seconds until a sign-in for `username` from `ip` may be tried again; 0 when it may now."""
        now = self.clock()
        wait = 0.0
        with self._lock:
            for key in self._keys(username, ip):
                q = self._failures.get(key)
                if not q:
                    continue
                while q and q[0] <= now - self.window_s:
                    q.popleft()
                if not q:
                    del self._failures[key]
                elif len(q) >= self.limits[key[0]]:
                    wait = max(wait, q[-self.limits[key[0]]] + self.window_s - now)
        return wait

    def failed(self, username: str, ip: str | None) -> None:
        now = self.clock()
        with self._lock:
            if len(self._failures) >= MAX_KEYS:
                self._prune(now)
            for key in self._keys(username, ip):
                self._failures.setdefault(key, deque(maxlen=max(self.limits.values()) + 1)).append(now)

    def succeeded(self, username: str) -> None:
        with self._lock:
            self._failures.pop(("user", (username or "").lower()), None)

    def _prune(self, now: float) -> None:
        stale = [k for k, q in self._failures.items() if not q or q[-1] <= now - self.window_s]
        for k in stale:
            del self._failures[k]
        while len(self._failures) >= MAX_KEYS:           # still full of fresh keys: forget the oldest
            del self._failures[next(iter(self._failures))]
