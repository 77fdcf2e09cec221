"""The Models page in a real headless Chromium (the fixtures of test_browser.py: one uvicorn server on
127.0.0.1 and one browser for the module): a run whose trainer died is listed as failed and deleted after a
confirmation; a run a paused job needs cannot be deleted and says why; editors get Delete only on their own
runs; uploads are deleted from the same page."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import time

from conftest import PASSWORD
from test_browser import _zip_of_pictures, browser_context, live, page, sync_api  # noqa: F401

from artforge.models.pretrained import starter_dir
from artforge.studio.store import now_iso

expect = sync_api.expect
TINY = {"resolution": 16, "batch_size": 4, "preset": "tiny", "kid_every": 0, "log_every": 1}


def open_models(pg, name: str | None = None) -> None:
    pg.goto(pg.url.split("#")[0] + "#/models" + (f"/{name}" if name else ""))
    expect(pg.locator("#models-title")).to_be_visible()


def entry(pg, name: str):
    return pg.get_by_role("listitem").filter(has=pg.get_by_role("link", name=re.compile(rf"^{re.escape(name)}\b")))


def make_run(live, name: str):  # noqa: F811
    """A run folder holding the starter's weights (a stand-in for a trained run)."""
    run = live.settings.runs_dir / name
    run.mkdir(parents=True)
    for f in ("config.json", "model.safetensors"):
        shutil.copy(starter_dir() / f, run / f)
    return run


def add_job(live, author: int, status: str, name: str) -> int:  # noqa: F811
    """A train job row in a state the queue's worker never picks up."""
    spec = {"data": "builtin", "data_path": "builtin", "steps": 5, "params": {}, "overrides": []}
    with live.app.state.studio.store.tx() as c:
        return int(c.execute("INSERT INTO jobs (kind, status, params, owner, created, updated, name, seq) VALUES "
                             "('train', ?, ?, ?, ?, ?, ?, 1)", (status, json.dumps(spec), author, now_iso(), now_iso(),
                                                               name)).lastrowid)


def crashed_run(live, name: str) -> int:  # noqa: F811
    """A real training job whose trainer is killed (SIGKILL) after its first steps: the job fails, and its run
    folder stays with what the trainer had written."""
    queue = live.app.state.studio.jobs
    jid = queue.submit_train(1, name, "art", 1_000_000, TINY, folders=True)["id"]
    deadline = time.monotonic() + 90
    while (job := queue.get(jid))["step"] < 1 or job["state"] != "running":
        assert time.monotonic() < deadline and job["state"] in ("queued", "running"), job
        time.sleep(0.1)
    with live.app.state.studio.store.read() as c:
        pid = c.execute("SELECT pid FROM jobs WHERE id = ?", (jid,)).fetchone()[0]
    os.kill(pid, signal.SIGKILL)
    while queue.get(jid)["state"] != "failed":
        assert time.monotonic() < deadline, queue.get(jid)
        time.sleep(0.1)
    return jid


def sign_in_as_editor(pg, live, username: str) -> None:  # noqa: F811
    """`username`, a new editor, signed in in this page (the owner's session cookie is replaced)."""
    live.app.state.studio.accounts.create_user(username, "editor", PASSWORD)
    pg.context.clear_cookies()
    r = pg.request.post(live.url + "/api/login", data={"username": username, "password": PASSWORD})
    assert r.status == 200, r.text()
    pg.reload()
    expect(pg.get_by_text(f"{username} · editor")).to_be_visible()


