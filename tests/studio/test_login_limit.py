"""Password guessing is slowed, never locked: past the limits for a username or an address, each attempt
waits its turn (spaced 1 s, 2 s, 4 s, ... up to 30 s) and the right password still signs in.

The limiter's clock and sleep are replaced by a fake that moves time on by each wait: no test sleeps.
"""

from __future__ import annotations

import doctest

import pytest
from fastapi.testclient import TestClient

from artforge.studio import ratelimit
from artforge.studio.ratelimit import LoginLimiter, TooManyAttempts
from conftest import PASSWORD


class FakeTime:
    """A clock, and a sleep that records each wait and moves the clock on by it instead of waiting."""

    def __init__(self):
        self.now = 1000.0
        self.waits: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.waits.append(seconds)
        self.now += seconds


def fake_time(studio) -> FakeTime:
    t = FakeTime()
    limiter = studio.app.state.studio.login_limiter
    limiter.clock, limiter.sleep = t.clock, t.sleep
    return t


def client_at(studio, address: str) -> TestClient:
    """A client whose requests come from `address`."""
    c = TestClient(studio.app, base_url="http://127.0.0.1", client=(address, 50000))
    c.__enter__()
    studio.clients.append(c)
    return c


def login(client, name, password):
    return client.post("/api/login", json={"username": name, "password": password})


def test_failures_for_a_name_slow_it_down_but_never_lock_its_owner_out(studio, owner):
    studio.user(owner, "ann", "editor")
    t = fake_time(studio)
    guesser = client_at(studio, "203.0.113.9")
    for _ in range(5):
        assert login(guesser, "ann", "wrong password").status_code == 401
    assert t.waits == []
    assert login(guesser, "ann", "wrong password").status_code == 401      # the 6th waits its turn
    assert t.waits == [1.0]
    r = login(client_at(studio, "198.51.100.7"), "ANN", PASSWORD)          # any spelling of the name
    assert r.status_code == 200 and r.json()["user"]["username"] == "ann"
    assert t.waits == [1.0, 2.0]                                            # her turn came 2 s later


def test_failures_from_one_address_do_not_lock_out_everyone_behind_it(studio, owner):
    studio.user(owner, "bo", "editor")
    t = fake_time(studio)
    proxy = client_at(studio, "192.0.2.1")
    for i in range(20):
        assert login(proxy, f"guess{i}", "wrong password").status_code == 401
    assert t.waits == []
    r = login(proxy, "bo", PASSWORD)
    assert r.status_code == 200 and t.waits == [1.0]


def test_checks_of_the_old_password_in_a_password_change_are_slowed_too(studio, owner):
    assert owner.post("/api/me/password", json={"new_password": PASSWORD}).status_code == 200
    c = studio.client()
    c.headers["X-CSRF-Token"] = login(c, "owner", PASSWORD).json()["csrf"]
    t = fake_time(studio)
    for _ in range(30):
        r = c.post("/api/me/password", json={"old_password": "a wrong guess", "new_password": "something new 1"})
        assert r.status_code == 403
    assert t.waits == [1.0, 2.0, 4.0, 8.0, 16.0] + [30.0] * 20


def test_a_success_starts_the_names_count_again(studio, owner):
    studio.user(owner, "cy", "editor")
    t = fake_time(studio)
    c = client_at(studio, "192.0.2.2")
    for _ in range(4):
        assert login(c, "cy", "wrong password").status_code == 401
    assert login(c, "cy", PASSWORD).status_code == 200
    for _ in range(5):
        assert login(c, "cy", "wrong password").status_code == 401
    assert t.waits == []


def test_the_slowing_ends_when_the_failures_leave_the_window(studio, owner):
    t = fake_time(studio)
    c = client_at(studio, "192.0.2.3")
    for _ in range(5):
        assert login(c, "dora", "wrong password").status_code == 401
    t.now += studio.settings.login_window_s
    assert login(c, "dora", "wrong password").status_code == 401
    assert t.waits == []


def test_turns_past_the_limit_are_spaced_doubling_up_to_the_longest():
    lim = LoginLimiter(user_limit=3, ip_limit=100, window_s=600, delay_s=1, max_delay_s=8, clock=lambda: 0.0)
    # sent at once (nothing checked yet): each attempt counts from the start, so each gets a later turn
    assert [lim.begin("u", "10.0.0.1").wait for _ in range(8)] == [0, 0, 0, 1, 3, 7, 15, 23]


def test_a_flood_is_refused_with_the_seconds_until_a_turn_is_near_enough():
    lim = LoginLimiter(user_limit=1, ip_limit=100, window_s=600, delay_s=10, max_delay_s=10, max_wait_s=30,
                       clock=lambda: 0.0)
    assert [lim.begin("u", None).wait for _ in range(4)] == [0, 10, 20, 30]
    with pytest.raises(TooManyAttempts) as e:
        lim.begin("u", "10.0.0.2")
    assert e.value.retry_after == 10 and str(e.value) == "too many failed sign-ins; try again in 10 s"


def test_a_flood_gets_429_with_retry_after(studio):
    t = fake_time(studio)
    c = client_at(studio, "192.0.2.4")
    limiter = studio.app.state.studio.login_limiter
    # turns taken at once (as parallel requests would): 0 s (five times), 1, 3, 7, 15, 31; the next is 61 s away
    assert [limiter.begin("erin", "192.0.2.4").wait for _ in range(10)] == [0] * 5 + [1, 3, 7, 15, 31]
    r = login(c, "erin", "wrong password")
    assert r.status_code == 429 and r.json()["detail"] == "too many failed sign-ins; try again in 1 s"
    assert r.headers["Retry-After"] == "1" and t.waits == []


def test_a_success_takes_back_only_its_own_attempt_from_the_address():
    now = [0.0]
    lim = LoginLimiter(user_limit=2, ip_limit=3, window_s=60, clock=lambda: now[0])
    for name in ("a", "b"):
        lim.begin(name, "10.0.0.3")                  # two failures from the address, for other names
    lim.succeeded(lim.begin("c", "10.0.0.3"))        # a right password does not count against the address
    assert lim.begin("d", "10.0.0.3").wait == 0      # the third attempt counted: 2 + 1, not yet slowed
    assert lim.begin("e", "10.0.0.3").wait == 1.0    # ... and the address keeps its earlier failures


def test_module_example_runs():
    assert doctest.testmod(ratelimit).failed == 0
