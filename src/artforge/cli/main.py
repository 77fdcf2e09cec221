"""`artforge VERB ...`: parse, dispatch, and turn user errors into one line and a non-zero exit."""

from __future__ import annotations

import argparse
import contextlib
import errno
import importlib
import os
import re
import signal
import sys
import threading
from pathlib import Path
from typing import Iterator

from .. import __version__
from ..errors import UserError
from ..runtime import tune_malloc

# Exit codes of a stop by signal, as shells report them (128 + the signal's number).
EXIT_SIGINT, EXIT_SIGTERM, EXIT_SIGPIPE = 130, 143, 141
# What the disk said, for errors a user fixes by choosing another place (or freeing space).
WRITE_PROBLEMS = {errno.EACCES: "permission denied", errno.EPERM: "operation not permitted",
                  errno.EROFS: "the file system is read-only", errno.ENOSPC: "no space left on the disk",
                  errno.EDQUOT: "over the disk quota"}
# io/atomic.py writes into `.NAME.XXXXXXXX.tmp` beside NAME: a user knows NAME, never that temporary name.
_TEMP_NAME = re.compile(r"^\.(?P<name>.+)\.[A-Za-z0-9_]{8}\.tmp$")


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised like Ctrl-C so that the same clean-up runs; the exit code tells them apart."""


def common_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(add_help=False)
    p.add_argument("--quiet", action="store_true", help="print only results and errors (no progress, no notes)")
    p.add_argument("--debug", action="store_true", help="show full tracebacks")
    return p


# verb: (module in artforge.cli, the line `artforge --help` shows). A verb's module, and with it torch, is
# imported only when that verb is parsed: `artforge --help` answers at once (tests check the lines match).
VERBS = {
    "demo": ("demo", "train a small GAN on built-in art, then create with it"),
    "data": ("data", "inspect a folder of training images"),
    "train": ("train", "train a model on a folder (or resume a run)"),
    "eval": ("evaluate", "measure a GAN or music model (or any folder of images) against data"),
    "generate": ("create", "sample new images from a model"),
    "interpolate": ("create", "an animation that morphs between the images of several seeds"),
    "music": ("music", "create melodies with a music model (MIDI, WAV, piano roll)"),
    "stylize": ("stylize", "paint a picture or a video in the manner of style images"),
    "recipe": ("provenance", "print the recipe inside a file as JSON"),
    "replay": ("provenance", "make a file again from its recipe"),
    "studio": ("studio", "start the web studio (gallery, create, REST API)"),
}


class _VerbParsers(dict):
    """verb -> its parser, built by its module's `register` the first time argparse asks for it."""

    def __init__(self, parents: list[argparse.ArgumentParser]):
        super().__init__((verb, None) for verb in VERBS)
        self.parents = parents

    def __getitem__(self, verb: str) -> argparse.ArgumentParser:
        parser = super().__getitem__(verb)
        if parser is None:
            for name, built in verb_parsers(VERBS[verb][0], self.parents).items():
                super().__setitem__(name, built)
            parser = super().__getitem__(verb)
        return parser


def verb_parsers(module_name: str, parents: list[argparse.ArgumentParser]) -> dict[str, argparse.ArgumentParser]:
    """The parsers that artforge.cli.MODULE registers, by verb (with their prog, `artforge VERB`)."""
    module = importlib.import_module(f"{__package__}.{module_name}")
    sub = argparse.ArgumentParser(prog="artforge").add_subparsers()
    module.register(sub, parents)
    return dict(sub.choices)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="artforge", description="Train generative models on your own art, "
                                     "then create with them.")
    parser.add_argument("--version", action="version", version=f"artforge {__version__}")
    sub = parser.add_subparsers(dest="verb", metavar="VERB", required=True)
    sub.choices = sub._name_parser_map = _VerbParsers([common_parser()])
    for verb, (_, help) in VERBS.items():      # the listing, without building the verbs' parsers
        sub._choices_actions.append(sub._ChoicesPseudoAction(verb, (), help))
    return parser


def os_error_line(e: OSError) -> str | None:
    """One line for a file the disk refused (permissions, read-only, full); None for any other OSError."""
    why = WRITE_PROBLEMS.get(e.errno)
    if why is None or not e.filename:
        return None
    path = Path(os.fsdecode(e.filename))
    temp = _TEMP_NAME.match(path.name)
    if temp is None:
        return f"{path}: {why}"
    hint = " (free some space)" if e.errno in (errno.ENOSPC, errno.EDQUOT) else " (choose a folder you can write to)"
    return f"cannot write {path.parent / temp['name']}: {why}{hint}"


@contextlib.contextmanager
def sigterm_as_interrupt() -> Iterator[None]:
    """SIGTERM raises `Terminated` for the block (the training loop installs its own handler while it runs)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum, frame):
        raise Terminated()

    old = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, old)


def _stdout_to_devnull() -> None:
    """After a closed pipe (`artforge recipe X | head`), let Python's last flush go nowhere, silently."""
    with contextlib.suppress(OSError, ValueError, AttributeError):
        fd = os.open(os.devnull, os.O_WRONLY)
        os.dup2(fd, sys.stdout.fileno())
        os.close(fd)


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    tune_malloc()
    with sigterm_as_interrupt():
        try:
            return _run(argv)
        except KeyboardInterrupt as e:           # also while parsing (imports) and in the error paths below
            terminated = isinstance(e, Terminated)
            print(f"error: interrupted{' (SIGTERM)' if terminated else ''}", file=sys.stderr)
            return EXIT_SIGTERM if terminated else EXIT_SIGINT


def _run(argv: list[str]) -> int:
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    if extra:
        if not getattr(args, "accepts_overrides", False):
            parser.error(f"unrecognized arguments: {' '.join(extra)}")
        args.overrides = list(getattr(args, "overrides", [])) + extra
    try:
        code = int(args.func(args) or 0)
        sys.stdout.flush()                       # a closed pipe shows here, not after we have returned
        return code
    except UserError as e:
        if args.debug:
            raise
        print(f"error: {e}", file=sys.stderr)
        return e.exit_code
    except BrokenPipeError:
        _stdout_to_devnull()
        return EXIT_SIGPIPE
    except OSError as e:
        line = os_error_line(e)
        if args.debug or line is None:
            return _unexpected(e, args.debug)
        print(f"error: {line}", file=sys.stderr)
        return UserError.exit_code
    except Exception as e:  # a bug or an environment problem: still one line unless --debug
        return _unexpected(e, args.debug)


def _unexpected(e: Exception, debug: bool) -> int:
    if debug:
        raise e
    print(f"error: {type(e).__name__}: {e} (run again with --debug to see the traceback)", file=sys.stderr)
    return 1


def entry() -> None:
    sys.exit(main())
