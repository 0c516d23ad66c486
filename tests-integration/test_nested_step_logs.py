"""A step created inside another step's `_create` logs to its own `furu.log`, not its parent's."""

from __future__ import annotations

from pathlib import Path

import pytest

import furu
import furu_steps
from furu_harness import Store


@pytest.mark.timeout(60)
def test_nested_steps_each_log_to_their_own_furu_log(store: Store) -> None:
    inner_spec = {"cls": "Inner", "kwargs": {"counter_path": store.path("inner.count")}}
    outer_spec = {
        "cls": "Outer",
        "kwargs": {"inner": inner_spec, "counter_path": store.path("outer.count")},
    }

    proc = store.start({"step": outer_spec}, name="nested")

    out = proc.ok()
    assert out["results"] == ["outer of [inner result]"]
    outer = furu_steps.Outer(
        inner=furu_steps.Inner(counter_path=store.path("inner.count")),
        counter_path=store.path("outer.count"),
    )
    assert Path(out["furu_dir"]) == outer.furu_dir
    outer_log = (outer.furu_dir / ".furu" / "furu.log").read_text()
    inner_log = (outer.inner.furu_dir / ".furu" / "furu.log").read_text()

    assert "outer-start" in outer_log
    assert "outer-end" in outer_log
    assert "inner-work" not in outer_log
    assert f"load_or_create Outer {outer._furu_hash[:9]} (missing->create)" in outer_log
    assert "inner-work" in inner_log
    assert "outer-start" not in inner_log
    assert "outer-end" not in inner_log
    assert f"load_or_create Inner {outer.inner._furu_hash[:9]} (missing->create)" in inner_log
    assert "Outer" not in inner_log
    # Records carry their logger's name, level and source line.
    assert "INFO furu_steps.inner furu_steps.py:" in inner_log
    # The console (stderr) got every record.
    assert "outer-start" in proc.stderr
    assert "inner-work" in proc.stderr
    for step in (outer, outer.inner):
        assert step.get_state().result_status is furu.ResultStatus.SUCCESS
