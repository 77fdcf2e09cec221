"""The queue's two lanes: image-making jobs run beside a training run (never behind it), each lane one job at a
time; a cancelled generate job stops after the chunk it is making and keeps that chunk's images."""

from __future__ import annotations

import threading

from conftest import Studio
from test_jobs import TINY, job_settings, jobs_studio, wait_for  # noqa: F401


def test_a_generate_job_is_made_while_a_training_run_is_running(jobs_studio):  # noqa: F811
    owner = jobs_studio.owner()
    train = owner.post("/api/jobs", json={"name": "long", "data": "art", "steps": 100000, "params": TINY}).json()
    wait_for(owner, train["id"], lambda j: j["state"] == "running" and j["step"] >= 1)
    gen = owner.post("/api/jobs", json={"kind": "generate", "params": {"n": 3, "seed": 11, "no_copies": False}})
    assert gen.status_code == 201, gen.text
    done = wait_for(owner, gen.json()["id"], lambda j: j["state"] == "done", timeout=60)
    assert owner.get(f"/api/jobs/{train['id']}").json()["state"] == "running"      # still training meanwhile
    arts = owner.get("/api/artworks").json()["items"]
    assert done["step"] == 3 and sorted(done["artworks"]) == sorted(a["id"] for a in arts)
    assert sorted(a["seed"] for a in arts) == [11, 12, 13]
    owner.post(f"/api/jobs/{train['id']}/cancel")
    wait_for(owner, train["id"], lambda j: j["state"] == "cancelled")


def test_two_training_runs_still_run_one_at_a_time_beside_the_image_lane(jobs_studio):  # noqa: F811
    owner = jobs_studio.owner()
    first = owner.post("/api/jobs", json={"name": "first", "data": "art", "steps": 100000, "params": TINY}).json()
    second = owner.post("/api/jobs", json={"name": "second", "data": "art", "steps": 2, "params": TINY}).json()
    wait_for(owner, first["id"], lambda j: j["state"] == "running" and j["step"] >= 1)
    gen = owner.post("/api/jobs", json={"kind": "generate", "params": {"n": 1, "no_copies": False}}).json()
    wait_for(owner, gen["id"], lambda j: j["state"] == "done", timeout=60)
    assert owner.get(f"/api/jobs/{second['id']}").json()["state"] == "queued"      # behind the first run
    owner.post(f"/api/jobs/{first['id']}/cancel")
    wait_for(owner, second["id"], lambda j: j["state"] == "done")


def test_cancel_stops_a_generate_job_after_its_current_chunk_and_keeps_its_images(tmp_path):
    s = Studio(job_settings(tmp_path / "data"))
    try:
        owner = s.owner()
        queue = s.app.state.studio.jobs
        real, chunks, submitted, job = queue.make_images, [], threading.Event(), {}

        def cancel_during_the_first_chunk(author, model, n, seed, *rest):
            if not chunks:
                assert submitted.wait(30), "the job's id never came back"
                assert queue.cancel(job["id"])["state"] == "cancelling"     # asked while this chunk is made
            chunks.append((seed, n))
            return real(author, model, n, seed, *rest)

        queue.make_images = cancel_during_the_first_chunk
        job.update(owner.post("/api/jobs", json={"kind": "generate",
                                                 "params": {"n": 100, "seed": 500, "no_copies": False}}).json())
        submitted.set()
        end = wait_for(owner, job["id"], lambda j: j["state"] == "cancelled", timeout=60)
        arts = owner.get("/api/artworks", params={"limit": 500}).json()
        assert chunks == [(500, 32)] and end["step"] == 32
        assert sorted(a["seed"] for a in arts["items"]) == list(range(500, 532))    # the chunk is kept, whole
        assert sorted(end["artworks"]) == sorted(a["id"] for a in arts["items"])
    finally:
        s.close()
