"""Create: sample images (batched across concurrent requests; copy guard on by default), breed them, morph
between two of them (interpolate) and paint an artwork in a style (stylize.fast, stylize.arbitrary).

The Create page's Generate goes through the job queue (a generate job, in the image lane); POST /api/generate
answers with the pictures, for API users. Every other route here answers with its artworks too; the model
work runs on the generation thread (`studio.batcher.run`), the writing in the thread pool.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from pydantic import Field

from ...errors import UserError
from ...models.pretrained import STARTER, STYLE_STARTERS, shipped_model_dir
from ...pipelines import ArbitraryStylePipeline, BreedPipeline, FastStylePipeline, InterpolatePipeline, Output
from ...pipelines.breed import parent_latent
from ..auth import User, editor
from .. import generation
from ..generation import GenerateBody, GenerateRequest, check_generate, params_model
from ..models import LoadedModels

router = APIRouter(tags=["create"])
# The pipeline a route runs is read from its path (/api/NAME, '.' as '/'; artforge.families): /api/pipelines.
__all__ = ["params_model", "parent_artworks", "router", "store_outputs"]   # for the other pages' routes
ArtworkId = Annotated[int, Field(ge=1, le=2**63 - 1)]        # SQLite's integers


def parent_artworks(studio, ids: list[int]) -> list[dict]:
    """The artworks named as a request's inputs (parents), in order; 404 naming the first that is missing."""
    out = []
    for aid in ids:
        art = studio.store.artwork(aid)
        if art is None:
            raise HTTPException(404, f"no artwork {aid}")
        out.append(art)
    return out


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
    parents = parent_artworks(studio, ids)
    out = await studio.batcher.run(_breed, studio, parents, params)
    return {"artworks": await run_in_threadpool(store_outputs, studio, user, parents[0]["model"], out, ids)}


# -- interpolate ---------------------------------------------------------------------------------------------
InterpolateBody = params_model(
    InterpolatePipeline, "InterpolateBody", exclude=("batch_size",), defaults={"frames": 8},
    model=(str, Field(STARTER, max_length=100, description="'starter' or a GAN run's name (see /api/models)")),
    parents=(list[ArtworkId], Field(default_factory=list, max_length=2,
                                    description="two artworks made by generate with this model: the morph goes "
                                                "from the first to the second (their recipes give the seeds and "
                                                "the truncation; give parents or seeds, not both)")))


def _ends(parents: list[dict]) -> tuple[list[int], float]:
    """The seeds and the truncation of two generate artworks, the two ends of a morph."""
    for p in parents:
        seed = p["recipe"].get("params", {}).get("image_seed")
        if p["pipeline"] != "generate" or not isinstance(seed, int):
            raise UserError(f"parents: artwork {p['id']} is a {p['pipeline']}; a morph goes between pictures made "
                            "by generate (their recipes give their seeds)")
    cuts = [p["recipe"]["params"].get("truncation", 1.0) for p in parents]
    if cuts[0] != cuts[1]:
        raise UserError(f"parents: artwork {parents[0]['id']} was made with truncation {cuts[0]} and artwork "
                        f"{parents[1]['id']} with {cuts[1]}; morph between pictures of one truncation")
    return [p["recipe"]["params"]["image_seed"] for p in parents], float(cuts[0])


def _interpolate(studio, name: str, params: dict, parents: list[dict]) -> Output:
    """The morph's frames, each a picture whose recipe is the animation's plus its `frame` (replays alone)."""
    handle = studio.models.load(name)
    for p in parents:
        if p["model"] != name or p["recipe"].get("model", {}).get("sha256") != handle.sha256:
            raise UserError(f"parents: artwork {p['id']} was not made by the current model {name!r}; "
                            "morph between pictures of the model you chose")
    pipe = InterpolatePipeline(handle)
    animation = pipe.run(**params)
    refs = [{"artwork": p["id"], "sha256": p["sha256"]} for p in parents]
    frame = animation.recipes[0]["params"]
    return Output(animation.images, [pipe.recipe("image", {**frame, "frame": i}, refs)
                                     for i in range(len(animation.images))])


@router.post("/api/interpolate", status_code=201)
async def interpolate(body: InterpolateBody, request: Request,  # type: ignore[valid-type]
                      user: User = Depends(editor)) -> dict:
    """A morph in `frames` pictures through the images of `seeds`, or between two artworks (`parents`, which
    every frame records); each frame becomes an artwork whose recipe replays it."""
    studio = request.app.state.studio
    params = body.model_dump()
    name, ids = params.pop("model"), list(dict.fromkeys(params.pop("parents")))
    given = body.model_fields_set
    if ids and given & {"seeds", "truncation"}:
        raise UserError(f"{sorted(given & {'seeds', 'truncation'})[0]}: give parents or seeds and truncation, not "
                        "both (the parents' recipes give their seeds and truncation)")
    if body.parents and len(ids) != 2:
        raise UserError("parents: give two different artworks to morph between")
    limit = studio.settings.max_images_per_request
    if params["frames"] > limit:
        raise UserError(f"frames: the studio makes at most {limit} pictures per request; ask for fewer frames")
    parents = parent_artworks(studio, ids)
    if parents:
        params["seeds"], params["truncation"] = _ends(parents)
    params = InterpolatePipeline.resolve(**params)           # 422 with the Param's message before any work
    if len(params["seeds"]) < 2:
        raise UserError("seeds: give two or more seeds to morph between, e.g. 1,2")
    studio.models.folder(name)                               # 400/404 for a bad name before any work
    out = await studio.batcher.run(_interpolate, studio, name, params, parents)
    return {"artworks": await run_in_threadpool(store_outputs, studio, user, name, out, ids)}


