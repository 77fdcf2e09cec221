"""The gallery: search and filter, favourites, tags, delete, download with the recipe kept, redacted
field by field or stripped, the lineage of an artwork, and uploads of images made elsewhere."""

from __future__ import annotations

import datetime as dt
import re
import shutil
import tempfile
from pathlib import Path
from typing import Literal

from fastapi import APIRouter, Depends, File, HTTPException, Query, Request, UploadFile
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse, Response
from pydantic import BaseModel, ConfigDict, Field

from ...data.images import BadImage, decode_image
from ...errors import RecipeError, UserError, quoted
from ...provenance import build_recipe, read_recipe
from ...provenance.recipe import RECIPE_KEY, dumps, redact
from ..auth import User, editor, viewer
from ..generation import png_bytes
from ..objects import media_store
from . import MAX_ID, Id
from .boards import own_board

router = APIRouter(tags=["gallery"])
TAG = re.compile(r"[^\x00-\x1f\x7f,]{1,40}")


class Favourite(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)          # "yes" is not true
    favourite: bool


class Tags(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    tags: list[str] = Field(min_length=1, max_length=20, description="1-40 characters each, no commas")


def _artwork(request: Request, aid: int, user: User | None = None) -> dict:
    art = request.app.state.studio.store.artwork(aid, user.id if user else None)
    if art is None:
        raise HTTPException(404, f"no artwork {aid}")
    return art


def _changeable(request: Request, aid: int, user: User) -> dict:
    """The artwork, if `user` may change it: editors their own, owners anyone's."""
    art = _artwork(request, aid, user)
    if art["author_id"] != user.id and not user.can("owner"):
        raise HTTPException(403, f"artwork {aid} is {art['author'] or 'a removed user'}'s; only they or an owner "
                                 "can change it")
    return art


def _image_path(request: Request, art: dict) -> Path:
    path = request.app.state.studio.objects.path(art["sha256"])
    if not path.is_file():
        raise HTTPException(404, f"the image file of artwork {art['id']} is missing from the data dir")
    return path


def _utc(text: str | None, name: str) -> str | None:
    if text is None:
        return None
    try:
        t = dt.datetime.fromisoformat(text)
    except ValueError:
        raise UserError(f"{name}: give a date or time like 2024-05-01 or 2024-05-01T12:00:00+00:00") from None
    try:
        t = t.replace(tzinfo=dt.timezone.utc) if t.tzinfo is None else t.astimezone(dt.timezone.utc)
    except OverflowError:             # 9999-12-31T23:59:59-23:59 is past the last representable moment
        raise UserError(f"{name}: {quoted(text)} is out of range; give a time between the years 1 and 9999 "
                        "in UTC") from None
    return t.isoformat(timespec="milliseconds")


@router.get("/api/artworks")
def search(request: Request, user: User = Depends(viewer),
           model: str | None = Query(None, max_length=100), seed: int | None = Query(None, ge=0),
           tag: str | None = Query(None, max_length=40),
           q: str | None = Query(None, max_length=200, description="text anywhere in the recipe, model or tags"),
           author: str | None = Query(None, max_length=40), since: str | None = Query(None, max_length=40),
           until: str | None = Query(None, max_length=40), favourite: bool | None = None,
           board: int | None = Query(None, ge=1, le=MAX_ID, description="only the pictures on this board of yours"),
           limit: int = Query(50, ge=1, le=500), offset: int = Query(0, ge=0, le=10**9)) -> dict:
    if board is not None:
        own_board(request, board, user)                 # someone else's board: 404, as one that does not exist
    items, total = request.app.state.studio.store.search(
        model=model, seed=seed, tag=tag, text=q, author=author, since=_utc(since, "since"),
        until=_utc(until, "until"), favourite=favourite, board=board, limit=limit, offset=offset, viewer=user.id)
    return {"total": total, "items": items}


@router.get("/api/artworks/{aid}")
def get_artwork(aid: Id, request: Request, user: User = Depends(viewer)) -> dict:
    return _artwork(request, aid, user)


def content_keyed(request: Request, path: Path, sha256: str, media_type: str, v: str | None, **kw) -> Response:
    """A stored file, cached forever by the browser only at its content-keyed URL (`?v=SHA256`, what
    `image_url` gives); at any other URL it is revalidated every time (ETag: its SHA-256), so an id that
    names another file later never shows the old one."""
    etag = f'"{sha256}"'
    if v == sha256:
        cache = "private, max-age=31536000, immutable"
    else:
        cache = "private, no-cache"
        if etag in [t.strip() for t in request.headers.get("if-none-match", "").split(",")]:
            return Response(status_code=304, headers={"ETag": etag, "Cache-Control": cache})
    return FileResponse(path, media_type=media_type, headers={"Cache-Control": cache, "ETag": etag}, **kw)


@router.get("/api/artworks/{aid}/image", response_class=FileResponse)
def image(aid: Id, request: Request, user: User = Depends(viewer),
          v: str | None = Query(None, max_length=64, description="the image's SHA-256 (the artwork's image_url): "
                                "then the response may be cached for good")):
    """The picture alone (no metadata), for thumbnails."""
    art = _artwork(request, aid)
    return content_keyed(request, _image_path(request, art), art["sha256"], "image/png", v)


@router.get("/api/artworks/{aid}/download")
def download(aid: Id, request: Request, user: User = Depends(viewer),
             recipe: Literal["keep", "redact", "strip"] = "keep",
             fields: str = Query("", max_length=2000, description="for recipe=redact: dotted fields, "
                                 "comma-separated, e.g. model.path,created,params.seed")) -> Response:
    """The PNG with its recipe kept, redacted field by field, or stripped."""
    from PIL import Image

    art = _artwork(request, aid)
    if recipe == "redact" and not fields.strip():
        raise UserError("fields: name the recipe fields to redact, e.g. model.path,created")
    text = {}
    if recipe != "strip":
        text[RECIPE_KEY] = dumps(redact(art["recipe"], fields if recipe == "redact" else None))
    with Image.open(_image_path(request, art)) as im:
        data = png_bytes(im, text)
    return Response(data, media_type="image/png",
                    headers={"Content-Disposition": f'attachment; filename="artwork-{aid}.png"'})


@router.put("/api/artworks/{aid}/favourite")
def set_favourite(aid: Id, body: Favourite, request: Request, user: User = Depends(editor)) -> dict:
    """Mark or unmark an artwork as one of your favourites (each person has their own)."""
    _artwork(request, aid)
    request.app.state.studio.store.set_favourite(user.id, aid, body.favourite)
    return _artwork(request, aid, user)


@router.post("/api/artworks/{aid}/tags")
def add_tags(aid: Id, body: Tags, request: Request, user: User = Depends(editor)) -> dict:
    """Tag an artwork (your own; an owner any)."""
    _changeable(request, aid, user)
    tags = [t.strip() for t in body.tags]
    bad = [t for t in tags if not TAG.fullmatch(t)]
    if bad:
        raise UserError(f"tags: {quoted(bad[0])} is not a tag (1-40 characters, no commas or control characters)")
    with request.app.state.studio.store.tx() as c:
        c.executemany("INSERT OR IGNORE INTO tags (artwork_id, tag) VALUES (?, ?)", [(aid, t) for t in tags])
    return _artwork(request, aid, user)


@router.delete("/api/artworks/{aid}/tags/{tag:path}")
def remove_tag(aid: Id, tag: str, request: Request, user: User = Depends(editor)) -> dict:
    """Remove a tag (any text, '/' too: send it percent-encoded, a%2Fb)."""
    _changeable(request, aid, user)
    with request.app.state.studio.store.tx() as c:
        if c.execute("DELETE FROM tags WHERE artwork_id = ? AND tag = ?", (aid, tag)).rowcount == 0:
            raise HTTPException(404, f"artwork {aid} has no tag {quoted(tag)}")
    return _artwork(request, aid, user)


@router.get("/api/tags")
def list_tags(request: Request, user: User = Depends(viewer)) -> list[dict]:
    with request.app.state.studio.store.read() as c:
        return [{"tag": r[0], "count": r[1]}
                for r in c.execute("SELECT tag, COUNT(*) FROM tags GROUP BY tag ORDER BY COUNT(*) DESC, tag")]


@router.delete("/api/artworks/{aid}")
def delete(aid: Id, request: Request, user: User = Depends(editor)) -> dict:
    """Delete an artwork (its author or an owner). Its image file goes when no artwork uses it any more."""
    studio = request.app.state.studio
    art = _artwork(request, aid)
    if art["author_id"] != user.id and not user.can("owner"):
        raise HTTPException(403, f"artwork {aid} is {art['author']}'s; only they or an owner can delete it")
    with studio.store.tx() as c:
        media = studio.store.media(aid, c)          # a melody's MIDI and WAV
        c.execute("DELETE FROM artworks WHERE id = ?", (aid,))
        orphan = c.execute("SELECT COUNT(*) FROM artworks WHERE sha256 = ?", (art["sha256"],)).fetchone()[0] == 0
        unused = studio.store.unused_media(c, media)
    if orphan:                      # after the commit: a crash here leaves an unused file, never a dangling row
        studio.objects.remove(art["sha256"])
    for kind, sha in unused:
        media_store(studio.settings.objects_dir, kind).remove(sha)
    return {"ok": True, "id": aid}


@router.get("/api/artworks/{aid}/lineage")
def lineage(aid: Id, request: Request, user: User = Depends(viewer), depth: int = Query(8, ge=1, le=64)) -> dict:
    """Parents and children of an artwork, and its family tree up to `depth` generations each way."""
    _artwork(request, aid)
    return request.app.state.studio.store.lineage(aid, depth, user.id)


@router.post("/api/artworks/upload", status_code=201)
async def upload(request: Request, file: UploadFile = File(...), user: User = Depends(editor)) -> dict:
    """Add an image made elsewhere (PNG, JPEG, WebP...). Its artforge recipe, if it has one, is kept as what the
    file claims (`recipe.claimed`, `recipe.verified: false`), never as the artwork's own model, seed, licence,
    consent, parents or copy check; other metadata (EXIF, GPS...) is dropped."""
    studio = request.app.state.studio
    return await run_in_threadpool(_ingest, studio, user, file)


def _ingest(studio, user: User, file: UploadFile) -> dict:
    settings = studio.settings
    limit = settings.max_upload_bytes
    with tempfile.TemporaryDirectory(dir=settings.tmp_dir) as tmp:
        path = Path(tmp) / "upload"          # never the client's file name: it is only recorded
        with open(path, "wb") as f:
            shutil.copyfileobj(file.file, f, 1 << 20)
        if path.stat().st_size > limit:
            raise HTTPException(413, f"file too large (limit {limit} bytes)")
        try:
            img, _ = decode_image(path, settings.max_pixels)
        except BadImage as e:
            raise UserError(f"file: {e}") from None
        try:
            recipe = read_recipe(path)
        except RecipeError:
            recipe = None
        data = png_bytes(img)
    name = (file.filename or "upload")[-200:]
    own = build_recipe("upload", "image", {"filename": name}, {}, {})
    if recipe is not None:             # anyone can write any recipe into a file: shown as the file's claim
        own.update(claimed=recipe, verified=False)
    sha = studio.objects.put(data)
    with studio.store.tx() as c:
        aid = studio.store.add_artwork(c, sha256=sha, author=user.id, model="upload", pipeline="upload", recipe=own)
    return studio.store.artwork(aid, user.id)
