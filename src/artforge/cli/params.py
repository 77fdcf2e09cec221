"""Command-line arguments built from a pipeline's declaration (inputs positional, settings as options), so the
two cannot drift apart; the declarations import no torch, so neither does building a parser."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..errors import UserError
from ..pipelines.params import Spec


def add_pipeline_inputs(parser: argparse.ArgumentParser, spec: Spec, skip: tuple = ()) -> None:
    """One positional argument per declared input that a command line can give (a model, files), in order;
    artworks are the studio's."""
    for i in spec.inputs:
        if i.name in skip or i.kind in ("artwork", "artworks"):
            continue
        parser.add_argument(i.name, metavar=i.metavar or i.name.upper(), help=i.help,
                            **({"nargs": "+"} if i.many else {}))


def pipeline_inputs(args: argparse.Namespace, spec: Spec, skip: tuple = ()) -> dict:
    """The declared inputs' values from the command line, a list of files checked for its count."""
    out = {}
    for i in spec.inputs:
        if i.name in skip or i.kind in ("artwork", "artworks"):
            continue
        value = getattr(args, i.name)
        out[i.name] = i.check_count(list(value)) if i.many else value
    return out


def add_pipeline_options(parser: argparse.ArgumentParser, specs: Spec | list[tuple[str, Spec]], skip: tuple = (),
                         rename: dict[str, str] | None = None) -> None:
    """One option per declared setting, except those in `skip`; `rename` gives a setting another option name
    on this verb (its old name stays, hidden, as an alias).

    `specs` is one pipeline's declaration, or (label, spec) pairs for a verb that runs one of several: then
    each setting is one option, given only when typed (each pipeline keeps its own default), its help naming
    the labels of the pipelines that take it."""
    rename = rename or {}
    several = not isinstance(specs, Spec)
    pairs = specs if several else [("", specs)]
    seen: set[str] = set()
    for _, spec in pairs:
        for p in spec.params:
            if p.name in skip or p.name in seen:
                continue
            seen.add(p.name)
            flags = [f"--{rename.get(p.name, p.name).replace('_', '-')}"] + ([p.short] if p.short else [])
            if several:
                owners = ", ".join(dict.fromkeys(label for label, q in pairs
                                                 if any(x.name == p.name for x in q.params)))
                parser.add_argument(*flags, dest=p.name, default=argparse.SUPPRESS, metavar=p.kind.upper(),
                                    help=f"{p.help}{p.range_text()} ({owners})")
            elif p.kind == "bool":
                parser.add_argument(*flags, dest=p.name, action="store_true", default=p.default, help=p.help)
            else:
                default = ",".join(map(str, p.default)) if p.kind == "ints" else p.default
                parser.add_argument(*flags, dest=p.name, default=default, metavar=p.kind.upper(),
                                    help=f"{p.help}{p.range_text()} (default: {default})")
            if p.name in rename:
                parser.add_argument(f"--{p.name.replace('_', '-')}", dest=f"deprecated_{p.name}", default=None,
                                    help=argparse.SUPPRESS)


def pipeline_kwargs(args: argparse.Namespace, spec: Spec, skip: tuple = (),
                    rename: dict[str, str] | None = None) -> dict:
    """The declared settings' values (those given, for options built from several specs); a renamed option's
    old name, when used, counts (with a warning)."""
    out = {}
    for p in spec.params:
        if p.name in skip:
            continue
        old = getattr(args, f"deprecated_{p.name}", None)
        if old is not None:
            new = (rename or {}).get(p.name, p.name)
            print(f"warning: --{p.name.replace('_', '-')} is deprecated here; use --{new.replace('_', '-')}",
                  file=sys.stderr)
        if old is not None or hasattr(args, p.name):
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
