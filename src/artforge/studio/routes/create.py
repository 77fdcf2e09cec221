"""Create: sample images (batched across concurrent requests; copy guard on by default)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, ConfigDict, Field, create_model

from ...errors import UserError
from ...models.pretrained import STARTER
from ...pipelines import BreedPipeline, GeneratePipeline, Output, Pipeline
from ...pipelines.breed import parent_latent
from ..auth import User, editor
from ..generation import GenerateRequest, png_bytes

router = APIRouter(tags=["create"])
# Pipelines the studio runs, and where (the rest are listed with their params, for forms to come).
STUDIO_PIPELINES = {"generate": "/api/generate", "breed": "/api/breed"}
_TYPES: dict[str, Any] = {"int": int, "float": float, "bool": bool, "str": str, "ints": list[int]}


def params_model(pipeline: type[Pipeline], name: str, exclude: tuple[str, ...] = (),
                 defaults: dict | None = None, **extra: Any) -> type[BaseModel]:
    """A request body built from a pipeline's declared parameters (types, defaults, help and ranges
    documented in the OpenAPI schema; the values are checked by the Params themselves)."""
    fields: dict[str, Any] = dict(extra)
    for p in pipeline.params:
        if p.name in exclude:
            continue
        limits = {k: v for k, v in (("minimum", p.min), ("maximum", p.max)) if v is not None}
        default = (defaults or {}).get(p.name, p.default)
        finite = {"allow_inf_nan": False} if p.kind == "float" else {}
        fields[p.name] = (_TYPES[p.kind], Field(default, description=p.help, json_schema_extra=limits or None,
                                                **finite))
    return create_model(name, __config__=ConfigDict(extra="forbid"), **fields)


GenerateBody = params_model(GeneratePipeline, "GenerateBody", exclude=("batch_size",),
                            defaults={"n": 4, "no_copies": True},
                            model=(str, Field(STARTER, max_length=100,
                                              description="'starter' or a run folder's name (see /api/models)")))


def store_outputs(studio, user: User, model: str, out: Output, parents: list[int] = ()) -> list[dict]:
    """Write each image to the object store, then record all of them in ONE transaction."""
    shas = [studio.objects.put(png_bytes(img)) for img in out.images]
    with studio.store.tx() as c:
        ids = [studio.store.add_artwork(c, sha256=sha, author=user.id, model=model, pipeline=r["pipeline"],
                                        recipe=r, seed=r["params"].get("image_seed"), parents=list(parents))
               for sha, r in zip(shas, out.recipes)]
    return [studio.store.artwork(i, user.id) for i in ids]


@router.post("/api/generate", status_code=201)
async def generate(body: GenerateBody, request: Request,  # type: ignore[valid-type]
                   user: User = Depends(editor)) -> dict:
    """Sample `n` images from a model; image i uses seed+i. Each becomes an artwork with its recipe."""
    studio = request.app.state.studio
    params = body.model_dump()
    model = params.pop("model")
    kwargs = GeneratePipeline.resolve(**params, batch_size=1)
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
