"""`create_app(settings)`: the studio's FastAPI app. Nothing happens at import; everything hangs off
`app.state.studio`, built from the settings given.

>>> # uvicorn.run(create_app(StudioSettings(data_dir="studio-data")), host="127.0.0.1", port=7860)
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
from importlib import resources

from argon2 import PasswordHasher
from fastapi import FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.staticfiles import StaticFiles

from .. import __version__
from ..errors import UserError
from .apidocs import mount_api_docs
from .auth import Accounts
from .batcher import Batcher
from .explorer import DirectionCache
from .generation import Generator
from .jobs import JobQueue, make_images
from .models import ModelLibrary, NotFound, PathRefused
from .objects import ObjectStore
from .ratelimit import LoginLimiter
from .settings import StudioSettings
from .store import Store

log = logging.getLogger("artforge.studio")


class Studio:
    """Everything a request handler needs, built once per app from the settings."""

    def __init__(self, settings: StudioSettings):
        self.settings = settings
        open_data_dir(settings)
        self.store = Store(settings.db_path)
        self.objects = ObjectStore(settings.objects_dir)
        hasher = PasswordHasher(time_cost=settings.argon2_time_cost, memory_cost=settings.argon2_memory_kib,
                                parallelism=1)
        self.accounts = Accounts(self.store, hasher, settings.session_days * 86400,
                                 settings.signin_token_minutes * 60)
        self.models = ModelLibrary(settings.runs_dir, settings.device)
        self.generator = Generator(self.models, settings.copy_check_factory)
        self.batcher = Batcher(self.generator, window_ms=settings.batch_window_ms,
                               max_size=settings.max_batch_images, enabled=settings.batching,
                               size=lambda r: r.n)
        self.directions = DirectionCache(settings.cache_dir / "directions")
        self.login_limiter = LoginLimiter(settings.login_max_failures, settings.login_ip_max_failures,
                                          settings.login_window_s, settings.login_delay_s,
                                          settings.login_max_delay_s, settings.login_max_wait_s)
        self.jobs = JobQueue(settings, self.store, self.models,     # its worker starts with the app
                             make_images=lambda *args: make_images(self, *args))

    def close(self) -> None:
        self.jobs.close()
        self.batcher.close()


def open_data_dir(settings: StudioSettings) -> None:
    """The data dir made (or kept) private to this user, 700 with the database 600, and its tmp/ emptied of
    what a crashed studio left there (nothing else uses it between starts)."""
    settings.data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(settings.data_dir, 0o700)
    db = settings.db_path
    os.close(os.open(db, os.O_CREAT | os.O_RDWR, 0o600))     # before SQLite makes it with the umask's 644
    for f in (db, db.with_name(db.name + "-wal"), db.with_name(db.name + "-shm")):
        if f.exists():
            os.chmod(f, 0o600)
    shutil.rmtree(settings.tmp_dir, ignore_errors=True)
    for d in (settings.objects_dir, settings.runs_dir, settings.tmp_dir):
        d.mkdir(exist_ok=True)


def prepare(settings: StudioSettings) -> str | None:
    """Open (and migrate) the data dir; on first start make the owner account and return a one-time
    sign-in URL for it (also later, as long as nobody has set a password); None otherwise."""
    studio = Studio(settings)
    try:
        acc = studio.accounts
        if acc.count() == 0:
            owner_id = acc.create_user("owner", "owner", None).id
        elif acc.count(with_password=True) == 0:      # the first link was lost before a password was set
            owner_id = next(u["id"] for u in acc.users() if u["role"] == "owner")
        else:
            acc.revoke_signin_tokens()                # someone can sign in with a password: no link is needed
            return None
        return signin_url(settings, acc.signin_token(owner_id))
    finally:
        studio.close()


def has_accounts(settings: StudioSettings) -> bool:
    """Whether anyone can sign in with a password (what binding beyond this computer requires). Makes nothing
    when there is no database yet: a refused start leaves no data dir behind."""
    if not settings.db_path.is_file():
        return False
    accounts = Accounts(Store(settings.db_path), PasswordHasher(), session_s=0, signin_s=0)
    return accounts.count(with_password=True) > 0


def signin_url(settings: StudioSettings, token: str) -> str:
    host = "127.0.0.1" if settings.host in ("0.0.0.0", "::") else settings.host
    host = f"[{host}]" if ":" in host else host
    return f"http://{host}:{settings.port}/signin?token={token}"


# Sent with every answer. No page of another site may frame the studio (clickjacking); scripts come only from
# the studio itself (neither the page nor the API docs has an inline script). Inline styles stay allowed: the
# page's scripts set `style` attributes. Blobs: the explorer's preview and downloads.
CSP = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; "
       "media-src 'self' blob:; font-src 'self' data:; connect-src 'self'; "
       "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
SECURITY_HEADERS = [(b"content-security-policy", CSP.encode()), (b"x-frame-options", b"DENY"),
                    (b"x-content-type-options", b"nosniff"), (b"referrer-policy", b"same-origin")]


class SecurityHeaders:
    """ASGI middleware: SECURITY_HEADERS on every HTTP answer."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)

        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), *SECURITY_HEADERS]}
            await send(message)

        await self.app(scope, receive, send_with_headers)


