"""Accounts, sessions, API tokens and sign-in links; FastAPI dependencies that say who is asking.

Passwords are hashed with argon2id. Browser sessions are cookies (HttpOnly, SameSite=Strict) with a CSRF
token: every state-changing request signed in by cookie must echo the token in the `X-CSRF-Token` header
(double submit: it must equal both the `artforge_csrf` cookie and the token stored with the session).
REST clients send `Authorization: Bearer TOKEN` instead; bearer requests carry no ambient credential, so
they need no CSRF token. Secrets are stored only as SHA-256 hashes.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
import secrets
import sqlite3
import time
from dataclasses import dataclass
from typing import Callable

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from fastapi import Depends, HTTPException, Request

from ..errors import UserError
from .store import Store, now_iso

ROLES = ("viewer", "editor", "owner")          # each can do what the ones before it can
SESSION_COOKIE = "artforge_session"
CSRF_COOKIE = "artforge_csrf"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
USERNAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,39}")
MIN_PASSWORD = 8


@dataclass(frozen=True)
class User:
    id: int
    username: str
    role: str
    via: str = "session"          # session | token

    def can(self, role: str) -> bool:
        return ROLES.index(self.role) >= ROLES.index(role)

    def public(self) -> dict:
        return {"id": self.id, "username": self.username, "role": self.role}


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _iso(epoch_s: float | None) -> str | None:
    if epoch_s is None:
        return None
    return dt.datetime.fromtimestamp(epoch_s, dt.timezone.utc).isoformat(timespec="milliseconds")


class Accounts:
    """Users, passwords, sessions, tokens: all the state behind auth, in the store."""

    def __init__(self, store: Store, hasher: PasswordHasher, session_s: float, signin_s: float):
        self.store, self.hasher = store, hasher
        self.session_s, self.signin_s = session_s, signin_s
        self.clock: Callable[[], float] = time.time       # seconds since the epoch; tests move it

    # -- users --------------------------------------------------------------------------------------------
    def count(self, with_password: bool = False) -> int:
        with self.store.read() as c:
            q = "SELECT COUNT(*) FROM users" + (" WHERE password_hash IS NOT NULL" if with_password else "")
            return int(c.execute(q).fetchone()[0])

    def create_user(self, username: str, role: str, password: str | None) -> User:
        if not USERNAME.fullmatch(username or ""):
            raise UserError("username: 1-40 letters, digits, '.', '_' or '-', starting with a letter or digit")
        if role not in ROLES:
            raise UserError(f"role: one of {', '.join(ROLES)}")
        pw = self._new_hash(password) if password is not None else None
        try:
            with self.store.tx() as c:
                cur = c.execute("INSERT INTO users (username, password_hash, role, created) VALUES (?, ?, ?, ?)",
                                (username, pw, role, now_iso()))
        except sqlite3.IntegrityError:
            raise UserError(f"username: '{username}' is taken") from None
        return User(int(cur.lastrowid), username, role)

    def _new_hash(self, password: str) -> str:
        if not isinstance(password, str) or len(password) < MIN_PASSWORD:
            raise UserError(f"password: at least {MIN_PASSWORD} characters")
        return self.hasher.hash(password)

    def user(self, uid: int) -> User | None:
        with self.store.read() as c:
            r = c.execute("SELECT id, username, role FROM users WHERE id = ?", (uid,)).fetchone()
        return User(r["id"], r["username"], r["role"]) if r else None

    def users(self) -> list[dict]:
        with self.store.read() as c:
            return [{"id": r["id"], "username": r["username"], "role": r["role"], "created": r["created"],
                     "has_password": r["password_hash"] is not None}
                    for r in c.execute("SELECT * FROM users ORDER BY id")]

    def set_role(self, uid: int, role: str) -> None:
        if role not in ROLES:
            raise UserError(f"role: one of {', '.join(ROLES)}")
        with self.store.tx() as c:
            self._keep_an_owner(c, uid, role)
            c.execute("UPDATE users SET role = ? WHERE id = ?", (role, uid))

    def delete_user(self, uid: int) -> None:
        with self.store.tx() as c:
            self._keep_an_owner(c, uid, None)
            c.execute("DELETE FROM users WHERE id = ?", (uid,))

    @staticmethod
    def _keep_an_owner(c: sqlite3.Connection, uid: int, new_role: str | None) -> None:
        owners = [r[0] for r in c.execute("SELECT id FROM users WHERE role = 'owner'")]
        if owners == [uid] and new_role != "owner":
            raise UserError("the studio needs an owner: make someone else owner first")

    def has_password(self, uid: int) -> bool:
        with self.store.read() as c:
            r = c.execute("SELECT password_hash FROM users WHERE id = ?", (uid,)).fetchone()
        return r is not None and r["password_hash"] is not None

    def set_password(self, uid: int, password: str, keep_tokens: bool = False) -> None:
        """A new password signs `uid` out everywhere and revokes their API tokens (unless `keep_tokens`)."""
        h = self._new_hash(password)
        with self.store.tx() as c:
            c.execute("UPDATE users SET password_hash = ? WHERE id = ?", (h, uid))
            c.execute("DELETE FROM sessions WHERE user_id = ?", (uid,))
            if not keep_tokens:
                c.execute("DELETE FROM api_tokens WHERE user_id = ?", (uid,))
            c.execute("DELETE FROM signin_tokens")      # links are for a studio nobody can sign in to yet

    def check_password(self, username: str, password: str) -> User | None:
        with self.store.read() as c:
            r = c.execute("SELECT * FROM users WHERE username = ?", (username,)).fetchone()
        if r is None or r["password_hash"] is None:
            self._dummy_verify(password)            # same time whether or not the user exists
            return None
        try:
            self.hasher.verify(r["password_hash"], password)
        except (VerificationError, InvalidHashError):
            return None
        return User(r["id"], r["username"], r["role"])

    def _dummy_verify(self, password: str) -> None:
        try:
            self.hasher.verify(self.hasher.hash("not-a-password"), password)
        except (VerificationError, InvalidHashError):
            pass

    # -- sign-in links, sessions, tokens -------------------------------------------------------------------
    def signin_token(self, uid: int) -> str:
        """A new one-time sign-in link's token for `uid`; the links printed before it stop working."""
        token = secrets.token_urlsafe(32)
        with self.store.tx() as c:
            c.execute("DELETE FROM signin_tokens WHERE expires < ? OR user_id = ?", (self.clock(), uid))
            c.execute("INSERT INTO signin_tokens VALUES (?, ?, ?)", (_hash(token), uid, self.clock() + self.signin_s))
        return token

    def revoke_signin_tokens(self) -> None:
        with self.store.tx() as c:
            c.execute("DELETE FROM signin_tokens")

    def use_signin_token(self, token: str) -> User | None:
        """The user the one-time token signs in (and the token is gone), or None."""
        with self.store.tx() as c:
            r = c.execute("SELECT user_id, expires FROM signin_tokens WHERE token_hash = ?", (_hash(token),)).fetchone()
            if r is None:
                return None
            c.execute("DELETE FROM signin_tokens WHERE token_hash = ?", (_hash(token),))
        return self.user(r["user_id"]) if r["expires"] >= self.clock() else None

    def new_session(self, uid: int) -> tuple[str, str]:
        sid, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
        t = self.clock()
        with self.store.tx() as c:
            c.execute("DELETE FROM sessions WHERE expires < ?", (t,))
            c.execute("INSERT INTO sessions VALUES (?, ?, ?, ?, ?)", (_hash(sid), uid, csrf, t, t + self.session_s))
        return sid, csrf

    def session(self, sid: str) -> tuple[User, str] | None:
        with self.store.read() as c:
            r = c.execute("SELECT u.id, u.username, u.role, s.csrf, s.expires FROM sessions s JOIN users u "
                          "ON u.id = s.user_id WHERE s.id_hash = ?", (_hash(sid),)).fetchone()
        if r is None or r["expires"] < self.clock():
            return None
        return User(r["id"], r["username"], r["role"], "session"), r["csrf"]

    def end_session(self, sid: str) -> None:
        with self.store.tx() as c:
            c.execute("DELETE FROM sessions WHERE id_hash = ?", (_hash(sid),))

    def new_token(self, uid: int, name: str, expires_s: float | None = None) -> dict:
        """A new API token for `uid` ({id, name, token, expires}), valid for `expires_s` (None: until revoked)."""
        token = "af_" + secrets.token_urlsafe(32)
        expires = None if expires_s is None else self.clock() + expires_s
        with self.store.tx() as c:
            cur = c.execute("INSERT INTO api_tokens (user_id, name, token_hash, created, expires) "
                            "VALUES (?, ?, ?, ?, ?)", (uid, name, _hash(token), now_iso(), expires))
        return {"id": int(cur.lastrowid), "name": name, "token": token, "expires": _iso(expires)}

    def tokens(self, uid: int) -> list[dict]:
        with self.store.read() as c:
            rows = c.execute("SELECT id, name, created, last_used, expires FROM api_tokens "
                             "WHERE user_id = ? ORDER BY id", (uid,)).fetchall()
        return [{**dict(r), "expires": _iso(r["expires"])} for r in rows]

    def delete_token(self, uid: int, token_id: int) -> bool:
        """Deletes one of `uid`'s own tokens; False when there is no such token of theirs."""
        with self.store.tx() as c:
            return c.execute("DELETE FROM api_tokens WHERE id = ? AND user_id = ?", (token_id, uid)).rowcount > 0

    def token_user(self, token: str) -> User | None:
        with self.store.read() as c:
            r = c.execute("SELECT u.id, u.username, u.role, t.id AS tid, t.last_used, t.expires FROM api_tokens t "
                          "JOIN users u ON u.id = t.user_id WHERE t.token_hash = ?", (_hash(token),)).fetchone()
        if r is None or (r["expires"] is not None and r["expires"] <= self.clock()):
            return None
        stamp = now_iso()
        if (r["last_used"] or "")[:16] != stamp[:16]:     # at most one write a minute per token, not per request
            with self.store.tx() as c:
                c.execute("UPDATE api_tokens SET last_used = ? WHERE id = ?", (stamp, r["tid"]))
        return User(r["id"], r["username"], r["role"], "token")


