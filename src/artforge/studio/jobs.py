"""The jobs queue: training runs, one at a time, in order, each in its own process; survives restarts.

Jobs are rows of the `jobs` table, run in two lanes (LANES), each a worker thread that takes its kinds'
queued job with the lowest `seq`: training in one, image-making (generate) in the other, so a picture asked
for on the Create page never waits behind an hour of training. Within a lane one job runs at a time, in
order. The training lane starts
`python -m artforge train ...` in DATA_DIR/runs (its output goes to DATA_DIR/jobs/ID.log) and waits for
it; a crash of the trainer costs the job, never the studio. Progress is read from the run folder
(metrics.jsonl, samples/latest.png), so the trainer needs no channel back to the studio.

Stopping is always SIGTERM: the training loop finishes its step, writes a checkpoint and exits (143).
Pause and cancel answer at once: the job shows `pausing` or `cancelling` (the asked stop is kept in the
row, so a studio stopped meanwhile still honours it) until the trainer is done.
Pause keeps the run for `train --resume`; cancel ends the job; shutting the studio down leaves the job
`running` in the database, and the next start resumes it from its checkpoint, exactly as after a crash
(a job with no checkpoint yet is marked `interrupted`; resuming it starts it again). A trainer whose
studio died gets SIGTERM from the kernel (PR_SET_PDEATHSIG on Linux), and a leftover one found at start
is stopped before its job runs again, so two processes never train one run.

A `generate` job makes many images from a model in chunks of GENERATE_CHUNK, in its lane's thread: each
chunk is an ordinary generate call (its images carry ordinary generate recipes and replay bit for bit),
and its count is saved in the same transaction as its images, so pause, cancel, kills and restarts stop
between chunks and resume where they stopped, never making a chunk twice.

States: queued -> running (-> pausing | cancelling) -> done | failed | paused | cancelled;
paused/interrupted -> queued (resume); queued/paused/interrupted -> cancelled.
"""

from __future__ import annotations

import json
import logging
import math
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Callable

from ..errors import UserError
from ..training.checkpoint import latest_checkpoint
from .jobplan import plan_train
from .models import RUN_NAME, ModelLibrary, NotFound, PathRefused, inside
from .settings import StudioSettings
from .store import Store, now_iso

log = logging.getLogger("artforge.studio.jobs")

FINAL = ("done", "failed", "cancelled")
MAX_STEPS = 10_000_000
HISTORY = 200                 # points of the loss chart sent with each progress event
GENERATE_CHUNK = 32           # images per step of a generate job (one forward pass, one transaction)
MAX_GENERATE = 100_000
SHOWN_ARTWORKS = 256          # ids of a generate job's newest artworks kept in its progress (the Create page's tiles)
# Lanes: each runs its kinds' jobs one at a time, in queue order, beside the other lane.
LANES: dict[str, tuple[str, ...]] = {"train": ("train",), "images": ("generate",)}


class JobConflict(UserError):
    """The job's state does not allow what was asked (HTTP 409)."""


# -- progress, read from the run folder -----------------------------------------------------------------


def tail_records(path: Path, limit: int = HISTORY, max_bytes: int = 1 << 18) -> list[dict]:
    """The last `limit` records of a metrics.jsonl (a line cut short by a kill is skipped)."""
    try:
        with open(path, "rb") as f:
            size = f.seek(0, os.SEEK_END)
            f.seek(max(0, size - max_bytes))
            lines = f.read().splitlines()
            if size > max_bytes:
                lines = lines[1:]                 # the first line was cut by the seek
    except OSError:
        return []
    out = []
    for line in lines[-limit:]:
        try:
            rec = json.loads(line)
        except ValueError:
            continue
        if isinstance(rec, dict) and isinstance(rec.get("step"), int):
            out.append(rec)
    return out


def losses_of(rec: dict) -> dict[str, float]:
    return {k.removeprefix("loss/"): v for k, v in rec.items()
            if k.startswith("loss/") and isinstance(v, (int, float)) and math.isfinite(v)}


# -- the queue ------------------------------------------------------------------------------------------


