"""A holder frozen past its lease (SIGSTOP, as `scontrol suspend` does) can never touch the
result of the attempt that replaced it (ADR 0004).

The holder runs under another hostname (its own UTS namespace), so a waiter cannot ask whether
its pid lives and must go by the lease, as between two nodes of a cluster.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import furu
from furu_harness import Proc, Store, wait_until

LEASE = "2"


def _unshare_argv() -> list[str]:
    unshare = shutil.which("unshare")
    if (
        unshare is None
        or subprocess.run([unshare, "--uts", "true"], capture_output=True, check=False).returncode
    ):
        if os.environ.get("CI"):
            pytest.fail("`unshare --uts` is needed to run a holder under another hostname")
        pytest.skip("`unshare --uts` does not work here (needs root); CI runs this test")
    return [unshare, "--uts", "sh", "-c", 'hostname frozen-node && exec "$0" "$@"']


@pytest.mark.timeout(120)
@pytest.mark.parametrize(
    "announce_after",
    [0, 2, -1],
    ids=["before-any-output", "mid-output", "after-all-output"],
)
def test_a_frozen_holder_cannot_change_the_result_that_replaced_it(
    store: Store, announce_after: int
) -> None:
    started = store.path("holder.started")
    spec = {
        "cls": "Sharded",
        "kwargs": {
            "name": "frozen",
            "counter_path": store.path("frozen.count"),
            "parts": 4,
            "started_path": started,
            "announce_after": announce_after,
            "pause_secs": 1.0,
        },
    }
    env = store.env(FURU_LEASE_SECS=LEASE, FURU_HEARTBEAT_SECS="0.2")
    argv = [*_unshare_argv(), sys.executable, "-m", "furu_driver", json.dumps({"step": spec})]
    holder = Proc(argv, name="holder", cwd=store.dir, env=env)
    store.procs.append(holder)
    wait_until(
        lambda: Path(started).exists(), what="the holder to pause in _create", procs=[holder]
    )
    os.kill(holder.pid, signal.SIGSTOP)
    try:
        # Its lease expires; the waiter breaks the lock, computes and publishes.
        waiter = store.start({"step": spec}, name="waiter", FURU_LEASE_SECS=LEASE)
        waiter_out = waiter.ok()
    finally:
        os.kill(holder.pid, signal.SIGCONT)
    holder_out = holder.result()
    furu_dir = Path(waiter_out["furu_dir"])

    # The holder resumed, noticed it lost the lock and failed; it did not publish.
    assert not holder_out["ok"], holder.describe()
    assert "lost the compute lock" in holder_out["message"], holder.describe()
    time.sleep(1.5)  # anything it still had in flight would land by now

    # The published result is the waiter's alone, and loads in a fresh process.
    waiter_pid = str(waiter.pid)
    assert waiter_out["results"][0] == [waiter_pid] * 4
    assert sorted(p.name for p in furu_dir.iterdir()) == [
        ".furu",
        "part-0.txt",
        "part-1.txt",
        "part-2.txt",
        "part-3.txt",
    ]
    assert {(furu_dir / f"part-{i}.txt").read_text() for i in range(4)} == {waiter_pid}
    again = store.start({"step": spec}, name="again").ok()
    assert again["results"][0] == [waiter_pid] * 4
    state = furu.StateManager(furu_dir).read()
    assert state.result_status is furu.ResultStatus.SUCCESS
    assert state.attempt is not None
    assert state.attempt.pid == waiter.pid
    assert store.count(spec["kwargs"]["counter_path"]) == 2
