"""Sweeps and batches from the server: planned, then computed, in a real subprocess of the
project's environment (the server itself never imports the steps)."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from server_fixtures import AUTH, STEPS_DIR, BuiltStore, app_client, running_step

TRAIN = "server_steps.TrainModel"


@pytest.fixture(autouse=True)
def _quiet_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PYTHONDONTWRITEBYTECODE", "1")
    monkeypatch.setenv("FURU_IGNORE_DIFF", "1")


def _sweep(store: BuiltStore, **body: Any) -> dict[str, Any]:
    namespace, digest = store.ref("medium")
    return {"namespace": namespace, "hash": digest, **body}


def _wait(client: TestClient, task: dict[str, Any]) -> dict[str, Any]:
    deadline = time.monotonic() + 180
    while task["status"] == "running":
        assert time.monotonic() < deadline, task
        time.sleep(0.1)
        task = client.get(f"/api/tasks/{task['id']}").json()
    return task


def test_a_sweep_is_planned_then_launched_and_its_rows_appear(fresh_store: BuiltStore) -> None:
    settings = fresh_store.settings(rerun_python=sys.executable, rerun_cwd=STEPS_DIR)
    body = _sweep(fresh_store, axes={"lr": [1e-3, 0.7], "steps": [20, 21, 22]})
    with app_client(settings) as client:
        plan = client.post("/api/sweeps/plan", json=body, headers=AUTH)
        assert plan.status_code == 200, plan.text
        got = plan.json()
        assert got["summary"] == "5 to create, 1 cached, 0 running elsewhere"
        assert [i["values"] for i in got["items"]][:2] == [
            {"lr": 1e-3, "steps": 20},
            {"lr": 1e-3, "steps": 21},
        ]
        assert got["items"][0]["status"] == "cached"
        assert got["items"][0]["hash"] == fresh_store.ref("medium")[1]
        assert {i["status"] for i in got["items"][1:]} == {"create"}
        assert "furu.load_or_create_many(steps)" in got["code"]
        assert "TrainModel(" in got["code"]
        assert "lr=0.7" in got["code"]
        assert isinstance(got["slurm"]["available"], bool)
        assert got["slurm"]["reason"]
        assert got["limit"] == 500

        task = client.post("/api/sweeps", json=body, headers=AUTH).json()
        assert task["kind"] == "sweep"
        done = _wait(client, task)
        assert done["status"] == "succeeded", done["output_tail"]
        assert len(done["result"]["created"]) == 5
        assert "furu-batch: 5/5 created" in done["output_tail"]
        assert not list((fresh_store.dir / "cache" / "runs").glob("*.batch.json"))  # read once
        client.post("/api/index/refresh")
        listed = client.get("/api/experiments", params={"config_filter": "lr=0.7"}).json()
        assert len(listed["items"]) == 3
        again = client.post("/api/sweeps/plan", json=body, headers=AUTH).json()
        assert again["summary"] == "0 to create, 6 cached, 0 running elsewhere"


def test_sweep_refusals_name_the_field_the_limit_and_the_environment(
    fresh_store: BuiltStore,
) -> None:
    settings = fresh_store.settings(rerun_python=sys.executable, rerun_cwd=STEPS_DIR, max_sweep=4)
    with app_client(settings) as client:
        bad = client.post(
            "/api/sweeps/plan", json=_sweep(fresh_store, axes={"lr": [0.1, "fast"]}), headers=AUTH
        )
        assert bad.status_code == 400
        error = bad.json()["error"]
        assert error["detail"]["field"] == "lr"
        assert "field 'lr' is a float" in error["message"]
        steps = client.post(
            "/api/sweeps/plan", json=_sweep(fresh_store, axes={"steps": [1.5]}), headers=AUTH
        ).json()["error"]
        assert "field 'steps' is a int" in steps["message"]
        unknown = client.post(
            "/api/sweeps/plan", json=_sweep(fresh_store, axes={"lrr": [1.0]}), headers=AUTH
        ).json()["error"]
        assert "no 'lrr' there" in unknown["message"]
        empty = client.post(
            "/api/sweeps/plan", json=_sweep(fresh_store, axes={"lr": []}), headers=AUTH
        ).json()["error"]
        assert "swept over no values" in empty["message"]
        many = client.post(
            "/api/sweeps/plan",
            json=_sweep(fresh_store, axes={"lr": [0.1, 0.2, 0.3], "steps": [1, 2]}),
            headers=AUTH,
        )
        assert many.status_code == 400
        message = many.json()["error"]["message"]
        assert "6 configurations (3 lr x 2 steps), more than the limit of 4" in message
        assert "--max-sweep" in message
        assert "FURU_SERVER_MAX_SWEEP" in message
        no_token = client.post("/api/sweeps/plan", json=_sweep(fresh_store, axes={"lr": [0.1]}))
        assert no_token.status_code == 401
    nowhere = fresh_store.settings(rerun_python=str(fresh_store.dir / "no-such-python"))
    with app_client(nowhere) as client:
        missing = client.post(
            "/api/sweeps/plan", json=_sweep(fresh_store, axes={"lr": [0.1]}), headers=AUTH
        )
        assert missing.status_code == 409, missing.text
        error = missing.json()["error"]
        assert error["code"] == "rerun_unavailable"
        assert "--rerun-python" in error["message"]


def test_a_plan_that_fails_in_the_project_says_why(fresh_store: BuiltStore) -> None:
    """The project's environment cannot import the steps (wrong directory): its error shows."""
    settings = fresh_store.settings(rerun_python=sys.executable, rerun_cwd=fresh_store.dir)
    with app_client(settings) as client:
        failed = client.post(
            "/api/sweeps/plan", json=_sweep(fresh_store, axes={"lr": [0.1]}), headers=AUTH
        )
        assert failed.status_code == 422
        error = failed.json()["error"]
        assert error["code"] == "plan_failed"
        assert "server_steps" in error["message"]


