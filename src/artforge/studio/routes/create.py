"""Create: sample images (batched across concurrent requests; copy guard on by default)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from pydantic import Field

from ...errors import UserError
from ...pipelines import BreedPipeline, Output
from ...pipelines.breed import parent_latent
from ..auth import User, editor
from .. import generation
from ..generation import GenerateBody, GenerateRequest, check_generate, params_model

router = APIRouter(tags=["create"])
# Pipelines the studio runs, and where (the rest are listed with their params, for forms to come).
STUDIO_PIPELINES = {"generate": "/api/generate", "breed": "/api/breed"}
__all__ = ["params_model", "router", "store_outputs"]          # params_model: for the other pages' bodies


def store_outputs(studio, user: User, model: str, out: Output, parents: list[int] = ()) -> list[dict]:
    """Write each image to the object store, then record all of them in ONE transaction."""
    return generation.store_outputs(studio, user.id, model, out, parents)


@router.post("/api/generate", status_code=201)
async def generate(body: GenerateBody, request: Request,  # type: ignore[valid-type]
                   user: User = Depends(editor)) -> dict:
    """Sample `n` images from a model; image i uses seed+i. Each becomes an artwork with its recipe."""
    studio = request.app.state.studio
    model, kwargs = check_generate(body.model_dump(), "body")    # what a generate job's params go through too
    limit = studio.settings.max_images_per_request
    if kwargs["n"] > limit:
        raise UserError(f"n: the studio makes at most {limit} images per request; ask again for more")
    studio.models.folder(model)                     # 400/404 for a bad name before any work is queued
    out = await studio.batcher.submit(GenerateRequest(model, kwargs["n"], kwargs["seed"], kwargs["truncation"],
                                                      kwargs["no_copies"]))
    artworks = await run_in_threadpool(store_outputs, studio, user, model, out)
    flagged = sum(bool(a["recipe"]["params"].get("copy_check", {}).get("flagged")) for a in artworks)
    return {"artworks": artworks, "still_flagged": flagged}


BreedBody = params_model(BreedPipeline, "BreedBody",
                         parents=(list[int], Field(min_length=1, max_length=16,
                                                   description="artwork ids of the parents (made by generate or "
                                                               "breed, all with the same model)")))


def _breed(studio, parents: list[dict], params: dict) -> Output:
    for p in parents:
        if p["pipeline"] not in ("generate", "breed"):
            raise UserError(f"parents: artwork {p['id']} is a {p['pipeline']}; only images made by generate or "
                            "breed can be bred (their recipes give their latents)")
    name = parents[0]["model"]
    handle = studio.models.load(name)
    for p in parents:
        if p["model"] != name or p["recipe"].get("model", {}).get("sha256") != handle.sha256:
            raise UserError(f"parents: artwork {p['id']} was not made by the current model {name!r}; "
                            "breed images of one model")
    try:
        zs = [parent_latent(p["recipe"], handle.z_dim) for p in parents]
    except UserError as e:
        raise UserError(f"parents: {e}") from None
    refs = [{"artwork": p["id"], "sha256": p["sha256"]} for p in parents]
    return BreedPipeline(handle).breed(zs, refs, **params)


@router.post("/api/breed", status_code=201)
async def breed(body: BreedBody, request: Request,  # type: ignore[valid-type]
                user: User = Depends(editor)) -> dict:
    """Children of two or more artworks (one for mutate); each child records its parents (see lineage)."""
    studio = request.app.state.studio
    params = body.model_dump()
    ids = list(dict.fromkeys(params.pop("parents")))
    BreedPipeline.resolve(**params)                  # 422 with the Param's message before any work
    parents = []
    for aid in ids:
        art = studio.store.artwork(aid)
        if art is None:
            raise HTTPException(404, f"no artwork {aid}")
        parents.append(art)
    out = await studio.batcher.run(_breed, studio, parents, params)
    return {"artworks": await run_in_threadpool(store_outputs, studio, user, parents[0]["model"], out, ids)}
