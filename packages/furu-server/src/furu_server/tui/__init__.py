"""`furu tui`: a keyboard-first terminal dashboard of a store (Textual), no server needed.

It opens the same index furu-dashboard keeps (same settings, same cache path), so a store the
dashboard has indexed lists at once; the index is refreshed in the background from the
store's journal. Filtering is the dashboard's filter language, compiled by the server's
compiler; actions (invalidate, delete, tags, name) call the server's functions. See
docs/tui.md for every key.

```
furu tui [--root DIR] [--vc-root DIR] [--cache-dir DIR] [--filter TEXT] [--refresh SECS]
```
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from furu_server._settings import ServerSettings, env_path


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="furu tui",
        description="A keyboard-first terminal view of a furu store (press ? inside for keys).",
    )
    parser.add_argument("--root", help="the store (default: FURU_PATH, else furu's default)")
    parser.add_argument(
        "--vc-root", help="version-controlled experiments (FURU_VERSION_CONTROLLED_PATH)"
    )
    parser.add_argument(
        "--cache-dir",
        help="where the index lives (FURU_SERVER_CACHE_DIR; default: furu-dashboard's)",
    )
    parser.add_argument("--filter", default="", help="start with this filter (filter language)")
    parser.add_argument(
        "--refresh",
        type=float,
        default=2.0,
        help="seconds between index refreshes (0: only at start and on R; default 2)",
    )
    return parser


def settings_of(args: argparse.Namespace) -> ServerSettings:
    """The store and index as furu-dashboard would resolve them from the same flags."""
    from furu_server._cli import _default_root, _default_vc_root

    return ServerSettings(
        root=Path(args.root).expanduser() if args.root else _default_root(),
        vc_root=Path(args.vc_root).expanduser() if args.vc_root else _default_vc_root(),
        cache_dir=Path(args.cache_dir).expanduser()
        if args.cache_dir
        else env_path("FURU_SERVER_CACHE_DIR"),
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Run the TUI until it is quit; 0 when quit, 1 when the store cannot be shown, 2 on a
    usage error."""
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as exc:
        return int(exc.code or 0)
    try:
        settings = settings_of(args)
    except ValueError as exc:  # a FURU_* setting that makes no sense
        print(f"furu: {exc}", file=sys.stderr)
        return 1
    from furu_server.tui._data import FilterError, StoreData, compile_text, store_missing

    problem = store_missing(settings)
    if problem is not None:
        print(f"furu: {problem}", file=sys.stderr)
        return 1
    try:
        compile_text(args.filter)
    except FilterError as exc:
        print(f"furu: --filter {args.filter!r}: {exc.message}", file=sys.stderr)
        return 2
    from furu_server.index._database import IndexPathError

    try:
        data = StoreData(settings)
    except IndexPathError as exc:
        print(f"furu: {exc}", file=sys.stderr)
        return 1
    from furu_server.tui._app import FuruTui

    app = FuruTui(data, initial_filter=args.filter, refresh_interval=args.refresh)
    result = app.run()
    return int(result or 0)


__all__ = ["main"]