def test_a_crashed_run_is_listed_as_failed_and_deleted_after_a_confirmation(page, live):  # noqa: F811
    jid = crashed_run(live, "crashed")
    run = live.settings.runs_dir / "crashed"
    assert run.is_dir()
    open_models(page)
    item = entry(page, "crashed")
    expect(item.locator(".badge.failed")).to_have_text("failed")
    item.get_by_role("link").click()
    facts = page.locator("dl.facts")
    expect(facts).to_contain_text(f"Trainingfailed (job {jid})")
    expect(facts).to_contain_text("Started byowner")
    delete = page.get_by_role("button", name="Delete run crashed")
    delete.click()
    confirm = page.get_by_role("dialog", name="Delete this run?")
    expect(confirm).to_contain_text("Delete run crashed? Its folder (weights, checkpoints, samples) and its job are "
                                    "removed for everyone. Pictures made with it stay in the gallery.")
    confirm.get_by_role("button", name="Cancel").click()
    expect(confirm).to_be_hidden()
    assert run.is_dir()
    delete.click()
    confirm.get_by_role("button", name="Delete").click()
    expect(page.get_by_role("status").filter(has_text="Deleted run crashed.")).to_be_visible()
    expect(entry(page, "crashed")).to_have_count(0)
    expect(page).to_have_url(re.compile(r"#/models$"))
    assert not run.exists() and list(live.settings.tmp_dir.iterdir()) == []
    page.get_by_role("link", name="Jobs").click()
    expect(page.get_by_role("link", name="crashed")).to_have_count(0)


def test_a_run_a_paused_job_needs_says_why_delete_is_off_and_the_starter_has_none(page, live):  # noqa: F811
    make_run(live, "resting")
    jid = add_job(live, 1, "paused", "resting")
    open_models(page, "resting")
    expect(entry(page, "resting").locator(".badge.paused")).to_have_text("paused")
    expect(page.get_by_role("button", name="Delete run resting")).to_be_disabled()
    expect(page.locator("#model-in-use")).to_have_text(
        f"Cannot be deleted now: job {jid} (training it) is paused; cancel it first, then delete the run.")
    open_models(page, "starter")
    expect(page.get_by_role("heading", name="starter", level=2)).to_be_visible()
    expect(page.get_by_role("button", name=re.compile("^Delete run"))).to_have_count(0)


def test_an_editor_gets_delete_on_their_own_runs_only(page, live):  # noqa: F811
    sign_in_as_editor(page, live, "edna")
    edna = live.app.state.studio.accounts.users()
    edna_id = next(u["id"] for u in edna if u["username"] == "edna")
    make_run(live, "ednas-run")
    add_job(live, edna_id, "cancelled", "ednas-run")
    make_run(live, "owners-run")
    add_job(live, 1, "done", "owners-run")
    open_models(page, "owners-run")
    expect(page.get_by_role("heading", name="owners-run", level=2)).to_be_visible()
    expect(page.get_by_role("button", name="Delete run owners-run")).to_have_count(0)
    open_models(page, "ednas-run")
    page.get_by_role("button", name="Delete run ednas-run").click()
    page.get_by_role("dialog", name="Delete this run?").get_by_role("button", name="Delete").click()
    expect(entry(page, "ednas-run")).to_have_count(0)
    expect(entry(page, "owners-run")).to_have_count(1)
    assert (live.settings.runs_dir / "owners-run" / "model.safetensors").is_file()


def test_an_upload_is_deleted_from_the_models_page(page, live):  # noqa: F811
    r = page.request.post(live.url + "/api/uploads", headers={"X-CSRF-Token": page.evaluate(
        "document.cookie.match(/artforge_csrf=([^;]*)/)[1]")},
        multipart={"file": {"name": "pics.zip", "mimeType": "application/zip", "buffer": _zip_of_pictures(3)}})
    assert r.status == 201, r.text()
    up = r.json()["upload"]
    open_models(page)
    uploads = page.get_by_role("list", name="Uploads")
    row = uploads.get_by_role("listitem").filter(has_text=up)
    expect(row).to_contain_text("3 images")
    row.get_by_role("button", name=f"Delete upload {up}").click()
    page.get_by_role("dialog", name="Delete this upload?").get_by_role("button", name="Delete").click()
    expect(page.get_by_role("status").filter(has_text=f"Deleted upload {up}.")).to_be_visible()
    expect(uploads.get_by_role("listitem").filter(has_text=up)).to_have_count(0)
    assert not (live.settings.uploads_dir / up).exists()
