"""Fixtures of the dashboard's browser tests: a real store, a real `furu-dashboard`, Chromium.

- `dashboard_store` (once per session): `examples/pipeline.py` run for real into a store under
  a temporary directory, plus the steps below: a parquet result table (and a subclass of it),
  a failed step, throwaway steps for the actions tests, and a step that keeps running and
  logging until the session ends (its log is what the live tail shows).
- `dashboard`: `furu-dashboard serve` over that store, as a subprocess on 127.0.0.1 (an
  ephemeral port), ready once its index is built; stopped at teardown. Every wait has a
  wall-clock deadline.
- `browser_type_launch_args` / `browser_context_args`: pytest-playwright's fixtures, pointed at
  Debian's Chromium (`/usr/bin/chromium`) with the flags a machine without network needs.
- `shoot(page, name)`: a screenshot in `test-artifacts/screenshots/` (CI uploads them).

The steps are defined here so that the subprocesses (the pipeline, the running step, the
server's reruns) import them as `dashboard_fixtures.<Class>`.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
import signal
import socket
import struct
import subprocess
import sys
import time
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

import furu

REPO = Path(__file__).resolve().parent.parent
HERE = Path(__file__).resolve().parent
STATIC = REPO / "packages" / "furu-server" / "src" / "furu_server" / "static"
SCREENSHOTS = REPO / "test-artifacts" / "screenshots"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
TOKEN = "dashboard-test-token"
DEADLINE_SEC = 60.0
_log = logging.getLogger("dashboard_fixtures")


def png(width: int, height: int) -> bytes:
    """A real (grey) PNG image of that size, made with the standard library."""
    raw = b"".join(b"\x00" + b"\x80\x80\x80" * width for _ in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


# ---------------------------------------------------------------- steps of the test store


class ResultTable(furu.Furu[str]):
    """A result as a parquet table (epoch, loss, accuracy, split) beside JSON, text and a PNG."""

    lr: float = 0.1
    epochs: int = 20
    optimizer: str = "adam"

    def _create(self) -> str:
        import pyarrow as pa
        import pyarrow.parquet as pq

        rows = [
            {
                "epoch": e,
                "loss": round(1.0 / (1 + self.lr * e), 5),
                "accuracy": round(1 - 0.5 / (1 + self.lr * e), 5),
                "split": "train" if e % 4 else "val",
            }
            for e in range(1, self.epochs + 1)
        ]
        pq.write_table(pa.Table.from_pylist(rows), self.furu_dir / "results.parquet")
        (self.furu_dir / "summary.json").write_text(json.dumps({"best": rows[-1]}, indent=2))
        (self.furu_dir / "notes.txt").write_text(f"lr={self.lr}, {self.epochs} epochs\n")
        (self.furu_dir / "plots").mkdir(exist_ok=True)
        (self.furu_dir / "plots" / "curve.png").write_bytes(png(2, 2))
        _log.info("wrote %d rows", len(rows))
        return "results.parquet"

    def _load(self) -> str:
        return "results.parquet"


class TunedTable(ResultTable):
    """A subclass: the DAG groups it with `ResultTable`."""

    warmup: int = 2


class Diverges(furu.Furu[str]):
    """Always fails, so the store has a failed step with an error and a traceback."""

    lr: float = 10.0

    def _create(self) -> str:
        _log.info("starting with lr=%s", self.lr)
        raise ValueError(f"diverged: loss is nan at lr={self.lr}")

    def _load(self) -> str:
        return "never"


class Scratch(furu.Furu[str]):
    """A cheap step for the tests that rerun, invalidate and delete."""

    label: str = "scratch"

    def _create(self) -> str:
        (self.furu_dir / "value.txt").write_text(self.label)
        _log.info("scratch %s done", self.label)
        return self.label

    def _load(self) -> str:
        return (self.furu_dir / "value.txt").read_text()


class LongTraining(furu.Furu[str]):
    """Runs until `release` exists (at most ten minutes), logging a line every 0.2 s."""

    release: str = ""
    lr: float = 0.05

    def _create(self) -> str:
        deadline = time.monotonic() + 600
        step = 0
        while not os.path.exists(self.release) and time.monotonic() < deadline:
            _log.info("step %d loss %.4f", step, 1.0 / (1 + step))
            step += 1
            time.sleep(0.2)
        return "trained"

    def _load(self) -> str:
        return "trained"


def make_extra_steps() -> None:
    """Create the store's extra steps (run in a subprocess with FURU_PATH set)."""
    for lr in (0.05, 0.2):
        ResultTable(lr=lr).load_or_create()
    TunedTable(lr=0.1, warmup=3).load_or_create()
    with contextlib.suppress(furu.FuruComputeError):
        Diverges().load_or_create()
    for label in ("rerun-me", "delete-me", "invalidate-me"):
        Scratch(label=label).load_or_create()