def accounts(request: Request) -> Accounts:
    return request.app.state.studio.accounts


def current_user(request: Request, acc: Accounts = Depends(accounts)) -> User:
    """Who is asking: a Bearer token, or a session cookie (plus the CSRF token on a state change)."""
    header = request.headers.get("authorization", "")
    if header:
        scheme, _, token = header.partition(" ")
        user = acc.token_user(token.strip()) if scheme.lower() == "bearer" and token.strip() else None
        if user is None:
            raise HTTPException(401, "invalid API token", headers={"WWW-Authenticate": "Bearer"})
        return user
    sid = request.cookies.get(SESSION_COOKIE)
    found = acc.session(sid) if sid else None
    if found is None:
        raise HTTPException(401, "sign in first (or send Authorization: Bearer TOKEN)",
                            headers={"WWW-Authenticate": "Bearer"})
    user, csrf = found
    if request.method not in SAFE_METHODS:
        sent = request.headers.get(CSRF_HEADER, "")
        cookie = request.cookies.get(CSRF_COOKIE, "")
        if not sent or not hmac.compare_digest(sent, cookie) or not hmac.compare_digest(sent, csrf):
            raise HTTPException(403, f"CSRF token missing or wrong: send the {CSRF_COOKIE} cookie's value in "
                                     f"the {CSRF_HEADER} header")
    return user


def require(role: str):
    """A dependency that lets through users with at least `role`."""
    def check(user: User = Depends(current_user)) -> User:
        if not user.can(role):
            raise HTTPException(403, f"{user.username} is {'an' if user.role[0] in 'aeiou' else 'a'} {user.role}; "
                                     f"this needs {role} rights")
        return user
    check.__name__ = f"require_{role}"
    return check


viewer = require("viewer")
editor = require("editor")
owner = require("owner")
