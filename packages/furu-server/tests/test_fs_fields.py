"""`GET /api/fields`: the config, result and downstream fields a table can show and sort by."""

from __future__ import annotations

import json
from typing import Any

from fastapi.testclient import TestClient
from server_fixtures import BuiltStore


def _fields(api: TestClient, **params: str) -> dict[str, dict[str, Any]]:
    got = api.get("/api/fields", params=params)
    assert got.status_code == 200, got.text
    return {f["name"]: f for f in got.json()["fields"]}


def _plant_evals(store: BuiltStore) -> None:
    (store.step_dir("eval_small") / "eval.json").write_text(json.dumps({"accuracy": 0.61}))
    (store.step_dir("eval_large") / "eval.json").write_text(
        json.dumps({"accuracy": 0.93, "split": "val"})
    )


def test_every_field_with_how_many_experiments_have_it(
    fresh_api: TestClient, fresh_store: BuiltStore
) -> None:
    _plant_evals(fresh_store)
    fresh_api.post("/api/index/refresh", params={"full": True}).raise_for_status()
    fields = _fields(fresh_api)
    # TrainModel (4 of them, the failed one included) and FineTune have lr
    assert fields["config.lr"]["kind"] == "num"
    assert fields["config.lr"]["experiments"] == 5
    assert fields["config.optimizer"]["kind"] == "str"
    assert fields["result.accuracy"]["source"] == "result"
    assert fields["result.split"]["kind"] == "str"
    down = fields["downstream.Evaluate.result.accuracy"]
    assert down["source"] == "downstream"
    assert down["downstream_class"] == "Evaluate"
    assert down["experiments"] == 2  # the two evaluated models
    names = list(fields)
    rank = {"config": 0, "result": 1, "downstream": 2}
    assert names == sorted(names, key=lambda n: (rank[n.split(".")[0]], n))


def test_one_class_lists_its_own_fields_and_its_dependents_results(
    fresh_api: TestClient, fresh_store: BuiltStore
) -> None:
    _plant_evals(fresh_store)
    fresh_api.post("/api/index/refresh", params={"full": True}).raise_for_status()
    train = _fields(fresh_api, **{"class": "TrainModel"})
    assert train["config.lr"]["experiments"] == 4
    assert "config.split" not in train  # Evaluate's field
    assert "config.base_lr_scale" not in train  # FineTune's
    assert train["downstream.Evaluate.result.accuracy"]["experiments"] == 2
    assert train["result.accuracy"]["experiments"] == 3  # metrics.json (not the failed one)
    namespace = fresh_store.ref("small")[0]
    assert _fields(fresh_api, **{"class": namespace}) == train
    evaluate = _fields(fresh_api, **{"class": "Evaluate"})
    assert not any(n.startswith("downstream.") for n in evaluate)  # nothing depends on them
    assert _fields(fresh_api, **{"class": "NoSuchClass"}) == {}


def test_each_listed_field_sorts_and_shows(fresh_api: TestClient, fresh_store: BuiltStore) -> None:
    _plant_evals(fresh_store)
    fresh_api.post("/api/index/refresh", params={"full": True}).raise_for_status()
    for name in _fields(fresh_api, **{"class": "TrainModel"}):
        got = fresh_api.post(
            "/api/experiments/search",
            json={"query": "class = TrainModel", "sort_field": name, "columns": [name]},
        )
        assert got.status_code == 200, (name, got.text)
        assert any(name in i["values"] for i in got.json()["items"]), name


def test_memoised_until_the_index_changes(fresh_api: TestClient, fresh_store: BuiltStore) -> None:
    before = fresh_api.get("/api/fields").json()
    assert "result.f1" not in {f["name"] for f in before["fields"]}
    assert fresh_api.get("/api/fields").json() == before
    (fresh_store.step_dir("eval_small") / "eval.json").write_text(json.dumps({"f1": 0.5}))
    fresh_api.post("/api/index/refresh", params={"full": True}).raise_for_status()
    after = fresh_api.get("/api/fields").json()
    assert after["generation"] > before["generation"]
    assert "result.f1" in {f["name"] for f in after["fields"]}


def test_index_info_says_how_many_a_first_build_found(fresh_store: BuiltStore) -> None:
    from furu_server.index._index import Index

    index = Index(fresh_store.settings())
    try:
        assert index.info().build_total is None  # nothing walked yet
        index.refresh()
        total = index.info().experiments
        assert total > 0
        assert index.indexer.build_total == total  # what the walk found, all indexed
        assert index.info().build_total is None  # built: nothing left to say
    finally:
        index.stop()
