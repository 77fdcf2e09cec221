"""The jobs queue with real training processes: watch a tiny GAN train over SSE, pause/resume/cancel, the
queue order, a studio restart in the middle of a run, failures, and every refusal."""

from __future__ import annotations

import io
import json
import sqlite3
import time
import zipfile

import pytest

from conftest import PASSWORD, Studio, make_settings

# The smallest run that trains for real: 16 px, tiny networks, 4 images a step, no KID.
TINY = {"resolution": 16, "batch_size": 4, "preset": "tiny", "kid_every": 0}


def job_settings(data_dir, **kw):
    return make_settings(data_dir, train_threads=1, job_events_interval_s=0.1, job_stop_timeout_s=60, **kw)


@pytest.fixture
def jobs_studio(tmp_path, art):
    s = Studio(job_settings(tmp_path / "data"))
    folder = s.settings.data_dir / "art"
    folder.mkdir(parents=True)
    for i in range(8):
        art(i, 24).save(folder / f"a{i}.png")
    yield s
    s.close()


def wait_for(client, jid, cond, timeout=90):
    t0 = time.monotonic()
    while True:
        job = client.get(f"/api/jobs/{jid}").json()
        if cond(job):
            return job
        assert time.monotonic() - t0 < timeout, f"job {jid} stuck: {job}"
        assert job["state"] not in ("failed",) or cond(job), job
        time.sleep(0.1)


def sse(client, jid) -> list[tuple[str, dict]]:
    events, kind = [], None
    with client.stream("GET", f"/api/jobs/{jid}/events") as r:
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/event-stream")
        for line in r.iter_lines():
            if line.startswith("event: "):
                kind = line[7:]
            elif line.startswith("data: "):
                events.append((kind, json.loads(line[6:])))
                if kind == "end":
                    break
    return events


def test_upload_train_watch_and_create_with_the_new_model(jobs_studio, art):
    s = jobs_studio
    owner = s.owner()
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for i in range(8):
            b = io.BytesIO()
            art(i, 24).save(b, format="PNG")
            z.writestr(f"pics/{i}.png", b.getvalue())
    up = owner.post("/api/uploads", files={"file": ("pics.zip", buf.getvalue())}).json()["upload"]
    r = owner.post("/api/jobs", json={"kind": "train", "name": "tiny-run", "data": up, "steps": 12, "params": TINY})
    assert r.status_code == 201, r.text
    job = r.json()
    assert job["state"] == "queued" and job["steps"] == 12 and job["author"] == "owner" and job["step"] == 0
    assert set(job) >= {"id", "kind", "name", "state", "step", "steps", "eta_s", "losses", "author", "created",
                        "error", "sample_url"}
    after = owner.post("/api/jobs", json={"kind": "generate", "params": {"n": 2, "seed": 5}}).json()
    assert after["state"] == "queued"
    events = sse(owner, job["id"])
    progress = [e for k, e in events if k == "progress"]
    assert events[-1][0] == "end" and events[-1][1]["state"] == "done" and events[-1][1]["step"] == 12
    assert any(e["state"] == "running" and e["step"] > 0 for e in progress)
    last = progress[-1]
    assert set(last["losses"]) == {"D", "G"} and [h["step"] for h in last["history"]] == list(range(1, 13))
    assert {"step", "D", "G"} <= set(last["history"][-1])
    assert any(e["eta_s"] is not None for e in progress if e["state"] == "running" and e["step"] > 0)
    assert owner.get(last["sample_url"]).headers["content-type"] == "image/png"
    # the run is a model now: listed, and images can be made with it
    models = {m["name"]: m for m in owner.get("/api/models").json()}
    assert models["tiny-run"]["ready"] and models["tiny-run"]["resolution"] == 16
    r = owner.post("/api/generate", json={"model": "tiny-run", "n": 2, "seed": 1})
    assert r.status_code == 201 and r.json()["artworks"][0]["model"] == "tiny-run", r.text
    # the generation queued after the run is made in the image lane, beside it (test_job_lanes)
    made = wait_for(owner, after["id"], lambda j: j["state"] == "done")
    assert made["step"] == 2
    assert [j["state"] for j in owner.get("/api/jobs").json()["items"]] == ["done", "done"]
    # a finished job cannot be paused, resumed or cancelled
    for verb in ("pause", "resume", "cancel"):
        r = owner.post(f"/api/jobs/{job['id']}/{verb}")
        assert r.status_code == 409 and "job 1 is done" in r.json()["detail"], (verb, r.text)