# -- stylize -------------------------------------------------------------------------------------------------
_CONTENT = (ArtworkId, Field(description="artwork id of the picture to paint in the style"))
FastStyleBody = params_model(
    FastStylePipeline, "FastStyleBody", content=_CONTENT,
    model=(str, Field(max_length=100, description="a style run trained for one style (artforge train style; "
                                                  "see /api/models, arch transform-net)")))
ArbitraryStyleBody = params_model(
    ArbitraryStylePipeline, "ArbitraryStyleBody", content=_CONTENT,
    model=(str, Field("starter:style-arbitrary", max_length=100,
                      description="'starter:style-arbitrary' or an arbitrary-style run (arch adain-lite0)")),
    styles=(list[ArtworkId], Field(min_length=1, max_length=4, description="artwork ids of the style pictures "
                                                                           "(blended by style_weights)")))
_ARCH = {FastStylePipeline: "transform-net", ArbitraryStylePipeline: "adain-lite0"}


def style_models(request: Request) -> LoadedModels:
    """The app's loaded style models (made on first use)."""
    state = request.app.state
    if getattr(state, "style_models", None) is None:
        state.style_models = LoadedModels(state.studio.settings.device)
    return state.style_models


def _style_handle(studio, loaded: LoadedModels, name: str, cls: type):
    """The style model `name` (a shipped one or a run), refused in one line unless `cls` can use it."""
    folder = shipped_model_dir(name) if name in STYLE_STARTERS else studio.models.folder(name)
    handle = loaded.get(name, folder, name if name in STYLE_STARTERS else folder)
    family, arch = handle.config.get("family"), handle.config.get("arch")
    if family != "style" or arch != _ARCH[cls]:
        kind = f"a {family} model" if family != "style" else f"a style model of arch {arch}"
        raise UserError(f"model: {name!r} is {kind}; {cls.name} needs a style model of arch {_ARCH[cls]}")
    return handle


def _stylize(studio, loaded: LoadedModels, cls: type, name: str, arts: list[dict], params: dict) -> Output:
    """arts[0] painted in the style (of arts[1:], for the arbitrary network); the recipe's parents are the
    input pictures, each named by artwork id too."""
    handle = _style_handle(studio, loaded, name, cls)
    paths = [studio.objects.path(a["sha256"]) for a in arts]
    pipe = cls(handle)
    out = pipe.run(paths[0], **params) if cls is FastStylePipeline else pipe.run(paths[0], paths[1:], **params)
    for r in out.recipes:
        r["parents"] = [{**ref, "artwork": a["id"]} for ref, a in zip(r.get("parents", []), arts)]
    return out


async def _stylize_route(request: Request, user: User, cls: type, params: dict, ids: list[int]) -> dict:
    studio = request.app.state.studio
    name = params.pop("model")
    params = cls.resolve(**params)                           # 422 with the Param's message before any work
    arts = parent_artworks(studio, ids)
    for a in arts:
        if a["pipeline"].startswith("music."):
            raise UserError(f"artwork {a['id']} is a melody; stylize takes pictures")
    out = await studio.batcher.run(_stylize, studio, style_models(request), cls, name, arts, params)
    return {"artworks": await run_in_threadpool(store_outputs, studio, user, name, out, list(dict.fromkeys(ids)))}


@router.post("/api/stylize/fast", status_code=201)
async def stylize_fast(body: FastStyleBody, request: Request,  # type: ignore[valid-type]
                       user: User = Depends(editor)) -> dict:
    """An artwork painted in the one style a style run was trained on; the new artwork records it as parent."""
    params = body.model_dump()
    return await _stylize_route(request, user, FastStylePipeline, params, [params.pop("content")])


@router.post("/api/stylize/arbitrary", status_code=201)
async def stylize_arbitrary(body: ArbitraryStyleBody, request: Request,  # type: ignore[valid-type]
                            user: User = Depends(editor)) -> dict:
    """An artwork painted in the manner of other artworks (`styles`) by the arbitrary-style network; the new
    artwork records the content and the styles as its parents."""
    params = body.model_dump()
    ids = [params.pop("content"), *params.pop("styles")]
    return await _stylize_route(request, user, ArbitraryStylePipeline, params, ids)
