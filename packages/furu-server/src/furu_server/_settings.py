"""What a furu-server is configured with: which store, where its index lives, who may call it.

Settings are a chz class like every furu config. `ServerSettings.from_env()` reads the
`FURU_SERVER_*` variables (and `FURU_PATH` for the store), which is also how `--reload` hands
the command line's settings to the worker process uvicorn starts.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
from pathlib import Path
from typing import Any

import chz

QUERY_TIMEOUT_ENV = "FURU_SERVER_QUERY_TIMEOUT_SECS"
DEFAULT_QUERY_TIMEOUT = 10.0
MAX_SWEEP_ENV = "FURU_SERVER_MAX_SWEEP"
DEFAULT_MAX_SWEEP = 500
MAX_QUERY_TIMEOUT = 3600.0
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000
_ENV = "FURU_SERVER_SETTINGS_JSON"


def default_cache_root() -> Path:
    """`$XDG_CACHE_HOME/furu-server` (else `~/.cache/furu-server`): a local disk, not the store."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "furu-server"


@chz.chz
class ServerSettings:
    """Every setting of a furu-server.

    Attributes:
        root: the store (`FURU_PATH`): experiments live under `<root>/data/`.
        vc_root: the root of `version_controlled=True` experiments (default `<root>/vc` when
            that exists; `FURU_VERSION_CONTROLLED_PATH`).
        cache_dir: where the SQLite index lives (`FURU_SERVER_CACHE_DIR`; default a directory
            under `~/.cache/furu-server` named after the store's path). Keep it on a local
            disk: SQLite's locking is unreliable on network filesystems.
        token: the token routes that change data require; None generates one at start.
        host: the address to bind (127.0.0.1: only this machine can connect).
        port: the port to bind.
        allowed_hosts: extra names the `Host` header may carry (besides localhost and IPs).
        allowed_origins: extra origins (`http://localhost:5173`) allowed to call the API.
        rerun_python: the Python of the project environment reruns run in (default: the
            interpreter recorded in the experiment's metadata, when it still exists), and
            the `furu manifest` / `furu migrate` tasks (default: the one that wrote the
            manifest).
        rerun_cwd: the working directory of reruns and tasks (default: the server's; for
            tasks, the project directory the manifest names when it is the server user's).
        refresh_interval: seconds between incremental index refreshes.
        full_scan_interval: seconds between full rescans (which also catch changes made by
            tools that write no journal, e.g. `rm -rf` of a class directory's file).
        max_runs: reruns allowed at the same time (and, separately, tasks).
        max_sweep: the most configurations one sweep (or experiments one batch) may have
            (`--max-sweep`, `FURU_SERVER_MAX_SWEEP`, default 500).
        static_dir: the built dashboard to serve (default: the one shipped in the package).
        serve_frontend: serve the dashboard (`serve`) or only the API (`api`).
        query_timeout: seconds a listing's query may run before it is stopped and answered
            with `filter_invalid` (`FURU_SERVER_QUERY_TIMEOUT_SECS`, default 10).
    """

    root: Path
    vc_root: Path | None = None
    cache_dir: Path | None = None
    token: str | None = None
    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    allowed_hosts: tuple[str, ...] = ()
    allowed_origins: tuple[str, ...] = ()
    rerun_python: str | None = None
    rerun_cwd: Path | None = None
    refresh_interval: float = 1.0
    full_scan_interval: float = 600.0
    max_runs: int = 2
    max_sweep: int = chz.field(default_factory=lambda: max_sweep_from_env())
    static_dir: Path | None = None
    serve_frontend: bool = True
    query_timeout: float = chz.field(default_factory=lambda: query_timeout_from_env())

    @property
    def resolved_root(self) -> Path:
        return Path(os.path.realpath(self.root))

    @property
    def resolved_vc_root(self) -> Path | None:
        if self.vc_root is not None:
            return Path(os.path.realpath(self.vc_root))
        return None

    def index_path(self) -> Path:
        """The index file: one per store path, under the cache directory."""
        key = hashlib.sha256(str(self.resolved_root).encode()).hexdigest()[:16]
        base = self.cache_dir if self.cache_dir is not None else default_cache_root() / key
        return base / "index.sqlite"

    def runs_dir(self) -> Path:
        return self.index_path().parent / "runs"

    def to_env(self) -> dict[str, str]:
        """These settings as one environment variable (for uvicorn's reload worker)."""
        data: dict[str, Any] = {}
        for name, value in chz.asdict(self).items():
            data[name] = str(value) if isinstance(value, Path) else value
        return {_ENV: json.dumps(data)}

    @classmethod
    def from_env(cls) -> ServerSettings:
        """Settings from `to_env()`'s variable, else from `FURU_PATH` and `FURU_SERVER_*`."""
        raw = os.environ.get(_ENV)
        if raw:
            data = json.loads(raw)
            for name in ("root", "vc_root", "cache_dir", "rerun_cwd", "static_dir"):
                if data.get(name) is not None:
                    data[name] = Path(data[name])
            for name in ("allowed_hosts", "allowed_origins"):
                data[name] = tuple(data.get(name) or ())
            return cls(**data)
        return cls(
            root=Path(os.environ.get("FURU_PATH") or "furu-data"),
            vc_root=env_path("FURU_VERSION_CONTROLLED_PATH"),
            cache_dir=env_path("FURU_SERVER_CACHE_DIR"),
            token=os.environ.get("FURU_SERVER_TOKEN") or None,
        )


def env_path(name: str) -> Path | None:
    """The path in the environment variable `name` (`~` expanded); None when it is unset."""
    value = os.environ.get(name)
    return Path(value).expanduser() if value else None


def query_timeout_from_env() -> float:
    """`FURU_SERVER_QUERY_TIMEOUT_SECS` (default 10): seconds a listing's query may run.

    Raises:
        ValueError: the variable is not a number of seconds in (0, 3600].
    """
    raw = os.environ.get(QUERY_TIMEOUT_ENV, "").strip()
    if not raw:
        return DEFAULT_QUERY_TIMEOUT
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    if not 0 < value <= MAX_QUERY_TIMEOUT:  # NaN fails too
        raise ValueError(
            f"{QUERY_TIMEOUT_ENV}={raw!r} is not a number of seconds above 0 and at most "
            f"{MAX_QUERY_TIMEOUT:g}; set it to e.g. 10 (the default) or unset it"
        )
    return value


def max_sweep_from_env() -> int:
    """`FURU_SERVER_MAX_SWEEP` (default 500): the most configurations of one sweep.

    Raises:
        ValueError: the variable is not a whole number of at least 1.
    """
    raw = os.environ.get(MAX_SWEEP_ENV, "").strip()
    if not raw:
        return DEFAULT_MAX_SWEEP
    if not raw.isdigit() or int(raw) < 1:
        raise ValueError(
            f"{MAX_SWEEP_ENV}={raw!r} is not a whole number of at least 1; set it to e.g. "
            f"{DEFAULT_MAX_SWEEP} (the default) or unset it"
        )
    return int(raw)