def test_pause_resume_cancel_and_the_queue_order(jobs_studio, art):
    s = jobs_studio
    owner = s.owner()
    editor = s.user(owner, "eddie", "editor")
    viewer = s.user(owner, "vera", "viewer")
    up = zip_upload(editor, art)
    long = editor.post("/api/jobs", json={"name": "long", "data": up, "steps": 100000,
                                          "params": {**TINY, "log_every": 1}}).json()
    short = editor.post("/api/jobs", json={"name": "short", "data": up, "steps": 3, "params": TINY}).json()
    wait_for(viewer, long["id"], lambda j: j["state"] == "running" and j["step"] >= 2)
    assert viewer.get(f"/api/jobs/{short['id']}").json()["state"] == "queued"       # one at a time, in order
    other = s.user(owner, "olga", "editor")
    for verb in ("pause", "resume", "cancel"):
        r = viewer.post(f"/api/jobs/{long['id']}/{verb}")
        assert r.status_code == 403, r.text
        r = other.post(f"/api/jobs/{long['id']}/{verb}")                 # another editor's job: hands off
        assert r.status_code == 403 and "started by eddie" in r.json()["detail"], r.text
    assert other.post("/api/jobs/999/pause").status_code == 404
    # pause a queued job: it stays out of the queue until resumed
    assert editor.post(f"/api/jobs/{short['id']}/pause").json()["state"] == "paused"
    assert editor.post(f"/api/jobs/{long['id']}/pause").json()["state"] == "pausing"      # answered at once
    job = wait_for(viewer, long["id"], lambda j: j["state"] == "paused")
    assert job["step"] >= 2
    assert (s.settings.runs_dir / "long" / "checkpoints" / "latest").is_file()
    paused_at = job["step"]
    assert editor.post(f"/api/jobs/{long['id']}/pause").status_code == 409
    assert editor.post(f"/api/jobs/{long['id']}/resume").json()["state"] in ("queued", "running")
    job = wait_for(viewer, long["id"], lambda j: j["state"] == "running" and j["step"] > paused_at + 1)
    assert editor.post(f"/api/jobs/{long['id']}/resume").status_code == 409
    log = (s.settings.jobs_dir / f"{long['id']}.log").read_text()
    assert "--resume" in log
    assert editor.post(f"/api/jobs/{long['id']}/cancel").json()["state"] == "cancelling"
    assert editor.post(f"/api/jobs/{long['id']}/pause").status_code == 409           # cancelling wins
    wait_for(viewer, long["id"], lambda j: j["state"] == "cancelled")
    assert editor.post(f"/api/jobs/{long['id']}/cancel").status_code == 409
    # a paused job that never ran is cancelled without a process
    assert editor.post(f"/api/jobs/{short['id']}/cancel").json()["state"] == "cancelled"
    assert not (s.settings.runs_dir / "short").exists()
    assert [j["state"] for j in viewer.get("/api/jobs").json()["items"]] == ["cancelled", "cancelled"]
    # finished jobs can be removed from the list by their author (the run folder stays)
    assert viewer.delete(f"/api/jobs/{long['id']}").status_code == 403
    assert other.delete(f"/api/jobs/{long['id']}").status_code == 403
    assert editor.delete(f"/api/jobs/{long['id']}").status_code == 204
    assert editor.delete(f"/api/jobs/{long['id']}").status_code == 404
    assert [j["id"] for j in viewer.get("/api/jobs").json()["items"]] == [short["id"]]
    assert (s.settings.runs_dir / "long" / "checkpoints" / "latest").is_file()
    assert not (s.settings.jobs_dir / f"{long['id']}.log").exists()


