"""`artforge VERB ...`: parse, dispatch, and turn user errors into one line and a non-zero exit."""

from __future__ import annotations

import argparse
import contextlib
import errno
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


def build_parser() -> argparse.ArgumentParser:
    from . import create, data, demo, evaluate, music, provenance, studio, stylize, train

    parser = argparse.ArgumentParser(prog="artforge", description="Train generative models on your own art, "
                                     "then create with them.")
    parser.add_argument("--version", action="version", version=f"artforge {__version__}")
    sub = parser.add_subparsers(dest="verb", metavar="VERB", required=True)
    parents = [common_parser()]
    for module in (demo, data, train, evaluate, create, music, stylize, provenance, studio):
        module.register(sub, parents)
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
