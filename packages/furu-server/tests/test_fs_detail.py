"""One experiment (detail, relationships, lineage), the store as a whole (stats, namespaces,
DAG), diffs, health and version, all against a store made by real steps."""

from __future__ import annotations

import json

from fastapi.testclient import TestClient
from server_fixtures import BuiltStore

import furu


def test_detail_has_config_state_metadata_and_sizes(
    api: TestClient, built_store: BuiltStore
) -> None:
    step = built_store.steps["large"]
    got = api.get(built_store.url("large"))
    assert got.status_code == 200, got.text
    d = got.json()
    assert (d["namespace"], d["hash"]) == built_store.ref("large")
    assert d["class_name"] == "TrainModel"
    assert d["config"] == step.to_dict()
    assert d["python_def"] == step.to_python()
    assert d["result_status"] == "success"
    assert d["attempt_status"] == "success"
    assert d["state"]["attempt"]["status"] == "success"
    assert d["metadata"]["furu_hash"] == step._furu_hash
    assert d["metadata"]["dependencies"][0]["field"] == "corpus"
    assert d["error"] is None
    assert d["sizes"]["file_count"] >= 7
    assert d["sizes"]["log_bytes"] > 0
    assert d["sizes"]["total_bytes"] >= d["sizes"]["log_bytes"]
    assert d["n_dependencies"] == 1
    assert d["runtime_sec"] is not None
    assert d["runtime_sec"] >= 0
    assert {"name": "lr", "type": "float"} in d["config_schema"]
    assert d["problems"] == []


def test_a_failure_shows_its_error_and_traceback(api: TestClient, built_store: BuiltStore) -> None:
    d = api.get(built_store.url("failed")).json()
    assert d["result_status"] == "failed"
    assert d["error"]["type"] == "builtins.ValueError"
    assert "diverged: lr=10.0 is too high" in d["error"]["message"]
    assert "Traceback (most recent call last)" in d["error"]["traceback"]


def test_a_subclass_records_its_bases(api: TestClient, built_store: BuiltStore) -> None:
    d = api.get(built_store.url("finetune")).json()
    assert d["class_bases"] == ["server_steps.TrainModel"]


def test_a_version_controlled_experiment(api: TestClient, built_store: BuiltStore) -> None:
    d = api.get(built_store.url("vocab")).json()
    assert d["version_controlled"] is True
    assert d["furu_dir"].startswith(str(built_store.vc_root))


def test_unknown_experiments_are_404s(api: TestClient) -> None:
    for url in (
        "/api/experiments/server_steps.TrainModel/0000000000",
        "/api/experiments/no.such.Class/abc",
        "/api/experiments/..%2F..%2Fetc/passwd",
        "/api/experiments/server_steps.TrainModel/0000000000/relationships",
    ):
        got = api.get(url)
        assert got.status_code == 404, (url, got.text)
        assert got.json()["error"]["code"] in ("experiment_not_found", "route_not_found")


def test_relationships_list_parents_and_children_with_status(
    api: TestClient, built_store: BuiltStore
) -> None:
    rel = api.get(built_store.url("small", "/relationships")).json()
    parents = {(p["field"], p["namespace"], p["hash"], p["result_status"]) for p in rel["parents"]}
    assert parents == {("corpus", *built_store.ref("toy"), "success")}
    children = {(c["field"], c["namespace"], c["hash"]) for c in rel["children"]}
    assert children == {
        ("model", *built_store.ref("eval_small")),
        ("models[0]", *built_store.ref("ensemble")),
    }
    assert rel["children_total"] == 2
    toy = api.get(built_store.url("toy", "/relationships")).json()
    assert toy["parents"] == []
    child_refs = {(c["namespace"], c["hash"]) for c in toy["children"]}
    for name in ("small", "medium", "tokenizer", "failed"):
        assert built_store.ref(name) in child_refs
    statuses = {c["hash"]: c["result_status"] for c in toy["children"]}
    assert statuses[built_store.ref("failed")[1]] == "failed"