def test_a_restart_resumes_the_running_job_from_its_checkpoint(tmp_path, art):
    settings = job_settings(tmp_path / "data")
    first = Studio(settings)
    (settings.data_dir / "art").mkdir()
    for i in range(8):
        art(i, 24).save(settings.data_dir / "art" / f"a{i}.png")
    owner = first.owner()
    jid = owner.post("/api/jobs", json={"name": "r", "data": "art", "steps": 12,
                                        "params": {**TINY, "log_every": 1}}).json()["id"]
    wait_for(owner, jid, lambda j: j["step"] >= 2)
    first.close()                                          # the studio stops: the trainer checkpoints and exits
    with sqlite3.connect(settings.db_path) as c:
        assert c.execute("SELECT status FROM jobs WHERE id = ?", (jid,)).fetchone()[0] == "running"
    second = Studio(settings)                            # a new link: the owner has no password yet
    try:
        owner = second.owner()
        job = wait_for(owner, jid, lambda j: j["state"] == "done", timeout=120)
        assert job["step"] == 12
        log = (settings.jobs_dir / f"{jid}.log").read_text()
        assert log.count("-m artforge train") == 2 and "artforge train --resume" in log
    finally:
        second.close()


def test_jobs_lost_before_a_checkpoint_are_marked_interrupted_and_failures_are_reported(tmp_path, art):
    settings = job_settings(tmp_path / "data")
    s = Studio(settings)
    try:
        owner = s.owner()
        (settings.data_dir / "empty").mkdir()
        body = {"name": "nothing", "data": "empty", "steps": 5, "params": TINY}
        jid = owner.post("/api/jobs", json=body).json()["id"]
        job = wait_for(owner, jid, lambda j: j["state"] == "failed")
        assert job["error"] and "\n" not in job["error"] and "image" in job["error"], job
        # a job the database says is running, with no checkpoint (the studio died during its start)
        (settings.data_dir / "art").mkdir()
        for i in range(8):
            art(i, 24).save(settings.data_dir / "art" / f"a{i}.png")
        owner.post(f"/api/jobs/{jid}/pause")
        lost = owner.post("/api/jobs", json={"name": "lost", "data": "art", "steps": 3, "params": TINY}).json()["id"]
        owner.post(f"/api/jobs/{lost}/pause")
    finally:
        s.close()
    with sqlite3.connect(settings.db_path) as c:
        c.execute("UPDATE jobs SET status = 'running', pid = 999999999 WHERE id = ?", (lost,))
    (settings.runs_dir / "lost").mkdir()
    s = Studio(settings)
    try:
        owner = s.owner()
        job = owner.get(f"/api/jobs/{lost}").json()
        assert job["state"] == "interrupted" and "first checkpoint" in job["error"]
        owner.post(f"/api/jobs/{lost}/resume")
        assert wait_for(owner, lost, lambda j: j["state"] == "done")["step"] == 3
    finally:
        s.close()


def test_bad_jobs_are_refused_with_one_line(jobs_studio, tmp_path):
    s = jobs_studio
    owner = s.owner()
    viewer = s.user(owner, "vera", "viewer")
    (tmp_path / "outside").mkdir()
    ok = {"kind": "train", "name": "fine", "data": "art", "steps": 5, "params": TINY}
    cases = [
        ({"name": "../escape"}, 400, "name"), ({"name": "a/b"}, 400, "name"), ({"name": "starter"}, 400, "name"),
        ({"name": ".hidden"}, 400, "name"), ({"name": ""}, 422, "name"),
        ({"data": "../outside"}, 400, "outside"), ({"data": "/etc"}, 400, "outside"),
        ({"data": "nowhere"}, 404, "no folder"), ({"data": "u0123456789abcdef"}, 404, "no upload"),
        ({"kind": "sing"}, 422, "kind"), ({"kind": "generate"}, 422, "kind generate"),
        ({"name": None}, 422, "name"), ({"steps": 0}, 422, "steps"), ({"steps": "many"}, 422, "steps"),
        ({"params": {"data.path": "/etc"}}, 422, "not a setting"), ({"params": {"nonsense": 1}}, 422, "not a setting"),
        ({"params": {"resolution": 17}}, 422, "data.resolution"), ({"params": {"preset": "huge"}}, 422, "preset"),
        ({"params": {"batch_size": 6, "accumulate": 4}}, 422, "batch_size"),
        ({"params": {"init_from": "../../x"}}, 400, "starter"), ({"params": {"lr_g": [1]}}, 422, "params"),
        ({"surprise": 1}, 422, "surprise"),
    ]
    for change, status, word in cases:
        r = owner.post("/api/jobs", json={**ok, **change})
        assert r.status_code == status and word in r.json()["detail"], (change, r.status_code, r.text)
        assert "\n" not in r.json()["detail"]
    r = owner.post("/api/jobs", content=b"{not json", headers={"content-type": "application/json"})
    assert r.status_code == 422
    assert viewer.post("/api/jobs", json=ok).status_code == 403
    assert owner.get("/api/jobs").json() == {"items": []}
    r = owner.post("/api/jobs", json=ok)
    assert r.status_code == 201
    owner.post(f"/api/jobs/{r.json()['id']}/cancel")
    r = owner.post("/api/jobs", json=ok)
    assert r.status_code == 409 and "exists already" in r.json()["detail"]
    for path in ("/api/jobs/999", "/api/jobs/999/events"):
        assert owner.get(path).status_code == 404
    for verb in ("pause", "resume", "cancel"):
        assert owner.post(f"/api/jobs/999/{verb}").status_code == 404
    assert viewer.get("/api/jobs").status_code == 200


