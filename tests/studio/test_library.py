"""Deleting runs and uploads (DELETE /api/models/NAME, GET and DELETE /api/uploads): who may, when an
unfinished job refuses it, what stays (the pictures made with a run), and that a crash never leaves half a
run listed. Job rows in states the worker never picks up (paused, interrupted, running, failed) are written
straight into the studio's database; one test drives a real trainer."""

from __future__ import annotations

import contextlib
import json
import shutil
import sqlite3

import pytest
from test_jobs import TINY, job_settings, wait_for, zip_upload

from artforge.io.weights import file_sha256
from artforge.models.pretrained import starter_dir
from artforge.studio import removal
from artforge.studio.store import now_iso
from conftest import Studio


def make_run(studio, name: str):
    """A run folder holding the starter's weights (a stand-in for a trained run)."""
    run = studio.settings.runs_dir / name
    (run / "samples").mkdir(parents=True)
    for f in ("config.json", "model.safetensors"):
        shutil.copy(starter_dir() / f, run / f)
    return run


def add_job(studio, author: int | None, status: str, name: str | None = None, kind: str = "train",
            data: str = "builtin", stop: str | None = None, params: dict | None = None) -> int:
    """A job row as the queue writes one (the worker only ever picks up 'queued' ones)."""
    spec = ({"model": name, "n": 10, "seed": 0, "truncation": 1.0, "no_copies": False, "steps": 10,
             "params": params or {"model": name}} if kind == "generate" else
            {"data": data, "data_path": data, "steps": 5, "params": params or {}, "overrides": []})
    with studio.app.state.studio.store.tx() as c:
        t = now_iso()
        jid = c.execute("INSERT INTO jobs (kind, status, params, owner, created, updated, name, seq, stop, error) "
                        "VALUES (?, ?, ?, ?, ?, ?, ?, 1, ?, ?)",
                        (kind, status, json.dumps(spec), author, t, t, None if kind == "generate" else name, stop,
                         "error: the trainer ran out of memory" if status == "failed" else None)).lastrowid
    (studio.settings.jobs_dir / f"{jid}.log").write_text("trainer output\n")
    return int(jid)


def uid(client) -> int:
    return client.get("/api/me").json()["id"]


def names(client) -> list[str]:
    return [m["name"] for m in client.get("/api/models").json()]


def job_names(client) -> list[str]:
    return [j["name"] for j in client.get("/api/jobs").json()["items"]]


@pytest.fixture
def people(studio, owner, editor, viewer):
    """owner, eddie (editor), olga (another editor), vera (viewer)."""
    return {"owner": owner, "eddie": editor, "olga": studio.user(owner, "olga", "editor"), "vera": viewer}


# -- listing -------------------------------------------------------------------------------------------------


def test_a_failed_run_is_listed_with_its_state_author_error_and_who_may_delete_it(studio, people):
    make_run(studio, "broken")
    jid = add_job(studio, uid(people["eddie"]), "failed", "broken")
    seen = {who: {m["name"]: m for m in c.get("/api/models").json()} for who, c in people.items()}
    run = seen["owner"]["broken"]
    assert (run["job"], run["state"], run["author"], run["error"], run["in_use"], run["shipped"]) == (
        jid, "failed", "eddie", "error: the trainer ran out of memory", None, False)
    assert {who: m["broken"]["can_delete"] for who, m in seen.items()} == {
        "owner": True, "eddie": True, "olga": False, "vera": False}
    assert {who: (m["starter"]["shipped"], m["starter"]["can_delete"]) for who, m in seen.items()} == {
        who: (True, False) for who in people}


def test_a_run_an_unfinished_job_needs_says_why_it_cannot_be_deleted_now(studio, people):
    make_run(studio, "held")
    jid = add_job(studio, uid(people["eddie"]), "paused", "held")
    held = people["eddie"].get("/api/models/held").json()
    assert (held["state"], held["can_delete"], held["in_use"]) == (
        "paused", True, f"job {jid} (training it) is paused; cancel it first, then delete the run")


# -- deleting a run --------------------------------------------------------------------------------------------


