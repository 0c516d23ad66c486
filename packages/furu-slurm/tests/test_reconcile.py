"""`reconcile`: the end of jobs nobody watched, recorded from one sacct call (fake cluster)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from typing import Any

import pytest
from slurm_fake_cluster import FakeCluster
from unit_steps import Base, Gate

import furu
import furu_slurm
from furu_slurm.__main__ import main


def _submit(tmp_path: Any, steps: list[furu.Furu[Any]]) -> dict[str, str]:
    ex = furu_slurm.SlurmExecutor(
        folder=tmp_path / "jobs", resources=furu_slurm.Resources(partition="p", time=5)
    )
    batch = furu_slurm.submit_many(steps, executor=ex)
    return {t.describe(): str(t.job_id) for t in batch.tracked}


def _attempt(step: furu.Furu[Any]) -> dict[str, Any]:
    return json.loads(furu.step_dir(step).state_path.read_text())["attempt"]


def test_ended_jobs_are_recorded_and_live_or_unknown_ones_left_alone(
    fake_cluster: FakeCluster, tmp_path
) -> None:
    cancelled, timed_out, pending, unknown = (Base(name=n) for n in ("c", "t", "p", "u"))
    jobs = _submit(tmp_path, [cancelled, timed_out, pending, unknown])
    job = {s: jobs[furu.step_id(s).short] for s in (cancelled, timed_out, pending, unknown)}
    fake_cluster.set_sacct(
        f"{job[cancelled]}|CANCELLED by 0\n{job[timed_out]}|TIMEOUT\n{job[pending]}|PENDING\n"
    )

    preview = furu_slurm.reconcile(dry_run=True)
    assert {r.job_id: r.now for r in preview} == {
        job[cancelled]: "cancelled",
        job[timed_out]: "failed",
        job[pending]: None,
        job[unknown]: None,
    }
    assert all(_attempt(s)["status"] == "queued" for s in job)  # a dry run writes nothing
    sacct_calls = len(fake_cluster.calls("sacct"))
    assert sacct_calls == 1  # every job of the store in one call

    rows = {r.job_id: r for r in furu_slurm.reconcile()}
    assert rows[job[timed_out]].scheduler_state == "TIMEOUT"
    assert rows[job[unknown]].scheduler_state == "UNKNOWN"
    assert _attempt(cancelled)["status"] == "cancelled"
    assert f"job {job[cancelled]} ended CANCELLED" in _attempt(cancelled)["reason"]
    assert _attempt(timed_out)["status"] == "failed"
    assert "TIMEOUT" in (timed_out.furu_dir / ".furu" / "furu.log").read_text()
    assert _attempt(pending)["status"] == "queued"
    assert _attempt(unknown)["status"] == "queued"
    assert not (cancelled.furu_dir / ".furu" / "slurm.claim").exists()
    assert (pending.furu_dir / ".furu" / "slurm.claim").exists()

    # the next submission submits the cancelled step again and follows the pending one
    again = _submit(tmp_path, [cancelled, pending])
    assert again[furu.step_id(cancelled).short] != job[cancelled]
    assert again[furu.step_id(pending).short] == job[pending]
    # a second pass has nothing left to record: the settled steps are no longer unfinished
    assert [r.now for r in furu_slurm.reconcile(dry_run=True) if r.now] == []


def test_a_step_whose_job_ended_but_whose_process_holds_the_lock_is_left_alone(
    fake_cluster: FakeCluster, tmp_path
) -> None:
    step = Gate(name="held")
    job = _submit(tmp_path, [step])[furu.step_id(step).short]
    fake_cluster.set_sacct(f"{job}|FAILED\n")  # sacct says it ended; its process is still dying

    def the_job_s_process() -> None:
        context = furu.AttemptContext(
            backend="submitit", job_id=job, scheduler={"name": "slurm", "job_id": job}
        )
        with furu.attempt_context(context):
            step.load_or_create()

    Gate.entered.clear()
    Gate.release.clear()
    holder = threading.Thread(target=the_job_s_process)
    holder.start()
    try:
        assert Gate.entered.wait(30)
        (row,) = furu_slurm.reconcile()
        assert (row.job_id, row.was, row.now) == (job, "running", None)
        assert _attempt(step)["status"] == "running"
    finally:
        Gate.release.set()
        holder.join(30)
    assert _attempt(step)["status"] == "success"  # it recorded its own end
    assert furu_slurm.reconcile() == []


def test_reconcile_reads_the_store_it_is_given(fake_cluster: FakeCluster, tmp_path) -> None:
    step = Base(name="elsewhere")
    job = _submit(tmp_path, [step])[furu.step_id(step).short]
    fake_cluster.set_sacct(f"{job}|CANCELLED\n")
    assert furu_slurm.reconcile(store=furu.Store(tmp_path / "another-store")) == []
    (row,) = furu_slurm.reconcile(store=furu.Store.current(), dry_run=True)
    assert (row.job_id, row.now) == (job, "cancelled")
    assert row.furu_dir == step.furu_dir


def test_the_cli_reports_and_fails_when_sacct_answers_nothing(
    fake_cluster: FakeCluster, tmp_path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["reconcile"]) == 0
    assert "no unfinished SLURM attempts" in capsys.readouterr().out
    step = Base(name="cli")
    job = _submit(tmp_path, [step])[furu.step_id(step).short]
    fake_cluster.set_sacct("sacct: error: slurmdbd unreachable\n", rc=1)
    assert main(["reconcile", "--dry-run"]) == 1
    out, err = capsys.readouterr()
    assert job in out
    assert "left as it is" in out
    assert "is sacct on PATH and slurmdbd reachable" in err
    fake_cluster.set_sacct(f"{job}|NODE_FAIL\n")
    assert main(["reconcile"]) == 0
    out, err = capsys.readouterr()
    assert "recorded failed" in out
    assert "1 recorded" in err


def test_python_dash_m_furu_slurm_runs(tmp_path) -> None:
    env = {**os.environ, "FURU_PATH": str(tmp_path / "empty-store")}
    out = subprocess.run(
        [sys.executable, "-m", "furu_slurm", "reconcile"],
        capture_output=True,
        text=True,
        env=env,
        check=True,
        timeout=60,
    )
    assert "no unfinished SLURM attempts" in out.stdout