def test_rerun_these_recomputes_the_selected_experiments(fresh_store: BuiltStore) -> None:
    settings = fresh_store.settings(rerun_python=sys.executable, rerun_cwd=STEPS_DIR)
    refs = ["/".join(fresh_store.ref(n)) for n in ("small", "medium")]
    with app_client(settings) as client:
        plan = client.post(
            "/api/batches/plan", json={"experiments": refs, "mode": "rerun"}, headers=AUTH
        ).json()
        assert plan["summary"] == "2 to create, 0 cached, 0 running elsewhere"
        assert {i["reason"] for i in plan["items"]} == {"forced"}
        assert "force_recompute" in plan["code"]
        task = client.post(
            "/api/batches", json={"experiments": refs, "mode": "rerun"}, headers=AUTH
        ).json()
        done = _wait(client, task)
        assert done["status"] == "succeeded", done["output_tail"]
        assert done["kind"] == "batch"
    for name in ("small", "medium"):
        assert fresh_store.steps[name].get_state().attempts == 2


def test_run_what_is_missing_creates_missing_dependencies_first(
    fresh_store: BuiltStore,
) -> None:
    settings = fresh_store.settings(rerun_python=sys.executable, rerun_cwd=STEPS_DIR)
    fresh_store.fail_flag.unlink()
    refs = ["/".join(fresh_store.ref(n)) for n in ("ensemble", "failed", "large")]
    with app_client(settings) as client:
        assert client.post(fresh_store.url("ensemble", "/invalidate"), headers=AUTH).is_success
        assert client.delete(fresh_store.url("medium"), headers=AUTH).is_success
        client.post("/api/index/refresh")
        plan = client.post(
            "/api/batches/plan", json={"experiments": refs, "mode": "missing"}, headers=AUTH
        ).json()
        assert plan["summary"] == (
            "2 to create, 1 cached, 0 running elsewhere (+1 dependencies to create first)"
        )
        assert [d["hash"] for d in plan["dependencies"]] == [fresh_store.ref("medium")[1]]
        done = _wait(
            client,
            client.post(
                "/api/batches", json={"experiments": refs, "mode": "missing"}, headers=AUTH
            ).json(),
        )
        assert done["status"] == "succeeded", done["output_tail"]
        assert len(done["result"]["created"]) == 3
    assert fresh_store.steps["failed"].get_state().result_status == "success"


def test_a_step_running_elsewhere_is_planned_as_running(
    fresh_store: BuiltStore, tmp_path: Path
) -> None:
    settings = fresh_store.settings(rerun_python=sys.executable, rerun_cwd=STEPS_DIR)
    with app_client(settings) as client, running_step(tmp_path, lr=0.25) as (step, _):
        client.post("/api/index/refresh")
        ref = f"{step._furu_namespace}/{step._furu_hash}"
        plan = client.post(
            "/api/batches/plan", json={"experiments": [ref], "mode": "missing"}, headers=AUTH
        ).json()
        assert plan["summary"] == "0 to create, 0 cached, 1 running elsewhere", plan


def test_the_sweep_limit_comes_from_the_flag_or_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from furu_server._cli import build_parser, settings_from

    def limit(*argv: str) -> int:
        return settings_from(build_parser().parse_args(["serve", *argv]), True).max_sweep

    monkeypatch.delenv("FURU_SERVER_MAX_SWEEP", raising=False)
    assert limit() == 500
    assert limit("--max-sweep", "2000") == 2000
    monkeypatch.setenv("FURU_SERVER_MAX_SWEEP", "50")
    assert limit() == 50
    monkeypatch.setenv("FURU_SERVER_MAX_SWEEP", "lots")
    with pytest.raises(ValueError, match="FURU_SERVER_MAX_SWEEP='lots' is not a whole number"):
        limit()
