"""Accounts and access: the first-start link, sessions with CSRF, API tokens, roles, acting as others."""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import replace

from artforge.studio import prepare
from conftest import PASSWORD


def test_first_start_link_signs_in_once(studio):
    assert studio.link.startswith("http://127.0.0.1:7860/signin?token=")
    c = studio.client()
    token = studio.link.split("token=")[1]
    r = c.get(f"/signin?token={token}", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/"
    assert c.get("/api/me").json()["role"] == "owner"
    again = studio.client().get(f"/signin?token={token}", follow_redirects=False)
    assert again.status_code == 401 and "used already" in again.text
    assert studio.client().get("/signin?token=forged", follow_redirects=False).status_code == 401


def test_a_used_sign_in_link_shows_a_page_that_leads_to_the_sign_in_form(studio, owner):
    r = studio.client().get("/signin?token=used-or-forged", follow_redirects=False)
    assert r.status_code == 401 and r.headers["content-type"] == "text/html; charset=utf-8"
    assert "<h1>This sign-in link no longer works</h1>" in r.text
    assert '<a href="/">Go to the sign-in page</a>' in r.text


def _link_token(link: str) -> str:
    return link.split("token=")[1]


def test_a_new_sign_in_link_replaces_the_one_printed_before(studio):
    first = _link_token(studio.link)
    second = _link_token(prepare(studio.settings))          # a second start, still without a password
    c = studio.client()
    assert c.get(f"/signin?token={first}", follow_redirects=False).status_code == 401
    assert c.get(f"/signin?token={second}", follow_redirects=False).status_code == 303


def test_setting_a_password_revokes_every_outstanding_sign_in_link(studio, owner):
    outstanding = _link_token(prepare(studio.settings))     # printed by a restart before the password was set
    assert owner.post("/api/me/password", json={"new_password": PASSWORD}).status_code == 200
    r = studio.client().get(f"/signin?token={outstanding}", follow_redirects=False)
    assert r.status_code == 401 and "no longer works" in r.text


def test_a_start_once_someone_has_a_password_revokes_outstanding_links(studio, owner):
    outstanding = _link_token(prepare(studio.settings))
    assert owner.post("/api/users", json={"username": "eddie", "password": PASSWORD}).status_code == 201
    assert prepare(replace(studio.settings, host="0.0.0.0")) is None
    assert studio.client().get(f"/signin?token={outstanding}", follow_redirects=False).status_code == 401


def test_owner_sets_a_password_then_signs_in_with_it(studio, owner):
    assert owner.post("/api/me/password", json={"new_password": "short"}).status_code == 422
    assert owner.post("/api/me/password", json={"new_password": PASSWORD}).status_code == 200
    c = studio.client()
    assert c.post("/api/login", json={"username": "owner", "password": "wrong password"}).status_code == 401
    r = c.post("/api/login", json={"username": "owner", "password": PASSWORD})
    assert r.status_code == 200 and r.json()["user"]["role"] == "owner"
    # Changing it again needs the old one.
    c.headers["X-CSRF-Token"] = r.json()["csrf"]
    assert c.post("/api/me/password", json={"new_password": "another long one"}).status_code == 403


def test_no_credentials_is_401(studio):
    c = studio.client()
    for method, path in (("get", "/api/me"), ("get", "/api/artworks"), ("get", "/api/models"),
                         ("post", "/api/generate"), ("get", "/api/tokens")):
        r = getattr(c, method)(path)
        assert r.status_code == 401, (path, r.text)
    assert c.get("/api/me", headers={"Authorization": "Bearer af_nonsense"}).status_code == 401
    assert c.get("/api/me", headers={"Authorization": "Basic b3duZXI6eA=="}).status_code == 401


def test_state_changes_by_cookie_need_the_csrf_header(owner):
    csrf = owner.headers.pop("X-CSRF-Token")
    r = owner.post("/api/tokens", json={"name": "x"})
    assert r.status_code == 403 and "CSRF" in r.json()["detail"]
    assert owner.post("/api/tokens", json={"name": "x"}, headers={"X-CSRF-Token": "forged"}).status_code == 403
    assert owner.get("/api/me").status_code == 200                   # reads need no token
    assert owner.post("/api/tokens", json={"name": "x"}, headers={"X-CSRF-Token": csrf}).status_code == 201


def test_api_tokens_work_without_cookies_and_belong_to_one_user(studio, owner, editor):
    made = editor.post("/api/tokens", json={"name": "script"}).json()
    api = studio.client()
    bearer = {"Authorization": f"Bearer {made['token']}"}
    assert api.get("/api/me", headers=bearer).json() == {"id": 2, "username": "eddie", "role": "editor",
                                                          "via": "token"}
    assert api.post("/api/artworks/1/tags", json={"tags": ["x"]}, headers=bearer).status_code == 404  # no CSRF needed
    assert [t["name"] for t in editor.get("/api/tokens").json()] == ["script"]
    assert owner.get("/api/tokens").json() == []                       # each sees only their own
    assert owner.delete(f"/api/tokens/{made['id']}").status_code == 404  # cannot revoke someone else's
    assert editor.delete(f"/api/tokens/{made['id']}").status_code == 200
    assert api.get("/api/me", headers=bearer).status_code == 401


def test_people_are_managed_by_the_owner_only(studio, owner, editor, viewer):
    assert [u["username"] for u in owner.get("/api/users").json()] == ["owner", "eddie", "vera"]
    for c in (editor, viewer):
        assert c.get("/api/users").status_code == 403
        assert c.post("/api/users", json={"username": "x", "password": PASSWORD}).status_code == 403
        assert c.patch("/api/users/2", json={"role": "owner"}).status_code == 403
    assert owner.post("/api/users", json={"username": "eddie", "password": PASSWORD}).status_code == 422
    assert owner.post("/api/users", json={"username": "../x", "password": PASSWORD}).status_code == 422
    assert owner.post("/api/users", json={"username": "z", "password": PASSWORD, "role": "god"}).status_code == 422
    assert owner.patch("/api/users/3", json={"role": "editor"}).json()["role"] == "editor"
    assert owner.patch("/api/users/99", json={"role": "editor"}).status_code == 404
    r = owner.patch("/api/users/1", json={"role": "viewer"})
    assert r.status_code == 422 and "needs an owner" in r.json()["detail"]
    assert owner.delete("/api/users/3").status_code == 200
    assert viewer.get("/api/me").status_code == 401                    # her session went with her


def test_viewer_can_look_but_not_change(studio, owner, viewer):
    aid = owner.post("/api/generate", json={"n": 1}).json()["artworks"][0]["id"]
    assert viewer.get("/api/artworks").json()["total"] == 1
    assert viewer.get(f"/api/artworks/{aid}/download").status_code == 200
    for method, path, body in (("post", "/api/generate", {"n": 1}),
                               ("put", f"/api/artworks/{aid}/favourite", {"favourite": True}),
                               ("post", f"/api/artworks/{aid}/tags", {"tags": ["x"]}),
                               ("delete", f"/api/artworks/{aid}/tags/x", None),
                               ("delete", f"/api/artworks/{aid}", None)):
        r = viewer.request(method.upper(), path, json=body)
        assert r.status_code == 403 and "viewer" in r.json()["detail"], (path, r.text)
    assert owner.get(f"/api/artworks/{aid}").json()["favourite"] is False


def test_an_editor_cannot_delete_or_author_as_someone_else(studio, owner, editor):
    aid = owner.post("/api/generate", json={"n": 1}).json()["artworks"][0]["id"]
    r = editor.delete(f"/api/artworks/{aid}")
    assert r.status_code == 403 and "owner's" in r.json()["detail"]
    r = editor.post("/api/generate", json={"n": 1, "author": "owner"})
    assert r.status_code == 422 and "author" in r.json()["detail"]
    mine = editor.post("/api/generate", json={"n": 1, "seed": 5}).json()["artworks"][0]
    assert mine["author"] == "eddie"
    assert editor.delete(f"/api/artworks/{mine['id']}").status_code == 200
    assert owner.delete(f"/api/artworks/{aid}").status_code == 200     # the owner may delete anything


def test_logout_ends_the_session(owner):
    assert owner.post("/api/logout").status_code == 200
    assert owner.get("/api/me").status_code == 401


def _bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def test_a_password_change_revokes_your_api_tokens(studio, owner, editor):
    mine = editor.post("/api/tokens", json={"name": "script"}).json()["token"]
    theirs = owner.post("/api/tokens", json={"name": "other"}).json()["token"]
    r = editor.post("/api/me/password", json={"old_password": PASSWORD, "new_password": "a new long one"})
    assert r.status_code == 200
    api = studio.client()
    assert api.get("/api/me", headers=_bearer(mine)).status_code == 401
    assert api.get("/api/me", headers=_bearer(theirs)).json()["username"] == "owner"   # only your own


def test_a_password_change_can_keep_the_api_tokens(studio, editor):
    token = editor.post("/api/tokens", json={"name": "script"}).json()["token"]
    r = editor.post("/api/me/password", json={"old_password": PASSWORD, "new_password": "a new long one",
                                              "keep_tokens": True})
    assert r.status_code == 200
    assert studio.client().get("/api/me", headers=_bearer(token)).json()["username"] == "eddie"


def test_an_api_token_can_be_made_to_expire(studio, editor):
    now = [float(int(time.time()))]
    studio.app.state.studio.accounts.clock = lambda: now[0]
    made = editor.post("/api/tokens", json={"name": "ci", "expires_days": 2}).json()
    expires = dt.datetime.fromtimestamp(now[0] + 2 * 86400, dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000+00:00")
    assert made["expires"] == expires
    forever = editor.post("/api/tokens", json={"name": "laptop"}).json()
    assert forever["expires"] is None
    assert [(t["name"], t["expires"]) for t in editor.get("/api/tokens").json()] == [("ci", expires), ("laptop", None)]
    api = studio.client()
    now[0] += 2 * 86400 - 1
    assert api.get("/api/me", headers=_bearer(made["token"])).json()["username"] == "eddie"
    now[0] += 1
    r = api.get("/api/me", headers=_bearer(made["token"]))
    assert r.status_code == 401 and r.json()["detail"] == "invalid API token"
    assert api.get("/api/me", headers=_bearer(forever["token"])).status_code == 200
