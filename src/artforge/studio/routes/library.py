"""Models (the starter and every run) and the pipelines with their declared parameters (forms are built
from these declarations, so a new pipeline appears here without new form code)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import FileResponse

from ...pipelines import PIPELINES
from ..auth import User, viewer

router = APIRouter(tags=["models"])


@router.get("/api/models")
def list_models(request: Request, user: User = Depends(viewer)) -> list[dict]:
    lib = request.app.state.studio.models
    return [lib.describe(name) for name in lib.names()]


@router.get("/api/models/{name}")
def get_model(name: str, request: Request, user: User = Depends(viewer)) -> dict:
    return request.app.state.studio.models.describe(name)


@router.get("/api/models/{name}/files/{path:path}")
def model_file(name: str, path: str, request: Request, user: User = Depends(viewer)):
    """A sample grid, curve, evaluation figure or report of a model (only files inside its folder)."""
    p, kind = request.app.state.studio.models.file(name, path)
    return FileResponse(p, media_type=kind)


@router.get("/api/pipelines")
def list_pipelines(user: User = Depends(viewer)) -> list[dict]:
    from ..routes.create import STUDIO_PIPELINES

    return [{**cls.schema(), "studio_endpoint": STUDIO_PIPELINES.get(name)} for name, cls in PIPELINES.items()]
