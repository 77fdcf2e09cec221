"""Studio fixtures: a fresh data dir, cheap argon2, a stand-in copy check, signed-in clients per role."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from artforge.studio import StudioSettings, create_app, prepare

PASSWORD = "correct horse battery"


def never_flags(model):
    """A copy check that passes every image (the real guard is exercised once, in test_generate)."""
    return lambda images: [{"flagged": False, "nearest_train": 0, "feat_distance": 1.0, "pixel_distance": 1.0}
                           for _ in images]


def make_settings(data_dir, **kw) -> StudioSettings:
    base = dict(argon2_time_cost=1, argon2_memory_kib=1024, copy_check_factory=never_flags, batch_window_ms=5.0)
    return StudioSettings(data_dir=data_dir, **{**base, **kw})


class Studio:
    """A running test app plus a way to get a signed-in client for any role."""

    def __init__(self, settings: StudioSettings):
        self.settings = settings
        self.link = prepare(settings)
        self.app = create_app(settings)
        self.clients: list[TestClient] = []

    def client(self) -> TestClient:
        c = TestClient(self.app, base_url="http://127.0.0.1")
        c.__enter__()
        self.clients.append(c)
        return c

    def owner(self) -> TestClient:
        """Signed in with the first-start link (by cookie), CSRF header set as the page would set it."""
        c = self.client()
        token = self.link.split("token=")[1]
        r = c.get(f"/signin?token={token}", follow_redirects=False)
        assert r.status_code == 303, r.text
        c.headers["X-CSRF-Token"] = c.cookies["artforge_csrf"]
        self.link = None
        return c

    def user(self, owner: TestClient, name: str, role: str) -> TestClient:
        assert owner.post("/api/users", json={"username": name, "password": PASSWORD, "role": role}).status_code == 201
        c = self.client()
        r = c.post("/api/login", json={"username": name, "password": PASSWORD})
        assert r.status_code == 200, r.text
        c.headers["X-CSRF-Token"] = r.json()["csrf"]
        return c

    def close(self) -> None:
        for c in self.clients:
            c.__exit__(None, None, None)


@pytest.fixture
def studio(tmp_path):
    s = Studio(make_settings(tmp_path / "data"))
    yield s
    s.close()


@pytest.fixture
def owner(studio):
    return studio.owner()


@pytest.fixture
def editor(studio, owner):
    return studio.user(owner, "eddie", "editor")


@pytest.fixture
def viewer(studio, owner):
    return studio.user(owner, "vera", "viewer")
