"""The studio's metadata: one SQLite file in WAL mode, numbered migrations, every write in a transaction.

Images are not in the database: they live in the content-addressed object store (`objects.py`). An
artwork's image is written (atomically) before its row is committed, so a crash at any moment leaves
either a complete artwork or an unreferenced object file, never a row without its image.

>>> import tempfile, pathlib
>>> store = Store(pathlib.Path(tempfile.mkdtemp()) / "s.sqlite3")
>>> store.version() == len(MIGRATIONS)
True
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import re
import sqlite3
from pathlib import Path
from typing import Iterator

from ..errors import UserError

# Numbered migrations: MIGRATIONS[i] takes the schema from version i to i + 1. Never edit a released one;
# append a new one.
MIGRATIONS: tuple = (                                # SQL scripts, or functions of a connection
    """
    CREATE TABLE users (
        id INTEGER PRIMARY KEY,
        username TEXT NOT NULL UNIQUE COLLATE NOCASE,
        password_hash TEXT,                                  -- NULL until the owner sets one
        role TEXT NOT NULL CHECK (role IN ('owner', 'editor', 'viewer')),
        created TEXT NOT NULL
    );
    CREATE TABLE signin_tokens (                             -- one-time sign-in links (first start)
        token_hash TEXT PRIMARY KEY,
        user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        expires REAL NOT NULL
    );
    CREATE TABLE sessions (
        id_hash TEXT PRIMARY KEY,
        user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        csrf TEXT NOT NULL,
        created REAL NOT NULL,
        expires REAL NOT NULL
    );
    CREATE TABLE api_tokens (
        id INTEGER PRIMARY KEY,
        user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        name TEXT NOT NULL,
        token_hash TEXT NOT NULL UNIQUE,
        created TEXT NOT NULL,
        last_used TEXT
    );
    CREATE TABLE artworks (
        id INTEGER PRIMARY KEY,
        sha256 TEXT NOT NULL,
        author INTEGER REFERENCES users(id) ON DELETE SET NULL,
        model TEXT NOT NULL,
        pipeline TEXT NOT NULL,
        seed INTEGER,
        recipe TEXT NOT NULL,
        created TEXT NOT NULL,
        favourite INTEGER NOT NULL DEFAULT 0
    );
    CREATE INDEX artworks_created ON artworks(created);
    CREATE INDEX artworks_sha ON artworks(sha256);
    CREATE TABLE tags (
        artwork_id INTEGER NOT NULL REFERENCES artworks(id) ON DELETE CASCADE,
        tag TEXT NOT NULL,
        PRIMARY KEY (artwork_id, tag)
    );
    CREATE INDEX tags_tag ON tags(tag);
    CREATE TABLE lineage (
        child INTEGER NOT NULL REFERENCES artworks(id) ON DELETE CASCADE,
        parent INTEGER NOT NULL REFERENCES artworks(id) ON DELETE CASCADE,
        PRIMARY KEY (child, parent)
    );
    CREATE INDEX lineage_parent ON lineage(parent);
    CREATE TABLE jobs (
        id INTEGER PRIMARY KEY,
        kind TEXT NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('queued', 'running', 'paused', 'done', 'failed', 'cancelled',
                                               'interrupted')),
        params TEXT NOT NULL,
        owner INTEGER REFERENCES users(id) ON DELETE SET NULL,
        created TEXT NOT NULL,
        updated TEXT NOT NULL,
        progress TEXT,
        error TEXT
    );
    """,
    # 2: the jobs queue (studio/jobs.py): run name, queue order, the training process's id
    """
    ALTER TABLE jobs ADD COLUMN name TEXT;
    ALTER TABLE jobs ADD COLUMN seq INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE jobs ADD COLUMN pid INTEGER;
    CREATE INDEX jobs_queue ON jobs(status, seq);
    CREATE INDEX jobs_name ON jobs(name);
    """,
    # 3: melodies (routes/music.py): an artwork's picture is its piano roll; its MIDI and WAV files are objects too
    """
    CREATE TABLE media (
        artwork_id INTEGER NOT NULL REFERENCES artworks(id) ON DELETE CASCADE,
        kind TEXT NOT NULL CHECK (kind IN ('midi', 'wav')),
        sha256 TEXT NOT NULL,
        PRIMARY KEY (artwork_id, kind)
    );
    CREATE INDEX media_sha ON media(sha256);
    """,
    # 4: ids are never reused (users, tokens, artworks and jobs rebuilt with AUTOINCREMENT: a deleted artwork's
    # id named a different picture afterwards); favourites per person; uploads with their owner; a job's
    # pending stop (pause/cancel asked, the trainer still finishing its step)
    lambda c: _migration_4(c),
    # 5: API tokens may expire (auth.py): seconds since the epoch, NULL for never
    """
    ALTER TABLE api_tokens ADD COLUMN expires REAL;
    """,
    # 6: boards (routes/boards.py): each person's own folders of artworks. Deleting a board or an artwork
    # removes its memberships, never the artworks; names are unique per owner (any case), trimmed, 1-60 long
    """
    CREATE TABLE boards (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        owner INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        name TEXT NOT NULL COLLATE NOCASE CHECK (length(name) BETWEEN 1 AND 60 AND name = trim(name)),
        created TEXT NOT NULL,
        UNIQUE (owner, name)
    );
    CREATE TABLE board_items (
        board_id INTEGER NOT NULL REFERENCES boards(id) ON DELETE CASCADE,
        artwork_id INTEGER NOT NULL REFERENCES artworks(id) ON DELETE CASCADE,
        added TEXT NOT NULL,
        PRIMARY KEY (board_id, artwork_id)
    );
    CREATE INDEX board_items_artwork ON board_items(artwork_id);
    """,
)

BOARD_NAME_MAX = 60


_MIGRATION_4 = """
    ALTER TABLE jobs ADD COLUMN stop TEXT;                  -- pause | cancel, asked while the trainer runs
    CREATE TABLE favourites (
        user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        artwork_id INTEGER NOT NULL REFERENCES artworks(id) ON DELETE CASCADE,
        PRIMARY KEY (user_id, artwork_id)
    );
    CREATE INDEX favourites_artwork ON favourites(artwork_id);
    -- the old favourites were everyone's: each person keeps seeing them (artworks.favourite is unused from now)
    INSERT INTO favourites (user_id, artwork_id) SELECT u.id, a.id FROM users u, artworks a WHERE a.favourite = 1;
    CREATE TABLE uploads (                                  -- zips of training images (uploads/ID/)
        id TEXT PRIMARY KEY,
        owner INTEGER REFERENCES users(id) ON DELETE SET NULL,
        created TEXT NOT NULL,
        images INTEGER NOT NULL
    )
