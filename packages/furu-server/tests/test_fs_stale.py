"""The `stale` flag of the index (ADR 0005 section 4), the code DAG and GET /api/manifest.

The store is the standard pipeline of `server_steps`, run for real; the manifest is the one
`furu.build_manifest` describes of `server_steps`, then changed the way a code change would
change it (a field added, a class removed, a class added) and written with `Manifest.write`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from server_fixtures import BuiltStore, app_client

import furu

TRAIN = "server_steps.TrainModel"
TOKENIZER = "server_steps.Tokenizer"


def _manifest(store: BuiltStore) -> furu.Manifest:
    return furu.build_manifest(["server_steps"], store=furu.Store(store.root))


def _write(store: BuiltStore, manifest: furu.Manifest) -> None:
    manifest.write(furu.Store(store.root))


def _with_field(manifest: furu.Manifest, namespace: str, name: str, default: Any) -> furu.Manifest:
    """The manifest after the class gained a field with a default (as `average: bool = False`)."""
    cls = manifest.classes[namespace]
    added = furu.ManifestField(name=name, type="bool", default=default, has_default=True)
    changed = dataclasses.replace(cls, fields=(*cls.fields, added))
    return dataclasses.replace(manifest, classes={**manifest.classes, namespace: changed})


def _without(manifest: furu.Manifest, namespace: str) -> furu.Manifest:
    classes = {ns: c for ns, c in manifest.classes.items() if ns != namespace}
    return dataclasses.replace(manifest, classes=classes)


def _refresh(client: TestClient) -> None:
    client.post("/api/index/refresh").raise_for_status()


def _search(client: TestClient, query: str) -> set[tuple[str, str]]:
    answer = client.post("/api/experiments/search", json={"query": query, "limit": 1000})
    answer.raise_for_status()
    return {(i["namespace"], i["hash"]) for i in answer.json()["items"]}


def _items(client: TestClient) -> dict[tuple[str, str], dict[str, Any]]:
    answer = client.get("/api/experiments", params={"limit": 1000})
    answer.raise_for_status()
    return {(i["namespace"], i["hash"]): i for i in answer.json()["items"]}


@pytest.fixture
def client(fresh_store: BuiltStore) -> Iterator[TestClient]:
    with app_client(fresh_store.settings()) as api:
        yield api


def test_without_a_manifest_staleness_is_unknown(client: TestClient) -> None:
    items = _items(client)
    assert items
    assert all(i["stale"] is None and i["stale_reason"] is None for i in items.values())
    assert _search(client, "stale = true") == set()
    assert _search(client, "stale = false") == set()
    answer = client.get("/api/manifest")
    assert answer.status_code == 404
    error = answer.json()["error"]
    assert error["code"] == "manifest_not_found"
    assert "furu manifest" in error["message"]
    assert "/api/manifest/refresh" in error["message"]
    code = client.get("/api/dag", params={"source": "code"})
    assert code.status_code == 404
    assert code.json()["error"]["code"] == "manifest_not_found"
    assert client.get("/api/dag").json()["nodes"]  # the experiments' DAG needs no manifest


def test_the_current_code_leaves_nothing_stale(fresh_store: BuiltStore, client: TestClient) -> None:
    _write(fresh_store, _manifest(fresh_store))
    _refresh(client)
    items = _items(client)
    assert all(i["stale"] is False for i in items.values()), [
        (k, i["stale_reason"]) for k, i in items.items() if i["stale"] is not False
    ]
    assert _search(client, "stale = true") == set()
    assert len(_search(client, "stale = false")) == len(items)


def test_an_added_field_makes_the_class_and_everything_below_it_stale(
    fresh_store: BuiltStore, client: TestClient
) -> None:
    _write(fresh_store, _with_field(_manifest(fresh_store), TRAIN, "average", False))
    _refresh(client)
    models = {fresh_store.ref(n) for n in ("small", "medium", "large", "failed")}
    below = {fresh_store.ref(n) for n in ("eval_small", "eval_large", "ensemble")}
    assert _search(client, "stale = true") == models | below
    assert _search(client, 'stale_kind = "fields-changed"') == models
    assert _search(client, 'stale_kind = "dependency-stale"') == below
    items = _items(client)
    small = items[fresh_store.ref("small")]
    assert small["stale_kind"] == "fields-changed"
    assert "`average` was added (default False)" in small["stale_reason"]
    evaluation = items[fresh_store.ref("eval_small")]
    assert evaluation["stale_reason"].startswith("its `model` (server_steps.TrainModel/")
    assert "(fields-changed)" in evaluation["stale_reason"]
    # FineTune is another class (its own fields did not change), Corpus is upstream
    for name in ("finetune", "toy", "big", "tokenizer"):
        assert items[fresh_store.ref(name)]["stale"] is False, name
    detail = client.get(fresh_store.url("eval_small")).json()
    assert detail["stale"] is True
    assert detail["stale_kind"] == "dependency-stale"


def test_a_removed_class_is_listed_and_flagged(fresh_store: BuiltStore, client: TestClient) -> None:
    _write(fresh_store, _without(_manifest(fresh_store), TOKENIZER))
    _refresh(client)
    assert _search(client, 'stale_kind = "class-removed"') == {fresh_store.ref("tokenizer")}
    info = client.get("/api/manifest").json()
    assert info["removed_classes"] == [TOKENIZER]
    assert info["stale"] == 1
    dag = {n["namespace"]: n for n in client.get("/api/dag").json()["nodes"]}
    assert dag[TOKENIZER]["in_code"] is False
    assert dag[TOKENIZER]["stale"] == 1
    assert dag[TRAIN]["in_code"] is True
    assert dag[TRAIN]["stale"] == 0


def test_the_flags_follow_new_experiments_and_a_changed_manifest(
    fresh_store: BuiltStore, client: TestClient
) -> None:
    import server_steps

    _write(fresh_store, _with_field(_manifest(fresh_store), TRAIN, "average", False))
    _refresh(client)
    newer = server_steps.TrainModel(corpus=fresh_store.steps["toy"], lr=0.25, steps=2)
    newer.load_or_create()
    evaluation = server_steps.Evaluate(model=newer)
    evaluation.load_or_create()
    _refresh(client)
    found = _items(client)
    for step in (newer, evaluation):
        assert found[(step._furu_namespace, step._furu_hash)]["stale"] is True
    # the code goes back: the next refresh sees the manifest change and clears every flag
    _write(fresh_store, _manifest(fresh_store))
    _refresh(client)
    assert _search(client, "stale = true") == set()


def test_the_code_dag_shows_classes_without_experiments(
    fresh_store: BuiltStore, client: TestClient
) -> None:
    manifest = _with_field(_manifest(fresh_store), TRAIN, "average", False)
    report = furu.ManifestClass(
        namespace="server_steps.Report",
        module="server_steps",
        qualname="Report",
        fields=(furu.ManifestField(name="evaluation", type="server_steps.Evaluate"),),
        dependencies=(
            furu.ManifestDependency(field="evaluation", namespace="server_steps.Evaluate"),
        ),
    )
    _write(
        fresh_store,
        dataclasses.replace(manifest, classes={**manifest.classes, report.namespace: report}),
    )
    _refresh(client)
    dag = client.get("/api/dag", params={"source": "code"}).json()
    assert dag["source"] == "code"
    assert dag["manifest_written_at"] == manifest.written_at
    nodes = {n["namespace"]: n for n in dag["nodes"]}
    assert nodes["server_steps.Report"]["defined_only"] is True
    assert nodes["server_steps.Report"]["total"] == 0
    assert nodes[TRAIN]["defined_only"] is False
    assert nodes[TRAIN]["stale"] == 4
    assert nodes[TRAIN]["total"] == 4
    assert nodes["server_steps.Evaluate"]["stale"] == 2
    edges = {(e["source"], e["target"], e["field"]): e["count"] for e in dag["edges"]}
    assert edges[("server_steps.Evaluate", "server_steps.Report", "evaluation")] == 0
    assert edges[(TRAIN, "server_steps.Evaluate", "model")] == 2


def test_named_experiments_of_the_code_with_their_status(
    fresh_store: BuiltStore, client: TestClient
) -> None:
    manifest = _manifest(fresh_store)
    ns, digest = fresh_store.ref("eval_small")
    listed = furu.ManifestList(
        name="server_steps:PAPER",
        experiments=(
            furu.ManifestExperiment(
                name="baseline", namespace=ns, hash=digest, config={}, python="Evaluate(...)"
            ),
            furu.ManifestExperiment(
                name="bigger", namespace=ns, hash="0" * 16, config={}, python="Evaluate(x=1)"
            ),
        ),
    )
    _write(fresh_store, dataclasses.replace(manifest, lists=(listed,)))
    _refresh(client)
    info = client.get("/api/manifest").json()
    (paper,) = info["lists"]
    assert paper["name"] == "server_steps:PAPER"
    assert paper["module"] == "server_steps"
    baseline, bigger = paper["experiments"]
    assert (baseline["indexed"], baseline["status"], baseline["stale"]) == (True, "success", False)
    assert baseline["ref"] == f"{ns}/{digest}"
    assert baseline["snippet"] == "Evaluate(...)"
    assert (bigger["indexed"], bigger["status"]) == (False, "defined, not yet run")
    assert bigger["result_status"] == "absent"
    classes = {c["namespace"]: c for c in info["classes"]}
    assert classes[TRAIN]["experiments"] == 4
    fields = {f["name"]: f for f in classes[TRAIN]["fields"]}
    assert fields["lr"]["type"] == "float"
    assert fields["lr"]["has_default"] is True
    assert fields["corpus"]["has_default"] is False
    assert fields["steps"]["has_default"] is True
    items = _items(client)
    assert items[(ns, digest)]["display_name"] == "baseline"
    assert client.get(fresh_store.url("eval_small")).json()["display_name"] == "baseline"


@pytest.mark.parametrize(
    "content",
    [b"{", b"[]", b'{"version": 99}', b"\x00\xff" * 100],
    ids=["torn", "list", "newer", "binary"],
)
def test_a_damaged_manifest_is_reported_never_a_500(
    fresh_store: BuiltStore, client: TestClient, content: bytes
) -> None:
    _write(fresh_store, _with_field(_manifest(fresh_store), TRAIN, "average", False))
    _refresh(client)
    assert _search(client, "stale = true")
    (fresh_store.root / "manifest.json").write_bytes(content)
    _refresh(client)
    answer = client.get("/api/manifest")
    assert answer.status_code == 422
    error = answer.json()["error"]
    assert error["code"] == "manifest_unreadable"
    assert "manifest.json" in error["message"]
    assert "furu manifest" in error["message"]
    assert client.get("/api/dag", params={"source": "code"}).status_code == 422
    assert _search(client, "stale = true") == set()  # unknown again, never guessed
    assert client.get("/api/dag").status_code == 200
    assert client.get("/api/experiments").status_code == 200


def test_staleness_goes_down_every_level_naming_the_nearest_dependency(
    fresh_store: BuiltStore, client: TestClient
) -> None:
    _write(fresh_store, _with_field(_manifest(fresh_store), "server_steps.Corpus", "clean", True))
    _refresh(client)
    items = _items(client)
    assert items[fresh_store.ref("toy")]["stale_kind"] == "fields-changed"
    assert items[fresh_store.ref("vocab")]["stale"] is False  # depends on nothing
    for name in ("small", "finetune", "tokenizer"):
        reason = items[fresh_store.ref(name)]["stale_reason"]
        assert reason.startswith("its `corpus` (server_steps.Corpus/"), reason
        assert reason.endswith("(fields-changed)")
    for name in ("eval_small", "ensemble"):  # two levels down: the model is named, not the corpus
        found = items[fresh_store.ref(name)]
        assert found["stale_kind"] == "dependency-stale"
        assert "(server_steps.TrainModel/" in found["stale_reason"]
        assert found["stale_reason"].endswith("(dependency-stale)")


def test_a_huge_planted_manifest_is_answered_within_bounds(
    fresh_store: BuiltStore, client: TestClient
) -> None:
    manifest = _manifest(fresh_store)
    ns, digest = fresh_store.ref("eval_small")
    huge = furu.ManifestExperiment(
        name="huge",
        namespace=ns,
        hash=digest,
        config={"blob": "x" * 1_000_000, "many": list(range(100_000))},
        python="y" * 1_000_000,
    )
    listed = furu.ManifestList(name="server_steps:HUGE", experiments=(huge,))
    _write(fresh_store, dataclasses.replace(manifest, lists=(listed,)))
    _refresh(client)
    answer = client.get("/api/manifest")
    assert answer.status_code == 200
    assert len(answer.content) < 200_000
    info = answer.json()
    assert info["truncated"] is True
    (shown,) = info["lists"][0]["experiments"]
    assert len(shown["snippet"]) == 10_000
    assert shown["status"] == "success"


def test_the_listing_takes_stale_as_a_parameter(
    fresh_store: BuiltStore, client: TestClient
) -> None:
    _write(fresh_store, _without(_manifest(fresh_store), TOKENIZER))
    _refresh(client)
    stale = client.get("/api/experiments", params={"stale": "true"}).json()
    assert [(i["namespace"], i["hash"]) for i in stale["items"]] == [fresh_store.ref("tokenizer")]
    current = client.get("/api/experiments", params={"stale": "false"}).json()
    assert current["total"] == len(fresh_store.steps) - 1
