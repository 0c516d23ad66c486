"""The index agrees with the files while other processes create, fail, crash and delete
experiments under a running server; refreshes are incremental; the index lives outside the
store; the server answers while it refreshes."""

from __future__ import annotations

import json
import os
import shutil
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

import server_steps
from furu_harness import Store, wait_until
from server_fixtures import AUTH, BuiltStore, app_client
from server_reference import read_store

Row = tuple[str, str, str, str | None, tuple[str, ...]]


@pytest.fixture
def served(store: Store) -> Iterator[tuple[Store, BuiltStore, TestClient]]:
    """The standard pipeline in `store`, and the app over it with its background refresher."""
    built = BuiltStore(store.dir, store.root, store.root / "vc", store.dir / "fail.flag", {})
    built.steps = server_steps.make_store(str(built.fail_flag))
    with app_client(built.settings(refresh_interval=0.05), start_refresher=True) as client:
        yield store, built, client


def _api_rows(client: TestClient) -> set[Row]:
    items = client.get("/api/experiments", params={"limit": 1000}).json()["items"]
    return {
        (i["namespace"], i["hash"], i["result_status"], i["attempt_status"], tuple(i["tags"]))
        for i in items
    }


def _file_rows(built: BuiltStore) -> set[Row]:
    return {
        (r["namespace"], r["hash"], r["result_status"], r["attempt_status"], tuple(r["tags"]))
        for r in read_store(built.root, built.vc_root)
    }


def _agree(client: TestClient, built: BuiltStore, what: str) -> None:
    """Wait (bounded) until the background refresher has caught up, then check equality."""
    try:
        wait_until(lambda: _api_rows(client) == _file_rows(built), what=what, timeout=30)
    except AssertionError:
        assert _api_rows(client) == _file_rows(built), what


CREATE = """
import server_steps
for i in range({n}):
    server_steps.Corpus(name="{prefix}" + str(i), size=2).load_or_create()
"""
FAIL = """
import furu, server_steps
try:
    server_steps.TrainModel(corpus=server_steps.Corpus(name="sub"), lr=3.0, fail_flag={flag!r}).load_or_create()
except furu.FuruComputeError:
    pass
"""


def test_creates_and_failures_in_other_processes_show_up(served: Any) -> None:
    store, built, client = served
    _agree(client, built, "the initial build")
    procs = [
        store.start_code(CREATE.format(n=8, prefix="a"), name="creator-a"),
        store.start_code(CREATE.format(n=8, prefix="b"), name="creator-b"),
        store.start_code(FAIL.format(flag=str(built.fail_flag)), name="failer"),
    ]
    for proc in procs:
        assert proc.wait() == 0, proc.describe()
    _agree(client, built, "17 experiments made by three other processes")
    assert client.get("/api/stats").json()["total"] == len(built.steps) + 18
    failed = client.get("/api/experiments", params={"result_status": "failed"}).json()
    assert failed["total"] == 2


def test_deletes_by_hand_and_through_the_api_show_up(served: Any) -> None:
    _store, built, client = served
    shutil.rmtree(built.step_dir("eval_large"))
    shutil.rmtree(built.step_dir("tokenizer").parent)  # a whole class directory
    client.delete(built.url("medium"), headers=AUTH).raise_for_status()
    _agree(client, built, "three deletes")
    namespaces = {n["namespace"] for n in client.get("/api/namespaces").json()}
    assert "server_steps.Tokenizer" not in namespaces


def test_a_step_moves_from_running_to_success_in_place(served: Any, tmp_path: Path) -> None:
    store, built, client = served
    release, started = tmp_path / "release", tmp_path / "started"
    code = (
        "import server_steps\n"
        f"server_steps.TrainModel(corpus=server_steps.Corpus(), lr=0.125, release_path={str(release)!r}, "
        f"started_path={str(started)!r}).load_or_create()\n"
    )
    proc = store.start_code(code, name="slow")
    wait_until(started.exists, what="the step to start", procs=[proc])
    step = server_steps.TrainModel(
        corpus=server_steps.Corpus(), lr=0.125, release_path=str(release), started_path=str(started)
    )
    url = f"/api/experiments/{step._furu_namespace}/{step._furu_hash}"

    def status() -> Any:
        got = client.get(url)
        return got.json().get("attempt_status") if got.status_code == 200 else None

    def listed_status() -> Any:
        items = client.get("/api/experiments", params={"attempt_status": "running"}).json()["items"]
        return [i["hash"] for i in items]

    wait_until(lambda: listed_status() == [step._furu_hash], what="running in the listing")
    assert status() == "running"
    release.write_text("go")
    assert proc.wait() == 0, proc.describe()
    _agree(client, built, "the step finished")
    assert status() == "success"


