"""Killing the studio (SIGKILL, no chance to clean up) while it records artworks leaves the data dir
consistent: the database passes SQLite's integrity check, every recorded artwork has its complete image
file, every lineage edge joins two recorded artworks, and the studio starts again on the same data dir."""

from __future__ import annotations

import hashlib
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time

import httpx


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start(data_dir, subprocess_env, first: bool = True) -> tuple[subprocess.Popen, str, str]:
    port = _free_port()
    proc = subprocess.Popen([sys.executable, "-m", "artforge", "studio", "--data-dir", str(data_dir),
                             "--port", str(port), "--quiet"], stdout=subprocess.PIPE if first else subprocess.DEVNULL,
                            text=True, env=subprocess_env)
    line = proc.stdout.readline() if first else ""          # the first start prints its sign-in link
    base = f"http://127.0.0.1:{port}"
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            httpx.get(f"{base}/api/health", timeout=2)
            break
        except httpx.TransportError:
            time.sleep(0.1)
    return proc, base, line


def _writer(base: str, token: str, first_seed: int, stop: threading.Event, done: list) -> None:
    with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=30) as c:
        seed = first_seed
        while not stop.is_set():
            try:
                r = c.post("/api/generate", json={"n": 2, "seed": seed, "no_copies": False})
                if r.status_code == 201:
                    ids = [a["id"] for a in r.json()["artworks"]]
                    done.append(ids)
                    c.post("/api/breed", json={"parents": ids, "n": 2, "seed": seed})
            except httpx.HTTPError:
                return                                  # the server is gone
            seed += 100


def test_sigkill_while_writing_leaves_a_consistent_data_dir(tmp_path, subprocess_env):
    data = tmp_path / "studio"
    proc, base, line = _start(data, subprocess_env)
    try:
        link = line.split("link): ")[1].strip()
        with httpx.Client(base_url=base, timeout=30) as c:
            assert c.get(link.removeprefix(base), follow_redirects=False).status_code == 303
            c.headers["X-CSRF-Token"] = c.cookies["artforge_csrf"]
            token = c.post("/api/tokens", json={"name": "crash"}).json()["token"]
        stop, done = threading.Event(), []
        writers = [threading.Thread(target=_writer, args=(base, token, i, stop, done), daemon=True) for i in range(4)]
        for w in writers:
            w.start()
        deadline = time.time() + 60
        while len(done) < 12 and time.time() < deadline:
            time.sleep(0.05)
        assert len(done) >= 12, "the studio recorded too few artworks to test anything"
        os.kill(proc.pid, signal.SIGKILL)                # mid-write: four clients are still asking
        proc.wait(10)
        stop.set()
        for w in writers:
            w.join(30)
    finally:
        if proc.poll() is None:
            proc.kill()

    db = sqlite3.connect(data / "studio.sqlite3")
    try:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        rows = db.execute("SELECT id, sha256 FROM artworks").fetchall()
        assert len(rows) >= 24
        for aid, sha in rows:
            f = data / "objects" / sha[:2] / f"{sha[2:]}.png"
            assert f.is_file(), f"artwork {aid} is recorded but its image is missing"
            assert hashlib.sha256(f.read_bytes()).hexdigest() == sha, f"artwork {aid}: image file incomplete"
        ids = {aid for aid, _ in rows}
        for child, parent in db.execute("SELECT child, parent FROM lineage"):
            assert child in ids and parent in ids, f"lineage edge {parent} -> {child} points at nothing"
    finally:
        db.close()

    proc, base, _ = _start(data, subprocess_env, first=False)   # and the studio comes back on the same data dir
    try:
        assert httpx.get(f"{base}/api/health", timeout=10).json()["ok"] is True
    finally:
        proc.terminate()
        proc.wait(30)
