"""Failed sign-ins are limited per username and per client address (429 with a message and Retry-After)."""

from __future__ import annotations

import time

from artforge.studio.ratelimit import LoginLimiter
from conftest import PASSWORD, Studio, make_settings


def login(client, name, password):
    return client.post("/api/login", json={"username": name, "password": password})


def test_repeated_failures_for_one_username_are_refused_for_a_while(studio, owner):
    studio.user(owner, "ann", "editor")
    c = studio.client()
    for _ in range(5):
        assert login(c, "ann", "wrong password").status_code == 401
    r = login(c, "ANN", PASSWORD)                    # the right password too, and any spelling of the name
    assert r.status_code == 429 and "too many failed sign-ins" in r.json()["detail"]
    assert 0 < int(r.headers["Retry-After"]) <= 300
    assert login(studio.client(), "owner", "still wrong").status_code == 401      # other accounts go on


def test_a_success_clears_the_count_and_the_window_passes(tmp_path):
    s = Studio(make_settings(tmp_path / "d", login_max_failures=3, login_ip_max_failures=7, login_window_s=1.0))
    try:
        owner = s.owner()
        s.user(owner, "bo", "editor")
        c = s.client()
        for _ in range(2):
            assert login(c, "bo", "wrong password").status_code == 401
        assert login(c, "bo", PASSWORD).status_code == 200                         # the count starts again
        for _ in range(3):
            assert login(c, "bo", "wrong password").status_code == 401
        assert login(c, "bo", PASSWORD).status_code == 429
        # one address guessing across many names is stopped too
        assert login(c, "carl", "wrong password").status_code == 401
        assert login(c, "dora", "wrong password").status_code == 401
        r = login(c, "erin", "wrong password")
        assert r.status_code == 429 and "try again in" in r.json()["detail"]
        time.sleep(1.1)
        assert login(c, "bo", PASSWORD).status_code == 200
    finally:
        s.close()


def test_limiter_window_with_a_fake_clock():
    now = [0.0]
    lim = LoginLimiter(user_limit=3, ip_limit=100, window_s=60, clock=lambda: now[0])
    for t in (0, 10, 20):
        now[0] = t
        lim.failed("u", "1.2.3.4")
    now[0] = 30
    assert lim.retry_after("u", None) == 30           # until the first failure leaves the window
    now[0] = 61
    assert lim.retry_after("u", None) == 0            # two failures left in the window: below the limit
    lim.failed("u", None)
    assert lim.retry_after("u", None) == 10 + 60 - 61
    lim.succeeded("U")
    assert lim.retry_after("u", None) == 0