def test_a_killed_step_reads_as_crashed(served: Any, tmp_path: Path) -> None:
    store, built, client = served
    release, started = tmp_path / "never", tmp_path / "started"
    code = (
        "import server_steps\n"
        f"server_steps.TrainModel(corpus=server_steps.Corpus(), lr=0.0625, release_path={str(release)!r}, "
        f"started_path={str(started)!r}).load_or_create()\n"
    )
    proc = store.start_code(code, name="victim")
    wait_until(started.exists, what="the step to start", procs=[proc])
    _agree(client, built, "running")
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    _agree(client, built, "the holder was killed")
    crashed = client.get("/api/experiments", params={"attempt_status": "crashed"}).json()
    assert crashed["total"] == 1


def test_a_rescan_catches_edits_no_journal_recorded(fresh_store: BuiltStore) -> None:
    with app_client(fresh_store.settings()) as client:
        tags = fresh_store.step_dir("small") / ".furu" / "tags.json"
        tags.write_text(json.dumps({"tags": ["by-hand"], "name": None}))
        marker = fresh_store.step_dir("large") / ".furu" / "SUCCESS.json"
        marker.unlink()
        client.post("/api/index/refresh")  # incremental: nothing in the journal
        result = client.post("/api/index/refresh", params={"full": True}).json()
        assert result["kind"] == "rescan"
        assert result["changed"] >= 2
        assert _api_rows(client) == _file_rows(fresh_store)


def test_a_refresh_reads_only_what_changed(fresh_store: BuiltStore) -> None:
    with app_client(fresh_store.settings()) as client:
        idle = client.post("/api/index/refresh").json()
        assert (idle["kind"], idle["changed"], idle["removed"]) == ("refresh", 0, 0)
        server_steps.Corpus(name="one more").load_or_create()
        once = client.post("/api/index/refresh").json()
        assert once["changed"] == 1
        assert once["generation"] == idle["generation"] + 1
        assert _api_rows(client) == _file_rows(fresh_store)


def test_the_index_lives_in_the_cache_directory_not_the_store(fresh_store: BuiltStore) -> None:
    settings = fresh_store.settings()
    with app_client(settings) as client:
        assert client.get("/api/stats").json()["total"] == len(fresh_store.steps)
    assert settings.index_path().is_file()
    assert settings.index_path().is_relative_to(fresh_store.dir / "cache")
    assert not [p for p in fresh_store.root.rglob("*") if "sqlite" in p.name]


def test_a_damaged_or_old_index_is_rebuilt(fresh_store: BuiltStore) -> None:
    settings = fresh_store.settings()
    settings.index_path().parent.mkdir(parents=True)
    settings.index_path().write_bytes(b"this is not a database" * 100)
    with app_client(settings) as client:
        assert client.get("/api/stats").json()["total"] == len(fresh_store.steps)


def test_the_server_answers_while_a_refresh_runs(fresh_store: BuiltStore) -> None:
    with app_client(fresh_store.settings()) as client:
        indexer = client.app.state.services.index.indexer  # type: ignore[attr-defined]
        held = threading.Event()
        done = threading.Event()

        def hold_the_writer() -> None:
            with indexer.lock:  # as a long refresh would
                held.set()
                done.wait(30)

        holder = threading.Thread(target=hold_the_writer)
        holder.start()
        try:
            assert held.wait(10)
            start = time.monotonic()
            for route in ("/api/experiments", "/api/stats", "/api/dag", "/api/namespaces"):
                assert client.get(route).status_code == 200
            assert client.get(fresh_store.url("small")).status_code == 200
            assert time.monotonic() - start < 10
        finally:
            done.set()
            holder.join(30)
