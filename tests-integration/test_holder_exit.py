"""A holder that finishes, or fails, leaves no lock file behind and no heartbeat thread running."""

from __future__ import annotations

from pathlib import Path

import pytest

import furu
from furu_harness import Store

HEARTBEAT_THREAD = "furu-heartbeat-"


@pytest.mark.timeout(60)
def test_a_holder_that_finishes_leaves_no_lock_and_no_heartbeat(store: Store) -> None:
    # A short lease makes the heartbeat thread beat several times while _create sleeps.
    spec = store.counted("finished", sleep_secs=0.5)
    proc = store.start({"step": spec, "calls": 2}, name="holder", FURU_LEASE_SECS="0.3")

    out = proc.ok()

    assert not [name for name in out["threads"] if name.startswith(HEARTBEAT_THREAD)]
    assert out["threads"] == ["MainThread"]
    meta = Path(out["furu_dir"]) / ".furu"
    assert sorted(p.name for p in meta.iterdir()) == [
        "SUCCESS.json",
        "furu.log",
        "metadata.json",
        "state.json",
    ]
    assert "lost the compute lock" not in proc.stderr
    assert furu.StateManager(meta.parent).read().attempt.status is furu.AttemptStatus.SUCCESS


@pytest.mark.timeout(60)
def test_a_holder_that_fails_leaves_no_lock_and_no_heartbeat(store: Store) -> None:
    flag = store.path("fail.flag")
    Path(flag).write_text("fail")
    spec = store.counted("failed", sleep_secs=0.5, fail_flag=flag)
    proc = store.start({"step": spec}, name="holder", FURU_LEASE_SECS="0.3")

    out = proc.result()

    assert proc.popen.returncode == 3
    assert out["error_type"] == "FuruComputeError"
    assert out["threads"] == ["MainThread"]
    meta = Path(out["state_path"]).parent
    assert not (meta / "compute.lock").exists()
    assert not (meta / "SUCCESS.json").exists()
    assert not [p.name for p in meta.iterdir() if p.name.endswith(".tmp")]
