"""Deleting runs and uploads: who may, when, and how a crash never leaves half of one behind.

Who: owners delete any run or upload; an editor deletes the runs they started (the author of the run's
newest train job; a run with no such job, made outside the studio's queue or whose job was removed from
the list, is an owner's to delete) and the uploads they made (the `uploads` table's owner). Another
person's upload is not named to an editor at all: it is a 404, as when training on it.

When: never while a job that needs it is unfinished (queued, running, paused or interrupted): a run's own
train job, a generate job making pictures with it, a train job starting from it (`init_from`), or for an
upload a train job training on it. That is a 409 saying which job, and to cancel it first.

How: in one database transaction the checks are made, the folder is moved out of DATA_DIR/runs (or
uploads) to a new name in DATA_DIR/tmp in one rename, and its rows are dropped (a run's finished train
jobs, so its name can be used again; an upload's row); after the commit the moved folder is removed. A
crash after the rename leaves it in tmp/, which the next start empties: a run is listed whole or not at
all. Pictures made with a deleted model stay in the gallery; their recipes keep its name and SHA-256.
The shipped models are not folders of the data dir and cannot be deleted.

>>> # remove_run(studio, user, "my-failed-run"); remove_upload(studio, user, "u0123456789abcdef")
"""

from __future__ import annotations

import json
import sqlite3

from ..errors import UserError
from .auth import User
from .jobplan import UPLOAD_ID
from .models import NotFound, PathRefused, Protected, discard, inside, move_aside, shipped

UNFINISHED = ("queued", "running", "paused", "interrupted")


class InUse(UserError):
    """An unfinished job needs what was to be deleted (HTTP 409)."""


class NotYours(UserError):
    """The user may not delete it (HTTP 403)."""


def _state(row) -> str:
    """A job's state as the Jobs page shows it (a running job asked to stop is pausing or cancelling)."""
    if row["status"] == "running" and row["stop"]:
        return {"pause": "pausing", "cancel": "cancelling"}.get(row["stop"], "running")
    return row["status"]


# -- runs -------------------------------------------------------------------------------------------------


def run_records(c: sqlite3.Connection) -> dict[str, dict]:
    """{run name: its newest train job} as {job, state, author_id, author, error}."""
    rows = c.execute("SELECT j.id, j.name, j.status, j.stop, j.owner, j.error, u.username FROM jobs j "
                     "LEFT JOIN users u ON u.id = j.owner WHERE j.kind = 'train' ORDER BY j.id").fetchall()
    return {r["name"]: {"job": r["id"], "state": _state(r), "author_id": r["owner"], "author": r["username"],
                        "error": r["error"]} for r in rows}


def _needs(row, spec: dict) -> tuple[str | None, str]:
    """(the run an unfinished job needs, how), or (None, '') when it needs none besides its own."""
    if row["kind"] == "generate":
        return spec.get("model"), "making pictures with it"
    params = spec.get("params") or {}
    start = params.get("train.init_from", params.get("init_from"))
    return (start, f"starting run {row['name']!r} from it") if isinstance(start, str) else (None, "")


def run_uses(c: sqlite3.Connection) -> dict[str, str]:
    """{run name: why it cannot be deleted now} for every run an unfinished job needs."""
    out: dict[str, str] = {}
    rows = c.execute(f"SELECT id, kind, name, status, stop, params FROM jobs WHERE status IN "
                     f"({','.join('?' * len(UNFINISHED))}) ORDER BY id", UNFINISHED).fetchall()
    for r in rows:
        uses = [(r["name"], "training it")] if r["kind"] == "train" else []
        uses.append(_needs(r, json.loads(r["params"])))
        for name, how in uses:
            if name and name not in out:
                out[name] = f"job {r['id']} ({how}) is {_state(r)}; cancel it first, then delete the run"
    return out


def may_delete_run(user: User, record: dict | None) -> bool:
    return user.can("owner") or user.can("editor") and record is not None and record["author_id"] == user.id


