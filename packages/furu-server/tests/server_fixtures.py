"""Fixtures of the server's tests: stores made by real steps, and the app over them.

- `built_store` (once per session): the standard pipeline of `server_steps`, run in this
  process into `<tmp>/store`; read-only tests share it.
- `fresh_store`: the same pipeline in a store of the test's own (for tests that change it).
- `api` / `fresh_api`: Starlette's `TestClient` over the app for those stores.
- `running_step`: a step held inside `_create` on a thread, to see it running.

tests-integration uses them too (its conftest puts this directory on `sys.path`), for what
needs a real process: a subprocess that imports the steps finds them in `STEPS_DIR`.
"""

from __future__ import annotations

import contextlib
import dataclasses
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import server_steps
from fastapi.testclient import TestClient

from furu import FURU_CONFIG
from furu_server import ServerSettings, create_app

TOKEN = "test-token-0123456789"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
STEPS_DIR = Path(__file__).resolve().parent
"""Where `server_steps` lives: on the path of any process that imports the steps."""


@contextlib.contextmanager
def furu_config(**changes: Any) -> Iterator[None]:
    """Change `furu.FURU_CONFIG` in this process for a while, restoring every field after."""
    saved = {f.name: getattr(FURU_CONFIG, f.name) for f in dataclasses.fields(FURU_CONFIG)}
    try:
        for name, value in changes.items():
            setattr(FURU_CONFIG, name, value)
        yield
    finally:
        for name, value in saved.items():
            setattr(FURU_CONFIG, name, value)


def store_config(root: Path) -> dict[str, Any]:
    """The settings of a store at `root`, for `furu_config`."""
    return {
        "base_root": root,
        "version_controlled_root": root / "vc",
        "ignore_git_diff": True,
        "rich_uncaught_tracebacks": False,
    }


@dataclass
class BuiltStore:
    """A store made by `server_steps.make_store`, and where each of its experiments is."""

    dir: Path
    root: Path
    vc_root: Path
    fail_flag: Path
    steps: dict[str, Any]

    def ref(self, name: str) -> tuple[str, str]:
        step = self.steps[name]
        return step._furu_namespace, step._furu_hash

    def step_dir(self, name: str) -> Path:
        """The experiment's directory in this store (whatever FURU_CONFIG says now)."""
        with furu_config(**store_config(self.root)):
            return Path(str(self.steps[name].furu_dir))

    def url(self, name: str, suffix: str = "") -> str:
        namespace, digest = self.ref(name)
        return f"/api/experiments/{namespace}/{digest}{suffix}"

    def settings(self, **changes: Any) -> ServerSettings:
        values: dict[str, Any] = {
            "root": self.root,
            "vc_root": self.vc_root,
            "cache_dir": self.dir / "cache",
            "token": TOKEN,
            "allowed_hosts": ("testserver",),
            "refresh_interval": 0.2,
        }
        values.update(changes)
        return ServerSettings(**values)


def build_store(directory: Path) -> BuiltStore:
    root = directory / "store"
    flag = directory / "fail.flag"
    with furu_config(**store_config(root)):
        steps = server_steps.make_store(str(flag))
    return BuiltStore(directory, root, root / "vc", flag, steps)


@pytest.fixture(scope="session")
def built_store(tmp_path_factory: pytest.TempPathFactory) -> BuiltStore:
    return build_store(tmp_path_factory.mktemp("server-store"))


@pytest.fixture
def fresh_store(tmp_path: Path) -> Iterator[BuiltStore]:
    built = build_store(tmp_path)
    with furu_config(**store_config(built.root)):
        yield built


@contextlib.contextmanager
def app_client(settings: ServerSettings, **options: Any) -> Iterator[TestClient]:
    """A `TestClient` over the app, its lifespan run, its index built before it is returned."""
    app = create_app(settings, start_refresher=options.pop("start_refresher", False))
    with TestClient(app, **options) as client:
        client.post("/api/index/refresh").raise_for_status()
        yield client


@pytest.fixture(scope="module")
def api(built_store: BuiltStore) -> Iterator[TestClient]:
    with app_client(built_store.settings(cache_dir=built_store.dir / "cache-api")) as client:
        yield client


@pytest.fixture
def fresh_api(fresh_store: BuiltStore) -> Iterator[TestClient]:
    with app_client(fresh_store.settings()) as client:
        yield client


@contextlib.contextmanager
def running_step(tmp_path: Path, lr: float) -> Iterator[tuple[Any, Path]]:
    """A `TrainModel` held inside `_create` on a thread: yields `(step, release file)`.

    Writing the release file lets it finish; on exit it is released, joined, and any error it
    raised fails the test.
    """
    release, started = tmp_path / "release", tmp_path / "started"
    step = server_steps.TrainModel(
        corpus=server_steps.Corpus(), lr=lr, release_path=str(release), started_path=str(started)
    )
    errors: list[BaseException] = []

    def run() -> None:
        try:
            step.load_or_create()
        except BaseException as exc:  # reported by the test
            errors.append(exc)

    worker = threading.Thread(target=run)
    worker.start()
    try:
        deadline = time.monotonic() + 30
        while not started.exists():
            assert time.monotonic() < deadline, "the step never started"
            time.sleep(0.01)
        yield step, release
    finally:
        release.write_text("go")
        worker.join(60)
    assert not errors
