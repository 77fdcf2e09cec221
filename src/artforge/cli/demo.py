"""`artforge demo`: train a small GAN on the built-in data, make a grid and a looping animation, evaluate it."""

from __future__ import annotations

import sys
import time
from pathlib import Path

from ..features import FeatureExtractor, load_feature_net
from ..metrics.guard import CopyGuard
from ..metrics.report import write_report
from ..pipelines import GeneratePipeline, InterpolatePipeline, load_model
from ..provenance.write import save_animation, save_image
from .evaluate import evaluate_model, summary
from .train import monitors

DEMO_STEPS = 1800
EVAL_SAMPLES = 500


def register(sub, parents) -> None:
    p = sub.add_parser("demo", parents=parents, help="train a small GAN on built-in art, then create with it",
                       description="Trains the default GAN (tiny preset, 64 px) on the built-in landscapes on "
                                   "CPU (3-8 minutes on an idle laptop, far longer on a busy one: an estimate is "
                                   "printed after a few steps, and --minutes N caps the training), then writes a "
                                   "sample grid and an interpolation loop.")
    p.add_argument("--out", default="artforge-demo", metavar="DIR", help="output folder (default: artforge-demo)")
    p.add_argument("--steps", type=int, default=DEMO_STEPS, help=f"training steps (default: {DEMO_STEPS})")
    p.add_argument("--minutes", type=float, default=0, metavar="N",
                   help="time budget for the training: stop after N minutes of it, however many steps that is "
                        "(default: no budget, all --steps; training prints an estimate after a few steps)")
    p.add_argument("--resolution", type=int, default=64, metavar="PX")
    p.add_argument("--device", default="auto")
    p.add_argument("--eval-samples", type=int, default=EVAL_SAMPLES, metavar="N",
                   help=f"images generated for the closing evaluation (default: {EVAL_SAMPLES})")
    p.set_defaults(func=run)


def run(args) -> int:
    from ..training.checkpoint import latest_checkpoint
    from ..training.run import resume_experiment
    from ..training.tasks import families
    from ..training.tasks.gan import GANExperiment, train

    out = Path(args.out)
    run_dir = out / "run"
    say = (lambda m: None) if args.quiet else (lambda m: print(m, file=sys.stderr))
    t0 = time.monotonic()
    found = latest_checkpoint(run_dir)
    if found and found[1] >= args.steps:
        say(f"reusing the trained demo model in {run_dir} (delete it to train again)")
    elif found:
        say(f"continuing the demo run in {run_dir} from step {found[1]}")
        _, exp, state = resume_experiment(run_dir, families(), [f"train.steps={args.steps}"])
        # The budget counts the run's whole training time, so this sitting gets `--minutes` more of it.
        exp.train.budget_minutes = state["elapsed_s"] / 60 + args.minutes if args.minutes > 0 else 0.0
        train(exp, run_dir, state, quiet=args.quiet, log=say, callbacks=monitors(exp, run_dir))
    else:
        budget = f"at most {args.minutes:g} minutes" if args.minutes > 0 else "an estimate follows after a few steps"
        say(f"artforge demo: training the default GAN on the built-in landscapes ({args.resolution} px, "
            f"{args.steps} steps; {budget}). Ctrl-C stops; run the demo again to continue.")
        exp = GANExperiment()
        exp.data.resolution = args.resolution
        exp.train.steps, exp.train.device = args.steps, args.device
        exp.train.budget_minutes = max(args.minutes, 0.0)
        exp.train.sample_every = max(args.steps // 6, 1)
        exp.eval.kid_every = max(args.steps // 3, 1)
        train(exp, run_dir, None, quiet=args.quiet, log=say, callbacks=monitors(exp, run_dir))
    say(f"evaluating the model: {args.eval_samples} samples against the built-in images")
    fx = FeatureExtractor(load_feature_net())
    result, folder, title, note, history = evaluate_model(str(run_dir), fx, args.eval_samples, log=say)
    report = write_report(folder, result, title, note, history)
    model = load_model(run_dir)
    grid = GeneratePipeline(model, copy_check=CopyGuard.for_model(model, fx))(n=36, seed=0, no_copies=True)
    grid_path = save_image(grid.images[-1], out / "grid.png", grid.recipes[-1])
    anim = InterpolatePipeline(model)(seeds=[1, 2, 3, 4, 5, 6], frames=96, loop=True, fps=16)
    gif_path = save_animation(anim.images, out / "loop.gif", anim.recipes[0], fps=16)
    minutes = (time.monotonic() - t0) / 60
    print(f"demo done in {minutes:.1f} min\n"
          f"  sample grid:        {grid_path}\n"
          f"  interpolation loop: {gif_path}\n"
          f"  training run:       {run_dir}  (samples/, loss.png, kid.png, metrics.jsonl, best/)\n"
          f"  evaluation report:  {report}\n"
          f"{summary(result)}\n"
          f"next: artforge generate {run_dir} -n 16 --seed 7 --out {out / 'more'}\n"
          f"      artforge train gan YOUR_FOLDER --run runs/mine")
    return 0
