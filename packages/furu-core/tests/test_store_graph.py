"""`StoreGraph`: dependencies and dependents of stored experiments, from metadata alone."""

from __future__ import annotations

import json
from pathlib import Path

from furu import StepId, Store, StoreGraph


def _plant(root: Path, namespace: str, digest: str, deps: list[tuple[str, str]]) -> None:
    meta = root / "data" / Path(*namespace.split(".")) / digest / ".furu"
    meta.mkdir(parents=True)
    record = {"dependencies": [{"field": "x", "namespace": n, "hash": h} for n, h in deps]}
    (meta / "metadata.json").write_text(json.dumps(record))


def test_dependencies_and_dependents_direct_and_transitive(tmp_path: Path) -> None:
    _plant(tmp_path, "m.Data", "aa", [])
    _plant(tmp_path, "m.Train", "bb", [("m.Data", "aa")])
    _plant(tmp_path, "m.Eval", "cc", [("m.Train", "bb"), ("m.Data", "aa")])
    _plant(tmp_path, "m.Report", "dd", [("m.Eval", "cc"), ("m.Gone", "ee")])
    graph = StoreGraph.load(Store(tmp_path))
    data, train, ev, report = (
        StepId("m.Data", "aa"),
        StepId("m.Train", "bb"),
        StepId("m.Eval", "cc"),
        StepId("m.Report", "dd"),
    )
    assert graph.dependencies(ev) == [train, data]
    assert graph.dependencies(report, transitive=True) == [ev, StepId("m.Gone", "ee"), train, data]
    assert graph.dependents(data) == [train, ev]
    assert graph.dependents(data, transitive=True) == [train, ev, report]
    assert graph.missing(report) == [StepId("m.Gone", "ee")]
    assert graph.closure([train]) == [train, data]


def test_damaged_metadata_has_no_edges(tmp_path: Path) -> None:
    _plant(tmp_path, "m.Data", "aa", [])
    bad = tmp_path / "data" / "m" / "Bad" / "ff" / ".furu"
    bad.mkdir(parents=True)
    (bad / "metadata.json").write_bytes(b"\xff{not json")
    graph = StoreGraph.load(Store(tmp_path))
    assert graph.dependencies(StepId("m.Bad", "ff")) == []
    assert set(graph.steps) == {StepId("m.Data", "aa"), StepId("m.Bad", "ff")}
