"""The DAG's side panel (`GET /api/dag/classes/{namespace}`: varying config fields with counts,
recent failures) and the invalidate dialog's plan (`GET .../invalidate/plan`: what the action
would hit, from `furu.plan_targets` as the action itself)."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient
from server_fixtures import AUTH, BuiltStore, running_step


def test_a_class_lists_its_varying_fields_with_counts_and_its_failures(
    api: TestClient, built_store: BuiltStore
) -> None:
    namespace, _ = built_store.ref("small")
    got = api.get(f"/api/dag/classes/{namespace}")
    assert got.status_code == 200, got.text
    panel = got.json()
    assert (panel["class_name"], panel["total"], panel["failed"]) == ("TrainModel", 4, 1)
    varying = {f["field"]: f for f in panel["varying"]}
    assert varying["config.lr"]["distinct"] == 4
    assert {v["value"] for v in varying["config.lr"]["values"]} == {1e-4, 1e-3, 1e-2, 10.0}
    assert varying["config.optimizer"]["values"] == [
        {"value": "adam", "count": 3},
        {"value": "sgd", "count": 1},
    ]
    assert varying["config.steps"]["values"][0] == {"value": 10, "count": 2}
    assert "config.layers.2" in varying  # only the large model has a third layer
    assert "config.release_path" not in varying  # the same in all four
    assert panel["constant"] >= 2
    distincts = [f["distinct"] for f in panel["varying"]]
    assert distincts == sorted(distincts, reverse=True)
    (failure,) = panel["failures"]
    assert failure["hash"] == built_store.ref("failed")[1]
    assert failure["error_type"].endswith("ValueError")
    assert "diverged: lr=10.0" in failure["error_message"]


def test_a_class_without_experiments_answers_empty(api: TestClient) -> None:
    panel = api.get("/api/dag/classes/pkg.NoSuchClass").json()
    assert (panel["total"], panel["failed"], panel["varying"], panel["failures"]) == (
        0,
        0,
        [],
        [],
    )


def test_the_invalidate_plan_lists_the_dependents_the_action_then_hits(
    fresh_api: TestClient, fresh_store: BuiltStore
) -> None:
    alone = fresh_api.get(fresh_store.url("small", "/invalidate/plan")).json()
    assert alone["dependents"] == 0
    assert [(t["hash"], t["root"]) for t in alone["targets"]] == [
        (fresh_store.ref("small")[1], True)
    ]
    plan = fresh_api.get(
        fresh_store.url("small", "/invalidate/plan"), params={"dependents": "true"}
    ).json()
    planned = {f"{t['namespace']}/{t['hash']}" for t in plan["targets"]}
    expected = {"/".join(fresh_store.ref(n)) for n in ("small", "eval_small", "ensemble")}
    assert planned == expected
    assert plan["dependents"] == 2
    assert not plan["truncated"]
    assert plan["targets"][0]["root"]
    assert plan["targets"][0]["class_name"] == "TrainModel"
    assert all(t["result_status"] == "success" and t["busy"] is None for t in plan["targets"])
    # Nothing changed, and no token was needed; the action hits exactly the plan.
    assert fresh_api.get(fresh_store.url("small")).json()["result_status"] == "success"
    done = fresh_api.post(
        fresh_store.url("small", "/invalidate"), json={"dependents": True}, headers=AUTH
    ).json()
    assert set(done["invalidated"]) == planned
    after = fresh_api.get(
        fresh_store.url("small", "/invalidate/plan"), params={"dependents": "true"}
    ).json()
    assert {t["result_status"] for t in after["targets"]} == {"incomplete"}
    # One status: `incomplete` (the attempt's `success` stays in `attempt_status`).
    found = fresh_api.post(
        "/api/experiments/search", json={"query": "status = incomplete", "limit": 50}
    ).json()["items"]
    invalidated = {f"{i['namespace']}/{i['hash']}": i for i in found}
    assert planned <= set(invalidated)
    assert {invalidated[p]["attempt_status"] for p in planned} == {"success"}


def test_the_plan_says_which_target_would_be_skipped(
    fresh_api: TestClient, fresh_store: BuiltStore, tmp_path: Path
) -> None:
    with running_step(tmp_path, lr=0.25) as (step, _):
        url = f"/api/experiments/{step._furu_namespace}/{step._furu_hash}/invalidate/plan"
        fresh_api.post("/api/index/refresh")
        (target,) = fresh_api.get(url).json()["targets"]
        assert target["busy"] is not None
        assert "being computed" in target["busy"]


def test_the_plan_of_an_unknown_experiment_is_not_found(api: TestClient) -> None:
    got = api.get("/api/experiments/pkg.Nope/0123456789abcdef/invalidate/plan")
    assert (got.status_code, got.json()["error"]["code"]) == (404, "experiment_not_found")
