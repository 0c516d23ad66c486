"""A real uvicorn keeps answering while its index file is deleted and then overwritten under
it, with several clients asking at once: every answer is a 200 or a 503 `index_unavailable`,
never a 500 and never a dead process, and the index is whole again within seconds.

The cases one by one (and corrupted pages, a directory in the index's place) are in
furu-server's tests: test_fs_index_heal.py.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from pathlib import Path

import httpx
from server_fixtures import BuiltStore

from server_live import live

HEAL_DEADLINE_SEC = 30.0
"""How long the index may take to be whole again (typically well under a second here)."""
CLIENTS = 4


def test_a_live_server_answers_while_its_index_is_deleted_and_overwritten(
    fresh_store: BuiltStore,
) -> None:
    settings = fresh_store.settings(refresh_interval=0.05)
    path = settings.index_path()
    statuses: Counter[int] = Counter()
    unexpected: list[str] = []
    stop = threading.Event()

    def ask(url: str) -> None:
        with httpx.Client(base_url=url, timeout=30) as http:
            while not stop.is_set():
                for r in (
                    http.get("/api/experiments", params={"limit": 100}),
                    http.post("/api/experiments/search", json={"query": "config.lr < 1"}),
                    http.get("/api/stats"),
                ):
                    statuses[r.status_code] += 1
                    if r.status_code == 503 and r.json()["error"]["code"] == "index_unavailable":
                        continue
                    if r.status_code != 200:
                        unexpected.append(r.text)

    def whole(http: httpx.Client) -> bool:
        listing = http.get("/api/experiments", params={"limit": 100})
        health = http.get("/api/health")
        return (
            listing.status_code == health.status_code == 200
            and listing.json()["total"] == len(fresh_store.steps)
            and health.json()["index"]["built"]
            and path.is_file()
            and path.read_bytes()[:16] == b"SQLite format 3\x00"
        )

    def wait_whole(http: httpx.Client) -> None:
        deadline = time.monotonic() + HEAL_DEADLINE_SEC
        while not whole(http):
            assert time.monotonic() < deadline, "the index did not heal"
            time.sleep(0.05)

    with live(settings) as server, httpx.Client(base_url=server.url, timeout=30) as http:
        wait_whole(http)
        askers = [threading.Thread(target=ask, args=(server.url,)) for _ in range(CLIENTS)]
        for t in askers:
            t.start()
        try:
            time.sleep(0.2)
            for suffix in ("", "-wal", "-shm"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)
            time.sleep(0.3)
            wait_whole(http)
            path.write_bytes(b"this is not a database " * 4096)
            time.sleep(0.3)
            wait_whole(http)
        finally:
            stop.set()
            for t in askers:
                t.join(60)
        assert server.thread.is_alive()
    assert not unexpected, unexpected[:3]
    assert statuses[200] > 0
    assert set(statuses) <= {200, 503}
