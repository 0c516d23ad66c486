"""`result.*`: scalar results indexed, filterable and shown in the detail."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from server_fixtures import BuiltStore, running_step


def _search(api: TestClient, query: str) -> dict[str, Any]:
    got = api.post("/api/experiments/search", json={"query": query, "limit": 100})
    return {"status": got.status_code, **got.json()}


def test_results_are_filterable_and_in_the_detail(
    fresh_api: TestClient, fresh_store: BuiltStore
) -> None:
    small = fresh_store.step_dir("eval_small")
    large = fresh_store.step_dir("eval_large")
    (small / "eval.json").write_text(json.dumps({"accuracy": 0.61, "split": "test"}))
    (large / ".furu" / "results.json").write_text(json.dumps({"accuracy": 0.93, "val.loss": 1.5}))
    (large / "metrics.jsonl").write_text('{"epoch": 1}\n{"epoch": 2}\n')
    fresh_api.post("/api/index/refresh", params={"full": True}).raise_for_status()

    found = _search(fresh_api, "result.accuracy > 0.9")
    assert found["status"] == 200, found
    assert [(i["namespace"], i["hash"]) for i in found["items"]] == [fresh_store.ref("eval_large")]
    assert _search(fresh_api, "result.accuracy < 0.9")["total"] == 1
    assert _search(fresh_api, "result.split = 'test'")["total"] == 1
    assert _search(fresh_api, "result.epoch exists")["total"] == 1
    assert _search(fresh_api, "result.val.loss >= 1.5")["total"] == 1

    detail = fresh_api.get(fresh_store.url("eval_large")).json()
    assert detail["results"] == {"accuracy": 0.93, "val.loss": 1.5, "epoch": 2}
    assert fresh_api.get(fresh_store.url("eval_small")).json()["results"] == {
        "accuracy": 0.61,
        "split": "test",
    }


def test_a_damaged_results_file_is_a_problem_not_an_error(
    fresh_api: TestClient, fresh_store: BuiltStore
) -> None:
    small = fresh_store.step_dir("eval_small")
    (small / "metrics.json").write_bytes(b"\xff\xfe{")
    fresh_api.post("/api/index/refresh", params={"full": True}).raise_for_status()
    detail = fresh_api.get(fresh_store.url("eval_small")).json()
    assert detail["results"] == {}
    assert any("metrics.json was not read as results" in p for p in detail["problems"])


def test_unknown_fields_suggest_the_closest(fresh_api: TestClient) -> None:
    found = fresh_api.post("/api/experiments/search", json={"query": "stauts = 'failed'"})
    assert found.status_code == 400, found.text
    assert "did you mean 'status'" in found.text
    bad = fresh_api.post("/api/experiments/search", json={"query": "resutl.accuracy > 1"})
    assert "did you mean 'result'" in bad.text


def _plant_evals(store: BuiltStore) -> None:
    (store.step_dir("eval_small") / "eval.json").write_text(json.dumps({"accuracy": 0.61}))
    (store.step_dir("eval_large") / "eval.json").write_text(
        json.dumps({"accuracy": 0.93, "split": "val"})
    )


def test_sort_by_config_and_result_fields_with_their_values(
    fresh_api: TestClient, fresh_store: BuiltStore
) -> None:
    _plant_evals(fresh_store)
    fresh_api.post("/api/index/refresh", params={"full": True}).raise_for_status()
    body = {
        "query": "class = TrainModel",
        "sort_field": "config.lr",
        "order": "asc",
        "columns": ["config.lr", "config.steps", "result.accuracy"],
    }
    got = fresh_api.post("/api/experiments/search", json=body)
    assert got.status_code == 200, got.text
    items = got.json()["items"]
    lrs = [i["values"]["config.lr"] for i in items]
    assert lrs == sorted(lrs)
    assert lrs[0] == 1e-4
    small = next(i for i in items if i["values"]["config.lr"] == 1e-4)
    assert small["values"]["config.steps"] == 10
    assert isinstance(small["values"]["config.steps"], int)
    assert small["values"]["result.accuracy"] == 0.9  # from the metrics.json it writes

    evals = fresh_api.post(
        "/api/experiments/search",
        json={"query": "class = Evaluate", "sort_field": "result.accuracy", "order": "desc"},
    ).json()["items"]
    assert [(i["namespace"], i["hash"]) for i in evals] == [
        fresh_store.ref("eval_large"),
        fresh_store.ref("eval_small"),
    ]


def test_results_joined_along_the_graph(fresh_api: TestClient, fresh_store: BuiltStore) -> None:
    _plant_evals(fresh_store)
    fresh_api.post("/api/index/refresh", params={"full": True}).raise_for_status()
    field = "downstream.Evaluate.result.accuracy"
    got = fresh_api.post(
        "/api/experiments/search",
        json={
            "query": "class = TrainModel",
            "sort_field": field,
            "order": "desc",
            "columns": [field],
        },
    ).json()["items"]
    # the best model by its Evaluate's accuracy comes first; models never evaluated last
    assert (got[0]["namespace"], got[0]["hash"]) == fresh_store.ref("large")
    assert got[0]["values"][field] == 0.93
    assert (got[1]["namespace"], got[1]["hash"]) == fresh_store.ref("small")
    assert all(field not in i["values"] for i in got[2:])
    filtered = fresh_api.post("/api/experiments/search", json={"query": f"{field} > 0.9"}).json()[
        "items"
    ]
    assert [(i["namespace"], i["hash"]) for i in filtered] == [fresh_store.ref("large")]
    by_text = fresh_api.post(
        "/api/experiments/search",
        json={"query": "downstream.Evaluate.result.split = 'val'"},
    ).json()
    assert by_text["total"] == 1


def test_bad_sort_fields_and_columns_are_clear_400s(fresh_api: TestClient) -> None:
    for body in (
        {"sort_field": "lr"},
        {"columns": ["downstream.Evaluate.accuracy"]},
        {"columns": ["result"]},
    ):
        got = fresh_api.post("/api/experiments/search", json=body)
        assert got.status_code == 400, (body, got.text)
        assert "config.<field>" in got.text or "downstream.<Class>" in got.text
    too_many = fresh_api.post(
        "/api/experiments/search", json={"columns": [f"config.f{i}" for i in range(17)]}
    )
    assert too_many.status_code in (400, 422)


def _pages(api: TestClient, body: dict[str, Any], page: int = 3) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    while True:
        got = api.post(
            "/api/experiments/search", json={**body, "limit": page, "offset": len(items)}
        ).json()
        items += got["items"]
        if len(items) >= got["total"]:
            return items


def test_paging_a_field_sort_keeps_numbers_then_texts_then_the_rest(
    fresh_api: TestClient, fresh_store: BuiltStore
) -> None:
    _plant_evals(fresh_store)
    fresh_api.post("/api/index/refresh", params={"full": True}).raise_for_status()
    every = _pages(fresh_api, {})
    fields = ("config.lr", "config.optimizer", "config.split", "config.steps", "result.accuracy")
    for field in (*fields, "downstream.Evaluate.result.accuracy"):
        for order in ("asc", "desc"):
            items = _pages(
                fresh_api, {"sort_field": field, "order": order, "columns": [field]}, page=2
            )
            refs = [(i["namespace"], i["hash"]) for i in items]
            assert sorted(refs) == sorted((i["namespace"], i["hash"]) for i in every)
            values = [i["values"].get(field) for i in items]
            have = [v for v in values if v is not None]
            assert values[: len(have)] == have, (field, order, values)  # missing ones last
            numbers = [v for v in have if not isinstance(v, str)]
            texts = [v for v in have if isinstance(v, str)]
            assert have == numbers + texts
            for group in (numbers, texts):
                assert group == sorted(group, reverse=order == "desc"), (field, order, group)


def test_status_matches_what_the_badge_shows(
    fresh_api: TestClient, fresh_store: BuiltStore, tmp_path: Path
) -> None:
    with running_step(tmp_path, lr=0.25) as (step, _):
        fresh_api.post("/api/index/refresh").raise_for_status()
        running = _search(fresh_api, "status = running")
        assert [(i["namespace"], i["hash"]) for i in running["items"]] == [
            (step._furu_namespace, step._furu_hash)
        ]
        assert _search(fresh_api, "attempt_status = running")["total"] == 1
        assert _search(fresh_api, "result_status = running")["total"] == 0
    failed = _search(fresh_api, "status = failed")
    assert [(i["namespace"], i["hash"]) for i in failed["items"]] == [fresh_store.ref("failed")]


def test_a_field_no_experiment_has_is_refused_with_the_closest(fresh_api: TestClient) -> None:
    got = fresh_api.post("/api/experiments/search", json={"query": "config.optimiser = 'sgd'"})
    assert got.status_code == 400, got.text
    error = got.json()["error"]
    assert error["code"] == "filter_invalid"
    assert "no experiment has the config field 'config.optimiser'" in error["message"]
    assert "Did you mean config.optimizer" in error["message"]
    assert error["detail"]["path"] == "config.optimiser"
    sort = fresh_api.post("/api/experiments/search", json={"sort_field": "result.acuracy"})
    assert sort.status_code == 400
    assert "Did you mean result.accuracy" in sort.json()["error"]["message"]
    # a prefix of existing leaves is a field (`config.layers exists`)
    assert _search(fresh_api, "config.layers exists")["status"] == 200
