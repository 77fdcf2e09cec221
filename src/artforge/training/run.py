"""Run folders: start a run, or resume one exactly, for any model family.

A run folder holds:
  train.json          the family and its full experiment config (what `--resume` rebuilds from)
  config.json         inference config (architecture, sizes, dataset hash and licence)
  model.safetensors   EMA weights for inference, refreshed at every checkpoint
  manifest.json       the dataset manifest (each file's hash, size, path; licence/consent)
  metrics.jsonl, loss.png, tensorboard/, samples/, checkpoints/
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from .. import __version__
from .. import config as C
from ..errors import RunError
from ..io.atomic import atomic_write_text
from .checkpoint import latest_checkpoint, load_checkpoint

TRAIN_FILE = "train.json"
# Keys a resumed run may change: they steer how long and how chattily it runs, not what it computes.
RESUMABLE_KEYS = {"train.steps", "train.log_every", "train.sample_every", "train.checkpoint_minutes",
                  "train.checkpoint_every", "train.keep_checkpoints", "train.threads", "train.device",
                  "train.budget_minutes", "eval.kid_every", "eval.kid_samples"}


@dataclass
class Family:
    """How a model family trains: its experiment dataclass and the function that runs one."""
    name: str
    experiment: type
    train: Callable  # train(exp, run_dir, resume_state: dict | None, quiet: bool) -> Path


def run_loop(family: str, exp, task, data, run_dir: Path, state: dict | None, callbacks: list, quiet: bool):
    """Build the loop (which checks the settings), then write a new run's files, or load the checkpoint
    `state` of a resumed one, and train. `data` carries `manifest` and `manifest_sha256`."""
    from ..io.atomic import atomic_write_text as write_text
    from .distributed import launch_rank
    from .loop import Loop

    extra = {"config": json.dumps(C.to_dict(exp)), "manifest_sha256": data.manifest_sha256,
             "artforge_version": __version__}
    loop = Loop(task, data, exp.train, run_dir, list(callbacks), extra_state=extra, quiet=quiet, fresh=state is None)
    if state is None and launch_rank() == 0:   # only now: a refused setting leaves no run folder behind
        run_dir.mkdir(parents=True, exist_ok=True)
        write_train_file(run_dir, family, exp)
        write_text(run_dir / "manifest.json", json.dumps(data.manifest, indent=2) + "\n")
    if state is not None:
        loop.load_state_dict(state)
    loop.run()
    return loop


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
    """A new run may not overwrite an existing one."""
    run_dir = Path(run_dir)
    if run_dir.exists() and not run_dir.is_dir():
        raise RunError(f"--run {run_dir} is a file, not a folder")
    if (run_dir / TRAIN_FILE).exists() or latest_checkpoint(run_dir):
        raise RunError(f"{run_dir} already holds a run; continue it with: artforge train --resume {run_dir} "
                       "(or choose another --run folder)")


def resume_experiment(run_dir: Path, families: dict[str, Family], overrides: list[str]):
    """(family, experiment, checkpoint state) for `--resume`; overrides may only change RESUMABLE_KEYS."""
    name, saved = read_train_file(run_dir)
    if name not in families:
        raise RunError(f"{run_dir} was trained by family '{name}', which this artforge does not know")
    fam = families[name]
    exp = C.from_dict(fam.experiment, saved, where=f" in {Path(run_dir) / TRAIN_FILE}")
    new = C.apply_overrides(exp, overrides)
    conflicts = {k: v for k, v in C.diff(exp, new).items() if k not in RESUMABLE_KEYS}
    if conflicts:
        k, (old, want) = next(iter(conflicts.items()))
        raise RunError(f"--resume cannot change {k} (run has {old!r}, asked {want!r}); "
                       f"only {', '.join(sorted(RESUMABLE_KEYS))} may change; start a new run to change it")
    found = latest_checkpoint(run_dir)
    if found is None:
        raise RunError(f"{run_dir} has no checkpoint to resume from; start it again with a new --run folder")
    state = load_checkpoint(found[0])
    return fam, new, state
