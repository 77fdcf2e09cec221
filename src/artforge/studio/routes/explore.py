"""The latent explorer: a model's main latent directions, a live preview as sliders move, and saving the
image to the gallery with a recipe that replays it (pipeline `explore`)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from pydantic import Field

from ...models.pretrained import STARTER
from ...pipelines import ExplorePipeline
from ...pipelines.explore import MAX_DIRECTIONS, MAX_OFFSET
from ...pipelines.generate import one_torch_thread
from ..auth import User, editor, viewer
from ..generation import png_bytes
from .create import params_model, store_outputs

router = APIRouter(tags=["create"])

ExploreBody = params_model(
    ExplorePipeline, "ExploreBody",
    model=(str, Field(STARTER, max_length=100, description="'starter' or a run folder's name (see /api/models)")),
    offsets=(list[float], Field(default_factory=list, max_length=MAX_DIRECTIONS,
                                description=f"one offset per direction (in order), each in [-{MAX_OFFSET:g}, "
                                            f"{MAX_OFFSET:g}]: how many standard deviations to move along it")))


def _directions(studio, name: str):
    handle = studio.models.load(name)
    return handle, *studio.directions.get(handle)


@router.get("/api/models/{name}/directions")
async def directions(name: str, request: Request, user: User = Depends(viewer),
                     k: int = Query(8, ge=1, le=MAX_DIRECTIONS)) -> dict:
    """The model's main latent directions, strongest first, with the fraction of the variance of its first
    block's activations that each explains (computed once per model, then cached)."""
    studio = request.app.state.studio
    studio.models.folder(name)
    _, dirs, variance = await studio.batcher.run(_directions, studio, name)
    return {"model": name, "directions": [{"index": i, "variance": round(float(v), 6)}
                                          for i, v in enumerate(variance[:k].tolist())]}


def _explore(studio, params: dict):
    name = params.pop("model")
    handle, dirs, _ = _directions(studio, name)
    # One image needs no intra-op threads, and on a busy machine (a training job beside the studio) a
    # second thread waiting for a core made the preview's p95 several times longer (docs/benchmarks.md).
    # Only this (the batcher's) thread runs torch in the studio process, so the setting is put back afterwards.
    with one_torch_thread():
        return ExplorePipeline(handle).explore(dirs, params.pop("offsets"), **params)


@router.post("/api/explore", response_class=Response,
             responses={200: {"content": {"image/png": {}}, "description": "the preview (not saved)"}})
async def preview(body: ExploreBody, request: Request, user: User = Depends(viewer)) -> Response:  # type: ignore
    """The image at this seed moved by `offsets` along the model's directions, as PNG bytes (not saved)."""
    studio = request.app.state.studio
    params = body.model_dump()
    ExplorePipeline.resolve(seed=params["seed"], truncation=params["truncation"])
    studio.models.folder(params["model"])
    out = await studio.batcher.run(_explore, studio, params)
    return Response(png_bytes(out.images[0]), media_type="image/png", headers={"Cache-Control": "no-store"})


@router.post("/api/explore/save", status_code=201)
async def save(body: ExploreBody, request: Request, user: User = Depends(editor)) -> dict:  # type: ignore
    """The same image, saved to the gallery; its recipe (pipeline `explore`) records the latent, so
    `artforge replay` makes it again bit for bit."""
    studio = request.app.state.studio
    params = body.model_dump()
    model = params["model"]
    ExplorePipeline.resolve(seed=params["seed"], truncation=params["truncation"])
    studio.models.folder(model)
    out = await studio.batcher.run(_explore, studio, params)
    return (await run_in_threadpool(store_outputs, studio, user, model, out))[0]
