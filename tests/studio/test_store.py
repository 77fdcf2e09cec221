"""Storage: migrations from an empty dir, idempotent reopen, WAL, transactions, the object store."""

from __future__ import annotations

import sqlite3

import pytest

from artforge.errors import UserError
from artforge.studio.objects import ObjectStore
from artforge.studio.store import MIGRATIONS, Store

TABLES = {"schema_version", "users", "signin_tokens", "sessions", "api_tokens", "artworks", "tags", "lineage", "jobs"}


def tables(path) -> set[str]:
    with sqlite3.connect(path) as c:
        return {r[0] for r in c.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}


def test_migrates_an_empty_dir_and_reopens_idempotently(tmp_path):
    path = tmp_path / "new" / "studio.sqlite3"
    store = Store(path)
    assert store.version() == len(MIGRATIONS) and TABLES <= tables(path)
    with store.tx() as c:
        c.execute("INSERT INTO users (username, role, created) VALUES ('a', 'owner', 'now')")
    again = Store(path)                              # reopening applies nothing and loses nothing
    assert again.version() == len(MIGRATIONS) and again.migrate() == len(MIGRATIONS)
    with again.read() as c:
        assert c.execute("SELECT COUNT(*) FROM users").fetchone()[0] == 1
        assert c.execute("SELECT COUNT(*) FROM schema_version").fetchone()[0] == 1


def test_wal_mode_and_foreign_keys(tmp_path):
    store = Store(tmp_path / "s.sqlite3")
    assert store.journal_mode() == "wal"
    with store.read() as c:
        assert c.execute("PRAGMA foreign_keys").fetchone()[0] == 1


def test_a_newer_schema_is_refused(tmp_path):
    store = Store(tmp_path / "s.sqlite3")
    with store.tx() as c:
        c.execute("UPDATE schema_version SET version = ?", (len(MIGRATIONS) + 1,))
    with pytest.raises(UserError, match="newer artforge"):
        Store(tmp_path / "s.sqlite3")


def test_a_failed_transaction_leaves_nothing(tmp_path):
    store = Store(tmp_path / "s.sqlite3")
    with pytest.raises(RuntimeError):
        with store.tx() as c:
            store.add_artwork(c, sha256="0" * 64, author=None, model="m", pipeline="generate", recipe={}, parents=[])
            raise RuntimeError("crash mid-write")
    assert store.search()[1] == 0


def test_lineage_walks_generations(tmp_path):
    store = Store(tmp_path / "s.sqlite3")
    with store.tx() as c:
        a, b = (store.add_artwork(c, sha256="0" * 64, author=None, model="m", pipeline="generate", recipe={})
                for _ in range(2))
        child = store.add_artwork(c, sha256="1" * 64, author=None, model="m", pipeline="breed", recipe={},
                                  parents=[a, b])
        grandchild = store.add_artwork(c, sha256="2" * 64, author=None, model="m", pipeline="breed", recipe={},
                                       parents=[child])
    tree = store.lineage(child, depth=8)
    assert tree["parents"] == [a, b] and tree["children"] == [grandchild]
    assert {n["id"] for n in store.lineage(grandchild, 8)["nodes"]} == {a, b, child, grandchild}
    assert {n["id"] for n in store.lineage(grandchild, 1)["nodes"]} == {child, grandchild}


def test_object_store_is_content_addressed(tmp_path):
    objs = ObjectStore(tmp_path / "objects")
    sha = objs.put(b"pixels")
    assert objs.put(b"pixels") == sha
    assert objs.path(sha) == tmp_path / "objects" / sha[:2] / f"{sha[2:]}.png"
    assert not list((tmp_path / "objects").rglob("*.tmp"))
    for bad in ("../../etc/passwd", "A" * 64, sha[:-1], sha + "/x"):
        with pytest.raises(ValueError):
            objs.path(bad)