def remove_run(studio, user: User, name: str) -> None:
    """Delete run `name` as `user` (see the module's docstring); NotFound, PathRefused, Protected, NotYours or
    InUse when it cannot be."""
    library, store = studio.models, studio.store
    if shipped(name):
        raise Protected(f"model {name!r} ships with artforge and cannot be deleted")
    library.folder(name)                              # refuses a bad name or a missing run before any lock
    moved = None
    try:
        with store.tx() as c:
            record = run_records(c).get(name)
            if not may_delete_run(user, record):
                who = record and record["author"]
                raise NotYours(f"run {name!r} was started by {who}; only they or an owner can delete it" if who
                               else f"run {name!r} was not started by you; only an owner can delete it")
            busy = run_uses(c).get(name)
            if busy:
                raise InUse(f"run {name!r} cannot be deleted now: {busy}")
            jobs = [r[0] for r in c.execute("SELECT id FROM jobs WHERE kind = 'train' AND name = ?", (name,))]
            c.execute("DELETE FROM jobs WHERE kind = 'train' AND name = ?", (name,))
            moved = library.move_aside(name, studio.settings.tmp_dir)     # last: a failed commit puts it back
    except BaseException:
        if moved is not None:
            library.put_back(name, moved)
        raise
    discard(moved)
    for jid in jobs:
        (studio.settings.jobs_dir / f"{jid}.log").unlink(missing_ok=True)


# -- uploads ----------------------------------------------------------------------------------------------


def upload_uses(c: sqlite3.Connection) -> dict[str, str]:
    """{upload id: why it cannot be deleted now} for every upload an unfinished train job trains on."""
    out: dict[str, str] = {}
    rows = c.execute(f"SELECT id, name, status, stop, params FROM jobs WHERE kind = 'train' AND status IN "
                     f"({','.join('?' * len(UNFINISHED))}) ORDER BY id", UNFINISHED).fetchall()
    for r in rows:
        data = json.loads(r["params"]).get("data")
        if isinstance(data, str) and data not in out:
            out[data] = (f"job {r['id']} (training run {r['name']!r} on it) is {_state(r)}; cancel it first, "
                         "then delete the upload")
    return out


def list_uploads(studio, user: User) -> list[dict]:
    """The uploads `user` may see, newest first: an editor's own; an owner's view has every one, also those
    of removed people and old ones with no row (owner None)."""
    settings = studio.settings
    with studio.store.read() as c:
        rows = c.execute("SELECT p.id, p.owner, p.created, p.images, u.username FROM uploads p "
                         "LEFT JOIN users u ON u.id = p.owner ORDER BY p.created DESC, p.id").fetchall()
        uses = upload_uses(c)
    items = [{"id": r["id"], "images": r["images"], "created": r["created"], "owner": r["username"],
              "owner_id": r["owner"]} for r in rows if (settings.uploads_dir / r["id"]).is_dir()]
    if user.can("owner"):
        known = {r["id"] for r in rows}
        folders = sorted(settings.uploads_dir.iterdir()) if settings.uploads_dir.is_dir() else []
        items += [{"id": p.name, "images": None, "created": None, "owner": None, "owner_id": None}
                  for p in folders if UPLOAD_ID.fullmatch(p.name) and p.name not in known and p.is_dir()]
    else:
        items = [i for i in items if i["owner_id"] == user.id]
    return [{**i, "in_use": uses.get(i["id"]), "can_delete": user.can("editor")} for i in items]


def remove_upload(studio, user: User, upload_id: str) -> None:
    """Delete upload `upload_id` (its folder and row) as `user`; NotFound or InUse when it cannot be."""
    settings = studio.settings
    if not isinstance(upload_id, str) or not UPLOAD_ID.fullmatch(upload_id):
        raise NotFound(f"no upload {upload_id[:40]!r}: upload ids look like u0123456789abcdef")
    folder = inside(settings.uploads_dir, upload_id)
    if folder.parent != settings.uploads_dir.resolve():
        raise PathRefused(f"upload {upload_id!r} leads outside the uploads folder")
    moved = None
    try:
        with studio.store.tx() as c:
            row = c.execute("SELECT owner FROM uploads WHERE id = ?", (upload_id,)).fetchone()
            mine = user.can("owner") or row is not None and row["owner"] == user.id
            if not mine or row is None and not folder.is_dir():
                raise NotFound(f"no upload {upload_id!r}" + ("" if user.can("owner") else " of yours"))
            busy = upload_uses(c).get(upload_id)
            if busy:
                raise InUse(f"upload {upload_id!r} cannot be deleted now: {busy}")
            c.execute("DELETE FROM uploads WHERE id = ?", (upload_id,))
            if folder.is_dir():
                moved = move_aside(settings.uploads_dir / upload_id, settings.tmp_dir, f"upload-{upload_id}")
    except BaseException:
        if moved is not None:
            moved.rename(settings.uploads_dir / upload_id)
        raise
    if moved is not None:
        discard(moved)
