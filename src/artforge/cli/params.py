"""Command-line options built from a pipeline's declared parameters (so the two cannot drift apart)."""

from __future__ import annotations

import argparse

from ..pipelines.base import Pipeline


def add_pipeline_options(parser: argparse.ArgumentParser, pipeline: type[Pipeline], skip: tuple = ()) -> None:
    """One option per declared parameter, except those in `skip` (a verb that takes them positionally)."""
    for p in pipeline.params:
        if p.name in skip:
            continue
        flags = [f"--{p.name.replace('_', '-')}"] + ([p.short] if p.short else [])
        rng = f" [{p.min:g}..{p.max:g}]" if p.min is not None and p.max is not None else ""
        if p.kind == "bool":
            parser.add_argument(*flags, dest=p.name, action="store_true", default=p.default, help=p.help)
        else:
            default = ",".join(map(str, p.default)) if p.kind == "ints" else p.default
            parser.add_argument(*flags, dest=p.name, default=default, metavar=p.kind.upper(),
                                help=f"{p.help}{rng} (default: {default})")


def pipeline_kwargs(args: argparse.Namespace, pipeline: type[Pipeline], skip: tuple = ()) -> dict:
    return {p.name: getattr(args, p.name) for p in pipeline.params if p.name not in skip}
