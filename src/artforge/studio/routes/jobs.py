"""Train: zips of images in, training jobs queued, watched (Server-Sent Events), paused, resumed, cancelled."""

from __future__ import annotations

import asyncio
import json
import tempfile
import time
from pathlib import Path
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, File, HTTPException, Query, Request, UploadFile
from fastapi import Path as PathParam
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field

from ...errors import UserError
from ..auth import User, editor, viewer
from ..jobs import FINAL, MAX_STEPS, JobConflict
from ...training.tasks import families
from ..jobplan import UPLOAD_ID, JobForbidden, settings_json
from ..store import now_iso
from ..uploads import UploadTooLarge, unpack_zip

router = APIRouter(tags=["train"])
JobId = Annotated[int, PathParam(ge=1, le=2**62, description="the job's id")]


class NewJob(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)      # 2.0 steps, "5" steps: refused
    kind: Literal["train", "generate"] = Field("train", description="train (a run) or generate (many images; "
                                               "give only params: model, n, seed, truncation, no_copies)")
    name: str | None = Field(None, min_length=1, max_length=100, description="train: the run's folder name "
                             "under DATA_DIR/runs; the model appears under this name in /api/models")
    data: str | None = Field(None, min_length=1, max_length=1000, description="train: an upload id (POST "
                             "/api/uploads; an editor's own), 'builtin' (the built-in landscapes) or (owners "
                             "only) a folder inside the data dir")
    steps: int | None = Field(None, ge=1, le=MAX_STEPS, description="train: optimizer steps of the run")
    family: str | None = Field(None, min_length=1, max_length=40, description="train: the model family, gan "
                               "(default), music or style; its settings: GET /api/train/settings?family=...")
    params: dict[str, bool | int | float | str] = Field(
        default_factory=dict, max_length=64,
        description="train: config settings, e.g. {\"resolution\": 32, \"batch_size\": 8, \"gan.lr_g\": 0.0002}; "
                    "generate: {\"model\": \"starter\", \"n\": 500, \"seed\": 0, \"truncation\": 1.0}")


def _queue(request: Request):
    return request.app.state.studio.jobs


def _conflict(fn, *args):
    try:
        return fn(*args)
    except JobConflict as e:
        raise HTTPException(409, str(e)) from None
    except JobForbidden as e:
        raise HTTPException(403, str(e)) from None


def may_control(user: User, job: dict) -> bool:
    """Editors steer their own jobs; owners (the studio's admins) steer everyone's."""
    return user.can("owner") or user.can("editor") and job.get("author_id") == user.id


def as_seen_by(user: User, job: dict) -> dict:
    """A job as `user` sees it: `can_control` (whether Pause/Resume/Cancel/Remove are theirs to press), and
    the upload it trains on named only to those who may use that upload."""
    mine = may_control(user, job)
    shown = dict(job, can_control=mine)
    if not mine and isinstance(job.get("data"), str) and UPLOAD_ID.fullmatch(job["data"]):
        shown["data"] = "upload"
    return shown


@router.post("/api/uploads", status_code=201)
async def upload_zip(request: Request, file: UploadFile = File(..., description="a .zip of images"),
                     user: User = Depends(editor)) -> dict:
    """A zip of training images, checked (size, paths, links, zip bombs, pixel limit) and unpacked; train on
    it with POST /api/jobs {"data": upload}."""
    return await run_in_threadpool(_unpack, request.app.state.studio, file, user)


def _unpack(studio, file: UploadFile, user: User) -> dict:
    settings = studio.settings
    limit = settings.max_zip_bytes
    settings.tmp_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=settings.tmp_dir) as tmp:
        path = Path(tmp) / "upload.zip"
        with open(path, "wb") as f:
            while chunk := file.file.read(1 << 20):
                f.write(chunk)
                if f.tell() > limit:
                    raise HTTPException(413, f"file too large (limit {limit} bytes)")
        try:
            upload_id, kept, skipped = unpack_zip(path, settings)
        except UploadTooLarge as e:
            raise HTTPException(413, str(e)) from None
    with studio.store.tx() as c:                # whose it is: only they (and owners) may train on it
        c.execute("INSERT INTO uploads (id, owner, created, images) VALUES (?, ?, ?, ?)",
                  (upload_id, user.id, now_iso(), kept))
    return {"upload": upload_id, "images": kept, "skipped": skipped[:50], "skipped_count": len(skipped)}


