"""`artforge studio [--host 127.0.0.1] [--port 7860] [--data-dir DIR]`: the web studio under uvicorn."""

from __future__ import annotations

from pathlib import Path

from ..errors import UserError


def register(sub, parents) -> None:
    p = sub.add_parser("studio", parents=parents, help="start the web studio (gallery, create, REST API)",
                       description="Start the web studio. The first start makes the owner account and prints "
                                   "a one-time sign-in link. The REST API is documented at /docs.")
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1: this computer only; "
                   "any other needs accounts with passwords first)")
    p.add_argument("--port", type=int, default=7860, help="port (default 7860)")
    p.add_argument("--data-dir", default="studio-data", metavar="DIR",
                   help="folder for the database, images and runs (default ./studio-data); back it up by copying")
    p.add_argument("--device", default="cpu", help="cpu, cuda, cuda:N or mps (default: cpu)")
    p.add_argument("--no-batching", action="store_true", help="run each generation request alone")
    p.set_defaults(func=run)


def run(args) -> int:
    from ..studio import StudioSettings, create_app, prepare
    from ..studio.app import has_accounts

    if not 0 < args.port < 65536:
        raise UserError(f"--port {args.port}: give a port between 1 and 65535")
    settings = StudioSettings(data_dir=Path(args.data_dir), host=args.host, port=args.port, device=args.device,
                              batching=not args.no_batching)
    if not settings.is_local and not has_accounts(settings):
        raise UserError(f"--host {args.host} would open the studio to the network, but it has no account with a "
                        f"password yet; start it on 127.0.0.1 first, sign in with the link it prints and set a "
                        f"password (POST /api/me/password)")
    link = prepare(settings)
    if link is not None:
        print(f"artforge studio: sign in (one-time link): {link}", flush=True)
    elif not args.quiet:
        print(f"artforge studio: http://{args.host}:{args.port}/  (data: {settings.data_dir})", flush=True)
    serve(create_app(settings), settings.host, settings.port, quiet=args.quiet)
    return 0


def serve(app, host: str, port: int, quiet: bool = False) -> None:
    import uvicorn

    # Open event streams (a page watching a training job) would hold a Ctrl-C forever: after a few seconds
    # uvicorn closes them, then the app's shutdown stops the running trainer at a checkpoint.
    uvicorn.run(app, host=host, port=port, log_level="warning" if quiet else "info", timeout_graceful_shutdown=3)