def test_an_editor_deletes_a_failed_run_they_started_with_its_jobs_and_logs(studio, people):
    eddie = people["eddie"]
    run = make_run(studio, "broken")
    jid = add_job(studio, uid(eddie), "failed", "broken")
    r = eddie.delete("/api/models/broken")
    assert r.status_code == 204, r.text
    assert not run.exists() and names(eddie) == ["starter"]
    assert eddie.get("/api/models/broken").status_code == 404
    assert job_names(eddie) == [] and not (studio.settings.jobs_dir / f"{jid}.log").exists()
    assert list(studio.settings.tmp_dir.iterdir()) == []          # nothing left in the trash either


def test_an_owner_deletes_anyones_run(studio, people):
    run = make_run(studio, "theirs")
    add_job(studio, uid(people["eddie"]), "cancelled", "theirs")
    assert people["owner"].delete("/api/models/theirs").status_code == 204
    assert not run.exists() and names(people["owner"]) == ["starter"]


def test_another_editor_cannot_delete_a_run_and_it_stays(studio, people):
    run = make_run(studio, "broken")
    add_job(studio, uid(people["eddie"]), "failed", "broken")
    r = people["olga"].delete("/api/models/broken")
    assert r.status_code == 403 and r.json()["detail"] == "run 'broken' was started by eddie; only they or an owner " \
                                                          "can delete it"
    r = people["vera"].delete("/api/models/broken")
    assert r.status_code == 403 and r.json()["detail"] == "vera is a viewer; this needs editor rights"
    assert (run / "model.safetensors").is_file() and "broken" in names(people["owner"])
    assert job_names(people["owner"]) == ["broken"]


def test_a_run_not_started_in_the_studio_is_an_owners_to_delete(studio, people):
    run = make_run(studio, "from-the-cli")
    r = people["eddie"].delete("/api/models/from-the-cli")
    assert r.status_code == 403 and r.json()["detail"] == "run 'from-the-cli' was not started by you; only an " \
                                                          "owner can delete it"
    assert run.is_dir()
    assert people["owner"].delete("/api/models/from-the-cli").status_code == 204 and not run.exists()


@pytest.mark.parametrize("name", ["starter", "starter:melody-2bar", "starter:style-arbitrary"])
def test_the_shipped_models_cannot_be_deleted(studio, owner, name):
    r = owner.delete(f"/api/models/{name}")
    assert r.status_code == 403 and r.json()["detail"] == f"model {name!r} ships with artforge and cannot be deleted"
    assert (starter_dir() / "model.safetensors").is_file() and "starter" in names(owner)


@pytest.mark.parametrize("status, stop, shown", [("running", None, "running"), ("running", "cancel", "cancelling"),
                                                 ("paused", None, "paused"), ("interrupted", None, "interrupted")])
def test_a_run_with_an_unfinished_job_is_a_409_and_stays(studio, owner, status, stop, shown):
    run = make_run(studio, "busy")
    jid = add_job(studio, uid(owner), status, "busy", stop=stop)
    r = owner.delete("/api/models/busy")
    assert r.status_code == 409 and r.json()["detail"] == (
        f"run 'busy' cannot be deleted now: job {jid} (training it) is {shown}; cancel it first, then delete the run")
    assert (run / "model.safetensors").is_file() and job_names(owner) == ["busy"]


def test_a_run_a_generate_job_is_using_is_a_409(studio, owner):
    make_run(studio, "painter")
    jid = add_job(studio, uid(owner), "paused", "painter", kind="generate")
    r = owner.delete("/api/models/painter")
    assert r.status_code == 409 and r.json()["detail"] == (
        f"run 'painter' cannot be deleted now: job {jid} (making pictures with it) is paused; cancel it first, "
        "then delete the run")


def test_a_run_another_run_starts_from_is_a_409(studio, owner):
    make_run(studio, "base")
    make_run(studio, "finetune")
    jid = add_job(studio, uid(owner), "paused", "finetune", params={"init_from": "base"})
    r = owner.delete("/api/models/base")
    assert r.status_code == 409 and r.json()["detail"] == (
        f"run 'base' cannot be deleted now: job {jid} (starting run 'finetune' from it) is paused; cancel it "
        "first, then delete the run")


