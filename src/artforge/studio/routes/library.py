"""Models (the starter and every run) and the pipelines with their declared parameters (forms are built
from these declarations, so a new pipeline appears here without new form code); deleting runs and uploads
(who may and when: studio/removal.py)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi import Path as PathParam
from fastapi.responses import FileResponse, Response

from ... import families
from ...pipelines import pipeline_class
from ..auth import User, editor, viewer
from ..models import Protected
from ..removal import InUse, NotYours, list_uploads, may_delete_run, remove_run, remove_upload, run_records, run_uses

router = APIRouter(tags=["models"])
UploadId = Annotated[str, PathParam(max_length=100, description="the upload's id (POST /api/uploads answers it)")]


def _described(request: Request, user: User, names: list[str]) -> list[dict]:
    """Each model as /api/models shows it: for a run also its newest train job (`job`, `state`: a failed run
    says so), who started it (`author`), `can_delete` (whether `user` may) and `in_use` (why not now)."""
    studio = request.app.state.studio
    with studio.store.read() as c:
        records, uses = run_records(c), run_uses(c)
    out = []
    for name in names:
        m = studio.models.describe(name)
        record = None if m["shipped"] else records.get(name)
        out.append({**m, "job": record and record["job"], "state": record and record["state"],
                    "error": record and record["error"], "author": record and record["author"],
                    "can_delete": not m["shipped"] and may_delete_run(user, record),
                    "in_use": None if m["shipped"] else uses.get(name)})
    return out


def _refused(fn, *args) -> None:
    try:
        fn(*args)
    except InUse as e:
        raise HTTPException(409, str(e)) from None
    except (NotYours, Protected) as e:
        raise HTTPException(403, str(e)) from None


@router.get("/api/models")
def list_models(request: Request, user: User = Depends(viewer)) -> list[dict]:
    return _described(request, user, request.app.state.studio.models.names())


@router.get("/api/models/{name}")
def get_model(name: str, request: Request, user: User = Depends(viewer)) -> dict:
    return _described(request, user, [name])[0]


@router.delete("/api/models/{name}", status_code=204, responses={403: {}, 404: {}, 409: {}})
def delete_model(name: str, request: Request, user: User = Depends(editor)) -> Response:
    """Delete a run: its folder (weights, checkpoints, samples) and its finished train jobs. Owners delete any
    run, editors the runs they started; 409 while a job needs it (cancel it first); the shipped models
    cannot be deleted (403). Pictures made with it stay in the gallery."""
    _refused(remove_run, request.app.state.studio, user, name)
    return Response(status_code=204)


@router.get("/api/models/{name}/files/{path:path}")
def model_file(name: str, path: str, request: Request, user: User = Depends(viewer)):
    """A sample grid, curve, evaluation figure or report of a model (only files inside its folder)."""
    p, kind = request.app.state.studio.models.file(name, path)
    return FileResponse(p, media_type=kind)


@router.get("/api/uploads")
def uploads(request: Request, user: User = Depends(editor)) -> dict:
    """Zips of training images unpacked by POST /api/uploads: an editor's own, every one for owners; `in_use`
    says why one cannot be deleted now."""
    return {"items": list_uploads(request.app.state.studio, user)}


@router.delete("/api/uploads/{upload_id}", status_code=204, responses={404: {}, 409: {}})
def delete_upload(upload_id: UploadId, request: Request, user: User = Depends(editor)) -> Response:
    """Delete an upload (its images); editors delete their own, owners any; 409 while a job trains on it.
    Runs already trained on it keep working."""
    _refused(remove_upload, request.app.state.studio, user, upload_id)
    return Response(status_code=204)


def served_routes(app) -> list[tuple[str, set[str], object]]:
    """(path, methods, handler) of every route the app serves, those of included routers too."""
    try:
        from fastapi.routing import iter_route_contexts     # newer FastAPI keeps included routers nested
    except ImportError:
        routes = app.routes
    else:
        routes = iter_route_contexts(app.routes)
    return [(r.path, set(getattr(r, "methods", None) or ()), getattr(r, "endpoint", None)) for r in routes]


def studio_endpoints(app) -> dict[str, tuple[str, str]]:
    """pipeline -> (the POST route that runs it, the studio page whose routes module serves it: create,
    explore, music, ...), for every registered pipeline the studio really serves. Read from the app's own
    routes, so it can neither name a route that is gone nor miss one added at the family's path for it."""
    posted = {path: handler.__module__.rsplit(".", 1)[-1] for path, methods, handler in served_routes(app)
              if "POST" in methods and handler is not None}
    return {p.name: (p.route, posted[p.route]) for p in families.pipeline_specs() if p.route in posted}


@router.get("/api/pipelines")
def list_pipelines(request: Request, user: User = Depends(viewer)) -> list[dict]:
    """Every registered pipeline with its declared params, its `family`, and where the studio runs it
    (`studio_endpoint`, `studio_page`; both null for one the studio does not run)."""
    served = studio_endpoints(request.app)
    out = []
    for spec in families.pipeline_specs():
        endpoint, page = served.get(spec.name, (None, None))
        out.append({**pipeline_class(spec.name).schema(), "family": spec.family, "studio_endpoint": endpoint,
                    "studio_page": page})
    return out
