"""Actions: tags and names, delete, invalidate (with dependents), and what refuses a rerun.

Snippets that really rebuild an experiment, and reruns, run in real subprocesses:
tests-integration/test_server_reruns.py."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from fastapi.testclient import TestClient
from server_fixtures import AUTH, BuiltStore, app_client, running_step

import furu


def test_tags_and_name_are_stored_in_the_artifact_and_listed(
    fresh_api: TestClient, fresh_store: BuiltStore
) -> None:
    url = fresh_store.url("small")
    got = fresh_api.put(url + "/tags", json={"tags": ["best", "baseline", "best"]}, headers=AUTH)
    assert got.json() == {"tags": ["baseline", "best"], "name": None}
    got = fresh_api.put(url + "/name", json={"name": "  small baseline "}, headers=AUTH)
    assert got.json() == {"tags": ["baseline", "best"], "name": "small baseline"}
    stored = json.loads((fresh_store.step_dir("small") / ".furu" / "tags.json").read_text())
    assert stored == {"tags": ["baseline", "best"], "name": "small baseline"}
    detail = fresh_api.get(url).json()
    assert (detail["tags"], detail["name"]) == (["baseline", "best"], "small baseline")
    found = fresh_api.get("/api/experiments", params={"tag": "best"}).json()["items"]
    assert [i["hash"] for i in found] == [fresh_store.ref("small")[1]]
    found = fresh_api.post(
        "/api/experiments/search", json={"query": 'name = "small baseline" and tags contains best'}
    ).json()
    assert found["total"] == 1
    cleared = fresh_api.put(url + "/name", json={"name": None}, headers=AUTH).json()
    assert cleared["name"] is None
    assert fresh_api.get(url).json()["name"] is None


def test_delete_removes_the_directory_and_the_row(
    fresh_api: TestClient, fresh_store: BuiltStore
) -> None:
    step_dir = fresh_store.step_dir("eval_large")
    got = fresh_api.delete(fresh_store.url("eval_large"), headers=AUTH)
    assert got.status_code == 200, got.text
    assert got.json()["deleted"] == "/".join(fresh_store.ref("eval_large"))
    assert not step_dir.exists()
    assert not [p for p in step_dir.parent.iterdir() if p.name.startswith(".")]
    listed = {
        i["hash"] for i in fresh_api.get("/api/experiments", params={"limit": 100}).json()["items"]
    }
    assert fresh_store.ref("eval_large")[1] not in listed
    again = fresh_api.delete(fresh_store.url("eval_large"), headers=AUTH)
    assert (again.status_code, again.json()["error"]["code"]) == (404, "experiment_not_found")


def test_invalidate_makes_the_next_load_or_create_recompute(
    fresh_api: TestClient, fresh_store: BuiltStore
) -> None:
    got = fresh_api.post(fresh_store.url("small", "/invalidate"), headers=AUTH)
    assert got.json() == {"invalidated": ["/".join(fresh_store.ref("small"))], "skipped": []}
    detail = fresh_api.get(fresh_store.url("small")).json()
    assert detail["result_status"] == "incomplete"
    assert "invalidated by furu-server" in detail["state"]["attempt"]["reason"]
    step = fresh_store.steps["small"]
    assert not step.exists()
    step.load_or_create()
    assert step.get_state().attempts == 2
    fresh_api.post("/api/index/refresh")
    assert fresh_api.get(fresh_store.url("small")).json()["result_status"] == "success"


def test_invalidate_with_dependents_reaches_every_descendant(
    fresh_api: TestClient, fresh_store: BuiltStore
) -> None:
    got = fresh_api.post(
        fresh_store.url("toy", "/invalidate"), json={"dependents": True}, headers=AUTH
    ).json()
    names = {"toy", "small", "medium", "tokenizer", "eval_small", "ensemble", "failed"}
    assert set(got["invalidated"]) == {"/".join(fresh_store.ref(n)) for n in names}
    statuses = {
        i["hash"]: i["result_status"]
        for i in fresh_api.get("/api/experiments", params={"limit": 100}).json()["items"]
    }
    for name in names - {"failed"}:
        assert statuses[fresh_store.ref(name)[1]] == "incomplete", name
    assert statuses[fresh_store.ref("large")[1]] == "success"


def test_a_running_experiment_is_neither_deleted_nor_invalidated(
    fresh_api: TestClient, fresh_store: BuiltStore, tmp_path: Path
) -> None:
    with running_step(tmp_path, lr=0.25) as (step, _):
        url = f"/api/experiments/{step._furu_namespace}/{step._furu_hash}"
        for method, suffix in (("DELETE", ""), ("POST", "/invalidate")):
            got = fresh_api.request(method, url + suffix, headers=AUTH)
            assert got.status_code == 409, got.text
            assert got.json()["error"]["code"] == "experiment_running"
    assert step.exists()


def test_a_rerun_without_an_environment_says_how_to_configure_one(
    fresh_store: BuiltStore,
) -> None:
    meta = fresh_store.step_dir("small") / ".furu" / "metadata.json"
    data = json.loads(meta.read_text())
    data["executable"] = "/nonexistent/python"
    meta.write_text(json.dumps(data))
    with app_client(fresh_store.settings()) as client:
        got = client.post(fresh_store.url("small", "/rerun"), headers=AUTH)
        assert got.status_code == 409
        assert got.json()["error"]["code"] == "rerun_unavailable"
        assert "--rerun-python" in got.json()["error"]["message"]
    with app_client(fresh_store.settings(rerun_python=sys.executable, max_runs=0)) as client:
        got = client.post(fresh_store.url("small", "/rerun"), headers=AUTH)
        assert (got.status_code, got.json()["error"]["code"]) == (429, "too_many_runs")
    assert furu.get_furu_root() == fresh_store.root


def test_a_rerun_refuses_a_planted_config_or_interpreter(
    fresh_store: BuiltStore, tmp_path: Path
) -> None:
    meta = fresh_store.step_dir("small") / ".furu" / "metadata.json"
    original = json.loads(meta.read_text())
    planted = dict(original, furu_obj={"__class__": "subprocess:Popen", "args": "id"})
    meta.write_text(json.dumps(planted))
    with app_client(fresh_store.settings(rerun_python=sys.executable)) as client:
        got = client.post(fresh_store.url("small", "/rerun"), headers=AUTH)
        assert (got.status_code, got.json()["error"]["code"]) == (422, "file_unreadable")
        assert got.json()["error"]["detail"] == {"path": "config.__class__"}
        assert client.get("/api/runs").json() == []
    script = fresh_store.root / "python3"  # an "interpreter" anyone who writes the store made
    script.write_text(f"#!/bin/sh\ntouch {tmp_path / 'ran'}\n")
    script.chmod(0o755)
    for executable, why in ((str(script), "inside the store"), ("/bin/sh", "not named like")):
        meta.write_text(json.dumps(dict(original, executable=executable)))
        with app_client(fresh_store.settings()) as client:
            got = client.post(fresh_store.url("small", "/rerun"), headers=AUTH)
            assert (got.status_code, got.json()["error"]["code"]) == (409, "rerun_unavailable")
            assert why in got.json()["error"]["message"]
    assert not (tmp_path / "ran").exists()
