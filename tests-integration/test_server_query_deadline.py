"""Filters that cost too much: ReDoS patterns, a query deadline, a client that leaves, shutdown.

A real `python -m furu_server api` process over a store of 2,000 experiments made by a real
step. Its CPU time (from /proc) shows whether a query still runs after its client left.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from server_fixtures import TOKEN, furu_config, store_config

import furu

N_EXPERIMENTS = 2000
JOBS = 2
SLOW_LEAVES = 900  # below SQLite's expression depth (1,000) even without grouping
START_DEADLINE_SEC = 60.0
REDOS = [
    'namespace matches "^([a-zA-Z_.]+)+x"',
    'hash matches "^([0-9a-f]+)+x"',
    'config.note matches "^(a+)+b"',
]


class Noted(furu.Furu[int]):
    """A trivial step whose `note` is a long run of `a`s (what `^(a+)+b` backtracks on)."""

    i: int
    note: str = "a" * 40

    def _create(self) -> int:
        return self.i

    def _load(self) -> int:
        return self.i


@pytest.fixture(scope="module")
def noted_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("deadline-store") / "store"
    ctx = multiprocessing.get_context("fork")  # the workers inherit this module's step class
    with ctx.Pool(JOBS) as pool:
        pool.starmap(_make, [(str(root), worker) for worker in range(JOBS)])
    return root


def _make(root: str, worker: int) -> None:
    with furu_config(**store_config(Path(root))):
        for i in range(worker, N_EXPERIMENTS, JOBS):
            Noted(i=i).load_or_create()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Server:
    """`python -m furu_server api` over a store, in its own process."""

    def __init__(self, root: Path, cache: Path, timeout: float | None) -> None:
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {**os.environ, "FURU_SERVER_TOKEN": TOKEN}
        env.pop("FURU_SERVER_QUERY_TIMEOUT_SECS", None)
        if timeout is not None:
            env["FURU_SERVER_QUERY_TIMEOUT_SECS"] = str(timeout)
        self.log = cache / f"server-{self.port}.log"
        cache.mkdir(parents=True, exist_ok=True)
        with self.log.open("wb") as log:
            self.proc = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "furu_server",
                    "api",
                    "--root",
                    str(root),
                    *(["--cache-dir", str(cache), "--port", str(self.port)]),
                ],
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + START_DEADLINE_SEC
        while True:
            with contextlib.suppress(httpx.TransportError):
                info = httpx.get(f"{self.url}/api/health", timeout=5).json()["index"]
                if info["built"] and info["experiments"] >= N_EXPERIMENTS:
                    return
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise AssertionError(f"the server did not index the store: {self.output()}")
            time.sleep(0.1)

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def cpu_seconds(self) -> float:
        """User + system CPU time the server process has used."""
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(30)


@contextlib.contextmanager
def serving(root: Path, cache: Path, timeout: float | None = None) -> Iterator[Server]:
    server = Server(root, cache, timeout)
    try:
        yield server
    finally:
        server.stop()


def _search(server: Server, query: str, timeout: float = 60) -> httpx.Response:
    return httpx.post(
        f"{server.url}/api/experiments/search", json={"query": query, "limit": 5}, timeout=timeout
    )


def _slow_filter() -> dict[str, Any]:
    """A filter that costs seconds at any speed of regex engine: 900 regular expressions
    (each a call into Python) on every one of the 2,000 rows."""
    leaf = {"op": "regex", "path": "hash", "value": ".*.*.*x"}
    return {"op": "or", "args": [leaf] * SLOW_LEAVES}


def _post_slow(server: Server, timeout: float) -> httpx.Response:
    return httpx.post(
        f"{server.url}/api/experiments/search",
        json={"filter": _slow_filter(), "limit": 5},
        timeout=timeout,
    )


def _health_seconds(server: Server) -> float:
    start = time.monotonic()
    httpx.get(f"{server.url}/api/health", timeout=60).raise_for_status()
    return time.monotonic() - start


def test_backtracking_regexes_answer_fast_and_health_stays_fast(
    noted_store: Path, tmp_path: Path
) -> None:
    """The probe's patterns took 28 s, 198 s and forever; RE2 answers each in milliseconds."""
    with serving(noted_store, tmp_path / "cache") as server:
        for query in REDOS:
            answers: list[httpx.Response] = []

            def search(q: str = query, into: list[httpx.Response] = answers) -> None:
                into.append(_search(server, q))

            thread = threading.Thread(target=search)
            thread.start()
            assert _health_seconds(server) < 5.0  # typical 0.005 s; a blocked GIL made it 3.6 s
            thread.join(60)
            assert not thread.is_alive(), f"{query!r} did not finish within 60 s"
            assert answers[0].status_code == 200, answers[0].text
            assert answers[0].json()["total"] == 0
        # (a match still works: RE2 is a regex engine, not a refusal)
        got = _search(server, 'config.note matches "^(a+)+$"')
        assert got.json()["total"] == N_EXPERIMENTS


