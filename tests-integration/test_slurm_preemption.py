"""Requeue and preemption on the real cluster, with a step that checkpoints and resumes."""

from __future__ import annotations

import json
import threading
import time
from typing import Any

import pytest

import furu
import furu_slurm
from slurm.fixtures import SlurmEnv, sh, wait_for
from slurm_steps import CountTo, Square, lines


def _attempt(step: Any) -> dict[str, Any]:
    try:
        state = json.loads((step.furu_dir / ".furu" / "state.json").read_text(encoding="utf-8"))
    except (FileNotFoundError, ValueError):
        return {}
    return dict(state.get("attempt") or {})


def _progress(step: CountTo) -> int:
    """The count saved so far: in the running attempt's files, or in the published result."""
    where = furu.step_dir(step).attempt_dir() or step.furu_dir
    try:
        return int(json.loads((where / "progress.json").read_text())["count"])
    except (FileNotFoundError, ValueError):
        return 0


class _Waiter:
    """`batch.wait()` in a thread, so the test can act on the cluster meanwhile."""

    def __init__(self, batch: furu_slurm.Batch) -> None:
        self.batch = batch
        self.counts: dict[str, int] | None = None
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        try:
            self.counts = self.batch.wait(timeout=150, progress=False)
        except BaseException as exc:
            self.error = exc

    def join(self) -> dict[str, int]:
        self.thread.join(170)
        assert self.error is None, self.error
        assert self.counts is not None
        return self.counts


def _statuses_until_done(step: Any, waiter: _Waiter) -> list[str]:
    seen: list[str] = []
    while waiter.thread.is_alive():
        status = _attempt(step).get("status")
        if status and (not seen or seen[-1] != status):
            seen.append(status)
        waiter.thread.join(0.1)
    # SUCCESS.json is published before state.json records the attempt's end (the batch may
    # report the step done in between): wait for the end to be recorded.
    deadline = time.monotonic() + 30
    final = _attempt(step).get("status")
    while final in ("running", "queued") and time.monotonic() < deadline:
        time.sleep(0.05)
        final = _attempt(step).get("status")
    if final and (not seen or seen[-1] != final):
        seen.append(final)
    return seen


@pytest.mark.slow
@pytest.mark.timeout(180)
def test_scontrol_requeue_records_preempted_and_the_step_resumes(slurm: SlurmEnv) -> None:
    history = slurm.path("history.log")
    step = CountTo(n=40, step_secs=0.25, history_path=history)
    batch = furu_slurm.submit_many([step], executor=slurm.executor())
    job_id = batch.tracked[0].job_id
    assert job_id
    waiter = _Waiter(batch)
    wait_for(lambda: _progress(step) >= 8, what="the step to make progress", timeout=60)
    wait_for(
        lambda: sh("sacct", "-n", "-X", "-P", "-o", "State", "-j", job_id) == "RUNNING",
        what="sacct to report RUNNING",
        timeout=30,
    )
    assert sh("scontrol", "requeue", job_id) == ""

    seen = _statuses_until_done(step, waiter)
    assert waiter.join()["done"] == 1
    result = step.load_or_create()
    assert result["count"] == 40
    assert result["resumed_from"] > 0
    starts = [json.loads(x) for x in lines(history) if '"start"' in x]
    assert [s["restart"] for s in starts] == ["0", "1"]
    assert "preempted" in seen
    assert seen[-1] == "success"
    assert seen.index("preempted") < len(seen) - 1
    final = _attempt(step)
    assert final["number"] == 2
    assert final["scheduler"]["restarts"] == 1


@pytest.mark.slow
@pytest.mark.timeout(180)
def test_preemption_by_a_higher_priority_partition_checkpoints_and_resumes(
    slurm: SlurmEnv,
) -> None:
    history = slurm.path("history.log")
    victim = CountTo(n=40, step_secs=0.25, history_path=history)
    # The victim takes every CPU of the node, so the urgent job can only run by preempting it.
    ex = slurm.executor(cpus=slurm.cluster.cpus)
    batch = furu_slurm.submit_many([victim], executor=ex)
    waiter = _Waiter(batch)
    wait_for(lambda: _progress(victim) >= 8, what="the victim to make progress", timeout=60)

    urgent = Square(x=5, log_path=slurm.path("urgent.log"))
    job = urgent.load_or_create(executor=slurm.executor().with_resources(partition="urgent"))
    assert job.result(timeout=90) == 25

    seen = _statuses_until_done(victim, waiter)
    assert waiter.join()["done"] == 1
    result = victim.load_or_create()
    assert result["count"] == 40
    assert result["resumed_from"] > 0
    events = [json.loads(x) for x in lines(history)]
    assert [e["event"] for e in events] == ["start", "checkpoint", "start"]
    assert "preempted" in seen
    assert seen[-1] == "success"
    final = _attempt(victim)
    assert final["status"] == "success"
    assert final["number"] == 2


def _cancel_while_counting(
    slurm: SlurmEnv, *, preempt_max: int, n: int
) -> tuple[CountTo, furu_slurm.Batch, _Waiter, str]:
    """With FURU_CANCELLED_IS_PREEMPTED=1: submit a counting step, scancel it once it counts."""
    furu_slurm.SLURM_CONFIG.cancelled_is_preempted = True
    furu_slurm.SLURM_CONFIG.preempt_max = preempt_max
    step = CountTo(n=n, step_secs=0.25, history_path=slurm.path("history.log"))
    batch = furu_slurm.submit_many([step], executor=slurm.executor())
    job = batch.tracked[0].job_id
    assert job
    waiter = _Waiter(batch)
    wait_for(lambda: _progress(step) >= 4, what="the step to make progress", timeout=60)
    sh("scancel", job)
    return step, batch, waiter, job


@pytest.mark.slow
@pytest.mark.timeout(180)
def test_cancelled_is_preempted_resubmits_a_cancelled_job_and_it_resumes(
    slurm: SlurmEnv,
) -> None:
    """FURU_CANCELLED_IS_PREEMPTED=1: an `scancel` counts as preemption, within FURU_PREEMPT_MAX."""
    step, batch, waiter, first_job = _cancel_while_counting(slurm, preempt_max=1, n=30)

    seen = _statuses_until_done(step, waiter)
    assert waiter.join()["done"] == 1
    second_job = batch.tracked[0].job_id
    assert second_job
    assert second_job != first_job
    assert seen[-1] == "success"
    result = step.load_or_create()
    assert result["count"] == 30
    assert result["resumed_from"] > 0  # its saved progress survived the cancel
    final = _attempt(step)
    assert final["scheduler"]["job_id"] == second_job
    assert final["number"] >= 2
    log = (step.furu_dir / ".furu" / "furu.log").read_text(encoding="utf-8")
    assert f"as slurm job {first_job}" in log
    assert (
        f"job {first_job} CANCELLED; FURU_CANCELLED_IS_PREEMPTED=1: resubmitted "
        "(1 of FURU_PREEMPT_MAX=1)" in log
    )
    assert f"as slurm job {second_job}" in log


@pytest.mark.timeout(120)
def test_a_cancel_past_preempt_max_is_a_cancel(slurm: SlurmEnv) -> None:
    step, batch, waiter, job = _cancel_while_counting(slurm, preempt_max=0, n=400)
    assert waiter.join()["failed"] == 1
    assert batch.tracked[0].job_id == job  # not resubmitted: FURU_PREEMPT_MAX=0
    assert "cancelled in SLURM" in str(dict(batch.errors())[furu.step_id(step).short])
    assert _attempt(step)["status"] == "cancelled"