def test_junk_never_gets_a_5xx(jobs_studio):
    owner = jobs_studio.owner()
    long_part = "x" * 300
    bodies = [[], {}, "text", 1, None, {"name": 1}, {"name": "n", "data": "art", "steps": 1e308},
              {"name": "n", "data": "art", "steps": -1, "params": []},
              {"name": "n", "data": "art", "steps": 2, "params": {"a": {"b": 1}}},
              {"name": "n", "data": "art", "steps": 2, "params": {"resolution": float("inf")}},
              {"name": "n", "data": "art", "steps": 2, "params": {"resolution": "NaN", "lr_g": float("nan")}},
              {"name": "n", "data": "\x00", "steps": 2}, {"name": "n", "data": long_part, "steps": 2},
              {"name": "n", "data": f"art/{long_part}/{long_part}", "steps": 2},
              {"name": "n\x00", "data": "art", "steps": 2}, {"name": "n", "data": "art", "steps": 2, "params":
                                                             {"init_from": long_part}},
              {"name": "n", "data": "art", "steps": 2, "params": {"background": "#zzzzzz", "crop": "sideways"}}]
    for body in bodies:
        r = owner.post("/api/jobs", content=json.dumps(body), headers={"content-type": "application/json"})
        assert 400 <= r.status_code < 500, (body, r.status_code, r.text)
    for body in ([], {"offsets": [1e308, -1e308]}, {"seed": 2**63}, {"truncation": "NaN"}, {"offsets": "1,2"},
                 {"model": long_part}, {"model": "\x00"}, {"offsets": [None]}):
        for path in ("/api/explore", "/api/explore/save"):
            r = owner.post(path, content=json.dumps(body), headers={"content-type": "application/json"})
            assert 400 <= r.status_code < 500, (path, body, r.status_code, r.text)
    for path in ("/api/jobs/abc", "/api/jobs/99999999999999999999999", "/api/jobs/-1/events",
                 f"/api/models/{long_part}/directions", "/api/models/starter/directions?k=99999999999999999999"):
        assert 400 <= owner.get(path).status_code < 500, path
    for path in ("/api/jobs/abc/pause", "/api/jobs/99999999999999999999999/cancel"):
        assert 400 <= owner.post(path).status_code < 500, path
    assert owner.get("/api/jobs").json() == {"items": []}