def test_names_are_checked_and_a_link_goes_without_what_it_points_at(studio, owner, tmp_path):
    runs = studio.settings.runs_dir
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "keep.txt").write_text("mine")
    (runs / "out").symlink_to(outside)
    target = make_run(studio, "real")
    (runs / "alias").symlink_to(target)
    assert owner.delete("/api/models/out").status_code == 400
    assert owner.delete("/api/models/.hidden").status_code == 400
    assert owner.delete("/api/models/nothing-here").json()["detail"].startswith("model 'nothing-here' not found")
    assert owner.delete("/api/models/alias").status_code == 204
    assert not (runs / "alias").is_symlink() and (target / "model.safetensors").is_file()
    assert (outside / "keep.txt").read_text() == "mine" and (runs / "out").is_symlink()


def test_pictures_made_with_a_deleted_run_stay_with_its_hash(studio, owner):
    run = make_run(studio, "gone-soon")
    sha = file_sha256(run / "model.safetensors")
    art = owner.post("/api/generate", json={"model": "gone-soon", "n": 1, "seed": 3}).json()["artworks"][0]
    assert owner.delete("/api/models/gone-soon").status_code == 204
    kept = owner.get(f"/api/artworks/{art['id']}").json()
    assert (kept["model"], kept["recipe"]["model"]["name"], kept["recipe"]["model"]["sha256"]) == ("gone-soon",
                                                                                                   "gone-soon", sha)
    image = owner.get(kept["image_url"])
    assert image.status_code == 200 and image.headers["content-type"] == "image/png"
    r = owner.post("/api/generate", json={"model": "gone-soon", "n": 1, "seed": 3})
    assert r.status_code == 404                              # the model itself is gone, and not from a cache


def test_a_crash_after_the_rename_leaves_no_listed_run_and_the_next_start_clears_the_trash(studio, owner,
                                                                                            monkeypatch):
    make_run(studio, "halfway")
    add_job(studio, uid(owner), "failed", "halfway")

    def killed(moved):
        raise KeyboardInterrupt("killed before the moved folder was removed")

    monkeypatch.setattr(removal, "discard", killed)
    me = studio.app.state.studio.accounts.user(uid(owner))
    with pytest.raises(KeyboardInterrupt):
        removal.remove_run(studio.app.state.studio, me, "halfway")
    trash = list(studio.settings.tmp_dir.iterdir())
    assert [p.name.startswith("deleted-run-halfway-") for p in trash] == [True]
    assert names(owner) == ["starter"] and job_names(owner) == []
    studio.close()
    again = Studio(studio.settings)                          # the next start
    try:
        assert list(studio.settings.tmp_dir.iterdir()) == []
    finally:
        again.close()


def test_a_deletion_whose_commit_fails_puts_the_run_back(studio, owner, monkeypatch):
    run = make_run(studio, "kept")
    jid = add_job(studio, uid(owner), "failed", "kept")
    store = studio.app.state.studio.store
    real_tx = store.tx

    @contextlib.contextmanager
    def failing_tx():
        with real_tx() as c:
            yield c
            raise sqlite3.OperationalError("disk I/O error")     # as if COMMIT failed: the tx rolls back

    monkeypatch.setattr(store, "tx", failing_tx)
    me = studio.app.state.studio.accounts.user(uid(owner))
    with pytest.raises(sqlite3.OperationalError):
        removal.remove_run(studio.app.state.studio, me, "kept")
    monkeypatch.undo()
    assert (run / "model.safetensors").is_file() and list(studio.settings.tmp_dir.iterdir()) == []
    assert [j["id"] for j in owner.get("/api/jobs").json()["items"]] == [jid]
    assert (studio.settings.jobs_dir / f"{jid}.log").is_file()


# -- uploads ---------------------------------------------------------------------------------------------------


def test_uploads_are_listed_to_whoever_made_them_and_to_owners(studio, people, art):
    mine = zip_upload(people["eddie"], art, n=3)
    theirs = zip_upload(people["olga"], art, n=2)
    listed = {who: [(u["id"], u["owner"], u["images"]) for u in people[who].get("/api/uploads").json()["items"]]
              for who in ("eddie", "olga", "owner")}
    assert listed["eddie"] == [(mine, "eddie", 3)] and listed["olga"] == [(theirs, "olga", 2)]
    assert sorted(listed["owner"]) == sorted([(mine, "eddie", 3), (theirs, "olga", 2)])
    assert people["vera"].get("/api/uploads").status_code == 403


