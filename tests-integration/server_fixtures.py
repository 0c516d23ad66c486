"""Fixtures of the server and client tests: stores made by real steps, the app, a real uvicorn.

- `built_store` (once per session): the standard pipeline of `server_steps`, run in this
  process into `<tmp>/store`; read-only tests share it.
- `fresh_store`: the same pipeline in a store of the test's own (for tests that change it).
- `api` / `fresh_api`: Starlette's `TestClient` over the app for those stores.
- `live_server`: the app served by a real uvicorn on 127.0.0.1 (an ephemeral port), stopped
  at teardown; every wait has a wall-clock deadline.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from fastapi import FastAPI
from fastapi.testclient import TestClient

import server_steps
from furu_harness import furu_config, store_config
from furu_server import ServerSettings, create_app

TOKEN = "test-token-0123456789"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
SERVER_DEADLINE_SEC = 30.0


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


# ---------------------------------------------------------------- a real uvicorn


class LiveServer:
    """An app served by uvicorn in a thread of this process, on an ephemeral port."""

    def __init__(self, app: FastAPI) -> None:
        # proto=IPPROTO_TCP: asyncio sets TCP_NODELAY only on sockets that say they are TCP;
        # with proto 0 every response waits ~40 ms for a delayed ACK (Nagle).
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(app, log_level="warning", lifespan="on", ws="none")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(
            target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True
        )

    def start(self) -> None:
        self.thread.start()
        deadline = time.monotonic() + SERVER_DEADLINE_SEC
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise AssertionError(f"uvicorn did not start on {self.url}")
            time.sleep(0.01)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(SERVER_DEADLINE_SEC)
        self.sock.close()
        if self.thread.is_alive():
            raise AssertionError(
                f"uvicorn on {self.url} did not stop within {SERVER_DEADLINE_SEC}s"
            )


@contextlib.contextmanager
def live(settings: ServerSettings, **options: Any) -> Iterator[LiveServer]:
    server = LiveServer(create_app(settings, **options))
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def live_server(built_store: BuiltStore) -> Iterator[LiveServer]:
    settings = built_store.settings(cache_dir=built_store.dir / "cache-live")
    with live(settings) as server:
        import httpx

        httpx.post(f"{server.url}/api/index/refresh", timeout=30).raise_for_status()
        yield server


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