class _Lane:
    """One worker thread of the queue, its job kinds, the job it runs now and the stop asked for that job."""

    def __init__(self, name: str, kinds: tuple[str, ...]):
        self.name, self.kinds = name, kinds
        self.thread: threading.Thread | None = None
        self.current: int | None = None              # id of the job this lane runs now
        self.stop: str | None = None                 # pause | cancel | shutdown, for the current job


class JobQueue:
    """The jobs table plus the worker threads (one per lane) that run its jobs."""

    def __init__(self, settings: StudioSettings, store: Store, library: ModelLibrary,
                 make_images: Callable[..., list[int]] | None = None):
        # make_images(author_id, model, n, seed, truncation, no_copies) -> artwork ids (generate jobs)
        self.settings, self.store, self.library, self.make_images = settings, store, library, make_images
        self._lock = threading.RLock()
        self._wake = threading.Condition(self._lock)
        self._lanes = {name: _Lane(name, kinds) for name, kinds in LANES.items()}
        self._started = False
        self._closing = False

    @property
    def threads(self) -> int:
        """Torch threads of a trainer: the setting, else every core but one (the studio keeps answering)."""
        return self.settings.train_threads or max(1, (os.cpu_count() or 2) - 1)

    # -- lifecycle --------------------------------------------------------------------------------------
    def start(self) -> None:
        """Recover what a previous studio left running, then start the worker (once)."""
        with self._lock:
            if self._started or self._closing:
                return
            self._started = True
            self.settings.jobs_dir.mkdir(parents=True, exist_ok=True)
            self._recover()
            for lane in self._lanes.values():
                lane.thread = threading.Thread(target=self._work, args=(lane,), name=f"artforge-jobs-{lane.name}",
                                               daemon=True)
                lane.thread.start()

    def close(self) -> None:
        """Stop the workers; a running trainer gets SIGTERM (it checkpoints) and its job stays `running`,
        to be resumed by the next start (a generate job stops after its chunk, likewise)."""
        with self._lock:
            if self._closing:
                return
            self._closing = True
            for lane in self._lanes.values():
                if lane.current is not None:
                    lane.stop = "shutdown"
            self._wake.notify_all()
            threads = [lane.thread for lane in self._lanes.values() if lane.thread is not None]
        deadline = time.monotonic() + self.settings.job_stop_timeout_s + 10
        for thread in threads:
            thread.join(max(0.0, deadline - time.monotonic()))

    def _recover(self) -> None:
        with self.store.read() as c:
            rows = c.execute("SELECT * FROM jobs WHERE status = 'running'").fetchall()
        for row in rows:
            asked = {"pause": "paused", "cancel": "cancelled"}.get(row["stop"])     # a stop asked, not finished
            if row["kind"] == "generate":                           # its count of images made is saved
                self._set(row["id"], asked or "queued", error=None)
                continue
            run_dir = self.settings.runs_dir / row["name"]
            if row["pid"]:
                _stop_leftover(int(row["pid"]), run_dir, self.settings.job_stop_timeout_s)
            if row["stop"] == "cancel":
                self._set(row["id"], "cancelled")
            elif latest_checkpoint(run_dir) is not None:
                self._set(row["id"], asked or "queued", error=None)          # keeps its place at the front
                log.info("job %s (%s) will resume from its last checkpoint", row["id"], row["name"])
            else:
                self._set(row["id"], "interrupted", error="the studio stopped before this run's first "
                                                           "checkpoint; resume starts it again")

    # -- the table --------------------------------------------------------------------------------------
    def _set(self, jid: int, status: str, **fields) -> None:
        cols = {"status": status, "updated": now_iso(), **fields}
        if status != "running":
            cols["stop"] = None                     # a stop that was asked is over
        with self.store.tx() as c:
            c.execute(f"UPDATE jobs SET {', '.join(f'{k} = ?' for k in cols)} WHERE id = ?", [*cols.values(), jid])

    def _row(self, jid: int):
        with self.store.read() as c:
            row = c.execute("SELECT j.*, u.username AS author FROM jobs j LEFT JOIN users u ON u.id = j.owner "
                            "WHERE j.id = ?", (jid,)).fetchone()
        if row is None:
            raise NotFound(f"no job {jid}")
        return row

    def submit_train(self, author: int, name: str, data: str, steps: int, params: dict,
                     folders: bool = False, family: str = "gan") -> dict:
        """Queue a training run into DATA_DIR/runs/NAME (checked now, so a bad setting is a 4xx, not a
        failed job a minute later). `data` is 'builtin' or an upload of `author`'s; with `folders` (an
        owner's job) any upload or a folder of the data dir. `family`: gan, music or style."""
        if not isinstance(name, str) or not RUN_NAME.fullmatch(name) or name == "starter":
            raise PathRefused(f"name {name!r}: 1-100 letters, digits, '.', '_' or '-', starting with a letter or "
                              "digit (and not 'starter')")
        run_dir = inside(self.settings.runs_dir, name)
        if not 1 <= steps <= MAX_STEPS:
            raise UserError(f"steps: {steps} is out of range [1, {MAX_STEPS}]")
        data_path, overrides = plan_train(family, self.settings, self.store, self.library, data, params, steps,
                                          author, folders)
        spec = {"family": family, "data": data, "data_path": data_path, "steps": steps, "params": params,
                "overrides": overrides}
        with self._lock, self.store.tx() as c:
            taken = c.execute("SELECT id FROM jobs WHERE name = ?", (name,)).fetchone()
            if taken is not None or run_dir.exists():
                raise JobConflict(f"name: a run called {name!r} exists already"
                                  + (f" (job {taken[0]})" if taken else "") + "; choose another name")
            seq = c.execute("SELECT COALESCE(MAX(seq), 0) + 1 FROM jobs").fetchone()[0]
            t = now_iso()
            jid = c.execute("INSERT INTO jobs (kind, status, params, owner, created, updated, name, seq) "
                            "VALUES ('train', 'queued', ?, ?, ?, ?, ?, ?)",
                            (json.dumps(spec), author, t, t, name, seq)).lastrowid
            self._wake.notify_all()
        return self.get(int(jid))

    def submit_generate(self, author: int, params: dict) -> dict:
        """Queue a long generation: `params` are generate's (`model`, `n`, `seed`, `truncation`, `no_copies`),
        checked exactly as POST /api/generate checks its body."""
        from .generation import check_generate

        model, p = check_generate(params)
        params = {k: v for k, v in params.items() if k != "model"}
        self.library.folder(model)
        note = self.library.copy_check_note(model)
        if p["no_copies"] and note and self.settings.copy_check_factory is None:   # an injected check needs none
            raise UserError(f"no_copies: {note}; untick 'No copies' to generate without the check")
        if p["n"] > MAX_GENERATE:
            raise UserError(f"params: n={p['n']} is out of range [1, {MAX_GENERATE}]")
        spec = {"model": model, "n": p["n"], "seed": p["seed"], "truncation": p["truncation"],
                "no_copies": p["no_copies"], "steps": p["n"], "params": {"model": model, **params}}
        with self._lock, self.store.tx() as c:
            seq = c.execute("SELECT COALESCE(MAX(seq), 0) + 1 FROM jobs").fetchone()[0]
            t = now_iso()
            jid = c.execute("INSERT INTO jobs (kind, status, params, owner, created, updated, seq, progress) "
                            "VALUES ('generate', 'queued', ?, ?, ?, ?, ?, ?)",
                            (json.dumps(spec), author, t, t, seq, json.dumps({"done": 0}))).lastrowid
            self._wake.notify_all()
        return self.get(int(jid))

    def get(self, jid: int, history: bool = False) -> dict:
        return self._json(self._row(jid), history)

    def list(self, limit: int = 200) -> list[dict]:
        with self.store.read() as c:
            rows = c.execute("SELECT j.*, u.username AS author FROM jobs j LEFT JOIN users u ON u.id = j.owner "
                             "ORDER BY j.id DESC LIMIT ?", (limit,)).fetchall()
        return [self._json(r) for r in rows]

    def _json(self, row, history: bool = False) -> dict:
        spec = json.loads(row["params"])
        if row["kind"] == "generate":
            return self._generate_json(row, spec, history)
        run_dir = self.settings.runs_dir / row["name"]
        records = tail_records(run_dir / "metrics.jsonl", HISTORY if history else 20)
        last = records[-1] if records else {}
        step = int(last.get("step", 0))
        eta = None
        if row["status"] == "running" and records:
            recent = [r["sec_per_step"] for r in records[-10:] if isinstance(r.get("sec_per_step"), (int, float))]
            if recent:
                eta = round(max(0, spec["steps"] - step) * sum(recent) / len(recent), 1)
        sample = run_dir / "samples" / "latest.png"
        out = {"id": row["id"], "kind": row["kind"], "name": row["name"], "state": _state(row), "step": step,
               "steps": spec["steps"], "eta_s": eta, "losses": losses_of(last), "author": row["author"],
               "author_id": row["owner"],
               "created": row["created"], "updated": row["updated"], "error": row["error"],
               "sample_url": f"/api/models/{row['name']}/files/samples/latest.png?step={step}"
               if sample.is_file() else None,
               "model": row["name"] if (run_dir / "model.safetensors").is_file() else None,
               "data": spec["data"], "params": spec["params"]}
        if history:
            out["history"] = [{"step": r["step"], **losses_of(r)} for r in records]
        return out

    def _generate_json(self, row, spec: dict, history: bool) -> dict:
        prog = json.loads(row["progress"] or "{}")
        done, last = int(prog.get("done", 0)), prog.get("last_artwork")
        rate = prog.get("sec_per_image")
        eta = round((spec["n"] - done) * rate, 1) if row["status"] == "running" and rate else None
        out = {"id": row["id"], "kind": "generate", "name": spec["model"], "state": _state(row), "step": done,
               "steps": spec["n"], "eta_s": eta, "losses": {}, "author": row["author"], "author_id": row["owner"],
               "created": row["created"],
               "updated": row["updated"], "error": row["error"],
               "sample_url": f"/api/artworks/{last}/image" if last else None, "model": spec["model"],
               "data": None, "params": spec["params"], "artworks": prog.get("artworks", [])}
        if history:
            out["history"] = []
        return out

    # -- pause, resume, cancel --------------------------------------------------------------------------
    def pause(self, jid: int) -> dict:
        return self._halt(jid, "pause", "paused", ("queued",), "only a queued or running job can be paused")

    def cancel(self, jid: int) -> dict:
        return self._halt(jid, "cancel", "cancelled", ("queued", "paused", "interrupted"),
                          "a finished job cannot be cancelled")

    def delete(self, jid: int) -> None:
        """Forget a finished job (its row and log); the run folder and the images it made stay."""
        with self._lock, self.store.tx() as c:
            row = c.execute("SELECT status FROM jobs WHERE id = ?", (jid,)).fetchone()
            if row is None:
                raise NotFound(f"no job {jid}")
            if row["status"] not in FINAL:
                raise JobConflict(f"job {jid} is {row['status']}; cancel it first (only done, failed or "
                                  "cancelled jobs can be deleted)")
            c.execute("DELETE FROM jobs WHERE id = ?", (jid,))
        (self.settings.jobs_dir / f"{jid}.log").unlink(missing_ok=True)

    def _halt(self, jid: int, reason: str, state: str, direct: tuple, refusal: str) -> dict:
        """A job not running stops now; a running one is asked to (its state is pausing or cancelling until
        the trainer has checkpointed, seconds to minutes), and the answer comes at once."""
        with self._lock:
            row = self._row(jid)
            status = row["status"]
            if status in direct:
                self._set(jid, state)
                return self.get(jid)
            lane = next((ln for ln in self._lanes.values() if ln.current == jid), None)
            if status != "running" or lane is None:
                raise JobConflict(f"job {jid} is {status}; {refusal}")
            if lane.stop == "cancel" and reason == "pause":
                raise JobConflict(f"job {jid} is cancelling; it cannot be paused")
            lane.stop = reason                      # a cancel overrides a pause still in progress
            with self.store.tx() as c:              # kept, so a studio stopped meanwhile still honours it
                c.execute("UPDATE jobs SET stop = ?, updated = ? WHERE id = ?", (reason, now_iso(), jid))
        return self.get(jid)

    def resume(self, jid: int) -> dict:
        with self._lock, self.store.tx() as c:
            row = c.execute("SELECT status FROM jobs WHERE id = ?", (jid,)).fetchone()
            if row is None:
                raise NotFound(f"no job {jid}")
            if row["status"] not in ("paused", "interrupted"):
                raise JobConflict(f"job {jid} is {row['status']}; only a paused or interrupted job can be resumed")
            seq = c.execute("SELECT COALESCE(MAX(seq), 0) + 1 FROM jobs").fetchone()[0]
            c.execute("UPDATE jobs SET status = 'queued', seq = ?, error = NULL, updated = ? WHERE id = ?",
                      (seq, now_iso(), jid))
            self._wake.notify_all()
        return self.get(jid)

    # -- the worker -------------------------------------------------------------------------------------
    def _work(self, lane: _Lane) -> None:
        while True:
            with self._lock:
                job = None
                while not self._closing:
                    job = self._claim(lane)
                    if job is not None:
                        break
                    self._wake.wait(2.0)
                if self._closing:
                    return
            try:
                self._run_generate(job, lane) if job["kind"] == "generate" else self._run(job, lane)
            except Exception as e:              # a bug here must not stop the queue
                log.exception("job %s", job["id"])
                with self._lock:
                    self._set(job["id"], "failed", error=f"studio error: {type(e).__name__}: {e}", pid=None)
                    lane.current, lane.stop = None, None

    def _claim(self, lane: _Lane):
        """The lane's next job (its kinds' queued job with the lowest seq), marked running."""
        marks = ", ".join("?" * len(lane.kinds))
        with self.store.tx() as c:
            row = c.execute(f"SELECT * FROM jobs WHERE status = 'queued' AND kind IN ({marks}) ORDER BY seq, id "
                            "LIMIT 1", lane.kinds).fetchone()
            if row is None:
                return None
            c.execute("UPDATE jobs SET status = 'running', updated = ? WHERE id = ?", (now_iso(), row["id"]))
        lane.current, lane.stop = row["id"], None
        return row

    def _command(self, job) -> list[str]:
        spec = json.loads(job["params"])
        run_dir = self.settings.runs_dir / job["name"]
        threads = [f"train.threads={self.threads}"]
        base = [sys.executable, "-m", "artforge", "train"]
        if latest_checkpoint(run_dir) is not None:
            return [*base, "--resume", str(run_dir), "--steps", str(spec["steps"]), "--quiet", *threads]
        if run_dir.exists():        # a start that never reached a checkpoint: this job's own folder, begin again
            shutil.rmtree(run_dir)
        return [*base, spec.get("family", "gan"), spec["data_path"], "--run", str(run_dir), "--steps",
                str(spec["steps"]), "--quiet",
                *spec["overrides"], f"train.device={self.settings.device}", *threads]

    def _run(self, job, lane: _Lane) -> None:
        jid = job["id"]
        cmd = self._command(job)
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        env["OMP_NUM_THREADS"] = str(self.threads)
        logfile = self.settings.jobs_dir / f"{jid}.log"
        with open(logfile, "ab") as out:
            out.write(f"\n[{now_iso()}] {' '.join(cmd)}\n".encode())
            out.flush()
            proc = subprocess.Popen(cmd, cwd=self.settings.runs_dir, stdout=out, stderr=subprocess.STDOUT,
                                    stdin=subprocess.DEVNULL, env=env, start_new_session=True,
                                    preexec_fn=_die_with_parent)
        self._set(jid, "running", pid=proc.pid)
        sent = None
        while True:
            try:
                rc = proc.wait(timeout=0.25)
                break
            except subprocess.TimeoutExpired:
                pass
            with self._lock:
                stop = lane.stop
            if stop and sent is None:
                proc.send_signal(signal.SIGTERM)
                sent = time.monotonic()
            elif sent is not None and time.monotonic() - sent > self.settings.job_stop_timeout_s:
                proc.kill()
        with self._lock:
            stop = lane.stop
            if rc == 0:
                self._set(jid, "done", pid=None, error=None)
            elif stop == "pause":
                self._set(jid, "paused", pid=None)
            elif stop == "cancel":
                self._set(jid, "cancelled", pid=None)
            elif stop == "shutdown":
                self._set(jid, "running", pid=None)          # the next start resumes it
            else:
                self._set(jid, "failed", pid=None, error=_last_line(logfile) or f"the trainer exited with {rc}")
            lane.current, lane.stop = None, None

    def _run_generate(self, job, lane: _Lane) -> None:
        """Chunks of ordinary generate calls; the count is saved after each, so a stop loses nothing."""
        jid, spec = job["id"], json.loads(job["params"])
        prog = json.loads(job["progress"] or "{}")
        done = int(prog.get("done", 0))
        stop, error = None, None
        while done < spec["n"]:
            with self._lock:
                stop = lane.stop
            if stop:
                break
            count = min(GENERATE_CHUNK, spec["n"] - done)
            t0 = time.monotonic()

            def count_them(c, ids) -> None:
                """In the chunk's own transaction: its images and the count that includes them commit together,
                so a kill at any moment neither loses a chunk nor makes it twice (called before the loop goes on)."""
                prog.update(done=done + count, last_artwork=ids[-1], sec_per_image=(time.monotonic() - t0) / count,
                            artworks=(prog.get("artworks", []) + ids)[-SHOWN_ARTWORKS:])
                c.execute("UPDATE jobs SET progress = ?, updated = ? WHERE id = ?", (json.dumps(prog), now_iso(), jid))

            try:
                self.make_images(job["owner"], spec["model"], count, spec["seed"] + done, spec["truncation"],
                                 spec["no_copies"], count_them)
            except UserError as e:
                error = str(e)
                break
            done += count
        with self._lock:
            stop = lane.stop
            if error is not None:
                self._set(jid, "failed", error=error[:500])
            elif done >= spec["n"]:
                self._set(jid, "done", error=None)
            else:
                self._set(jid, {"pause": "paused", "cancel": "cancelled"}.get(stop, "running"))
            lane.current, lane.stop = None, None


