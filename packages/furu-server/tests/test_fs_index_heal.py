"""The index heals: its file deleted, overwritten or replaced while the server runs, pages
corrupted between two runs, or its path taken by a directory. The store is the truth and the
index a cache: the server notices, builds a new one from the store, and meanwhile answers 503
`index_unavailable` (never a 500).

Each test runs the app with its background refresher, as `furu-dashboard` does.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from server_fixtures import BuiltStore, app_client

from furu_server import create_app
from furu_server.index._database import IndexPathError

HEAL_DEADLINE_SEC = 30.0
"""How long healing may take (typically well under a second for these small stores)."""


def answers(client: TestClient) -> list[httpx.Response]:
    """What the dashboard asks for, including a filter that reads the config leaves."""
    return [
        client.get("/api/experiments", params={"limit": 1000}),
        client.post("/api/experiments/search", json={"query": "config.lr < 1"}),
        client.get("/api/stats"),
        client.get("/api/dag"),
        client.get("/api/health"),
    ]


def rebuilt(path: Path) -> bool:
    try:
        with path.open("rb") as f:
            return f.read(16) == b"SQLite format 3\x00"
    except OSError:
        return False


def assert_heals(
    client: TestClient, store: BuiltStore, until: Callable[[], bool] = lambda: True
) -> list[int]:
    """Ask until every answer is whole again from an index file that is a database; each
    answer meanwhile is a 200 or a 503 `index_unavailable`. Returns the statuses seen."""
    path = client.app.state.services.settings.index_path()  # type: ignore[attr-defined]
    seen: list[int] = []
    deadline = time.monotonic() + HEAL_DEADLINE_SEC
    whole_before = False  # whole twice in a row: one pass may span the end of a rebuild
    while True:
        found = answers(client)
        for r in found:
            seen.append(r.status_code)
            assert r.status_code in (200, 503), r.text
            if r.status_code == 503:
                error = r.json()["error"]
                assert error["code"] == "index_unavailable", r.text
                assert "building a new one from the store" in error["message"]
        whole = all(r.status_code == 200 for r in found) and rebuilt(path) and until()
        if whole:
            listing, search, stats, _, health = (r.json() for r in found)
            built = all(r["index"]["built"] for r in (listing, search, stats, health))
            whole = built and listing["total"] == len(store.steps)
        if whole and whole_before:
            assert stats["total"] == len(store.steps)
            assert search["total"] > 0
            return seen
        whole_before = whole
        assert time.monotonic() < deadline, f"the index did not heal: {found[-1].text}"
        time.sleep(0.05)


def damage_seen(client: TestClient) -> str | None:
    """What the indexer found wrong with the file it replaced (None: it replaced none)."""
    return client.app.state.services.index.indexer.last_damage  # type: ignore[attr-defined,no-any-return]


def test_an_index_deleted_while_the_server_runs_is_rebuilt(fresh_store: BuiltStore) -> None:
    settings = fresh_store.settings()
    with app_client(settings, start_refresher=True) as client:
        assert_heals(client, fresh_store)
        for suffix in ("", "-wal", "-shm"):
            Path(f"{settings.index_path()}{suffix}").unlink(missing_ok=True)
        assert_heals(client, fresh_store, until=lambda: damage_seen(client) is not None)
        assert damage_seen(client) == "the file was deleted"


@pytest.mark.parametrize("how", ["in-place", "replaced"])
def test_an_index_overwritten_while_the_server_runs_is_rebuilt(
    fresh_store: BuiltStore, how: str
) -> None:
    settings = fresh_store.settings()
    path = settings.index_path()
    with app_client(settings, start_refresher=True) as client:
        assert_heals(client, fresh_store)
        garbage = b"this is not a database " * 4096
        if how == "in-place":
            path.write_bytes(garbage)  # same file, other bytes
        else:
            other = path.with_name("garbage")
            other.write_bytes(garbage)
            other.replace(path)  # another file under the same name
        assert_heals(client, fresh_store, until=lambda: damage_seen(client) is not None)


def test_corrupted_pages_are_rebuilt_after_a_restart(fresh_store: BuiltStore) -> None:
    settings = fresh_store.settings()
    path = settings.index_path()
    with app_client(settings) as client:
        assert_heals(client, fresh_store)
    data = bytearray(path.read_bytes())
    page = 4096
    pages = len(data) // page
    for start in range(pages // 3 * page, 2 * pages // 3 * page, page):  # the middle third
        data[start : start + 64] = bytes(b ^ 0xA5 for b in data[start : start + 64])
    path.write_bytes(bytes(data))
    with app_client(settings, start_refresher=True) as client:  # its first refresh: a 200
        full = client.post("/api/index/refresh", params={"full": True})
        assert full.status_code == 200, full.text
        assert_heals(client, fresh_store, until=lambda: damage_seen(client) is not None)


def test_an_index_path_that_is_a_directory_is_refused_clearly(
    fresh_store: BuiltStore, tmp_path: Path
) -> None:
    settings = fresh_store.settings()
    settings.index_path().mkdir(parents=True)
    with pytest.raises(IndexPathError) as raised:
        create_app(settings)
    message = str(raised.value)
    assert str(settings.index_path()) in message
    assert "FURU_SERVER_CACHE_DIR" in message
    assert "--cache-dir" in message
    assert "is a directory" in message

    # the command line says the same, without a traceback
    cache = settings.index_path().parent
    command = [sys.executable, "-m", "furu_server", "api", "--root", str(fresh_store.root)]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    done = subprocess.run(
        [*command, "--cache-dir", str(cache), "--port", "0"],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    assert f"cannot keep its index at {settings.index_path()}" in done.stderr


def test_a_path_that_becomes_unusable_while_running_answers_503(
    fresh_store: BuiltStore,
) -> None:
    settings = fresh_store.settings()
    path = settings.index_path()
    with app_client(settings) as client:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        path.mkdir()
        refused = client.post("/api/index/refresh")
        assert refused.status_code == 503, refused.text
        error = refused.json()["error"]
        assert error["code"] == "index_unavailable"
        assert "is a directory" in error["message"]
        assert "FURU_SERVER_CACHE_DIR" in error["message"]
        for r in answers(client):  # what was read before, or the same clear 503
            assert r.status_code in (200, 503), r.text
        path.rmdir()
        assert client.post("/api/index/refresh").status_code == 200
        assert_heals(client, fresh_store, until=lambda: damage_seen(client) is not None)


def test_a_request_keeps_its_connection_while_the_file_is_replaced(
    fresh_store: BuiltStore,
) -> None:
    """The index file replaced between two queries of one request: the request finishes on
    the connection it started with (its deadline still set), and the next one reopens."""
    from furu_server.index._index import Index

    index = Index(fresh_store.settings())
    index.refresh()
    cancelled = threading.Event()
    with index.deadline(30.0, cancelled):
        first = index.conn()
        index.indexer.report_damage("replaced by the test")
        index.refresh()  # builds a new file: a new incarnation
        with index.read() as conn:
            assert conn is first
            assert conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0] > 0
        assert index.conn() is first
    fresh = index.conn()
    assert fresh is not first
    assert fresh.execute("SELECT count(*) FROM experiments").fetchone()[0] == len(fresh_store.steps)
    index.stop()