def test_a_query_past_its_deadline_is_a_4xx_naming_the_variable(
    noted_store: Path, tmp_path: Path
) -> None:
    with serving(noted_store, tmp_path / "cache", timeout=0.5) as server:
        start = time.monotonic()
        got = _post_slow(server, timeout=60)
        took = time.monotonic() - start
        assert got.status_code == 400, got.text
        error = got.json()["error"]
        assert error["code"] == "filter_invalid"
        assert "longer than 0.5 s" in error["message"]
        assert "FURU_SERVER_QUERY_TIMEOUT_SECS" in error["message"]
        assert took < 20.0  # typical 0.6 s; the query alone takes far longer
        # the server is fine afterwards
        assert _search(server, "config.i < 10").json()["total"] == 10


def test_a_client_that_leaves_stops_its_query(noted_store: Path, tmp_path: Path) -> None:
    with serving(noted_store, tmp_path / "cache", timeout=300) as server:
        with pytest.raises(httpx.ReadTimeout):
            _post_slow(server, timeout=1.0)  # the client gives up and closes the connection
        time.sleep(0.5)  # the server notices within 0.1 s and stops the query
        before = server.cpu_seconds()
        time.sleep(2.0)
        burnt = server.cpu_seconds() - before
        # A query still running burns up to 2 s of CPU here (about 1 s seen on a busy machine);
        # an idle server about 0.02 s.
        assert burnt < 0.5, f"the server used {burnt:.2f} s of CPU after its client left"
        assert _health_seconds(server) < 5.0


def test_graceful_shutdown_is_not_held_by_a_slow_query(noted_store: Path, tmp_path: Path) -> None:
    """A backtracking regex held shutdown forever; a slow query holds it up to its deadline."""
    with serving(noted_store, tmp_path / "cache", timeout=2) as server:

        def post(query: str | None) -> None:
            with contextlib.suppress(httpx.HTTPError):
                if query is None:
                    _post_slow(server, 60)
                else:
                    _search(server, query)

        threads = [threading.Thread(target=post, args=(q,)) for q in [None, REDOS[2]]]
        for thread in threads:
            thread.start()
        time.sleep(0.5)  # the queries run
        server.proc.send_signal(signal.SIGINT)
        try:
            server.proc.wait(20)  # typical 2 s (the deadline)
        except subprocess.TimeoutExpired:
            raise AssertionError(
                f"the server did not stop within 20 s of SIGINT: {server.output()}"
            ) from None
        for thread in threads:
            thread.join(60)
        assert server.proc.returncode == 0, server.output()


@pytest.mark.parametrize("raw", ["abc", "0", "-1", "nan", "1e-9x", "86400"])
def test_a_deadline_that_makes_no_sense_is_refused_at_start(tmp_path: Path, raw: str) -> None:
    env = {**os.environ, "FURU_SERVER_QUERY_TIMEOUT_SECS": raw}
    argv = [sys.executable, "-m", "furu_server", "api", "--root", str(tmp_path / "store")]
    done = subprocess.run(
        [*argv, "--port", str(_free_port())], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode != 0
    assert f"FURU_SERVER_QUERY_TIMEOUT_SECS={raw!r} is not a number of seconds" in done.stderr
    assert "Traceback" not in done.stderr
