"""`artforge VERB ...`: parse, dispatch, and turn user errors into one line and a non-zero exit."""

from __future__ import annotations

import argparse
import sys

from .. import __version__
from ..errors import UserError
from ..runtime import tune_malloc


def common_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(add_help=False)
    p.add_argument("--quiet", action="store_true", help="print only results and errors")
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


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    tune_malloc()
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    if extra:
        if not getattr(args, "accepts_overrides", False):
            parser.error(f"unrecognized arguments: {' '.join(extra)}")
        args.overrides = list(getattr(args, "overrides", [])) + extra
    try:
        return int(args.func(args) or 0)
    except UserError as e:
        if args.debug:
            raise
        print(f"error: {e}", file=sys.stderr)
        return e.exit_code
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130
    except Exception as e:  # a bug or an environment problem: still one line unless --debug
        if args.debug:
            raise
        print(f"error: {type(e).__name__}: {e} (run again with --debug to see the traceback)", file=sys.stderr)
        return 1


def entry() -> None:
    sys.exit(main())