def test_a_long_generation_runs_in_chunks_pauses_and_survives_a_restart(tmp_path):
    settings = job_settings(tmp_path / "data")
    s = Studio(settings)
    try:
        owner = s.owner()
        viewer = s.user(owner, "vera", "viewer")
        body = {"kind": "generate", "params": {"model": "starter", "n": 100, "seed": 1000, "truncation": 0.9}}
        assert viewer.post("/api/jobs", json=body).status_code == 403
        for params, status in (({"n": 0}, 422), ({"model": "nothing"}, 404), ({"colour": 1}, 422),
                               ({"n": 10**6}, 422), ({"model": "../x"}, 400)):
            r = owner.post("/api/jobs", json={"kind": "generate", "params": params})
            assert r.status_code == status, (params, r.text)
        job = owner.post("/api/jobs", json=body).json()
        assert job["kind"] == "generate" and job["steps"] == 100 and job["name"] == "starter"
        assert owner.post(f"/api/jobs/{job['id']}/pause").json()["state"] in ("paused", "pausing")
        job = wait_for(owner, job["id"], lambda j: j["state"] == "paused")
        assert job["step"] < 100
    finally:
        s.close()
    with sqlite3.connect(settings.db_path) as c:        # as if the studio had died while it ran
        c.execute("UPDATE jobs SET status = 'running' WHERE id = ?", (job["id"],))
    s = Studio(settings)
    try:
        owner = s.client()                               # anyone signed in sees it; vera has a password
        assert owner.post("/api/login", json={"username": "vera", "password": PASSWORD}).status_code == 200
        done = wait_for(owner, job["id"], lambda j: j["state"] == "done")
        assert done["step"] == 100 and done["sample_url"].startswith("/api/artworks/")
        arts = owner.get("/api/artworks", params={"limit": 500}).json()
        assert arts["total"] == 100
        assert sorted(a["seed"] for a in arts["items"]) == list(range(1000, 1100))   # no gaps, no repeats
        mid = next(a for a in arts["items"] if a["seed"] == 1077)
        assert mid["recipe"]["pipeline"] == "generate" and mid["author"] == "owner"
        src = tmp_path / "mid.png"
        src.write_bytes(owner.get(f"/api/artworks/{mid['id']}/download").content)
        from artforge.pipelines.replay import replay
        assert replay(src, tmp_path / "again.png")[1] is True
    finally:
        s.close()


def zip_upload(client, art, n=8) -> str:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for i in range(n):
            b = io.BytesIO()
            art(i, 24).save(b, format="PNG")
            z.writestr(f"pics/{i}.png", b.getvalue())
    r = client.post("/api/uploads", files={"file": ("pics.zip", buf.getvalue())})
    assert r.status_code == 201, r.text
    return r.json()["upload"]


def test_editors_train_only_on_their_own_uploads_or_the_builtin_set(jobs_studio, art):
    s = jobs_studio
    owner = s.owner()
    editor = s.user(owner, "eddie", "editor")
    theirs = zip_upload(owner, art)
    job = {"kind": "train", "name": "e", "steps": 2, "params": TINY}
    for data in ("uploads", "objects", ".", "art", f"uploads/{theirs}"):
        r = editor.post("/api/jobs", json={**job, "data": data})
        assert r.status_code == 403 and r.json()["detail"] == (
            "data: an editor trains on one of their own uploads (POST /api/uploads) or 'builtin'; "
            "folders of the data dir are for owners"), (data, r.text)
    r = editor.post("/api/jobs", json={**job, "data": theirs})
    assert r.status_code == 404 and r.json()["detail"] == f"data: no upload {theirs!r} of yours", r.text
    assert owner.get("/api/jobs").json() == {"items": []}


def test_owners_train_on_folders_of_the_data_dir_but_never_the_studios_own(jobs_studio):
    owner = jobs_studio.owner()
    job = {"kind": "train", "name": "o", "steps": 2, "params": TINY}
    for data in ("uploads", "objects", ".", "runs", "jobs/..", "tmp"):
        r = owner.post("/api/jobs", json={**job, "data": data})
        assert r.status_code == 400 and "is the studio's own folder" in r.json()["detail"], (data, r.text)
    assert owner.get("/api/jobs").json() == {"items": []}


def test_others_see_neither_upload_ids_nor_controls_of_a_job(jobs_studio, art):
    s = jobs_studio
    owner = s.owner()
    editor = s.user(owner, "eddie", "editor")
    other = s.user(owner, "olga", "editor")
    viewer = s.user(owner, "vera", "viewer")
    up = zip_upload(editor, art)
    jid = editor.post("/api/jobs", json={"name": "mine", "data": up, "steps": 1, "params": TINY}).json()["id"]
    seen = {name: c.get(f"/api/jobs/{jid}").json() for name, c in
            (("editor", editor), ("owner", owner), ("other", other), ("viewer", viewer))}
    assert {k: (j["data"], j["can_control"]) for k, j in seen.items()} == {
        "editor": (up, True), "owner": (up, True), "other": ("upload", False), "viewer": ("upload", False)}
    assert [(j["data"], j["can_control"]) for j in viewer.get("/api/jobs").json()["items"]] == [("upload", False)]
    assert up not in json.dumps(viewer.get("/api/jobs").json())