def test_lineage_walks_both_ways(api: TestClient, built_store: BuiltStore) -> None:
    lin = api.get(built_store.url("small", "/lineage")).json()
    depth = {(n["namespace"], n["hash"]): n["depth"] for n in lin["nodes"]}
    assert depth[built_store.ref("small")] == 0
    assert depth[built_store.ref("toy")] == -1
    assert depth[built_store.ref("eval_small")] == 1
    assert depth[built_store.ref("ensemble")] == 1
    edge = {
        "source": "/".join(built_store.ref("toy")),
        "target": "/".join(built_store.ref("small")),
        "field": "corpus",
    }
    assert edge in lin["edges"]
    # each node carries its config's scalar leaves, for the dashboard's automatic labels
    node = {(n["namespace"], n["hash"]): n for n in lin["nodes"]}[built_store.ref("toy")]
    assert node["values"]["config.name"] == "toy"
    assert node["values"]["config.size"] == 5
    assert node["display_name"] is None
    shallow = api.get(built_store.url("eval_small", "/lineage"), params={"depth": 1}).json()
    assert built_store.ref("toy") not in {(n["namespace"], n["hash"]) for n in shallow["nodes"]}


def test_dag_is_per_class_with_counts_subclasses_and_fields(api: TestClient) -> None:
    dag = api.get("/api/dag").json()
    nodes = {n["namespace"]: n for n in dag["nodes"]}
    assert nodes["server_steps.TrainModel"]["counts"] == {"success": 3, "failed": 1}
    assert nodes["server_steps.Corpus"]["total"] == 2
    assert nodes["server_steps.FineTune"]["bases"] == ["server_steps.TrainModel"]
    assert {"child": "server_steps.FineTune", "parent": "server_steps.TrainModel"} in dag[
        "subclass_edges"
    ]
    edges = {(e["source"], e["target"], e["field"]): e["count"] for e in dag["edges"]}
    assert edges[("server_steps.Corpus", "server_steps.TrainModel", "corpus")] == 4
    assert edges[("server_steps.TrainModel", "server_steps.Ensemble", "models[]")] == 2
    assert edges[("server_steps.TrainModel", "server_steps.Evaluate", "model")] == 2
    assert len(json.dumps(dag)) < 10_000  # per class: independent of the number of experiments


def test_stats_and_namespaces_count_what_is_there(api: TestClient, built_store: BuiltStore) -> None:
    stats = api.get("/api/stats").json()
    assert stats["total"] == len(built_store.steps)
    assert stats["by_result_status"] == {"success": len(built_store.steps) - 1, "failed": 1}
    assert stats["failed"] == 1
    assert stats["running"] == 0
    assert stats["by_backend"] == {"local": len(built_store.steps)}
    assert stats["size_bytes"] > 0
    assert stats["index"]["built"] is True
    spaces = {n["namespace"]: n for n in api.get("/api/namespaces").json()}
    assert spaces["server_steps.TrainModel"]["total"] == 4
    assert spaces["server_steps.TrainModel"]["counts"] == {"success": 3, "failed": 1}
    assert spaces["server_steps.Vocab"]["size_bytes"] > 0
    assert stats["namespaces"] == len(spaces)


def test_diff_names_each_changed_field(api: TestClient, built_store: BuiltStore) -> None:
    a, b = "/".join(built_store.ref("small")), "/".join(built_store.ref("large"))
    diff = api.get("/api/diff", params={"a": a, "b": b}).json()
    changes = {c["path"]: (c["kind"], c["a"], c["b"]) for c in diff["config"]}
    assert changes["lr"] == ("changed", 0.0001, 0.01)
    assert changes["steps"] == ("changed", 10, 30)
    assert changes["corpus.name"] == ("changed", "toy", "big")
    assert changes["layers.__tuple__[2]"] == ("added", None, 64)
    assert "optimizer" not in changes
    assert diff["same_class"] is True
    other = api.get("/api/diff", params={"a": a, "b": "/".join(built_store.ref("finetune"))})
    paths = {c["path"]: c["kind"] for c in other.json()["config"]}
    assert paths["base_lr_scale"] == "added"
    assert paths["__class__"] == "changed"
    assert any(c["path"] == "furu_namespace" for c in other.json()["metadata"])
    bad = api.get("/api/diff", params={"a": "nonsense", "b": b})
    assert bad.status_code == 422
    assert bad.json()["error"]["code"] == "invalid_request"


def test_health_and_version(api: TestClient) -> None:
    health = api.get("/api/health").json()
    assert health["status"] == "ok"
    assert health["index"]["experiments"] > 0
    version = api.get("/api/version").json()
    assert version["furu"] == furu.__version__
    assert version["api"] == "1"