@router.post("/api/jobs", status_code=201)
def new_job(body: NewJob, request: Request, user: User = Depends(editor)) -> dict:
    """Queue a training run or a long generation. It starts when the jobs before it are done (one runs at a
    time)."""
    queue = _queue(request)
    if body.kind == "generate":
        if any(getattr(body, k) is not None for k in ("name", "data", "steps", "family")):
            raise UserError("kind generate: give only params (model, n, seed, truncation, no_copies); name, data, "
                            "steps and family are for train jobs")
        return as_seen_by(user, queue.submit_generate(user.id, body.params))
    missing = [k for k in ("name", "data", "steps") if getattr(body, k) is None]
    if missing:
        raise UserError(f"{missing[0]}: a train job needs name, data and steps")
    return as_seen_by(user, _conflict(queue.submit_train, user.id, body.name, body.data, body.steps, body.params,
                                      user.can("owner"), body.family or "gan"))


@router.get("/api/train/settings")
def train_settings(family: Annotated[str, Query(max_length=40, description="gan, music or style")] = "gan",
                   user: User = Depends(viewer)) -> dict:
    """The settings a training job of `family` may change (its params): each with its key, type (bool, int,
    float, str), default, range and help, as the family's config declares them; and the families there are."""
    return {"family": family, "families": list(families()), "settings": settings_json(family)}


@router.get("/api/jobs")
def list_jobs(request: Request, user: User = Depends(viewer)) -> dict:
    """Every job, newest first; `can_control` says whether you may pause, resume, cancel or remove it."""
    return {"items": [as_seen_by(user, j) for j in _queue(request).list()]}


@router.get("/api/jobs/{jid}")
def get_job(jid: JobId, request: Request, user: User = Depends(viewer)) -> dict:
    return as_seen_by(user, _queue(request).get(jid))


def _own(request: Request, jid: int, user: User) -> None:
    """Editors steer their own jobs; owners (the studio's admins) steer everyone's."""
    job = _queue(request).get(jid)
    if not may_control(user, job):
        raise HTTPException(403, f"job {jid} was started by {job.get('author') or 'a removed user'}; only they or "
                                 "an owner can change it")


@router.post("/api/jobs/{jid}/pause")
def pause(jid: JobId, request: Request, user: User = Depends(editor)) -> dict:
    """Stop the run cleanly (it saves a checkpoint); resume continues from there. Answers at once: a running
    job is `pausing` until its trainer has checkpointed (seconds to minutes), then `paused`."""
    _own(request, jid, user)
    return as_seen_by(user, _conflict(_queue(request).pause, jid))


@router.post("/api/jobs/{jid}/resume")
def resume(jid: JobId, request: Request, user: User = Depends(editor)) -> dict:
    """Queue a paused or interrupted job again; it continues from its last checkpoint."""
    _own(request, jid, user)
    return as_seen_by(user, _conflict(_queue(request).resume, jid))


@router.post("/api/jobs/{jid}/cancel")
def cancel(jid: JobId, request: Request, user: User = Depends(editor)) -> dict:
    """End the job (a running one is stopped cleanly; its run folder stays). Answers at once: a running job
    is `cancelling` until its trainer has stopped, then `cancelled`."""
    _own(request, jid, user)
    return as_seen_by(user, _conflict(_queue(request).cancel, jid))


@router.delete("/api/jobs/{jid}", status_code=204)
def delete_job(jid: JobId, request: Request, user: User = Depends(editor)) -> Response:
    """Remove a finished job from the list (its run folder and images stay); 409 while it is not finished."""
    _own(request, jid, user)
    _conflict(_queue(request).delete, jid)
    return Response(status_code=204)


@router.get("/api/jobs/{jid}/events", response_class=StreamingResponse,
            responses={200: {"content": {"text/event-stream": {}},
                             "description": "`event: progress` (job JSON + `history`) when it changes, about "
                                            "once a second; `event: end` when the job is done, failed or "
                                            "cancelled"}})
async def events(jid: JobId, request: Request, user: User = Depends(viewer)) -> StreamingResponse:
    """Live progress of a job as Server-Sent Events."""
    queue = _queue(request)
    await run_in_threadpool(queue.get, jid)                      # 404 before the stream starts
    interval = request.app.state.studio.settings.job_events_interval_s

    async def stream():
        last, quiet_since = None, time.monotonic()
        while True:
            job = as_seen_by(user, await run_in_threadpool(queue.get, jid, True))
            text = json.dumps(job)
            if text != last:
                yield f"event: progress\ndata: {text}\n\n"
                last, quiet_since = text, time.monotonic()
            elif time.monotonic() - quiet_since > 15:
                yield ": still here\n\n"                         # keeps proxies from closing the stream
                quiet_since = time.monotonic()
            if job["state"] in FINAL:
                job.pop("history", None)
                yield f"event: end\ndata: {json.dumps(job)}\n\n"
                return
            if await request.is_disconnected():
                return
            await asyncio.sleep(interval)

    return StreamingResponse(stream(), media_type="text/event-stream",
                             headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})