def run_long_training(release: str) -> None:
    LongTraining(release=release).load_or_create()


# ---------------------------------------------------------------- the store


@dataclass
class DashboardStore:
    root: Path
    release: Path
    running: subprocess.Popen[bytes] | None

    def stop_running(self) -> None:
        self.release.write_text("go")
        if self.running is not None:
            try:
                self.running.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.running.kill()
                self.running.wait()


def step_env(root: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FURU_")}
    env["FURU_PATH"] = str(root)
    env["FURU_IGNORE_DIFF"] = "1"
    env["PYTHONPATH"] = os.pathsep.join([str(HERE), str(REPO / "examples")])
    return env


def run_python(code: str, root: Path) -> None:
    """Run `code` in a fresh interpreter whose store is `root` (`step_env`), from the repository."""
    subprocess.run(
        [sys.executable, "-c", code], env=step_env(root), cwd=REPO, check=True, timeout=300
    )


def build_store(directory: Path, *, running: bool = True) -> DashboardStore:
    """The example pipeline and the extra steps, really run, into `directory/store`."""
    root = directory / "store"
    env = step_env(root)
    subprocess.run(
        [sys.executable, str(REPO / "examples" / "pipeline.py")],
        env=env,
        cwd=REPO,
        check=True,
        timeout=300,
        stdout=subprocess.DEVNULL,
    )
    run_python("import dashboard_fixtures as d; d.make_extra_steps()", root)
    release = directory / "release"
    proc = None
    if running:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-c",
                f"import dashboard_fixtures as d; d.run_long_training({str(release)!r})",
            ],
            env=env,
            cwd=REPO,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        _wait_for(lambda: _long_training_running(root), "LongTraining to start running")
    return DashboardStore(root, release, proc)


def _long_training_running(root: Path) -> bool:
    found = list((root / "data" / "dashboard_fixtures" / "LongTraining").glob("*/.furu/furu.log"))
    return bool(found) and found[0].stat().st_size > 200


def _wait_for(check: Callable[[], bool], what: str, deadline: float = DEADLINE_SEC) -> None:
    end = time.monotonic() + deadline
    while not check():
        if time.monotonic() > end:
            raise AssertionError(f"timed out after {deadline:.0f}s waiting for {what}")
        time.sleep(0.05)


@pytest.fixture(scope="session")
def dashboard_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DashboardStore]:
    store = build_store(tmp_path_factory.mktemp("dashboard"))
    try:
        yield store
    finally:
        store.stop_running()


# ---------------------------------------------------------------- the server


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@dataclass
class Dashboard:
    """A running `furu-dashboard serve`."""

    url: str
    root: Path
    proc: subprocess.Popen[bytes]
    log: Path

    def api(self, path: str, method: str = "GET", **kwargs: Any) -> Any:
        import httpx

        headers = {"Authorization": f"Bearer {TOKEN}"} if method != "GET" else {}
        response = httpx.request(method, self.url + path, headers=headers, timeout=30, **kwargs)
        return response

    def ref(self, query: str) -> tuple[str, str]:
        """The (namespace, hash) of the one experiment `query` (filter text) finds."""
        body = self.api("/api/experiments/search", "POST", json={"query": query, "limit": 5})
        items = body.json()["items"]
        assert len(items) == 1, (query, items)
        return items[0]["namespace"], items[0]["hash"]

    def refresh(self) -> None:
        self.api("/api/index/refresh", "POST").raise_for_status()


