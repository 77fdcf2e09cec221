"""`artforge train FAMILY DIR --run RUN_DIR [...] [key=value ...]` and `artforge train --resume RUN_DIR`."""

from __future__ import annotations

import sys
from pathlib import Path

from .. import config as C
from ..errors import UserError
from ..training.distributed import launch_rank
from ..training.loop import TrainingInterrupted
from ..training.tasks import families


def register(sub, parents) -> None:
    p = sub.add_parser(
        "train", parents=parents, help="train a model on a folder (or resume a run)",
        description="Train a model: artforge train gan DIR --run RUN_DIR [options] [section.key=value ...], "
                    "artforge train music DIR --run RUN_DIR --bars 2|16; "
                    "artforge train style STYLE_IMAGE|DIR|builtin --run RUN_DIR (one style, or an arbitrary-style "
                    "network); "
                    "continue one: artforge train --resume RUN_DIR [--steps N].",
        epilog="Any config key can be set as section.key=value, e.g. gan.lr_g=0.0001 data.crop=pad "
               "train.sample_every=100; see configs/gan/*.toml and docs/training.md for every key.")
    p.add_argument("words", nargs="*", metavar="FAMILY DIR [key=value ...]",
                   help="model family (gan, music or style), data folder (or 'builtin'; for music builtin:folk or "
                        "builtin:chorales), then config overrides")
    p.add_argument("--run", "--run-dir", dest="run", metavar="RUN_DIR",
                   help="folder for the new run (--run-dir is the same; use it under torchrun, whose own "
                        "--run-path option swallows --run)")
    p.add_argument("--resume", metavar="RUN_DIR", help="continue the run in this folder exactly")
    p.add_argument("--config", metavar="FILE.toml", help="config file (sections data, model, gan, train)")
    for flag, (d, fams) in flag_settings().items():
        only = "" if len(fams) == len(families()) else f"{'/'.join(fams)}: "
        p.add_argument(flag, type=d.type, metavar=d.tag.metavar, help=f"{only}{d.tag.help} (sets {d.key})")
    p.set_defaults(func=run, accepts_overrides=True)


def flag_settings() -> dict[str, tuple[C.Declared, list[str]]]:
    """`artforge train`'s own options: every setting tagged with a `flag`, in any family, as
    flag -> (its setting, the families that have it). A flag names the same key in every family."""
    out: dict[str, tuple[C.Declared, list[str]]] = {}
    for name, fam in families().items():
        for d in C.declared(fam.experiment):
            if d.tag.flag:
                seen, fams = out.setdefault(d.tag.flag, (d, []))
                if seen.key != d.key:
                    raise TypeError(f"{d.tag.flag} names {seen.key} in {fams[0]} but {d.key} in {name}")
                fams.append(name)
    return out


def _dest(flag: str) -> str:
    return flag.lstrip("-").replace("-", "_")


def _flag_overrides(args) -> list[str]:
    return [f"{d.key}={getattr(args, _dest(flag))}" for flag, (d, _) in flag_settings().items()
            if getattr(args, _dest(flag)) is not None]


def monitors(exp, run_dir: Path) -> list:
    """For GAN runs: KID_effnet during training (and best/) when `eval.kid_every` asks for it, and the
    copy-check index (train_index.safetensors) at the end of every run, so `generate --no-copies` works."""
    ev = getattr(exp, "eval", None)
    if not hasattr(ev, "kid_every") or launch_rank() != 0:
        return []
    from ..metrics.monitor import CopyIndexWriter, KIDMonitor
    kid = [KIDMonitor(run_dir, ev.kid_every, ev.kid_samples, ev.keep_best)] if ev.kid_every > 0 else []
    return [*kid, CopyIndexWriter(run_dir)]


# Exit codes of a run stopped by a signal (checkpoint saved): 128 + the signal's number, as shells report.
SIGNAL_EXIT = {"SIGINT": 130, "SIGTERM": 143}


def run(args) -> int:
    from ..training.run import absolute_data_paths, check_new_run, resume_experiment

    fams = families()
    words = list(args.words) + list(getattr(args, "overrides", []))
    overrides = [w for w in words if "=" in w]
    plain = [w for w in words if "=" not in w]
    say = (lambda m: None) if args.quiet else (lambda m: print(m, file=sys.stderr))
    if args.resume:
        if plain or args.run:
            raise UserError("--resume RUN_DIR takes no family, data folder or --run; only --steps N and "
                            "key=value settings such as train.steps (data.path=DIR when the images moved)")
        flags = flag_settings()
        fixed = [flag for flag, (d, _) in flags.items() if not d.tag.resume]
        if args.config or any(getattr(args, _dest(flag)) is not None for flag in fixed):
            free = ", ".join(flag for flag in flags if flag not in fixed)
            raise UserError(f"--resume keeps the run's config; only {free}, train.* logging/checkpoint settings "
                            "and data.path (the same images, moved) may change")
        fam, exp, state = resume_experiment(Path(args.resume), fams,
                                            absolute_data_paths(_flag_overrides(args) + overrides))
        run_dir = Path(args.resume)
        if state["step"] >= exp.train.steps:
            say(f"{run_dir} is already trained to step {state['step']}; nothing to do (to train longer, ask "
                f"for a larger total: --steps {state['step'] * 2})")
            return 0
        say(f"resuming {run_dir} at step {state['step']} of {exp.train.steps}")
    else:
        if len(plain) != 2:
            raise UserError("usage: artforge train FAMILY DIR --run RUN_DIR (e.g. artforge train gan "
                            "./my-paintings --run runs/paintings); or artforge train --resume RUN_DIR")
        name, data_dir = plain
        if name not in fams:
            raise UserError(f"unknown model family '{name}'; choose one of: {', '.join(fams)}")
        if not args.run:
            raise UserError("give the folder for the new run with --run RUN_DIR")
        fam = fams[name]
        exp = fam.experiment()
        if args.config:
            exp = C.merge(exp, C.load_toml(args.config), where=f" in {args.config}")
        # Absolute paths: the run can be resumed and evaluated from any folder.
        exp = C.apply_overrides(exp, absolute_data_paths([f"data.path={data_dir}", *_flag_overrides(args),
                                                          *overrides]))
        run_dir = Path(args.run)
        if launch_rank() == 0:  # under torchrun, rank 0 alone creates the run folder
            check_new_run(run_dir)
        state = None
    try:
        loop = fam.train(exp, run_dir, state, quiet=args.quiet, log=say, callbacks=monitors(exp, run_dir))
    except TrainingInterrupted as e:
        print(f"stopped at step {e.step} ({e.signame}); checkpoint saved. Continue with: "
              f"artforge train --resume {run_dir}", file=sys.stderr)
        return SIGNAL_EXIT.get(e.signame, 130)
    samples = f"; samples: {run_dir / 'samples'}" if (run_dir / "samples").is_dir() else ""
    say(f"done: {loop.step} steps; model: {run_dir / 'model.safetensors'}{samples}")
    return 0
