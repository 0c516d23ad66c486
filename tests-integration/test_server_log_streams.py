"""Many clients following the log of a running experiment over a real uvicorn server: each quiet
stream waits without holding one of the server's worker threads, so `/api/health` and the
other routes keep answering however many streams are open."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import httpx
from server_fixtures import BuiltStore, running_step

from server_live import live

STREAMS = 60  # more than the server's worker threads (40)


def test_many_quiet_log_streams_do_not_starve_the_server(
    fresh_store: BuiltStore, tmp_path: Path
) -> None:
    with running_step(tmp_path, lr=0.7) as (step, release), live(fresh_store.settings()) as server:
        url = f"{server.url}/api/experiments/{step._furu_namespace}/{step._furu_hash}"
        size = httpx.get(url + "/logs", timeout=10).json()["size"]
        opened = threading.Barrier(STREAMS + 1, timeout=30)
        ends: list[str] = []

        def follow() -> None:
            params = {"offset": size, "timeout": 60}
            with httpx.stream("GET", url + "/logs/stream", params=params, timeout=90) as resp:
                assert resp.status_code == 200
                opened.wait()
                ends.append("".join(resp.iter_text()))

        threads = [threading.Thread(target=follow, daemon=True) for _ in range(STREAMS)]
        for thread in threads:
            thread.start()
        opened.wait()
        time.sleep(0.5)  # every stream is now waiting for the log to grow
        started = time.monotonic()
        health = httpx.get(server.url + "/api/health", timeout=10)
        assert health.status_code == 200
        assert time.monotonic() - started < 5  # typically a few milliseconds
        release.write_text("go")
        for thread in threads:
            thread.join(60)
        assert len(ends) == STREAMS
        assert all('"reason": "finished"' in body for body in ends)