"""


def _migration_4(c: sqlite3.Connection) -> None:
    for statement in _statements(_MIGRATION_4):
        c.execute(statement)
    for table in ("users", "api_tokens", "artworks", "jobs"):
        _rebuild_with_autoincrement(c, table)


def _rebuild_with_autoincrement(c: sqlite3.Connection, table: str) -> None:
    """`table` made again with `id INTEGER PRIMARY KEY AUTOINCREMENT`, every row, column and index kept.

    SQLite cannot add AUTOINCREMENT to a table, so this is its documented rebuild (foreign keys off, which
    `migrate` does): create the new table, copy, drop the old, rename the new, make the indexes again. The
    definition is the table's own (`sqlite_master`), so columns added by later ALTERs come along.
    """
    sql = c.execute("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?", (table,)).fetchone()[0]
    if "AUTOINCREMENT" in sql.upper():
        return
    sql, found = re.subn(r"\bid\s+INTEGER\s+PRIMARY\s+KEY\b", "id INTEGER PRIMARY KEY AUTOINCREMENT", sql, count=1)
    sql, named = re.subn(rf"^\s*CREATE\s+TABLE\s+\"?{table}\"?", f"CREATE TABLE {table}__new", sql, count=1)
    if not (found and named):
        raise RuntimeError(f"migration 4: unexpected definition of table {table}")
    extras = [r[0] for r in c.execute("SELECT sql FROM sqlite_master WHERE tbl_name = ? AND type IN "
                                      "('index', 'trigger') AND sql IS NOT NULL", (table,))]
    cols = ", ".join(f'"{r[1]}"' for r in c.execute(f"PRAGMA table_info({table})"))
    c.execute(sql)
    c.execute(f"INSERT INTO {table}__new ({cols}) SELECT {cols} FROM {table}")
    c.execute(f"DROP TABLE {table}")
    c.execute(f"ALTER TABLE {table}__new RENAME TO {table}")
    for statement in extras:
        c.execute(statement)


def now_iso() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="milliseconds")


class Store:
    """A SQLite database opened in WAL mode and migrated to the newest schema on open.

    Each call opens its own connection (cheap in SQLite), so request threads never share one.
    """

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as c:
            mode = c.execute("PRAGMA journal_mode=WAL").fetchone()[0]
            if mode.lower() != "wal":
                raise UserError(f"{self.path}: SQLite could not switch to WAL mode (got {mode}); "
                                "put the data dir on a local disk")
        self.migrate()

    def _connect(self) -> sqlite3.Connection:
        c = sqlite3.connect(self.path, timeout=30.0, isolation_level=None, check_same_thread=False)
        c.row_factory = sqlite3.Row
        c.execute("PRAGMA foreign_keys=ON")
        c.execute("PRAGMA synchronous=NORMAL")   # WAL + NORMAL: durable at checkpoints, never corrupt
        return c

    @contextlib.contextmanager
    def tx(self, rebuild: bool = False) -> Iterator[sqlite3.Connection]:
        """A write transaction (BEGIN IMMEDIATE): all of it is committed, or none of it. With `rebuild`
        (migrations), foreign keys are off so a table can be rebuilt (dropping it would otherwise cascade to
        the rows that point at it), and every reference is checked before the commit."""
        c = self._connect()
        try:
            if rebuild:
                c.execute("PRAGMA foreign_keys=OFF")          # only takes effect outside a transaction
            c.execute("BEGIN IMMEDIATE")
            try:
                yield c
                broken = c.execute("PRAGMA foreign_key_check").fetchall() if rebuild else []
                if broken:
                    raise UserError(f"{self.path}: a migration would leave {len(broken)} broken references "
                                    f"(first in table {broken[0][0]}); nothing was changed")
            except BaseException:
                c.execute("ROLLBACK")
                raise
            c.execute("COMMIT")
        finally:
            c.close()

    @contextlib.contextmanager
    def read(self) -> Iterator[sqlite3.Connection]:
        c = self._connect()
        try:
            yield c
        finally:
            c.close()

    def journal_mode(self) -> str:
        with self.read() as c:
            return c.execute("PRAGMA journal_mode").fetchone()[0]

    def version(self) -> int:
        with self.read() as c:
            return _version(c)

    def migrate(self) -> int:
        """Apply the migrations this database lacks, each in its own transaction; returns the version."""
        with self.tx() as c:
            c.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
            if c.execute("SELECT COUNT(*) FROM schema_version").fetchone()[0] == 0:
                c.execute("INSERT INTO schema_version VALUES (0)")
            have = _version(c)
        if have > len(MIGRATIONS):
            raise UserError(f"{self.path} was written by a newer artforge (schema {have}, this one knows "
                            f"{len(MIGRATIONS)}); upgrade artforge")
        for v in range(have, len(MIGRATIONS)):
            with self.tx(rebuild=True) as c:
                if _version(c) != v:          # another process migrated meanwhile
                    continue
                step = MIGRATIONS[v]
                if callable(step):            # a rebuild that SQL alone cannot say
                    step(c)
                else:
                    for statement in _statements(step):
                        c.execute(statement)
                c.execute("UPDATE schema_version SET version = ?", (v + 1,))
        return self.version()

    # -- artworks ---------------------------------------------------------------------------------------
    def add_artwork(self, c: sqlite3.Connection, *, sha256: str, author: int | None, model: str, pipeline: str,
                    recipe: dict, seed: int | None = None, parents: list[int] = (), tags: list[str] = ()) -> int:
        cur = c.execute("INSERT INTO artworks (sha256, author, model, pipeline, seed, recipe, created) "
                        "VALUES (?, ?, ?, ?, ?, ?, ?)",
                        (sha256, author, model, pipeline, seed, json.dumps(recipe, sort_keys=True), now_iso()))
        aid = int(cur.lastrowid)
        c.executemany("INSERT OR IGNORE INTO lineage (child, parent) VALUES (?, ?)", [(aid, p) for p in parents])
        c.executemany("INSERT OR IGNORE INTO tags (artwork_id, tag) VALUES (?, ?)", [(aid, t) for t in tags])
        return aid

    def add_media(self, c: sqlite3.Connection, aid: int, kind: str, sha256: str) -> None:
        """Another file of an artwork (its MIDI, its WAV), kept in the object store like its picture."""
        c.execute("INSERT INTO media (artwork_id, kind, sha256) VALUES (?, ?, ?)", (aid, kind, sha256))

    def media(self, aid: int, c: sqlite3.Connection | None = None) -> dict[str, str]:
        """{kind: sha256} of an artwork's other files; {} for a picture."""
        if c is None:
            with self.read() as c:
                return self.media(aid, c)
        return {r[0]: r[1] for r in c.execute("SELECT kind, sha256 FROM media WHERE artwork_id = ?", (aid,))}

    def unused_media(self, c: sqlite3.Connection, media: dict[str, str]) -> list[tuple[str, str]]:
        """The (kind, sha256) of `media` that no artwork uses any more (to remove after a delete commits)."""
        return [(k, sha) for k, sha in media.items()
                if c.execute("SELECT COUNT(*) FROM media WHERE sha256 = ?", (sha,)).fetchone()[0] == 0]

    def artwork(self, aid: int, viewer: int | None = None) -> dict | None:
        """One artwork as the API shows it; `favourite` is whether user `viewer` marked it."""
        with self.read() as c:
            rows = _artwork_rows(c, "a.id = ?", [aid], limit=1, offset=0, viewer=viewer)
        return rows[0] if rows else None

    def set_favourite(self, viewer: int, aid: int, favourite: bool) -> None:
        """Favourites are each person's own: this marks or unmarks `aid` for user `viewer` only."""
        with self.tx() as c:
            if favourite:
                c.execute("INSERT OR IGNORE INTO favourites (user_id, artwork_id) VALUES (?, ?)", (viewer, aid))
            else:
                c.execute("DELETE FROM favourites WHERE user_id = ? AND artwork_id = ?", (viewer, aid))

    def search(self, *, model: str | None = None, seed: int | None = None, tag: str | None = None,
               text: str | None = None, author: str | None = None, since: str | None = None,
               until: str | None = None, favourite: bool | None = None, board: int | None = None,
               limit: int = 50, offset: int = 0, viewer: int | None = None) -> tuple[list[dict], int]:
        """Artworks matching every given filter, newest first, and how many match in all (`favourite`:
        marked, or not, by user `viewer`; `board`: on that board, whoever owns it: the caller checks)."""
        where, args = ["1=1"], []
        mine = "EXISTS (SELECT 1 FROM favourites f WHERE f.artwork_id = a.id AND f.user_id = ?)"
        for clause, value in (("a.model = ?", model), ("a.seed = ?", seed),
                              ("EXISTS (SELECT 1 FROM tags t WHERE t.artwork_id = a.id AND t.tag = ?)", tag),
                              ("u.username = ?", author), ("a.created >= ?", since), ("a.created < ?", until),
                              ("EXISTS (SELECT 1 FROM board_items b WHERE b.artwork_id = a.id AND b.board_id = ?)",
                               board)):
            if value is not None:
                where.append(clause)
                args.append(value)
        if favourite is not None:
            where.append(mine if favourite else f"NOT {mine}")
            args.append(-1 if viewer is None else viewer)
        if text:
            like = "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
            where.append("(a.recipe LIKE ? ESCAPE '\\' OR a.model LIKE ? ESCAPE '\\' OR a.pipeline LIKE ? "
                         "ESCAPE '\\' OR EXISTS (SELECT 1 FROM tags t WHERE t.artwork_id = a.id AND t.tag LIKE ? "
                         "ESCAPE '\\'))")
            args += [like] * 4
        cond = " AND ".join(where)
        with self.read() as c:
            total = c.execute(f"SELECT COUNT(*) FROM artworks a LEFT JOIN users u ON u.id = a.author WHERE {cond}",
                              args).fetchone()[0]
            return _artwork_rows(c, cond, args, limit, offset, viewer), int(total)

    def lineage(self, aid: int, depth: int, viewer: int | None = None) -> dict:
        """The family tree around one artwork: ancestors and descendants up to `depth` generations."""
        q = """WITH RECURSIVE up(id, d) AS (SELECT ?, 0 UNION SELECT l.parent, up.d + 1 FROM lineage l
                   JOIN up ON l.child = up.id WHERE up.d < ?),
               down(id, d) AS (SELECT ?, 0 UNION SELECT l.child, down.d + 1 FROM lineage l
                   JOIN down ON l.parent = down.id WHERE down.d < ?)
               SELECT id FROM up UNION SELECT id FROM down"""
        with self.read() as c:
            ids = [r[0] for r in c.execute(q, (aid, depth, aid, depth))]
            marks = ",".join("?" * len(ids))
            edges = [[r[0], r[1]] for r in c.execute(
                f"SELECT child, parent FROM lineage WHERE child IN ({marks}) AND parent IN ({marks}) "
                "ORDER BY child, parent", ids + ids)]
            nodes = _artwork_rows(c, f"a.id IN ({marks})", ids, limit=len(ids), offset=0, viewer=viewer)
            parents = [r[0] for r in c.execute("SELECT parent FROM lineage WHERE child = ? ORDER BY parent", (aid,))]
            children = [r[0] for r in c.execute("SELECT child FROM lineage WHERE parent = ? ORDER BY child", (aid,))]
        return {"id": aid, "parents": parents, "children": children, "nodes": nodes, "edges": edges}

    # -- boards: each person's own folders of artworks -------------------------------------------------
    def boards(self, owner: int, bid: int | None = None) -> list[dict]:
        """`owner`'s boards by name (or only board `bid`, if it is theirs), each with its count of pictures
        and a cover: the image_url of its first picture in the gallery's order (newest made), None if empty."""
        with self.read() as c:
            rows = c.execute(
                "SELECT b.id, b.name, b.created, (SELECT COUNT(*) FROM board_items i WHERE i.board_id = b.id) AS n, "
                "(SELECT a.id || ':' || a.sha256 FROM board_items i JOIN artworks a ON a.id = i.artwork_id "
                " WHERE i.board_id = b.id ORDER BY a.created DESC, a.id DESC LIMIT 1) AS cover "
                "FROM boards b WHERE b.owner = ? AND (? IS NULL OR b.id = ?) ORDER BY b.name, b.id",
                (owner, bid, bid)).fetchall()
        out = []
        for r in rows:
            cover = r["cover"].split(":", 1) if r["cover"] else None
            out.append({"id": r["id"], "name": r["name"], "created": r["created"], "count": r["n"],
                        "cover_url": image_url(int(cover[0]), cover[1]) if cover else None})
        return out

    def board(self, owner: int, bid: int) -> dict | None:
        """Board `bid` if `owner` owns it; None for a missing board and for anyone else's alike."""
        found = self.boards(owner, bid)
        return found[0] if found else None

    def create_board(self, owner: int, name: str) -> int:
        name = board_name(name)
        try:
            with self.tx() as c:
                return int(c.execute("INSERT INTO boards (owner, name, created) VALUES (?, ?, ?)",
                                     (owner, name, now_iso())).lastrowid)
        except sqlite3.IntegrityError:
            raise UserError(f"name: you already have a board called {name!r}; pick another name") from None

    def rename_board(self, owner: int, bid: int, name: str) -> bool:
        """False when `owner` has no board `bid`."""
        name = board_name(name)
        try:
            with self.tx() as c:
                return c.execute("UPDATE boards SET name = ? WHERE id = ? AND owner = ?",
                                 (name, bid, owner)).rowcount == 1
        except sqlite3.IntegrityError:
            raise UserError(f"name: you already have a board called {name!r}; pick another name") from None

    def delete_board(self, owner: int, bid: int) -> bool:
        """The board and its memberships go; its artworks stay. False when `owner` has no board `bid`."""
        with self.tx() as c:
            return c.execute("DELETE FROM boards WHERE id = ? AND owner = ?", (bid, owner)).rowcount == 1

    def add_to_board(self, owner: int, bid: int, artworks: list[int]) -> tuple[int, list[int]] | None:
        """Puts every artwork on the board, or none: (how many were new there, []), or (0, the ids that name
        no artwork); None when `owner` has no board `bid`. Adding one already there changes nothing."""
        ids = sorted(set(artworks))
        with self.tx() as c:
            if not c.execute("SELECT 1 FROM boards WHERE id = ? AND owner = ?", (bid, owner)).fetchone():
                return None
            marks = ",".join("?" * len(ids))
            known = {r[0] for r in c.execute(f"SELECT id FROM artworks WHERE id IN ({marks})", ids)}
            missing = [i for i in ids if i not in known]
            if missing:
                return 0, missing
            added = now_iso()
            cur = c.executemany("INSERT OR IGNORE INTO board_items (board_id, artwork_id, added) VALUES (?, ?, ?)",
                                [(bid, i, added) for i in ids])
            return cur.rowcount, []

    def remove_from_board(self, owner: int, bid: int, artworks: list[int]) -> int | None:
        """Takes the artworks off the board (they stay in the gallery); how many were on it, or None when
        `owner` has no board `bid`."""
        ids = sorted(set(artworks))
        with self.tx() as c:
            if not c.execute("SELECT 1 FROM boards WHERE id = ? AND owner = ?", (bid, owner)).fetchone():
                return None
            marks = ",".join("?" * len(ids))
            return c.execute(f"DELETE FROM board_items WHERE board_id = ? AND artwork_id IN ({marks})",
                             [bid, *ids]).rowcount


