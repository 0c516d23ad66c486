"""Hostile files against a real `furu-dashboard api` process: its memory stays bounded while it
previews 2 GB files without a newline, a 100 MB line and JSON nested 200,000 levels deep, and
named pipes neither hang the routes that open them nor starve `/api/health`.

The server's peak memory is its own `VmHWM` (Linux `/proc/<pid>/status`), read before and after.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

DEADLINE_SEC = 60.0
NAMESPACE, DIGEST = "probe.Hostile", "0123456789abcdef"
PEAK_GROWTH_BYTES = 300 * 1024 * 1024  # what the previews may add to the server's peak memory
FIFOS = 50  # more than the server's worker threads (40)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _peak_rss(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmHWM in /proc/<pid>/status")


def _sparse(path: Path, head: bytes, size: int) -> None:
    with open(path, "wb") as f:
        f.write(head)
        f.truncate(size)  # a hole: costs no disk


def _make_store(root: Path) -> Path:
    step = root / "data" / "probe" / "Hostile" / DIGEST
    (step / ".furu").mkdir(parents=True)
    text = b"z" * 16384  # the sniff sees text, then the hole reads as NUL bytes
    for name, head in {
        "big.csv": b"a,b\n1," + text,
        "big.tsv": text,
        "big.jsonl": b'{"a": "' + text,
        "big.ndjson": text,
        "big.json": b'{"a": "' + text,
        "big.txt": text,
        "big.log": b"",
    }.items():
        _sparse(step / name, head, 2 << 30)
    _sparse(step / "line.jsonl", b'{"a": 1}\n{"b": "' + text, 100 << 20)
    (step / "deep.json").write_text("[" * 200_000 + "]" * 200_000)
    (step / "deep.jsonl").write_text('{"a": 1}\n' + "[" * 200_000 + "]" * 200_000 + "\n")
    for i in range(FIFOS):
        os.mkfifo(step / f"pipe{i}.csv")
    return step


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[str, int, Path]]:
    if not Path("/proc/self/status").exists():
        pytest.fail("this test reads the server's peak memory from /proc (Linux)")
    root = tmp_path / "store"
    step = _make_store(root)
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("FURU_")}
    argv = [sys.executable, "-m", "furu_server", "api", "--root", str(root), "--port", str(port)]
    argv += ["--cache-dir", str(tmp_path / "cache")]
    err = open(tmp_path / "server.stderr", "wb")  # noqa: SIM115 - closed below
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=err, env=env, cwd=tmp_path)
    try:
        deadline = time.monotonic() + DEADLINE_SEC
        while True:
            try:
                if httpx.get(url + "/api/health", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert proc.poll() is None, (tmp_path / "server.stderr").read_text()
            assert time.monotonic() < deadline, "the server did not start"
            time.sleep(0.05)
        yield url, proc.pid, step
    finally:
        for i in range(FIFOS):  # release any reader the server left blocked on a pipe
            with contextlib.suppress(OSError):
                os.close(os.open(step / f"pipe{i}.csv", os.O_WRONLY | os.O_NONBLOCK))
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        err.close()


def test_previews_of_huge_files_keep_the_server_small(server: tuple[str, int, Path]) -> None:
    url, pid, step = server
    base = f"{url}/api/experiments/{NAMESPACE}/{DIGEST}"
    before = _peak_rss(pid)
    names = sorted(p.name for p in step.iterdir() if not p.name.startswith(("pipe", ".")))

    def get(name: str) -> httpx.Response:
        return httpx.get(f"{base}/preview/{name}", timeout=DEADLINE_SEC)

    with ThreadPoolExecutor(8) as pool:  # several at once, as a dashboard's tabs would
        answers = list(pool.map(get, names * 2))
    for name, got in zip(names * 2, answers, strict=True):
        assert got.status_code in (200, 422), (name, got.status_code, got.text[:300])
        assert len(got.content) < 4 << 20, (name, len(got.content))
        if got.status_code == 422:
            assert got.json()["error"]["code"] == "file_unreadable", got.text
        elif got.json()["kind"] != "binary":
            assert got.json()["truncated"] is True, name
    with httpx.stream("GET", f"{base}/files/big.log", timeout=DEADLINE_SEC) as raw:
        assert raw.status_code == 200
        assert int(raw.headers["content-length"]) == 2 << 30
        received = sum(len(piece) for piece in raw.iter_raw(1 << 20))
    assert received == 2 << 30  # the raw file streams through the server, never held whole
    growth = _peak_rss(pid) - before
    assert growth < PEAK_GROWTH_BYTES, f"the server's peak memory grew by {growth >> 20} MiB"


def test_named_pipes_neither_hang_nor_starve_the_server(server: tuple[str, int, Path]) -> None:
    url, _, _ = server
    base = f"{url}/api/experiments/{NAMESPACE}/{DIGEST}"

    def get(i: int) -> int | str:
        try:
            got = httpx.get(f"{base}/preview/pipe{i}.csv", timeout=10)
        except httpx.TimeoutException:
            return "timeout"
        return got.status_code

    with ThreadPoolExecutor(FIFOS) as pool:
        codes = list(pool.map(get, range(FIFOS)))
    assert codes == [400] * FIFOS, codes
    started = time.monotonic()
    health = httpx.get(url + "/api/health", timeout=10)
    assert health.status_code == 200
    assert time.monotonic() - started < 5  # typically a few milliseconds
