"""Request batching: concurrent requests share one forward pass and get the images they would alone."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from artforge.studio.batcher import Batcher
from artforge.studio.generation import GenerateRequest, Generator
from artforge.studio.models import ModelLibrary
from conftest import Studio, make_settings

REQUESTS = [{"n": 1, "seed": 5}, {"n": 3, "seed": 100, "truncation": 0.5}, {"n": 2, "seed": 7},
            {"n": 1, "seed": 5, "truncation": 1.5}, {"n": 4, "seed": 2024}, {"n": 1, "seed": 31}]


def test_batcher_groups_concurrent_calls_and_keeps_order():
    calls = []

    def double(items):
        calls.append(list(items))
        return [x * 2 for x in items]

    async def main(b):
        return await asyncio.gather(*(b.submit(i) for i in range(10)))

    b = Batcher(double, window_ms=50)
    assert asyncio.run(main(b)) == [2 * i for i in range(10)]
    assert len(calls) == 1 and sorted(calls[0]) == list(range(10))
    off = Batcher(double, enabled=False)
    calls.clear()
    assert asyncio.run(main(off)) == [2 * i for i in range(10)] and all(len(c) == 1 for c in calls)
    b.close(), off.close()


def test_batcher_passes_each_caller_its_own_error():
    def fn(items):
        return [ValueError(f"bad {x}") if x < 0 else x for x in items]

    async def main(b):
        return await asyncio.gather(b.submit(1), b.submit(-1), return_exceptions=True)

    b = Batcher(fn, window_ms=20)
    ok, err = asyncio.run(main(b))
    assert ok == 1 and isinstance(err, ValueError) and str(err) == "bad -1"
    b.close()


def test_batched_forward_pass_equals_each_request_alone(tmp_path):
    from conftest import never_flags

    gen = Generator(ModelLibrary(tmp_path / "runs"), never_flags)
    reqs = [GenerateRequest("starter", r["n"], r["seed"], r.get("truncation", 1.0), True) for r in REQUESTS]
    together = gen(reqs)
    for req, out in zip(reqs, together):
        alone = gen([req])[0]
        assert [im.tobytes() for im in out.images] == [im.tobytes() for im in alone.images]
        assert [r["params"] for r in out.recipes] == [r["params"] for r in alone.recipes]


async def _post_all(app, token: str) -> list[dict]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1",
                                 headers={"Authorization": f"Bearer {token}"}) as c:
        rs = await asyncio.gather(*(c.post("/api/generate", json=body) for body in REQUESTS))
    assert all(r.status_code == 201 for r in rs), [r.text for r in rs]
    return [r.json() for r in rs]


@pytest.mark.parametrize("batching", [True, False])
def test_concurrent_requests_through_the_app(tmp_path, batching):
    s = Studio(make_settings(tmp_path / "d", batching=batching, batch_window_ms=30))
    token = s.owner().post("/api/tokens", json={"name": "t"}).json()["token"]
    got = asyncio.run(_post_all(s.app, token))
    sizes = s.app.state.studio.batcher.batches
    if batching:
        assert max(sizes) > 1 and len(sizes) < len(REQUESTS)     # requests shared forward passes
    else:
        assert sizes == [1] * len(REQUESTS)
    ref = Studio(make_settings(tmp_path / "ref", batching=False))
    one = ref.owner()
    for body, result in zip(REQUESTS, got):
        alone = one.post("/api/generate", json=body).json()
        assert [a["sha256"] for a in result["artworks"]] == [a["sha256"] for a in alone["artworks"]]
        assert [a["seed"] for a in result["artworks"]] == list(range(body["seed"], body["seed"] + body["n"]))
    s.close(), ref.close()


def test_the_real_copy_guard_runs_for_the_starter(tmp_path):
    """Without a stand-in: the starter's own index and the feature network judge each image."""
    s = Studio(make_settings(tmp_path / "d", copy_check_factory=None))
    owner = s.owner()
    r = owner.post("/api/generate", json={"n": 2, "seed": 1, "no_copies": True})
    assert r.status_code == 201, r.text
    verdict = r.json()["artworks"][0]["recipe"]["params"]["copy_check"]
    assert set(verdict) >= {"flagged", "nearest_train", "feat_distance"}
    # asked for without the guard, the images are not judged (and cost no feature-network pass)
    r = owner.post("/api/generate", json={"n": 2, "seed": 1, "no_copies": False})
    assert r.status_code == 201 and "copy_check" not in r.json()["artworks"][0]["recipe"]["params"]
    s.close()


def test_no_copies_on_a_run_without_an_index_is_a_clear_4xx(tmp_path):
    from test_routes import make_run

    s = Studio(make_settings(tmp_path / "d", copy_check_factory=None))
    make_run(s)
    owner = s.owner()
    r = owner.post("/api/generate", json={"model": "myrun", "n": 1})
    assert r.status_code == 422 and "copy-check index" in r.json()["detail"]
    ok = owner.post("/api/generate", json={"model": "myrun", "n": 1, "no_copies": False})
    assert ok.status_code == 201 and ok.json()["artworks"][0]["model"] == "myrun"
    s.close()
