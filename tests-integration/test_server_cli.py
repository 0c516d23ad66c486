"""The commands (`python -m furu_server api`, `furu-dashboard serve`) as real processes, and a
server process that never imports user code.

The dashboard's static files and their client-side-route fallback: furu-server's own tests
(test_fs_static.py)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from server_fixtures import STEPS_DIR, TOKEN, BuiltStore

DEADLINE_SEC = 60.0


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Served:
    def __init__(self, argv: list[str], tmp: Path) -> None:
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.err_path = tmp / f"server-{self.port}.stderr"
        self.out_path = tmp / f"server-{self.port}.stdout"
        env = {k: v for k, v in os.environ.items() if not k.startswith("FURU_")}
        with open(self.err_path, "wb") as err, open(self.out_path, "wb") as out:
            self.proc = subprocess.Popen(
                [*argv, "--port", str(self.port)],
                stdout=out,
                stderr=err,
                env=env,
                cwd=tmp,
            )
        deadline = time.monotonic() + DEADLINE_SEC
        while True:
            try:
                if httpx.get(self.url + "/api/health", timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise AssertionError(f"the server did not start:\n{self.stderr}")
            time.sleep(0.05)

    @property
    def stderr(self) -> str:
        return self.err_path.read_text(errors="replace")

    @property
    def stdout(self) -> str:
        return self.out_path.read_text(errors="replace")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(DEADLINE_SEC)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[list[Served]]:
    started: list[Served] = []
    yield started
    for server in started:
        server.stop()


def _options(store: BuiltStore) -> list[str]:
    return [
        "--root", str(store.root), "--vc-root", str(store.vc_root),
        "--cache-dir", str(store.dir / "cache-cli"),
    ]  # fmt: skip


def test_python_m_furu_server_api(
    built_store: BuiltStore, tmp_path: Path, serve: list[Served]
) -> None:
    argv = [sys.executable, "-m", "furu_server", "api", *_options(built_store)]
    server = Served(argv, tmp_path)
    serve.append(server)
    assert "?token=" in server.stderr
    token = server.stderr.split("?token=", 1)[1].split()[0]
    deadline = time.monotonic() + DEADLINE_SEC
    while httpx.get(server.url + "/api/stats").json()["total"] < len(built_store.steps):
        assert time.monotonic() < deadline, "the index never caught up"
        time.sleep(0.05)
    url = server.url + built_store.url("small", "/tags")
    assert httpx.put(url, json={"tags": []}).status_code == 401
    assert (
        httpx.put(url, json={"tags": []}, headers={"Authorization": f"Bearer {token}"}).status_code
        == 200
    )
    root = httpx.get(server.url + "/")
    assert root.status_code == 404  # `api` serves no dashboard
    assert root.json()["error"]["code"] == "route_not_found"


def test_furu_dashboard_serve_with_a_token(
    built_store: BuiltStore, tmp_path: Path, serve: list[Served]
) -> None:
    dashboard = Path(sys.executable).with_name("furu-dashboard")
    argv = [str(dashboard), "serve", *_options(built_store), "--token", TOKEN]
    server = Served(argv, tmp_path)
    serve.append(server)
    assert f"?token={TOKEN}" in server.stderr
    page = httpx.get(server.url + "/experiments/some/route")
    assert page.status_code == 200
    assert "text/html" in page.headers["content-type"]


NO_USER_CODE = """
import json, sys
from pathlib import Path
from fastapi.testclient import TestClient
from furu_server import ServerSettings, create_app

store = json.loads(sys.argv[1])
settings = ServerSettings(
    root=Path(store["root"]), vc_root=Path(store["vc"]), cache_dir=Path(store["cache"]),
    token="t", allowed_hosts=("testserver",),
)
with TestClient(create_app(settings, start_refresher=False)) as c:
    c.post("/api/index/refresh").raise_for_status()
    items = c.get("/api/experiments", params={"limit": 1000}).json()["items"]
    assert len(items) == store["n"], items
    for it in items:
        base = f"/api/experiments/{it['namespace']}/{it['hash']}"
        for suffix in ("", "/relationships", "/lineage", "/logs", "/artifacts", "/snippet"):
            c.get(base + suffix).raise_for_status()
    for route in ("/api/dag", "/api/stats", "/api/namespaces"):
        c.get(route).raise_for_status()
    c.post("/api/experiments/search", json={"query": "config.lr < 1"}).raise_for_status()
loaded = sorted(m for m in sys.modules if m.startswith("server_steps") or m.startswith("furu_steps"))
print(json.dumps({"user_modules": loaded}))
"""


def test_the_server_never_imports_user_code(built_store: BuiltStore, tmp_path: Path) -> None:
    spec = {
        "root": str(built_store.root),
        "vc": str(built_store.vc_root),
        "cache": str(tmp_path / "cache"),
        "n": len(built_store.steps),
    }
    here = str(Path(__file__).resolve().parent)
    # user code (server_steps, furu_steps) is importable: the server must not import it
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(STEPS_DIR), here])}
    out = subprocess.run(
        [sys.executable, "-c", NO_USER_CODE, json.dumps(spec)],
        capture_output=True, text=True, timeout=DEADLINE_SEC, env=env, cwd=tmp_path,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout.splitlines()[-1]) == {"user_modules": []}


def test_the_token_in_the_url_never_reaches_the_access_log(
    built_store: BuiltStore, tmp_path: Path, serve: list[Served]
) -> None:
    argv = [sys.executable, "-m", "furu_server", "serve", *_options(built_store), "--token", TOKEN]
    server = Served(argv, tmp_path)
    serve.append(server)
    for path in (f"/?token={TOKEN}", f"/api/health?x=1&token={TOKEN}", f"/?TOKEN={TOKEN}"):
        assert httpx.get(server.url + path).status_code == 200
    server.stop()
    log = server.stderr + server.stdout  # uvicorn's access log goes to stdout
    assert "GET /?token=<redacted>" in log  # the access log still says what was asked
    assert "/api/health?x=1&token=<redacted>" in log
    assert log.count(TOKEN) == 1, log  # only the banner that prints the URL to open