@pytest.mark.parametrize("params, field", [
    ({"truncation": float("nan")}, "truncation"), ({"truncation": float("inf")}, "truncation"),
    ({"n": True}, "n"), ({"seed": 1.0}, "seed"), ({"no_copies": "yes"}, "no_copies"), ({"model": 1}, "model"),
    ({"n": 0}, "n"), ({"colour": "red"}, "colour")])
def test_generate_jobs_take_exactly_what_api_generate_takes(jobs_studio, params, field):
    owner = jobs_studio.owner()
    as_json = {"content-type": "application/json"}                  # NaN and Infinity as Python's json writes them
    job = owner.post("/api/jobs", content=json.dumps({"kind": "generate", "params": params}), headers=as_json)
    now = owner.post("/api/generate", content=json.dumps(params), headers=as_json)
    assert (job.status_code, now.status_code) == (422, 422), (job.text, now.text)
    assert job.json()["detail"].startswith(f"params.{field}: ") or job.json()["detail"].startswith(f"{field}: ")
    assert job.json()["detail"].split(": ", 1)[1] == now.json()["detail"].split(": ", 1)[1]
    assert owner.get("/api/jobs").json() == {"items": []}


@pytest.mark.parametrize("params, message", [
    ({"lr_g": 1e300}, "params: gan.lr_g=1e+300 is out of range [0, 1]"),
    ({"gan.beta1": 1.5}, "params: gan.beta1=1.5 is out of range [0, 0.9999]"),
    ({"batch_size": True}, "params: train.batch_size must be an integer, got true"),
    ({"hflip": "yes"}, "params: data.hflip must be true or false, got 'yes'"),
    ({"resolution": 16.0}, "params: data.resolution must be an integer, got 16.0"),
    ({"preset": 3}, "params: model.preset must be a text, got 3"),
    ({"lr_d": False}, "params: gan.lr_d must be a number, got false")])
def test_train_settings_are_checked_strictly_before_queueing(jobs_studio, params, message):
    owner = jobs_studio.owner()
    r = owner.post("/api/jobs", json={"name": "t", "data": "art", "steps": 2, "params": {**TINY, **params}})
    assert r.status_code == 422 and r.json()["detail"] == message, r.text
    assert owner.get("/api/jobs").json() == {"items": []}


def test_a_generate_chunk_and_its_count_are_one_transaction(tmp_path):
    settings = job_settings(tmp_path / "data")
    s = Studio(settings)
    try:
        owner = s.owner()
        with sqlite3.connect(settings.db_path) as c:       # the count's write fails, as if killed right before it
            c.execute("CREATE TRIGGER killed BEFORE UPDATE OF progress ON jobs "
                      "BEGIN SELECT RAISE(ABORT, 'killed'); END")
        jid = owner.post("/api/jobs", json={"kind": "generate", "params": {"n": 40, "seed": 7,
                                                                             "no_copies": False}}).json()["id"]
        wait_for(owner, jid, lambda j: j["state"] == "failed")
        assert owner.get("/api/artworks").json()["total"] == 0          # the chunk went with its count
        with sqlite3.connect(settings.db_path) as c:
            c.execute("DROP TRIGGER killed")
            c.execute("UPDATE jobs SET status = 'paused' WHERE id = ?", (jid,))
        owner.post(f"/api/jobs/{jid}/resume")
        assert wait_for(owner, jid, lambda j: j["state"] == "done")["step"] == 40
        arts = owner.get("/api/artworks", params={"limit": 500}).json()
        assert sorted(a["seed"] for a in arts["items"]) == list(range(7, 47))
    finally:
        s.close()


def test_a_pause_asked_just_before_the_studio_stops_is_kept_after_the_restart(tmp_path):
    settings = job_settings(tmp_path / "data")
    s = Studio(settings)
    try:
        owner = s.owner()
        jid = owner.post("/api/jobs", json={"kind": "generate", "params": {"n": 4096, "no_copies": False}}).json()["id"]
        wait_for(owner, jid, lambda j: j["state"] == "running")
        assert owner.post(f"/api/jobs/{jid}/pause").json()["state"] == "pausing"
    finally:
        s.close()                                   # the worker may stop for the pause or for the shutdown
    s = Studio(settings)
    try:
        job = s.owner().get(f"/api/jobs/{jid}").json()
        assert job["state"] == "paused" and job["step"] < 4096
    finally:
        s.close()