def board_name(name: str) -> str:
    """A board's name as kept: trimmed, 1-60 characters, no control characters."""
    name = name.strip()
    if not name:
        raise UserError("name: give the board a name (1-60 characters)")
    if len(name) > BOARD_NAME_MAX:
        raise UserError(f"name: at most {BOARD_NAME_MAX} characters (this one has {len(name)})")
    if any(ch < " " or ch == "\x7f" for ch in name):
        raise UserError("name: no control characters (tabs, line breaks...) in a board's name")
    return name


def image_url(aid: int, sha256: str) -> str:
    """An artwork's picture at a URL keyed by its content: the only form served `immutable`."""
    return f"/api/artworks/{aid}/image?v={sha256}"


def _artwork_rows(c: sqlite3.Connection, cond: str, args: list, limit: int, offset: int,
                  viewer: int | None = None) -> list[dict]:
    rows = c.execute(f"SELECT a.*, u.username AS author_name, EXISTS (SELECT 1 FROM favourites f WHERE "
                     f"f.artwork_id = a.id AND f.user_id = ?) AS mine FROM artworks a LEFT JOIN users u "
                     f"ON u.id = a.author WHERE {cond} ORDER BY a.created DESC, a.id DESC LIMIT ? OFFSET ?",
                     [-1 if viewer is None else viewer, *args, limit, offset]).fetchall()
    out = []
    for r in rows:
        tags = [t[0] for t in c.execute("SELECT tag FROM tags WHERE artwork_id = ? ORDER BY tag", (r["id"],))]
        out.append({"id": r["id"], "sha256": r["sha256"], "author": r["author_name"], "author_id": r["author"],
                    "model": r["model"], "pipeline": r["pipeline"], "seed": r["seed"],
                    "recipe": json.loads(r["recipe"]), "created": r["created"], "favourite": bool(r["mine"]),
                    "tags": tags, "image_url": image_url(r["id"], r["sha256"])})
    return out


def _version(c: sqlite3.Connection) -> int:
    row = c.execute("SELECT version FROM schema_version").fetchone()
    return int(row[0]) if row else 0


def _statements(script: str) -> list[str]:
    """A migration script split into statements (our scripts have no ';' inside strings or triggers)."""
    out = []
    for part in script.split(";"):
        lines = [ln.split("--", 1)[0] for ln in part.splitlines()]
        text = "\n".join(lines).strip()
        if text:
            out.append(text)
    return out


def row_dict(row: sqlite3.Row | None) -> dict | None:
    return dict(row) if row is not None else None


__all__ = ["BOARD_NAME_MAX", "MIGRATIONS", "Store", "board_name", "image_url", "now_iso", "row_dict"]
