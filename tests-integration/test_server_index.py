"""The index agrees with the files while other processes create, fail, crash and delete
experiments under a running server (its background refresher catches up on its own).

What a refresh does when asked for (incremental, rescans, a damaged index, answering while it
runs) is tested in furu-server's own tests: test_fs_index.py."""

from __future__ import annotations

import os
import shutil
import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import server_steps
from fastapi.testclient import TestClient
from server_fixtures import AUTH, STEPS_DIR, BuiltStore, app_client
from server_reference import api_rows, file_rows

from furu_harness import Store, wait_until


@pytest.fixture
def served(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[Store, BuiltStore, TestClient]]:
    """The standard pipeline in `store`, and the app over it with its background refresher.

    The store's processes import `server_steps` from furu-server's tests (`STEPS_DIR`).
    """
    monkeypatch.setenv("PYTHONPATH", str(STEPS_DIR))
    built = BuiltStore(store.dir, store.root, store.root / "vc", store.dir / "fail.flag", {})
    built.steps = server_steps.make_store(str(built.fail_flag))
    with app_client(built.settings(refresh_interval=0.05), start_refresher=True) as client:
        yield store, built, client


def _agree(client: TestClient, built: BuiltStore, what: str) -> None:
    """Wait (bounded) until the background refresher has caught up, then check equality."""

    def agree() -> bool:
        return api_rows(client) == file_rows(built.root, built.vc_root)

    try:
        wait_until(agree, what=what, timeout=30)
    except AssertionError:
        assert api_rows(client) == file_rows(built.root, built.vc_root), what


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
