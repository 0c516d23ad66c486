"""Many real processes call `load_or_create()` on one step at the same moment."""

from __future__ import annotations

from pathlib import Path

import pytest

import furu
import furu_steps
from furu_harness import Store, wait_until

RACERS = 8


@pytest.mark.timeout(120)
def test_racing_processes_create_once_and_all_get_the_same_result(store: Store) -> None:
    spec = store.counted("raced", sleep_secs=0.5)
    go = store.path("go")
    readies = [store.path(f"ready{i}") for i in range(RACERS)]
    procs = [
        store.start({"step": spec, "ready": ready, "go": go}, name=f"racer{i}")
        for i, ready in enumerate(readies)
    ]
    wait_until(
        lambda: all(Path(r).exists() for r in readies), what="every racer to start", procs=procs
    )
    furu_steps.write_marker(go, "go")

    outs = [proc.ok() for proc in procs]

    assert store.count(spec["kwargs"]["counter_path"]) == 1
    results = {out["results"][0] for out in outs}
    assert len(results) == 1, results
    (result,) = results
    assert result.startswith("raced made by pid ")
    furu_dir = Path(outs[0]["furu_dir"])
    assert {out["furu_dir"] for out in outs} == {str(furu_dir)}
    assert (furu_dir / ".furu" / "SUCCESS.json").is_file()
    assert not (furu_dir / ".furu" / "compute.lock").exists()
    state = furu.StateManager(furu_dir).read()
    assert state.result_status is furu.ResultStatus.SUCCESS
    assert state.attempt is not None
    assert state.attempt.status is furu.AttemptStatus.SUCCESS
    assert state.attempts == 1