def test_an_editor_deletes_their_own_upload_but_never_anothers(studio, people, art):
    up = zip_upload(people["eddie"], art)
    folder = studio.settings.uploads_dir / up
    r = people["olga"].delete(f"/api/uploads/{up}")
    assert r.status_code == 404 and r.json()["detail"] == f"no upload {up!r} of yours"
    assert len(list(folder.iterdir())) == 8
    assert people["eddie"].delete(f"/api/uploads/{up}").status_code == 204
    assert not folder.exists() and people["owner"].get("/api/uploads").json() == {"items": []}
    r = people["eddie"].post("/api/jobs", json={"name": "late", "data": up, "steps": 2, "params": TINY})
    assert r.status_code == 404 and r.json()["detail"] == f"data: no upload {up!r} of yours"


def test_an_owner_deletes_anyones_upload(studio, people, art):
    up = zip_upload(people["eddie"], art)
    assert people["owner"].delete(f"/api/uploads/{up}").status_code == 204
    assert not (studio.settings.uploads_dir / up).exists()
    assert people["eddie"].get("/api/uploads").json() == {"items": []}


def test_an_upload_an_unfinished_job_trains_on_is_a_409(studio, people, art):
    eddie = people["eddie"]
    up = zip_upload(eddie, art)
    jid = add_job(studio, uid(eddie), "paused", "on-it", data=up)
    listed = eddie.get("/api/uploads").json()["items"][0]
    why = f"job {jid} (training run 'on-it' on it) is paused; cancel it first, then delete the upload"
    assert listed["in_use"] == why
    r = eddie.delete(f"/api/uploads/{up}")
    assert r.status_code == 409 and r.json()["detail"] == f"upload {up!r} cannot be deleted now: {why}"
    assert len(list((studio.settings.uploads_dir / up).iterdir())) == 8


@pytest.mark.parametrize("bad", ["x", "u123", "u0123456789abcdeg", "U0123456789ABCDEF", "u0123456789abcdef0"])
def test_upload_ids_of_the_wrong_shape_are_404(owner, bad):
    r = owner.delete(f"/api/uploads/{bad}")
    assert r.status_code == 404 and r.json()["detail"] == f"no upload {bad!r}: upload ids look like u0123456789abcdef"


def test_an_upload_that_does_not_exist_is_404(owner):
    r = owner.delete("/api/uploads/u0123456789abcdef")
    assert r.status_code == 404 and r.json()["detail"] == "no upload 'u0123456789abcdef'"


# -- with a real trainer ---------------------------------------------------------------------------------------


def test_a_training_run_and_its_upload_are_kept_until_the_job_is_cancelled(tmp_path, art):
    s = Studio(job_settings(tmp_path / "data"))
    try:
        owner = s.owner()
        eddie = s.user(owner, "eddie", "editor")
        up = zip_upload(eddie, art)
        body = {"name": "long", "data": up, "steps": 1_000_000, "params": TINY}
        jid = eddie.post("/api/jobs", json=body).json()["id"]
        wait_for(eddie, jid, lambda j: j["state"] == "running" and j["step"] > 0)
        r = eddie.delete("/api/models/long")
        assert r.status_code == 409 and r.json()["detail"] == (
            f"run 'long' cannot be deleted now: job {jid} (training it) is running; cancel it first, then delete "
            "the run")
        r = eddie.delete(f"/api/uploads/{up}")
        assert r.status_code == 409 and r.json()["detail"] == (
            f"upload {up!r} cannot be deleted now: job {jid} (training run 'long' on it) is running; cancel it "
            "first, then delete the upload")
        eddie.post(f"/api/jobs/{jid}/cancel")
        wait_for(eddie, jid, lambda j: j["state"] == "cancelled")
        assert eddie.delete("/api/models/long").status_code == 204
        assert eddie.delete(f"/api/uploads/{up}").status_code == 204
        assert not (s.settings.runs_dir / "long").exists() and not (s.settings.uploads_dir / up).exists()
        assert names(eddie) == ["starter"] and job_names(eddie) == []
    finally:
        s.close()
