"""Every furu-client method against the real app: in-process (Starlette's TestClient as the
`httpx.Client`) and over the wire (a real uvicorn on 127.0.0.1). Together the two cover every
operation of the committed `openapi.json`."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from server_fixtures import STEPS_DIR, TOKEN, BuiltStore

import furu
from furu_client import (
    ExperimentNotFoundError,
    F,
    FilterSyntaxError,
    FuruClient,
    FuruConnectionError,
    MigrationFailedError,
    PathOutsideArtifactError,
    UnauthorizedError,
)
from furu_server import create_app
from server_live import LiveServer, live

SCHEMA = Path(__file__).resolve().parents[1] / "packages" / "furu-server" / "openapi.json"


@pytest.fixture(params=["in-process", "uvicorn"])
def client(request: pytest.FixtureRequest, fresh_store: BuiltStore) -> Iterator[FuruClient]:
    """A client of a fresh store's server, over each transport."""
    settings = fresh_store.settings(rerun_python=sys.executable, rerun_cwd=STEPS_DIR)
    if request.param == "in-process":
        app = create_app(settings, start_refresher=False)
        with (
            TestClient(app) as http,
            FuruClient("http://testserver", token=TOKEN, http_client=http) as furu_client,
        ):
            furu_client.refresh_index()
            yield furu_client
        return
    with live(settings) as server, FuruClient(server.url, token=TOKEN) as furu_client:
        furu_client.refresh_index()
        yield furu_client


def _ref(store: BuiltStore, name: str) -> tuple[str, str]:
    return store.ref(name)


def _call_every_method(c: FuruClient, store: BuiltStore) -> dict[str, Any]:
    """Call each method once with meaningful arguments; returns results by operation id."""
    small, large, big = _ref(store, "small"), _ref(store, "large"), _ref(store, "big")
    out: dict[str, Any] = {}
    out["listExperiments"] = c.list_experiments(result_status="success", sort="runtime", limit=5)
    out["searchExperiments"] = c.search((F.config.lr < 1e-3) & (F.status == "success"))
    out["parseFilter"] = c.parse_filter("config.lr < 1e-3")
    out["listFields"] = c.list_fields("TrainModel")
    out["getExperiment"] = c.get_experiment(*small)
    out["getRelationships"] = c.get_relationships(*small)
    out["getLineage"] = c.get_lineage(*small, depth=2)
    out["diffExperiments"] = c.diff(small, "/".join(large))
    out["getStats"] = c.get_stats()
    out["listNamespaces"] = c.list_namespaces()
    out["getDag"] = c.get_dag()
    out["getDagClass"] = c.get_dag_class("server_steps.TrainModel")
    out["getHealth"] = c.health()
    out["getVersion"] = c.version()
    out["refreshIndex"] = c.refresh_index()
    out["getLogs"] = c.get_logs(*small)
    out["streamLogs"] = "".join(c.stream_logs(*small, timeout=5))
    out["listArtifacts"] = c.list_artifacts(*large)
    out["getFile"] = c.get_file(*large, "checkpoint.bin")
    out["previewFile"] = c.preview_file(*big, "table.csv", limit=2)
    out["setTags"] = c.set_tags(*small, ["client", "best"])
    out["setName"] = c.set_name(*small, "via client")
    out["getSnippet"] = c.get_snippet(*small, overrides={"lr": 0.5})
    out["planInvalidate"] = c.plan_invalidate(*_ref(store, "eval_large"), dependents=True)
    out["invalidateExperiment"] = c.invalidate(*_ref(store, "eval_large"))
    out["deleteExperiment"] = c.delete_experiment(*_ref(store, "eval_large"))
    run = c.rerun(*_ref(store, "tokenizer"))
    out["rerunExperiment"] = run
    out["getRun"] = c.wait_for_run(run.id, timeout=120, poll_interval=0.1)
    out["listRuns"] = c.list_runs()
    out["planSweep"] = c.plan_sweep(*small, {"steps": [10, 11]})
    sweep = c.launch_sweep(*small, {"steps": [10, 11]})
    out["launchSweep"] = sweep
    c.wait_for_task(sweep.id, timeout=120, poll_interval=0.1)
    out["planBatch"] = c.plan_batch([small], "missing")
    batch = c.launch_batch([small], "rerun")
    out["launchBatch"] = c.wait_for_task(batch.id, timeout=120, poll_interval=0.1)
    # the code: a manifest of the steps' module, then the routes that read it or run `furu`
    furu.build_manifest(["server_steps"], store=furu.Store(store.root)).write(
        furu.Store(store.root)
    )
    c.refresh_index()
    out["getManifest"] = c.get_manifest()
    out["getDag"] = c.get_dag(source="code")
    task = c.refresh_manifest()  # no [tool.furu] modules in the steps' directory: it fails
    out["refreshManifest"] = task
    out["getTask"] = c.wait_for_task(task.id, timeout=120, poll_interval=0.1)
    out["previewMigration"] = c.preview_migration("server_steps.TrainModel")
    applied = c.apply_migration("server_steps.TrainModel")
    out["applyMigration"] = applied
    c.wait_for_task(applied.id, timeout=120, poll_interval=0.1)
    out["getMigration"] = c.get_migration(applied.id)
    try:
        c.undo_migration(small)  # not an alias: refused with furu's reason
    except MigrationFailedError as exc:
        out["undoMigration"] = exc
    return out


