"""Music: sample melodies with attribute sliders, morph between two melodies, breed them; upload a MIDI tune.

Every melody becomes a gallery artwork (its picture is its piano roll) with its MIDI and WAV at
GET /api/artworks/ID/midi and /wav. The model work runs on the generation thread (so it never competes with
image generation for the CPU), the rendering and writing in the thread pool: never on the event loop.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, File, Form, HTTPException, Query, Request, UploadFile
from fastapi import Path as PathParam
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse, Response
from pydantic import Field

from ...errors import UserError
from ...io.midi import replace_recipe_text
from ...pipelines import MusicBreedPipeline, MusicInterpolatePipeline, MusicSamplePipeline
from ...pipelines.music import melody_sha256
from ...provenance import build_recipe
from ...provenance.recipe import dumps, redact
from ..auth import User, editor, viewer
from ..melodies import Melody, MusicModels, keep, melody_from_upload, melody_of
from ..objects import MEDIA_KINDS, media_store
from .create import parent_artworks, params_model
from .gallery import content_keyed

router = APIRouter(tags=["music"])
MAX_MELODIES = 16                   # per request (sample n, morph steps, breed children), or the studio's
                                    # max_images_per_request when that is lower
MAX_MIDI_BYTES = 1 << 20            # a MIDI tune is kilobytes; a megabyte is generous
DEFAULT_MODEL = "starter:melody-2bar"
_MODEL = (str, Field(DEFAULT_MODEL, max_length=100, description="a music model (see GET /api/music/models)"))
PathId = Annotated[int, PathParam(ge=1, le=2**63 - 1, description="artwork id")]
_V = Query(None, max_length=64, description="the file's SHA-256: then the response may be cached for good")

SampleBody = params_model(
    MusicSamplePipeline, "MusicSampleBody", exclude=("batch_size", "attribute"), defaults={"n": 4}, model=_MODEL,
    attributes=(dict[str, float], Field(default_factory=dict, max_length=8,
                                        description="steer along the model's attribute vectors: {name: amount}, "
                                                    "amounts in [-3, 3] (names: GET /api/music/models)")))
# a, b and parents: the ids of the artworks holding the melodies (music artworks or uploaded MIDI tunes)
InterpolateBody = params_model(MusicInterpolatePipeline, "MusicInterpolateBody", exclude=("attribute",), model=_MODEL)
BreedBody = params_model(MusicBreedPipeline, "MusicBreedBody", model=_MODEL)


def music_models(request: Request) -> MusicModels:
    """The app's music models (made on first use; two requests racing make two, and one is kept)."""
    state = request.app.state
    if getattr(state, "music_models", None) is None:
        studio = state.studio
        state.music_models = MusicModels(studio.models, studio.settings.device)
    return state.music_models


def _at_most(request: Request, name: str, value: int) -> None:
    limit = min(MAX_MELODIES, request.app.state.studio.settings.max_images_per_request)
    if value > limit:
        raise UserError(f"{name}: the studio makes at most {limit} melodies per request, got {value}")


def _linked(recipe: dict, parents: list[dict]) -> dict:
    """The recipe with its parents named by artwork id too (the gallery links them)."""
    if len(recipe.get("parents", [])) == len(parents):
        recipe["parents"] = [{**p, "artwork": a["id"]} for p, a in zip(recipe["parents"], parents)]
    return recipe


# -- models --------------------------------------------------------------------------------------------------
@router.get("/api/music/models")
def list_models(request: Request, user: User = Depends(viewer)) -> list[dict]:
    """The melody starters and every music run, with the attributes each can be steered along."""
    lib = music_models(request)
    return [lib.describe(name) for name in lib.names()]


# -- create --------------------------------------------------------------------------------------------------
@router.post("/api/music/sample", status_code=201)
async def sample(body: SampleBody, request: Request, user: User = Depends(editor)) -> dict:  # type: ignore[valid-type]
    """`n` new melodies (melody i uses seed+i), steered by `attributes`; each becomes an artwork."""
    studio, lib = request.app.state.studio, music_models(request)
    params = body.model_dump()
    model, amounts = params.pop("model"), params.pop("attributes")
    _at_most(request, "n", params["n"])
    known = [a["name"] for a in lib.ready(model)["attributes"]]
    for name, amount in amounts.items():
        if name not in known:
            raise UserError(f"attributes: {model!r} has no attribute {name[:40]!r}; it has "
                            f"{', '.join(known) or 'none (no attributes.safetensors in its folder)'}")
        if not -3 <= amount <= 3:
            raise UserError(f"attributes: {name}={amount} is out of range [-3, 3]")
    attribute = ",".join(f"{k}={v!r}" for k, v in amounts.items() if v)
    kwargs = MusicSamplePipeline.resolve(**params, attribute=attribute)

    def make():
        return MusicSamplePipeline(lib.load(model))(**kwargs)

    out = await studio.batcher.run(make)
    melodies = [Melody(ev, r, seed=kwargs["seed"] + r["params"]["index"]) for ev, r in zip(out.melodies, out.recipes)]
    return {"artworks": await run_in_threadpool(keep, studio, user.id, model, melodies, kwargs["bpm"])}