def require_built_frontend() -> None:
    if not (STATIC / "index.html").is_file():
        raise AssertionError(
            f"the dashboard is not built ({STATIC}/index.html is missing): run `make frontend` "
            "(or `npm ci && npm run build` in frontend/) before the browser tests."
        )


@contextlib.contextmanager
def serve(
    root: Path,
    work: Path,
    *,
    ready_timeout: float = DEADLINE_SEC,
    project: Path | None = None,
    env: dict[str, str] | None = None,
    wait_built: bool = True,
) -> Iterator[Dashboard]:
    """`furu-dashboard serve` over `root`, ready when its index is built (or, without
    `wait_built`, as soon as it answers, its index maybe still being built).

    Reruns (and the `furu` commands the server runs for the code: manifest, migrate) run in
    `project` (default: this repository) with `env` (default: `step_env(root)`).
    """
    require_built_frontend()
    port = _free_port()
    log = work / "server.log"
    exe = shutil.which("furu-dashboard", path=str(Path(sys.executable).parent)) or "furu-dashboard"
    env = env if env is not None else step_env(root)
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [
                exe,
                "serve",
                "--port",
                str(port),
                "--root",
                str(root),
                "--token",
                TOKEN,
                "--cache-dir",
                str(work / "cache"),
                "--rerun-python",
                sys.executable,
                "--rerun-cwd",
                str(project or REPO),
            ],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    server = Dashboard(f"http://127.0.0.1:{port}", root, proc, log)
    try:
        _wait_for(
            lambda: _ready(server, built=wait_built),
            f"furu-dashboard on port {port} (log: {log})",
            ready_timeout,
        )
        if wait_built:
            server.refresh()
        yield server
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def _ready(server: Dashboard, *, built: bool = True) -> bool:
    import httpx

    if server.proc.poll() is not None:
        raise AssertionError(
            f"furu-dashboard exited with {server.proc.returncode}:\n{server.log.read_text()}"
        )
    try:
        health = httpx.get(server.url + "/api/health", timeout=2).json()
    except (httpx.HTTPError, ValueError):
        return False
    return bool(health["index"]["built"]) or not built


@pytest.fixture(scope="session")
def dashboard(
    dashboard_store: DashboardStore, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Dashboard]:
    with serve(dashboard_store.root, tmp_path_factory.mktemp("dashboard-server")) as server:
        yield server


# ---------------------------------------------------------------- the browser


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    if not os.path.exists(CHROMIUM):
        raise AssertionError(
            f"{CHROMIUM} is missing: the dashboard's browser tests need Debian's Chromium "
            "(apt-get install -y --no-install-recommends chromium fonts-liberation; .ci/run "
            "installs it)."
        )
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_ARGS}


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args: dict[str, Any]) -> dict[str, Any]:
    return {**browser_context_args, "viewport": {"width": 1400, "height": 900}}


def shoot(page: Any, name: str, *, full_page: bool = False) -> Path:
    """Save a screenshot of the page as `test-artifacts/screenshots/<name>.png`."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=full_page)
    return path


def set_theme(page: Any, theme: str) -> None:
    """Switch the dashboard's theme (kept in localStorage) and wait for it to apply."""
    page.evaluate(
        "t => { localStorage.setItem('furu-theme', t);"
        " const s = document.createElement('style');"
        " s.textContent = '* { transition: none !important; }';"
        " document.head.appendChild(s);"
        " document.documentElement.classList.toggle('dark', t === 'dark'); }",
        theme,
    )
    page.evaluate("() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")


def open_with_token(page: Any, url: str) -> None:
    """Open the dashboard the way `furu-dashboard serve` prints it: with `?token=`."""
    sep = "&" if "?" in url else "?"
    page.goto(f"{url}{sep}token={TOKEN}")