class BodyLimit:
    """ASGI middleware: request bodies over `limit` bytes get 413 before they are read into memory."""

    def __init__(self, app, limit: int, paths: dict[str, int] | None = None):
        self.app, self.default, self.paths = app, limit, paths or {}

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        limit = self.paths.get(scope.get("path"), self.default)      # zips of training images may be bigger
        length = dict(scope.get("headers", [])).get(b"content-length")
        if length is not None and (not length.isdigit() or int(length) > limit):
            return await _too_large(limit, send)
        seen = 0

        async def limited():
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise _TooLarge(413, f"request body too large (limit {limit} bytes)")
            return message

        try:
            await self.app(scope, limited, send)
        except _TooLarge:
            await _too_large(limit, send)


class _TooLarge(HTTPException):
    """An HTTPException, so FastAPI's body parsing passes it on as the 413 (it turns any other error into
    400 'error parsing the body': what an over-limit chunked upload got)."""


async def _too_large(limit: int, send) -> None:
    body = b'{"detail":"request body too large (limit %d bytes)"}' % limit
    await send({"type": "http.response.start", "status": 413,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


class PageFiles(StaticFiles):
    """The page's files, revalidated on every load (a 304 when unchanged), so the browser never keeps running
    the scripts of an older artforge after an upgrade."""

    def file_response(self, *args, **kwargs):
        response = super().file_response(*args, **kwargs)
        response.headers["Cache-Control"] = "no-cache"
        return response


def create_app(settings: StudioSettings) -> FastAPI:
    """The studio app for one data dir."""
    from .routes import account, boards, create, explore, gallery, jobs, library, music

    studio = Studio(settings)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI):
        studio.jobs.start()
        yield
        studio.close()

    app = FastAPI(title="artforge studio", version=__version__, lifespan=lifespan, docs_url=None, redoc_url=None,
                  description="Create with your models, keep a gallery that remembers how every piece was made. "
                              "Authenticate with a session cookie (plus the X-CSRF-Token header on changes) or "
                              "`Authorization: Bearer TOKEN` (make tokens at POST /api/tokens).")
    app.state.studio = studio
    app.add_middleware(BodyLimit, limit=settings.max_upload_bytes + 64 * 1024,
                       paths={"/api/uploads": settings.max_zip_bytes + 64 * 1024})
    app.add_middleware(SecurityHeaders)          # outermost: on every answer, the body limit's 413 too
    for module in (account, library, create, explore, gallery, boards, jobs, music):
        app.include_router(module.router)
    _error_handlers(app)
    mount_api_docs(app)

    # The page's scripts, styles and icons (plain files, no build step), and the page itself.
    app.mount("/static", PageFiles(packages=[("artforge.studio", "static")]), name="static")

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def index() -> str:
        return (resources.files("artforge") / "studio" / "static" / "index.html").read_text(encoding="utf-8")

    @app.get("/api/health", tags=["studio"])
    def health() -> dict:
        return {"ok": True, "version": __version__}

    return app


def _error_handlers(app: FastAPI) -> None:
    @app.exception_handler(NotFound)
    async def not_found(request: Request, e: NotFound):
        return JSONResponse({"detail": str(e)}, status_code=404)

    @app.exception_handler(PathRefused)
    async def refused(request: Request, e: PathRefused):
        return JSONResponse({"detail": str(e)}, status_code=400)

    @app.exception_handler(UserError)
    async def user_error(request: Request, e: UserError):
        return JSONResponse({"detail": str(e)}, status_code=422)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, e: RequestValidationError):
        errors = [{k: v for k, v in err.items() if k in ("loc", "msg", "type")} for err in e.errors()]
        msg = "; ".join(f"{'.'.join(map(str, err['loc']))}: {err['msg']}" for err in errors)
        return JSONResponse({"detail": msg or "invalid request", "errors": errors}, status_code=422)

    @app.exception_handler(OverflowError)
    async def too_large(request: Request, e: OverflowError):
        # a number in a request body too large for SQLite's 64-bit integers (ids in lists, for one)
        return JSONResponse({"detail": "a number in the request is out of range (at most 2**63 - 1)"},
                            status_code=422)

    @app.exception_handler(Exception)
    async def bug(request: Request, e: Exception):
        log.exception("unexpected error on %s %s", request.method, request.url.path)
        return JSONResponse({"detail": f"internal error: {type(e).__name__}"}, status_code=500)
