"""`furu-dashboard` (and `python -m furu_server`): serve a store's API and dashboard.

```
furu-dashboard serve [--host 127.0.0.1] [--port 8000] [--root DIR] [--reload]   API + dashboard
furu-dashboard api   [same options]                                             API only
furu-dashboard openapi [--output FILE]                                          the schema
```

The store is `--root`, else `FURU_PATH`, else furu's default. The token that routes which change
data need is printed in the URL (`?token=`), or set with `--token` / `FURU_SERVER_TOKEN`; the
access log never shows it (`RedactToken`).
"""

from __future__ import annotations

import argparse
import copy
import logging
import os
import re
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import chz

from furu_server._settings import (
    DEFAULT_HOST,
    DEFAULT_PORT,
    ServerSettings,
    env_path,
    max_sweep_from_env,
)


def _default_root() -> Path:
    from furu import FURU_CONFIG

    return FURU_CONFIG.base_root


def _default_vc_root() -> Path | None:
    from furu import FURU_CONFIG, FuruConfigError

    if FURU_CONFIG.version_controlled_root is not None:
        return FURU_CONFIG.version_controlled_root
    try:
        path = FURU_CONFIG.vc_root()
    except FuruConfigError:
        return None
    return path if path.is_dir() else None


def settings_from(args: argparse.Namespace, serve_frontend: bool) -> ServerSettings:
    return ServerSettings(
        root=Path(args.root).expanduser() if args.root else _default_root(),
        vc_root=Path(args.vc_root).expanduser() if args.vc_root else _default_vc_root(),
        cache_dir=Path(args.cache_dir).expanduser()
        if args.cache_dir
        else env_path("FURU_SERVER_CACHE_DIR"),
        token=args.token or os.environ.get("FURU_SERVER_TOKEN") or None,
        host=args.host,
        port=args.port,
        allowed_hosts=tuple(args.allowed_host),
        allowed_origins=tuple(args.allowed_origin),
        rerun_python=args.rerun_python,
        rerun_cwd=Path(args.rerun_cwd) if args.rerun_cwd else None,
        max_runs=args.max_runs,
        max_sweep=args.max_sweep or max_sweep_from_env(),
        static_dir=Path(args.static_dir) if args.static_dir else None,
        serve_frontend=serve_frontend,
    )


def app_from_env() -> Any:
    """The app for uvicorn's `--reload` worker (settings travel in the environment)."""
    from furu_server._app import create_app

    return create_app(ServerSettings.from_env())


_TOKEN_IN_URL = re.compile(r"([?&]token=)[^&\s]*", re.IGNORECASE)


class RedactToken(logging.Filter):
    """Hides `?token=...` in log lines (uvicorn's access log writes every request's URL)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(
                _TOKEN_IN_URL.sub(r"\1<redacted>", a) if isinstance(a, str) else a
                for a in record.args
            )
        if isinstance(record.msg, str):
            record.msg = _TOKEN_IN_URL.sub(r"\1<redacted>", record.msg)
        return True


def log_config() -> dict[str, Any]:
    """uvicorn's logging configuration, with the token filtered out of every handler."""
    from uvicorn.config import LOGGING_CONFIG

    config = copy.deepcopy(LOGGING_CONFIG)
    config.setdefault("filters", {})["furu_redact_token"] = {"()": RedactToken}
    for handler in config["handlers"].values():
        handler.setdefault("filters", []).append("furu_redact_token")
    return config


def _serve(args: argparse.Namespace, serve_frontend: bool) -> int:
    import uvicorn

    from furu_server._security import new_token

    try:
        settings = settings_from(args, serve_frontend)
    except ValueError as exc:  # a setting from the environment that makes no sense
        raise SystemExit(f"furu-dashboard: {exc}") from None
    if settings.token is None:
        settings = chz.replace(settings, token=new_token())
    shown = "127.0.0.1" if settings.host in ("0.0.0.0", "::") else settings.host
    print(
        f"furu-dashboard: serving {settings.resolved_root} at "
        f"http://{shown}:{settings.port}/?token={settings.token}\n"
        f"furu-dashboard: index at {settings.index_path()}",
        file=sys.stderr,
    )
    if args.reload:
        os.environ.update(settings.to_env())
        uvicorn.run(
            "furu_server._cli:app_from_env",
            factory=True,
            host=settings.host,
            port=settings.port,
            reload=True,
            reload_dirs=[str(Path(__file__).resolve().parent)],
            log_config=log_config(),
        )
        return 0
    from furu_server._app import create_app

    uvicorn.run(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        log_level="info",
        log_config=log_config(),
    )
    return 0


def _openapi(args: argparse.Namespace) -> int:
    from furu_server._openapi import openapi_text

    text = openapi_text()
    if args.output:
        Path(args.output).write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    return 0


def _add_serve_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default=DEFAULT_HOST, help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help="port (default 8000)")
    parser.add_argument("--root", help="the store (default: FURU_PATH)")
    parser.add_argument("--vc-root", help="the version-controlled root")
    parser.add_argument("--cache-dir", help="where the index lives (a local disk)")
    parser.add_argument(
        "--reload", action="store_true", help="restart when the server's code changes"
    )
    parser.add_argument("--token", help="the token for routes that change data (default: random)")
    parser.add_argument(
        "--allowed-host", action="append", default=[], help="another name the Host header may carry"
    )
    parser.add_argument(
        "--allowed-origin", action="append", default=[], help="an origin allowed to call the API"
    )
    parser.add_argument(
        "--rerun-python",
        help="the project's Python, for reruns and `furu manifest` / `furu migrate` tasks",
    )
    parser.add_argument(
        "--rerun-cwd", help="the working directory of reruns and tasks (the project's)"
    )
    parser.add_argument(
        "--max-runs", type=int, default=2, help="reruns (and tasks) at the same time"
    )
    parser.add_argument(
        "--max-sweep",
        type=int,
        default=None,
        help="the most configurations of one sweep from the dashboard (default 500, "
        "FURU_SERVER_MAX_SWEEP)",
    )
    parser.add_argument(
        "--static-dir", help="a built dashboard to serve instead of the packaged one"
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="furu-dashboard", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="serve the API and the dashboard")
    _add_serve_options(serve)
    serve.set_defaults(run=lambda a: _serve(a, True))
    api = sub.add_parser("api", help="serve the API only")
    _add_serve_options(api)
    api.set_defaults(run=lambda a: _serve(a, False))
    schema = sub.add_parser("openapi", help="print the OpenAPI document")
    schema.add_argument("--output", help="write it to this file")
    schema.set_defaults(run=_openapi)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    from furu_server.index._database import IndexPathError

    args = build_parser().parse_args(argv)
    try:
        return int(args.run(args))
    except IndexPathError as exc:  # a setting to change, not a bug: no traceback
        print(f"furu-dashboard: {exc}", file=sys.stderr)
        return 2
