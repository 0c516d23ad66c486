"""`load_or_create_many` on the default `LocalExecutor`: real worker processes, real failures."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import furu_steps
from furu_harness import Store, wait_until

ALL = ["shared", *(f"dep{i}" for i in range(6)), "bad", "bad-dep0", "bad-dep1"]


def runs(counter_dir: Path) -> dict[str, int]:
    """How many times each node was created (nodes never created are absent)."""
    if not counter_dir.exists():
        return {}
    return {p.name: len(p.read_text().splitlines()) for p in counter_dir.iterdir()}


@pytest.mark.timeout(120)
def test_a_failure_skips_only_its_dependents_and_a_rerun_creates_only_what_is_missing(
    store: Store,
) -> None:
    counter_dir = store.dir / "runs"
    counter_dir.mkdir()
    flag = Path(store.path("bad.flag"))
    flag.write_text("fail")
    graph = {"counter_dir": str(counter_dir), "fail_flag": str(flag), "select": ALL}
    nodes = furu_steps.build_graph(str(counter_dir), str(flag))

    first = store.start({"action": "many", "graph": graph, "max_workers": 2}, name="first")
    out = first.result()

    assert first.popen.returncode == 3, first.describe()
    assert out["error_type"] == "FuruBatchError"
    assert [(name, kind) for name, kind, _ in out["failures"]] == [
        (nodes["bad"]._furu_short(), "FuruComputeError")
    ]
    assert "bad was told to fail" in out["failures"][0][2]
    assert sorted(out["skipped"]) == sorted(nodes[f"bad-dep{j}"]._furu_short() for j in range(2))
    assert "1 step(s) failed and 2 were skipped" in out["message"]
    everything_else = {"shared": 1, "bad": 1} | {f"dep{i}": 1 for i in range(6)}
    assert runs(counter_dir) == everything_else
    for name in everything_else.keys() - {"bad"}:
        assert nodes[name].exists(), name
    assert not any(nodes[name].exists() for name in ("bad", "bad-dep0", "bad-dep1"))

    flag.unlink()
    second = store.start({"action": "many", "graph": graph, "max_workers": 2}, name="second")
    results = second.ok()["results"]

    assert "plan: 3 to create, 7 cached" in second.stderr
    assert runs(counter_dir) == everything_else | {"bad": 2, "bad-dep0": 1, "bad-dep1": 1}
    assert dict(zip(ALL, results, strict=True)) == {
        "shared": "shared()",
        **{f"dep{i}": f"dep{i}(shared())" for i in range(6)},
        "bad": "bad()",
        "bad-dep0": "bad-dep0(bad())",
        "bad-dep1": "bad-dep1(bad())",
    }


@pytest.mark.timeout(120)
def test_concurrent_batches_over_overlapping_steps_create_each_once(store: Store) -> None:
    counter_dir = store.dir / "runs"
    counter_dir.mkdir()
    go = store.path("go")
    selections = {"left": ["dep0", "dep1", "dep2", "dep3"], "right": ["dep2", "dep3", "dep4"]}
    procs = []
    for side, select in selections.items():
        graph = {"counter_dir": str(counter_dir), "select": select, "sleep_secs": 0.3}
        spec = {"action": "many", "graph": graph, "max_workers": 2}
        procs.append(store.start(spec | {"ready": store.path(side), "go": go}, name=side))
    wait_until(
        lambda: all(Path(store.path(side)).exists() for side in selections),
        what="both batches to start",
        procs=procs,
    )
    furu_steps.write_marker(go, "go")

    left, right = (proc.ok()["results"] for proc in procs)

    assert left == [f"dep{i}(shared())" for i in range(4)]
    assert right == [f"dep{i}(shared())" for i in range(2, 5)]
    assert runs(counter_dir) == {"shared": 1} | {f"dep{i}": 1 for i in range(5)}


@pytest.mark.timeout(60)
def test_dry_run_of_a_batch_prints_the_plan_and_creates_nothing(store: Store) -> None:
    counter_dir = store.dir / "runs"
    graph = {"counter_dir": str(counter_dir), "select": ALL}
    nodes = furu_steps.build_graph(str(counter_dir))

    proc = store.start({"action": "many", "graph": graph}, name="dry", FURU_DRY_RUN="1")

    assert proc.ok()["results"] == [None] * len(ALL)
    assert "FURU_DRY_RUN is set: computing nothing" in proc.stderr
    assert "plan: 10 to create, 0 cached" in proc.stderr
    shared, dep0 = nodes["shared"]._furu_short(), nodes["dep0"]._furu_short()
    # each line says why (the first reason of furu.explain): nothing like them is stored
    assert re.search(rf"create {re.escape(shared)} \(missing: [^\n]*\)\n", proc.stderr)
    assert re.search(rf"create {re.escape(dep0)} \(missing: [^\n]*\) after {shared}\n", proc.stderr)
    assert str(nodes["dep0"].furu_dir) in proc.stderr
    assert not counter_dir.exists()
    assert store.files() == []


@pytest.mark.timeout(120)
def test_forced_batch_recomputes_each_step_once(store: Store) -> None:
    counter_dir = store.dir / "runs"
    counter_dir.mkdir()
    graph = {"counter_dir": str(counter_dir), "select": ["dep0", "dep1", "dep2"]}
    spec = {"action": "many", "graph": graph, "max_workers": 2}
    store.start(spec, name="first").ok()
    assert runs(counter_dir) == {"shared": 1, "dep0": 1, "dep1": 1, "dep2": 1}

    # Each worker loads `shared` again inside its dependents' _create: that must not recompute
    # it a second time (FURU_FORCE_RECOMPUTE means once per run, not once per worker process).
    forced = store.start(spec, name="forced", FURU_FORCE_RECOMPUTE="ALL")

    assert forced.ok()["results"] == ["dep0(shared())", "dep1(shared())", "dep2(shared())"]
    assert "plan: 4 to create, 0 cached" in forced.stderr
    assert runs(counter_dir) == {"shared": 2, "dep0": 2, "dep1": 2, "dep2": 2}
