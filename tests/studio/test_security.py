"""What every answer tells the browser (no framing, scripts only from the studio), and the API docs served
from the studio's own files (nothing from a CDN: offline they would be blank, and third-party JavaScript
would run with the user's session)."""

from __future__ import annotations

import re

import pytest

CSP = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; "
       "media-src 'self' blob:; font-src 'self' data:; connect-src 'self'; "
       "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")


@pytest.mark.parametrize("path", ["/", "/static/app.js", "/api/health", "/api/me", "/signin?token=nope",
                                  "/docs", "/openapi.json", "/no-such-page"])
def test_every_answer_forbids_framing_and_foreign_scripts(studio, path):
    r = studio.client().get(path, follow_redirects=False)
    assert r.headers["content-security-policy"] == CSP
    assert r.headers["x-frame-options"] == "DENY"
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["referrer-policy"] == "same-origin"        # a sign-in link never reaches another site


def test_a_refused_body_gets_the_headers_too(studio, owner):
    r = owner.post("/api/generate", content=b"x" * (studio.settings.max_upload_bytes + 70 * 1024),
                   headers={"content-type": "application/json"})
    assert r.status_code == 413 and r.headers["content-security-policy"] == CSP


def _references(html: str) -> list[str]:
    return re.findall(r'(?:src|href)="([^"]*)"', html)


def test_api_docs_reference_only_the_studios_own_files(studio):
    c = studio.client()
    r = c.get("/docs")
    assert r.status_code == 200 and r.headers["content-type"] == "text/html; charset=utf-8"
    refs = _references(r.text)
    assert refs and all(ref.startswith("/") and not ref.startswith("//") for ref in refs), refs
    assert "<script>" not in r.text                               # no inline script: the policy would refuse it
    bodies = {}
    for ref in refs:
        got = c.get(ref)
        assert got.status_code == 200, ref
        bodies[ref] = got
    scripts = [ref for ref in refs if ref.endswith(".js")]
    assert any("SwaggerUIBundle" in bodies[ref].text for ref in scripts)
    assert all(bodies[ref].headers["content-type"].startswith("text/javascript") for ref in scripts)


def test_swagger_ui_is_started_by_a_script_of_the_studio(studio):
    c = studio.client()
    init = [ref for ref in _references(c.get("/docs").text) if ref.startswith("/static/")]
    assert init == ["/static/apidocs.js"]
    body = c.get("/static/apidocs.js").text
    assert 'url: "/openapi.json"' in body and "validatorUrl: null" in body    # no badge fetched from elsewhere


def test_redoc_from_a_cdn_is_gone(studio):
    assert studio.client().get("/redoc").status_code == 404