def test_every_operation_has_a_client_method(client: FuruClient, fresh_store: BuiltStore) -> None:
    ranked = client.search(
        query="class = TrainModel", sort_field="config.lr", order="asc", columns=["config.lr"]
    )
    assert ranked.items[0].values["config.lr"] == 1e-4
    results = _call_every_method(client, fresh_store)
    schema = json.loads(SCHEMA.read_text())
    operations = {op["operationId"] for path in schema["paths"].values() for op in path.values()}
    assert operations == set(results)
    small = fresh_store.ref("small")
    assert results["listExperiments"].total == len(fresh_store.steps) - 1
    assert {(i.namespace, i.hash) for i in results["searchExperiments"].items} == {
        small,
        fresh_store.ref("finetune"),
    }
    assert results["parseFilter"].filter.path == "config.lr"  # type: ignore[union-attr]
    assert "config.lr" in {f.name for f in results["listFields"].fields}
    assert results["getExperiment"].config["lr"] == 1e-4  # type: ignore[index]
    assert results["getRelationships"].parents[0].field == "corpus"
    assert results["getLineage"].root == "/".join(small)
    assert any(ch.path == "lr" for ch in results["diffExperiments"].config)
    assert results["getStats"].total == len(fresh_store.steps)
    assert results["getDag"].subclass_edges
    assert results["getDagClass"].failed == 1
    assert [t.root for t in results["planInvalidate"].targets] == [True]
    assert results["getDag"].source == "code"
    assert {cls.namespace for cls in results["getManifest"].classes} >= {"server_steps.Corpus"}
    assert results["getTask"].status == "failed"
    assert "furu manifest" in (results["getTask"].error or "")
    assert results["previewMigration"].items == []  # the code did not change: nothing to do
    assert results["getMigration"].status == "succeeded", results["getMigration"].output_tail
    assert "cannot be undone" in str(results["undoMigration"])
    assert results["getHealth"].status == "ok"
    assert results["planSweep"].summary == "1 to create, 1 cached, 0 running elsewhere"
    assert results["planBatch"].cached == 1
    assert results["launchBatch"].status == "succeeded", results["launchBatch"].output_tail
    assert "step 0 loss" in results["getLogs"].text
    assert "step 0 loss" in results["streamLogs"]
    assert results["getFile"] == b"\x00\x01\x02weights"
    assert results["previewFile"].rows == [
        [0, "sentence 0", 0.0, True],
        [1, "sentence 1", 0.5, False],
    ]
    assert results["setName"].tags == ["best", "client"]
    assert "lr=0.5" in results["getSnippet"].code
    assert results["invalidateExperiment"].invalidated
    assert results["getRun"].status == "succeeded", results["getRun"].output_tail
    assert [r.id for r in results["listRuns"]] == [results["rerunExperiment"].id]
    assert client.get_experiment(*small).name == "via client"


def test_pagination_is_iteration(client: FuruClient, fresh_store: BuiltStore) -> None:
    everything = list(client.iter_experiments(page_size=2))
    assert len(everything) == len(fresh_store.steps)
    assert len({(e.namespace, e.hash) for e in everything}) == len(everything)
    models = list(
        client.iter_search(F.namespace.startswith("server_steps.TrainModel"), page_size=1)
    )
    assert len(models) == 4
    assert len(list(client.iter_search("class = Corpus", page_size=1))) == 2


def test_log_tailing_follows_a_running_step(
    client: FuruClient, fresh_store: BuiltStore, tmp_path: Path
) -> None:
    from server_fixtures import running_step

    with running_step(tmp_path, lr=0.75) as (step, release):
        time.sleep(0.05)
        client.refresh_index()
        seen = []
        for text in client.tail_logs(
            step._furu_namespace, step._furu_hash, poll_interval=0.05, timeout=60
        ):
            seen.append(text)
            release.write_text("go")
        assert "step 0 loss" in "".join(seen)


def test_errors_are_typed(client: FuruClient, fresh_store: BuiltStore) -> None:
    with pytest.raises(ExperimentNotFoundError) as missing:
        client.get_experiment("server_steps.Corpus", "0000")
    assert missing.value.status == 404
    with pytest.raises(FilterSyntaxError) as syntax:
        client.search(query="config.lr <")
    assert syntax.value.position == 11
    with pytest.raises(PathOutsideArtifactError):
        client.get_file(*fresh_store.ref("small"), "/etc/passwd")
    anonymous = FuruClient(client.base_url, http_client=client._http)
    with pytest.raises(UnauthorizedError):
        anonymous.set_tags(*fresh_store.ref("small"), ["x"])


def test_an_unreachable_server_is_a_connection_error() -> None:
    with (
        FuruClient("http://127.0.0.1:9", timeout=2) as c,
        pytest.raises(FuruConnectionError) as err,
    ):
        c.health()
    assert "127.0.0.1:9" in str(err.value)


def test_the_client_speaks_to_a_server_in_another_process(fresh_store: BuiltStore) -> None:
    """A live server and a client built on a plain httpx.Client with its own settings."""
    settings = fresh_store.settings()
    with live(settings) as server:
        assert isinstance(server, LiveServer)
        http = httpx.Client(timeout=10, headers={"User-Agent": "contract-test"})
        with FuruClient(server.url, http_client=http) as c:
            c.refresh_index()
            assert c.get_stats().total == len(fresh_store.steps)
        assert not http.is_closed  # an injected client is the caller's to close
        http.close()
