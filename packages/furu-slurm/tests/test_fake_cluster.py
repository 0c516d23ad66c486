"""Submission against a fake sbatch/sacct: arrays, dependencies, claims, states (no jobs run)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from slurm_fake_cluster import FakeCluster
from unit_steps import Base, Big, Child

import furu
import furu_slurm
from furu_slurm._node import NodeTask


def _executor(tmp_path: Any) -> furu_slurm.SlurmExecutor:
    return furu_slurm.SlurmExecutor(
        folder=tmp_path / "jobs", resources=furu_slurm.Resources(partition="p", time=30)
    )


def _attempt(step: furu.Furu[Any]) -> dict[str, Any]:
    return json.loads((step.furu_dir / ".furu" / "state.json").read_text())["attempt"]


def test_misses_become_one_array_per_depth_and_resources(
    fake_cluster: FakeCluster, tmp_path
) -> None:
    base = Base(name="b")
    children = [Child(base=base, i=i) for i in range(10)]
    big = [Big(i=i) for i in range(3)]
    cached = Child(base=Base(name="cached"), i=0)
    cached.load_or_create()

    batch = _executor(tmp_path).submit_many([*children, *big, cached])

    assert batch.sbatch_calls == 3
    assert len(fake_cluster.calls("sbatch")) == 3
    first, _second, _third = fake_cluster.scripts()
    assert "--array" not in first or "--array=0-3" in first  # base and the Big ones, depth 0
    scripts = "\n".join(fake_cluster.scripts())
    assert "#SBATCH --array=0-9%10" in scripts
    assert "#SBATCH --cpus-per-task=4" in scripts
    assert "#SBATCH --mem=8G" in scripts
    base_job = next(t.job_id for t in batch.tracked if t.step is base)
    assert f"#SBATCH --dependency=afterany:{base_job}" in scripts
    assert "#SBATCH --partition=p" in scripts
    assert "#SBATCH --time=30" in scripts
    assert len(batch.tracked) == 14  # the cached step is not part of it
    queued = _attempt(children[3])
    assert queued["status"] == "queued"
    assert queued["backend"] == "submitit"
    assert queued["scheduler"]["job_id"] == next(
        t.job_id for t in batch.tracked if t.step is children[3]
    )
    assert queued["scheduler"]["partition"] == "p"
    log = (children[3].furu_dir / ".furu" / "furu.log").read_text()
    assert "submitted Child" in log
    assert "stdout" in log


def test_a_second_submitter_follows_the_first_one_s_jobs(
    fake_cluster: FakeCluster, tmp_path
) -> None:
    steps = [Child(base=Base(name="b"), i=i) for i in range(4)]
    first = _executor(tmp_path).submit_many(steps)
    fake_cluster.set_sacct("\n".join(f"{j}|PENDING" for j in first.job_ids))
    second = _executor(tmp_path).submit_many(steps)
    assert len(fake_cluster.calls("sbatch")) == 2  # only the first submitter's two arrays
    assert second.sbatch_calls == 0
    assert all(t.origin == "foreign" for t in second.tracked)
    assert sorted(second.job_ids) == sorted(first.job_ids)


def test_a_stale_claim_of_a_dead_job_is_broken_and_resubmitted(
    fake_cluster: FakeCluster, tmp_path
) -> None:
    step = Base(name="stale")
    first = _executor(tmp_path).submit_many([step])
    fake_cluster.set_sacct(f"{first.job_ids[0]}|NODE_FAIL\n")
    second = _executor(tmp_path).submit_many([step])
    assert second.sbatch_calls == 1
    assert second.tracked[0].origin == "submitted"


def test_ctrl_c_cancels_the_batch_with_one_scancel(
    fake_cluster: FakeCluster, tmp_path, monkeypatch: pytest.MonkeyPatch
) -> None:
    batch = _executor(tmp_path).submit_many([Base(name=str(i)) for i in range(3)])

    def interrupt(*_: Any) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(batch, "refresh", interrupt)
    with pytest.raises(KeyboardInterrupt):
        batch.wait(progress=False)
    assert fake_cluster.calls("scancel") == [" ".join(sorted(batch.job_ids))]
    assert batch.counts()["failed"] == 3

    kept = _executor(tmp_path).submit_many([Base(name="kept")])
    monkeypatch.setattr(kept, "refresh", interrupt)
    with pytest.raises(KeyboardInterrupt):
        kept.wait(progress=False, cancel_on_interrupt=False)
    assert len(fake_cluster.calls("scancel")) == 1


def test_the_node_skips_a_step_whose_dependency_failed(tmp_path) -> None:
    base = Base(name="never-made")
    child = Child(base=base, i=1)
    task = NodeTask(step=child, deps=((base._furu_short(), str(base.furu_dir)),))
    assert task() == {
        "outcome": "skipped",
        "reason": f"dependency {base._furu_short()} did not succeed",
    }
    assert not child.exists()
    assert not base.exists()
    attempt = _attempt(child)
    assert attempt["status"] == "cancelled"
    assert base._furu_short() in attempt["reason"]


def test_the_node_refuses_past_the_requeue_budget(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("SLURM_RESTART_COUNT", "3")
    furu.FURU_CONFIG.preempt_max = 2
    step = Base(name="requeued")
    outcome = NodeTask(step=step)()
    assert outcome["outcome"] == "failed"
    assert "FURU_PREEMPT_MAX=2" in outcome["reason"]
    assert _attempt(step)["status"] == "failed"
    monkeypatch.setenv("SLURM_RESTART_COUNT", "2")
    assert NodeTask(step=step)() == {"outcome": "done"}
    assert step.exists()
