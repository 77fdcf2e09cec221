"""Boards: each person's own folders of artworks in the gallery (what InvokeAI and ComfyUI users expect).

A board is private to the person who made it: nobody else sees it, the studio's owners neither (as with
favourites). Someone else's board answers 404, exactly like a board that does not exist, so board ids say
nothing about other people's boards. Editors make, rename and delete their boards and put on them any
artwork of the gallery (everyone signed in sees every artwork); a viewer may list and open the boards they
own (made while they were an editor) but not change them. Deleting a board never deletes an artwork;
deleting an artwork takes it off every board. The gallery shows one board with `GET /api/artworks?board=ID`.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request
from pydantic import BaseModel, ConfigDict, Field

from ..auth import User, editor, viewer
from ..store import BOARD_NAME_MAX
from . import MAX_ID, Id

router = APIRouter(tags=["boards"])
MAX_PER_CALL = 500                        # the gallery's largest page: "Select all shown" fits in one call
ArtworkId = Annotated[int, Field(ge=1, le=MAX_ID)]


class BoardName(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)           # 5 is not a name
    name: str = Field(description=f"1-{BOARD_NAME_MAX} characters once trimmed, unique among your boards (any case)")


class Artworks(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)           # "3" and true are not ids
    artworks: list[ArtworkId] = Field(min_length=1, max_length=MAX_PER_CALL, description="artwork ids")


def own_board(request: Request, bid: int, user: User) -> dict:
    """Board `bid` if `user` owns it; 404 otherwise, the same answer as for a board that does not exist."""
    board = request.app.state.studio.store.board(user.id, bid)
    if board is None:
        raise HTTPException(404, f"you have no board {bid}")
    return board


@router.get("/api/boards")
def list_boards(request: Request, user: User = Depends(viewer)) -> list[dict]:
    """Your boards by name, each with how many pictures it holds and a cover picture (`cover_url`: the
    content-keyed image_url of its newest picture; null when empty)."""
    return request.app.state.studio.store.boards(user.id)


@router.post("/api/boards", status_code=201)
def create_board(body: BoardName, request: Request, user: User = Depends(editor)) -> dict:
    store = request.app.state.studio.store
    return store.board(user.id, store.create_board(user.id, body.name))


@router.get("/api/boards/{bid}")
def get_board(bid: Id, request: Request, user: User = Depends(viewer)) -> dict:
    return own_board(request, bid, user)


@router.patch("/api/boards/{bid}")
def rename_board(bid: Id, body: BoardName, request: Request, user: User = Depends(editor)) -> dict:
    if not request.app.state.studio.store.rename_board(user.id, bid, body.name):
        raise HTTPException(404, f"you have no board {bid}")
    return own_board(request, bid, user)


@router.delete("/api/boards/{bid}")
def delete_board(bid: Id, request: Request, user: User = Depends(editor)) -> dict:
    """The board goes; its pictures stay in the gallery."""
    if not request.app.state.studio.store.delete_board(user.id, bid):
        raise HTTPException(404, f"you have no board {bid}")
    return {"ok": True, "id": bid}


@router.post("/api/boards/{bid}/artworks")
def add_artworks(bid: Id, body: Artworks, request: Request, user: User = Depends(editor)) -> dict:
    """Put artworks on the board, all of them or (when an id names no artwork) none; `added` counts those
    that were not on it already."""
    out = request.app.state.studio.store.add_to_board(user.id, bid, body.artworks)
    if out is None:
        raise HTTPException(404, f"you have no board {bid}")
    added, missing = out
    if missing:
        names = ", ".join(map(str, missing[:10])) + (f" and {len(missing) - 10} more" if len(missing) > 10 else "")
        raise HTTPException(404, f"no artwork {names}; nothing was added to board {bid}")
    return {"board": own_board(request, bid, user), "added": added}


@router.post("/api/boards/{bid}/artworks/remove")
def remove_artworks(bid: Id, body: Artworks, request: Request, user: User = Depends(editor)) -> dict:
    """Take artworks off the board (they stay in the gallery); `removed` counts those that were on it."""
    removed = request.app.state.studio.store.remove_from_board(user.id, bid, body.artworks)
    if removed is None:
        raise HTTPException(404, f"you have no board {bid}")
    return {"board": own_board(request, bid, user), "removed": removed}