@router.post("/api/music/interpolate", status_code=201)
async def interpolate(body: InterpolateBody, request: Request,  # type: ignore[valid-type]
                      user: User = Depends(editor)) -> dict:
    """A morph from melody `a` to melody `b` in `steps` melodies (both ends included): each step is an
    artwork, and so is the whole morph played through (`morph`); all record a and b as their parents."""
    studio, lib = request.app.state.studio, music_models(request)
    params = body.model_dump()
    model, ids = params.pop("model"), [params.pop("a"), params.pop("b")]
    _at_most(request, "steps", params["steps"])
    kwargs = MusicInterpolatePipeline.resolve(**params)
    steps = int(lib.ready(model)["steps"])
    parents = parent_artworks(studio, ids)
    ends = [melody_of(studio.store, studio.settings.objects_dir, p, steps) for p in parents]

    def make():
        return MusicInterpolatePipeline(lib.load(model)).run(ends[0].tolist(), ends[1].tolist(), **kwargs)

    out = await studio.batcher.run(make)
    melodies = [Melody(ev, _linked(r, parents)) for ev, r in zip(out.melodies, out.recipes)]
    melodies[-1].rows = out.melodies[:-1]              # the whole morph: one piano-roll row per step
    arts = await run_in_threadpool(keep, studio, user.id, model, melodies, kwargs["bpm"], ids)
    return {"artworks": arts[:-1], "morph": arts[-1]}


@router.post("/api/music/breed", status_code=201)
async def breed(body: BreedBody, request: Request, user: User = Depends(editor)) -> dict:  # type: ignore[valid-type]
    """Children of two or more melodies (latent crossover, blending, mutation); each records its parents."""
    studio, lib = request.app.state.studio, music_models(request)
    params = body.model_dump()
    model, ids = params.pop("model"), list(dict.fromkeys(params.pop("parents")))
    if len(ids) < 2:
        raise UserError("parents: give two or more different melodies")
    _at_most(request, "children", params["children"])
    kwargs = MusicBreedPipeline.resolve(**params)
    steps = int(lib.ready(model)["steps"])
    parents = parent_artworks(studio, ids)
    tokens = [melody_of(studio.store, studio.settings.objects_dir, p, steps) for p in parents]

    def make():
        return MusicBreedPipeline(lib.load(model)).run([t.tolist() for t in tokens], **kwargs)

    out = await studio.batcher.run(make)
    melodies = [Melody(ev, _linked(r, parents), seed=kwargs["seed"] + r["params"]["index"])
                for ev, r in zip(out.melodies, out.recipes)]
    return {"artworks": await run_in_threadpool(keep, studio, user.id, model, melodies, kwargs["bpm"], ids)}


@router.post("/api/music/upload", status_code=201)
async def upload(request: Request, file: UploadFile = File(...),
                 bpm: float = Form(120.0, ge=20, le=300, description="tempo of its WAV"),
                 user: User = Depends(editor)) -> dict:
    """A MIDI tune made elsewhere, kept as a music artwork (its first melodic part, up to 16 bars), so it can
    be morphed or bred. A file that is not MIDI, or has no melody, is refused with the reason."""
    studio = request.app.state.studio
    data = await file.read(MAX_MIDI_BYTES + 1)
    if len(data) > MAX_MIDI_BYTES:
        raise HTTPException(413, f"file too large for a MIDI tune (limit {MAX_MIDI_BYTES} bytes)")
    name = Path(file.filename or "upload.mid").name[-200:]

    def ingest() -> dict:
        try:
            events = melody_from_upload(data)
        except UserError as e:
            raise HTTPException(400, str(e)) from None
        recipe = build_recipe("music.upload", "melody", {"filename": name, "steps": len(events), "bpm": bpm,
                                                         "melody_sha256": melody_sha256(events)}, {}, {})
        return keep(studio, user.id, "upload", [Melody(events, recipe)], bpm)[0]

    return await run_in_threadpool(ingest)


# -- files ---------------------------------------------------------------------------------------------------
def _media(request: Request, aid: int, kind: str, v: str | None = None) -> FileResponse:
    studio = request.app.state.studio
    if studio.store.artwork(aid) is None:
        raise HTTPException(404, f"no artwork {aid}")
    sha = studio.store.media(aid).get(kind)
    if sha is None:
        raise HTTPException(404, f"artwork {aid} is a picture; only melodies have a {kind.upper()} file")
    path = media_store(studio.settings.objects_dir, kind).path(sha)
    if not path.is_file():
        raise HTTPException(404, f"the {kind.upper()} file of artwork {aid} is missing from the data dir")
    suffix, media_type = MEDIA_KINDS[kind]
    return content_keyed(request, path, sha, media_type, v, filename=f"artwork-{aid}{suffix}",
                         content_disposition_type="inline" if kind == "wav" else "attachment")


@router.get("/api/artworks/{aid}/midi", response_class=FileResponse)
def midi(aid: PathId, request: Request, user: User = Depends(viewer),
         recipe: Literal["keep", "redact", "strip"] = "keep",
         fields: str = Query("", max_length=2000, description="for recipe=redact: dotted fields, comma-separated, "
                             "e.g. model.path,created,params.seed"), v: str | None = _V):
    """A melody's MIDI file with its recipe kept (`artforge recipe` / `artforge replay` read it), redacted
    field by field, or stripped, as the gallery's picture downloads."""
    if recipe == "keep":
        return _media(request, aid, "midi", v)
    if recipe == "redact" and not fields.strip():
        raise UserError("fields: name the recipe fields to redact, e.g. model.path,created")
    art = request.app.state.studio.store.artwork(aid)
    data = Path(_media(request, aid, "midi").path).read_bytes()
    text = dumps(redact(art["recipe"], fields)) if recipe == "redact" else None
    return Response(replace_recipe_text(data, text), media_type=MEDIA_KINDS["midi"][1],
                    headers={"Content-Disposition": f'attachment; filename="artwork-{aid}.mid"'})


@router.get("/api/artworks/{aid}/wav", response_class=FileResponse)
def wav(aid: PathId, request: Request, user: User = Depends(viewer), v: str | None = _V):
    """A melody's audio (mono 16-bit WAV), for the page's player."""
    return _media(request, aid, "wav", v)
