"""Signing in and out, the People page (owner), API tokens (each user their own)."""

from __future__ import annotations

import math

from fastapi import APIRouter, Depends, HTTPException, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from ..auth import CSRF_COOKIE, ROLES, SESSION_COOKIE, Accounts, User, accounts, current_user, owner, viewer
from ..ratelimit import TooManyAttempts
from . import Id

router = APIRouter(tags=["people"])


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Login(Strict):
    username: str = Field(max_length=40)
    password: str = Field(max_length=1024)


class NewUser(Strict):
    username: str = Field(max_length=40, description="1-40 letters, digits, '.', '_' or '-'")
    password: str = Field(min_length=8, max_length=1024)
    role: str = Field("editor", description=" | ".join(ROLES))


class RoleChange(Strict):
    role: str = Field(description=" | ".join(ROLES))


class PasswordChange(Strict):
    new_password: str = Field(min_length=8, max_length=1024)
    old_password: str | None = Field(None, max_length=1024, description="needed once a password is set")
    keep_tokens: bool = Field(False, description="keep your API tokens working (a new password revokes them)")


class NewToken(Strict):
    name: str = Field("api", min_length=1, max_length=80)
    expires_days: float | None = Field(None, gt=0, le=3650, description="days it works; leave out for a token "
                                       "that works until revoked (or until a password change)")


def _start_session(request: Request, response: Response, user: User) -> str:
    acc: Accounts = request.app.state.studio.accounts
    settings = request.app.state.studio.settings
    sid, csrf = acc.new_session(user.id)
    age = int(settings.session_days * 86400)
    response.set_cookie(SESSION_COOKIE, sid, max_age=age, httponly=True, samesite="strict",
                        secure=settings.secure_cookies, path="/")
    response.set_cookie(CSRF_COOKIE, csrf, max_age=age, httponly=False, samesite="strict",
                        secure=settings.secure_cookies, path="/")
    return csrf


# What a browser shows for a link that no longer signs in (it was opened from the terminal, not by a script).
DEAD_LINK = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Sign-in link no longer works - artforge studio</title>
<meta name="viewport" content="width=device-width, initial-scale=1"><meta name="color-scheme" content="dark">
<link rel="stylesheet" href="/static/studio.css"></head>
<body><main class="signin"><div class="panel">
<h1>This sign-in link no longer works</h1>
<p>It was used already, has expired, or was replaced: each start of the studio prints a new link until a
password is set, and setting a password ends all of them.</p>
<p><a href="/">Go to the sign-in page</a></p>
<p class="hint">No password yet? Restart the studio on this computer for a fresh link.</p>
</div></main></body></html>
"""


@router.get("/signin", include_in_schema=False)
def signin_link(token: str, request: Request, acc: Accounts = Depends(accounts)):
    """The one-time link printed at first start: signs in and goes to the studio."""
    user = acc.use_signin_token(token[:200])
    if user is None:
        return HTMLResponse(DEAD_LINK, status_code=401)
    response = RedirectResponse("/", status_code=303)
    _start_session(request, response, user)
    return response


async def _checked_password(request: Request, username: str, password: str) -> User | None:
    """The user whose password this is, or None; checked when the limiter gives this attempt its turn (after
    many failures for the name or from the address, a wait; 429 only when the wait would be too long)."""
    studio = request.app.state.studio
    limiter = studio.login_limiter
    try:
        attempt = limiter.begin(username, request.client.host if request.client else None)
    except TooManyAttempts as e:
        wait = math.ceil(e.retry_after)
        raise HTTPException(429, f"too many failed sign-ins; try again in {wait} s",
                            headers={"Retry-After": str(wait)}) from None
    await limiter.wait(attempt)
    user = await run_in_threadpool(studio.accounts.check_password, username, password)
    if user is not None:
        limiter.succeeded(attempt)
    return user


@router.post("/api/login")
async def login(body: Login, request: Request, response: Response) -> dict:
    """Sign in with a password. After repeated failures for one username or from one address, each attempt
    waits its turn (seconds, growing) before the password is checked; 429 only under a flood."""
    user = await _checked_password(request, body.username, body.password)
    if user is None:
        raise HTTPException(401, "wrong username or password")
    csrf = await run_in_threadpool(_start_session, request, response, user)
    return {"user": user.public(), "csrf": csrf}


@router.post("/api/logout")
def logout(request: Request, response: Response, user: User = Depends(current_user),
           acc: Accounts = Depends(accounts)) -> dict:
    sid = request.cookies.get(SESSION_COOKIE)
    if sid:
        acc.end_session(sid)
    response.delete_cookie(SESSION_COOKIE, path="/")
    response.delete_cookie(CSRF_COOKIE, path="/")
    return {"ok": True}


@router.get("/api/me")
def me(user: User = Depends(viewer)) -> dict:
    return {**user.public(), "via": user.via}


@router.post("/api/me/password")
async def change_password(body: PasswordChange, request: Request, user: User = Depends(viewer),
                          acc: Accounts = Depends(accounts)) -> dict:
    """Set your password. The old one is checked like a sign-in (its failures count and slow down alike)."""
    has = await run_in_threadpool(acc.has_password, user.id)
    if has and (body.old_password is None
                or await _checked_password(request, user.username, body.old_password) is None):
        raise HTTPException(403, "old_password is wrong")
    await run_in_threadpool(acc.set_password, user.id, body.new_password, body.keep_tokens)
    return {"ok": True}


@router.get("/api/users")
def list_users(user: User = Depends(owner), acc: Accounts = Depends(accounts)) -> list[dict]:
    return acc.users()


@router.post("/api/users", status_code=201)
def add_user(body: NewUser, user: User = Depends(owner), acc: Accounts = Depends(accounts)) -> dict:
    return acc.create_user(body.username, body.role, body.password).public()


@router.patch("/api/users/{uid}")
def change_role(uid: Id, body: RoleChange, user: User = Depends(owner), acc: Accounts = Depends(accounts)) -> dict:
    if acc.user(uid) is None:
        raise HTTPException(404, f"no user {uid}")
    acc.set_role(uid, body.role)
    return acc.user(uid).public()


@router.delete("/api/users/{uid}")
def remove_user(uid: Id, user: User = Depends(owner), acc: Accounts = Depends(accounts)) -> dict:
    if acc.user(uid) is None:
        raise HTTPException(404, f"no user {uid}")
    acc.delete_user(uid)
    return {"ok": True}


@router.get("/api/tokens")
def list_tokens(user: User = Depends(viewer), acc: Accounts = Depends(accounts)) -> list[dict]:
    return acc.tokens(user.id)


@router.post("/api/tokens", status_code=201)
def add_token(body: NewToken, user: User = Depends(viewer), acc: Accounts = Depends(accounts)) -> dict:
    """A new API token for yourself; its value is shown only in this answer. A new password revokes it."""
    expires_s = None if body.expires_days is None else body.expires_days * 86400
    return acc.new_token(user.id, body.name, expires_s)


@router.delete("/api/tokens/{tid}")
def remove_token(tid: Id, user: User = Depends(viewer), acc: Accounts = Depends(accounts)) -> dict:
    if not acc.delete_token(user.id, tid):
        raise HTTPException(404, f"you have no token {tid}")
    return {"ok": True}
