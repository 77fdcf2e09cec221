"""Storage: migrations from an empty dir, idempotent reopen, WAL, transactions, the object store."""

from __future__ import annotations

import sqlite3

import pytest

from artforge.errors import UserError
from artforge.studio.objects import ObjectStore
from artforge.studio.store import MIGRATIONS, Store

TABLES = {"schema_version", "users", "signin_tokens", "sessions", "api_tokens", "artworks", "tags", "lineage", "jobs",
          "media", "favourites", "uploads"}


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


def test_ids_are_never_reused_after_a_delete(tmp_path):
    store = Store(tmp_path / "s.sqlite3")
    with store.tx() as c:
        first = store.add_artwork(c, sha256="0" * 64, author=None, model="m", pipeline="generate", recipe={})
        newest = store.add_artwork(c, sha256="1" * 64, author=None, model="m", pipeline="generate", recipe={})
        uid = c.execute("INSERT INTO users (username, role, created) VALUES ('a', 'editor', 'now')").lastrowid
    with store.tx() as c:
        c.execute("DELETE FROM artworks WHERE id = ?", (newest,))
        c.execute("DELETE FROM users WHERE id = ?", (uid,))
    with store.tx() as c:
        again = store.add_artwork(c, sha256="2" * 64, author=None, model="m", pipeline="generate", recipe={})
        user_again = c.execute("INSERT INTO users (username, role, created) VALUES ('b', 'editor', 'now')").lastrowid
    assert (first, newest, again) == (1, 2, 3) and (uid, user_again) == (1, 2)


def _schema_3(path):
    """A database as artforge with three migrations left it."""
    from artforge.studio.store import _statements

    with sqlite3.connect(path) as c:
        c.execute("CREATE TABLE schema_version (version INTEGER NOT NULL)")
        c.execute("INSERT INTO schema_version VALUES (3)")
        for script in MIGRATIONS[:3]:
            for statement in _statements(script):
                c.execute(statement)
        c.executescript("""
            INSERT INTO users (id, username, role, created) VALUES (1, 'owner', 'owner', 't'), (5, 'eddie', 'editor', 't');
            INSERT INTO sessions VALUES ('h', 5, 'csrf', 1.0, 2.0);
            INSERT INTO artworks (id, sha256, author, model, pipeline, seed, recipe, created, favourite) VALUES
                (7, 'a', 5, 'm', 'generate', 3, '{}', 't1', 1), (9, 'b', 1, 'm', 'breed', NULL, '{}', 't2', 0);
            INSERT INTO tags VALUES (7, 'sky'), (9, 'sea');
            INSERT INTO lineage VALUES (9, 7);
            INSERT INTO media VALUES (9, 'midi', 'c');
            INSERT INTO jobs (id, kind, status, params, owner, created, updated, name, seq) VALUES
                (4, 'train', 'done', '{}', 5, 't', 't', 'run', 1);
        """)


def test_migration_4_keeps_every_row_and_stops_reusing_ids(tmp_path):
    path = tmp_path / "s.sqlite3"
    _schema_3(path)
    store = Store(path)
    assert store.version() == len(MIGRATIONS)
    with store.read() as c:
        assert c.execute("PRAGMA foreign_key_check").fetchall() == []
        assert [tuple(r) for r in c.execute("SELECT id, author, seed FROM artworks ORDER BY id")] == [(7, 5, 3), (9, 1, None)]
        assert [tuple(r) for r in c.execute("SELECT * FROM tags ORDER BY tag")] == [(9, "sea"), (7, "sky")]
        assert [tuple(r) for r in c.execute("SELECT * FROM lineage")] == [(9, 7)]
        assert [tuple(r) for r in c.execute("SELECT artwork_id, kind FROM media")] == [(9, "midi")]
        assert [tuple(r) for r in c.execute("SELECT user_id FROM sessions")] == [(5,)]
        assert [tuple(r) for r in c.execute("SELECT id, owner, name FROM jobs")] == [(4, 5, "run")]
        # the global favourite became everyone's own
        assert [tuple(r) for r in c.execute("SELECT * FROM favourites ORDER BY user_id")] == [(1, 7), (5, 7)]
        indexes = {r[0] for r in c.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}
        assert {"artworks_created", "artworks_sha", "jobs_queue", "jobs_name"} <= indexes
    with store.tx() as c:                               # the cascades still hold after the rebuild
        c.execute("DELETE FROM artworks WHERE id = 9")
        assert c.execute("SELECT COUNT(*) FROM lineage").fetchone()[0] == 0
        assert c.execute("SELECT COUNT(*) FROM media").fetchone()[0] == 0
        new = store.add_artwork(c, sha256="d", author=None, model="m", pipeline="generate", recipe={})
    assert new == 10
