"""The REST API's page, /docs (Swagger UI), served from files on this computer.

FastAPI's own /docs and /redoc load from a CDN: blank offline, and the CDN's JavaScript would run on the
studio's origin with the user's session. Here Swagger UI's bundle comes from the `fastapi-offline` package
(under /docs-files/) and is started by the studio's `static/apidocs.js`, so the page holds no inline script and
the studio's Content-Security-Policy (`script-src 'self'`) covers it as well. There is no /redoc: ReDoc's
bundle fetches its maker's logo from their CDN on every load, and /docs shows the same API.
"""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

FILES = "/docs-files"

SWAGGER = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>artforge studio - REST API</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="stylesheet" href="{FILES}/swagger-ui.css"><link rel="icon" href="{FILES}/favicon.png"></head>
<body><div id="swagger-ui"></div>
<script src="{FILES}/swagger-ui-bundle.js"></script>
<script src="/static/apidocs.js"></script>
</body></html>
"""


def mount_api_docs(app: FastAPI) -> None:
    """/docs on `app` (made with docs_url=None, redoc_url=None), with its files."""
    app.mount(FILES, StaticFiles(packages=[("fastapi_offline", "static")]), name="docs-files")

    @app.get("/docs", response_class=HTMLResponse, include_in_schema=False)
    def swagger() -> str:
        return SWAGGER

