"""Racing submitters, and a step already computing locally when a batch is submitted."""

from __future__ import annotations

import json
import os

import pytest

import furu
import furu_slurm
from furu_harness import Store
from slurm.fixtures import SlurmEnv, wait_for
from slurm_steps import After, Hold, lines

SUBMITTER = """
import json, sys
import furu_slurm
from slurm_steps import Square
steps = [Square(x=i, log_path={log!r}, sleep_secs=1.0) for i in range(8)]
ex = furu_slurm.SlurmExecutor(folder={folder!r},
    resources=furu_slurm.Resources(partition="debug", time=10), poll_interval=1.0)
open({ready!r} + {name!r}, "w").close()
import os, time
deadline = time.monotonic() + 60
while not os.path.exists({go!r}) and time.monotonic() < deadline:
    time.sleep(0.001)
batch = furu_slurm.submit_many(steps, executor=ex)
counts = batch.wait(timeout=120, progress=False)
mine = [t.job_id for t in batch.tracked if t.origin == "submitted"]
print(json.dumps({{"ok": True, "mine": mine, "sbatch": batch.sbatch_calls, "counts": counts}}))
"""


@pytest.mark.slow
@pytest.mark.timeout(180)
def test_two_racing_submitters_queue_each_step_once(slurm: SlurmEnv, store: Store) -> None:
    log, go, ready = slurm.path("squares.log"), slurm.path("go"), slurm.path("ready-")
    procs = []
    for name in ("a", "b"):
        code = SUBMITTER.format(
            log=log, folder=slurm.path(f"jobs-{name}"), go=go, ready=ready, name=name
        )
        procs.append(store.start_code(code + "\n", name=f"submitter-{name}"))
    for name in ("a", "b"):
        wait_for(lambda n=name: os.path.exists(ready + n), what="submitters ready", timeout=30)
    open(go, "w").close()

    outs = [p.ok(timeout=150) for p in procs]
    assert all(o["counts"]["done"] == 8 for o in outs), outs
    submitted = [job for o in outs for job in o["mine"]]
    assert len(submitted) == 8, outs  # every step queued by exactly one of them
    xs = [json.loads(line)["x"] for line in lines(log)]
    assert sorted(xs) == list(range(8))  # and computed once


@pytest.mark.slow
@pytest.mark.timeout(120)
def test_a_step_running_locally_is_not_submitted_again(slurm: SlurmEnv, store: Store) -> None:
    started, release = slurm.path("started"), slurm.path("release")
    hold = Hold(name="local", started_path=started, release_path=release)
    code = (
        "from slurm_steps import Hold\n"
        f"Hold(name='local', started_path={started!r}, release_path={release!r}).load_or_create()\n"
        "print('{\"ok\": true}')\n"
    )
    local = store.start_code(code, name="local")
    wait_for(lambda: lines(started), what="the local process to start the step")

    after = After(upstream=hold, tag=3, log_path=slurm.path("events.log"))
    batch = furu_slurm.submit_many([after], executor=slurm.executor())
    by_step = {t.describe(): t for t in batch.tracked}
    assert by_step[furu.step_id(hold).short].origin == "local"
    assert by_step[furu.step_id(hold).short].job_id is None
    assert batch.sbatch_calls == 1
    assert len(batch.job_ids) == 1

    open(release, "w").close()
    assert batch.wait(timeout=90, progress=False)["done"] == 2
    local.ok(timeout=30)
    assert len(lines(started)) == 1  # computed once, by the local process
    assert after.load_or_create() == 3
