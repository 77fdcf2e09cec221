"""Run folders: start a run, or resume one exactly, for any model family.

A run folder holds:
  train.json          the family and its full experiment config (what `--resume` rebuilds from)
  config.json         inference config (architecture, sizes, dataset hash and licence)
  model.safetensors   EMA weights for inference, refreshed at every checkpoint
  manifest.json       the dataset manifest (each file's hash, size, path; licence/consent)
  metrics.jsonl, loss.png, tensorboard/, samples/, checkpoints/
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

from .. import __version__
from .. import config as C
from ..errors import RunError
from ..io.atomic import atomic_write_text
from .checkpoint import latest_checkpoint, load_checkpoint

TRAIN_FILE = "train.json"
LOCK_FILE = ".lock"     # flock()ed by the one process training the run, for as long as it trains


def resumable_keys(experiment) -> set[str]:
    """The keys a resumed run of `experiment` (a family's experiment dataclass) may change: those tagged
    `resume` (artforge.config.setting). They steer how long and how chattily it runs, not what it computes;
    the data path may move, since every family checks the files' hashes against the run's manifest."""
    return {d.key for d in C.declared(experiment) if d.tag.resume}


@dataclass
class Family:
    """How a model family trains: its experiment dataclass and the function that runs one."""
    name: str
    experiment: type
    train: Callable  # train(exp, run_dir, resume_state: dict | None, quiet: bool) -> Path


def run_loop(family: str, exp, task, data, run_dir: Path, state: dict | None, callbacks: list, quiet: bool):
    """Build the loop (which checks the settings), then, holding the run folder's lock, write a new run's
    files or load the checkpoint `state` of a resumed one, and train. `data` carries `manifest` and
    `manifest_sha256`."""
    from .distributed import launch_rank
    from .loop import Loop

    extra = {"config": json.dumps(C.to_dict(exp)), "manifest_sha256": data.manifest_sha256,
             "artforge_version": __version__}
    loop = Loop(task, data, exp.train, run_dir, list(callbacks), extra_state=extra, quiet=quiet, fresh=state is None)
    if launch_rank() != 0:      # under torchrun, rank 0 alone owns the run folder
        if state is not None:
            loop.load_state_dict(state)
        loop.run()
        return loop
    with lock_run(run_dir, create=state is None):   # only now: a refused setting leaves no run folder behind
        if state is None:
            check_new_run(run_dir)
            write_train_file(run_dir, family, exp)
            atomic_write_text(run_dir / "manifest.json", json.dumps(data.manifest, indent=2) + "\n")
        else:
            loop.load_state_dict(state)
            if _saved_data_path(run_dir) != getattr(exp.data, "path", None):
                write_train_file(run_dir, family, exp)       # the data moved (same hashes): remember where
        loop.run()
    return loop


def _saved_data_path(run_dir: Path) -> str | None:
    try:
        return read_train_file(run_dir)[1].get("data", {}).get("path")
    except RunError:
        return None


@contextlib.contextmanager
def lock_run(run_dir: Path, create: bool = False) -> Iterator[None]:
    """Hold an exclusive lock on the run folder (`RUN/.lock`, flock) while the block runs; a second process
    gets one clear line instead of a folder holding one run's config and another's weights.

    With `create`, a missing folder is made, and removed again if the block fails before it holds
    anything but the lock."""
    run_dir = Path(run_dir)
    made = create and not run_dir.exists()
    if create:
        run_dir.mkdir(parents=True, exist_ok=True)
    fd = os.open(run_dir / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as e:
            if e.errno not in (errno.EAGAIN, errno.EACCES):
                raise
            pid = os.pread(fd, 32, 0).decode(errors="replace").strip() or "unknown"
            raise RunError(f"{run_dir} is being trained by another artforge process (pid {pid}); wait for it "
                           "to finish or stop it, or choose another --run folder") from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        try:
            yield
        except BaseException:
            if made and [p.name for p in run_dir.iterdir()] == [LOCK_FILE]:
                (run_dir / LOCK_FILE).unlink()
                run_dir.rmdir()
            raise
    finally:
        os.close(fd)


def write_train_file(run_dir: Path, family: str, exp) -> None:
    body = {"family": family, "artforge_version": __version__, "config": C.to_dict(exp)}
    atomic_write_text(Path(run_dir) / TRAIN_FILE, json.dumps(body, indent=2) + "\n")


def read_train_file(run_dir: Path) -> tuple[str, dict]:
    p = Path(run_dir) / TRAIN_FILE
    if not Path(run_dir).is_dir():
        raise RunError(f"run folder not found: {run_dir}")
    if not p.is_file():
        raise RunError(f"{run_dir} is not an artforge run (no {TRAIN_FILE}); "
                       "start one with: artforge train gan DIR --run RUN_DIR")
    try:
        body = json.loads(p.read_text(encoding="utf-8"))
        return body["family"], body["config"]
    except (json.JSONDecodeError, KeyError, TypeError) as e:
        raise RunError(f"{p} is damaged ({e}); this run cannot be resumed") from None


def check_new_run(run_dir: Path) -> None:
    """A new run may not overwrite an existing one. A folder whose start failed before its first checkpoint
    (train.json but no checkpoint and no model) holds nothing to keep and may be started again."""
    run_dir = Path(run_dir)
    if run_dir.exists() and not run_dir.is_dir():
        raise RunError(f"--run {run_dir} is a file, not a folder")
    if latest_checkpoint(run_dir) or (run_dir / "model.safetensors").exists():
        raise RunError(f"{run_dir} already holds a run; continue it with: artforge train --resume {run_dir} "
                       "(or choose another --run folder)")


def resume_experiment(run_dir: Path, families: dict[str, Family], overrides: list[str]):
    """(family, experiment, checkpoint state) for `--resume`; overrides may only change `resumable_keys`."""
    name, saved = read_train_file(run_dir)
    if name not in families:
        raise RunError(f"{run_dir} was trained by family '{name}', which this artforge does not know")
    fam = families[name]
    exp = C.from_dict(fam.experiment, saved, where=f" in {Path(run_dir) / TRAIN_FILE}")
    _locate_data(exp, Path(run_dir))
    new = C.apply_overrides(exp, overrides)
    resumable = resumable_keys(fam.experiment)
    conflicts = {k: v for k, v in C.diff(exp, new).items() if k not in resumable}
    if conflicts:
        k, (old, want) = next(iter(conflicts.items()))
        raise RunError(f"--resume cannot change {k} (run has {old!r}, asked {want!r}); "
                       f"only {', '.join(sorted(resumable))} may change; start a new run to change it")
    found = latest_checkpoint(run_dir)
    if found is None:
        raise RunError(f"{run_dir} has no checkpoint to resume from; start it again with a new --run folder")
    state = load_checkpoint(found[0])
    if new.train.steps < state["step"]:
        raise RunError(f"--steps {new.train.steps} is below the step {run_dir} is at ({state['step']}); --steps is "
                       f"the run's total, e.g. --steps {state['step'] + new.train.steps} trains "
                       f"{new.train.steps} more")
    return fam, new, state


def _locate_data(exp, run_dir: Path) -> None:
    data = getattr(exp, "data", None)
    if data is not None and getattr(data, "path", ""):
        data.path = located_data_path(data.path, run_dir)


def located_data_path(path: str, run_dir: Path) -> str:
    """Runs made before paths were stored absolute keep `data.path` as typed: relative to wherever training
    was started. When it is not found from here, the folder the run's manifest recorded (else `path`)."""
    if not path or path.startswith("builtin") or Path(path).expanduser().is_absolute() or Path(path).exists():
        return path
    try:
        root = json.loads((Path(run_dir) / "manifest.json").read_text(encoding="utf-8")).get("root")
    except (OSError, ValueError, AttributeError):
        return path
    return root if isinstance(root, str) and Path(root).is_dir() else path


def absolute_data_paths(overrides: list[str]) -> list[str]:
    """`data.path=` and `data.content=` overrides naming an existing file or folder, made absolute, so the
    run can be resumed and evaluated from any folder ('builtin...' and missing paths stay as given).

    >>> absolute_data_paths(["data.path=builtin", "train.steps=5"])
    ['data.path=builtin', 'train.steps=5']
    """
    out = []
    for o in overrides:
        key, _, value = o.partition("=")
        if key in ("data.path", "data.content") and not value.startswith("builtin") and Path(value).expanduser().exists():
            o = f"{key}={Path(value).expanduser().resolve()}"
        out.append(o)
    return out