def _state(row) -> str:
    """The job's state as shown: a running job that was asked to stop is pausing or cancelling until it has."""
    if row["status"] == "running" and row["stop"]:
        return {"pause": "pausing", "cancel": "cancelling"}[row["stop"]]
    return row["status"]


def make_images(studio, author: int | None, model: str, n: int, seed: int, truncation: float,
                no_copies: bool, record: Callable | None = None) -> list[int]:
    """One chunk of a generate job: the generate pipeline (with the copy guard when asked), stored as
    artworks of `author`; their ids. `record(connection, ids)` runs in the same transaction as the rows."""
    from ..pipelines import GeneratePipeline
    from .generation import store_outputs

    handle = studio.models.load(model)
    guard = studio.generator.guard(model, handle) if no_copies else None
    out = GeneratePipeline(handle, copy_check=guard).run(n=n, seed=seed, truncation=truncation, batch_size=n,
                                                         no_copies=no_copies, grid=False)
    return [a["id"] for a in store_outputs(studio, author, model, out, record=record)]


def _last_line(path: Path) -> str | None:
    try:
        lines = [ln.strip() for ln in path.read_text(encoding="utf-8", errors="replace").splitlines() if ln.strip()]
    except OSError:
        return None
    errors = [ln for ln in lines if ln.startswith("error:")]
    return (errors or lines or [None])[-1][:500] if lines else None


def _die_with_parent() -> None:
    """In the child before exec: SIGTERM when the studio's worker thread dies (Linux), so a killed studio
    leaves no trainer behind (it checkpoints and exits)."""
    if sys.platform.startswith("linux"):
        import ctypes
        try:
            ctypes.CDLL(None).prctl(1, signal.SIGTERM)        # PR_SET_PDEATHSIG
        except (OSError, AttributeError):
            pass


def _stop_leftover(pid: int, run_dir: Path, timeout_s: float) -> None:
    """A trainer of `run_dir` still alive from a previous studio: SIGTERM, wait, then SIGKILL."""
    def ours() -> bool:
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except OSError:
            return False
        return b"artforge" in cmdline and str(run_dir).encode() in cmdline
    if not ours():
        return
    try:
        os.kill(pid, signal.SIGTERM)
    except OSError:
        return
    deadline = time.monotonic() + timeout_s
    while ours() and time.monotonic() < deadline:
        time.sleep(0.1)
    if ours():
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass
