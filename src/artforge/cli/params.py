"""Command-line options built from a pipeline's declared parameters (so the two cannot drift apart)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..errors import UserError
from ..pipelines.base import Pipeline


def add_pipeline_options(parser: argparse.ArgumentParser, pipeline: type[Pipeline], skip: tuple = (),
                         rename: dict[str, str] | None = None) -> None:
    """One option per declared parameter, except those in `skip` (a verb that takes them positionally);
    `rename` gives a parameter another option name on this verb (its old name stays, hidden, as an alias)."""
    rename = rename or {}
    for p in pipeline.params:
        if p.name in skip:
            continue
        flags = [f"--{rename.get(p.name, p.name).replace('_', '-')}"] + ([p.short] if p.short else [])
        if p.kind == "bool":
            parser.add_argument(*flags, dest=p.name, action="store_true", default=p.default, help=p.help)
        else:
            default = ",".join(map(str, p.default)) if p.kind == "ints" else p.default
            parser.add_argument(*flags, dest=p.name, default=default, metavar=p.kind.upper(),
                                help=f"{p.help}{p.range_text()} (default: {default})")
        if p.name in rename:
            parser.add_argument(f"--{p.name.replace('_', '-')}", dest=f"deprecated_{p.name}", default=None,
                                help=argparse.SUPPRESS)


def pipeline_kwargs(args: argparse.Namespace, pipeline: type[Pipeline], skip: tuple = (),
                    rename: dict[str, str] | None = None) -> dict:
    """The declared parameters' values; a renamed option's old name, when used, counts (with a warning)."""
    out = {}
    for p in pipeline.params:
        if p.name in skip:
            continue
        old = getattr(args, f"deprecated_{p.name}", None)
        if old is not None:
            new = (rename or {}).get(p.name, p.name)
            print(f"warning: --{p.name.replace('_', '-')} is deprecated here; use --{new.replace('_', '-')}",
                  file=sys.stderr)
        out[p.name] = old if old is not None else getattr(args, p.name)
    return out


def show_progress(args: argparse.Namespace) -> bool:
    """A progress bar only for a person watching: not with --quiet, and not into a log file or a pipe
    (where each redraw would be one more line of carriage returns)."""
    return not getattr(args, "quiet", False) and sys.stderr.isatty()


DEVICE_HELP = "auto (default: a CUDA GPU, else Apple's MPS, else the CPU), cpu, cuda, cuda:N or mps"


def out_target(out: str | Path, suffixes: tuple[str, ...], what: str) -> tuple[Path, bool]:
    """--out as (path, is_file): a folder (one that exists, or a new name without a suffix) or a file whose
    name ends in one of `suffixes` (`what` names those in the message for anything else)."""
    p = Path(out)
    if p.is_dir():
        return p, False
    if p.suffix.lower() in suffixes:
        return p, True
    if not p.suffix and not p.exists():
        return p, False
    raise UserError(f"--out {p}: give {what}, or a folder")
