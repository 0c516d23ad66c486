"""Submission against a fake sbatch/sacct: arrays, dependencies, claims, states (no jobs run)."""

from __future__ import annotations

import errno
import json
import pickle
from typing import Any

import pytest
from slurm_fake_cluster import FakeCluster
from unit_steps import Base, Big, Child

import furu
import furu_slurm
from furu_slurm import _node, _submission
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
    name = furu.step_id(base).short
    task = NodeTask(step=child, deps=((name, furu.step_dir(base)),))
    assert task() == {"outcome": "skipped", "reason": f"dependency {name} did not succeed"}
    assert not child.exists()
    assert not base.exists()
    attempt = _attempt(child)
    assert attempt["status"] == "cancelled"
    assert attempt["backend"] == "submitit"
    assert name in attempt["reason"]
    log = furu.step_dir(child).log_path.read_text()
    assert f"furu_slurm not running {furu.step_id(child).short}: dependency {name}" in log


def test_the_node_refuses_past_the_requeue_budget(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("SLURM_RESTART_COUNT", "3")
    furu_slurm.SLURM_CONFIG.preempt_max = 2
    step = Base(name="requeued")
    outcome = NodeTask(step=step)()
    assert outcome["outcome"] == "failed"
    assert "FURU_PREEMPT_MAX=2" in outcome["reason"]
    assert _attempt(step)["status"] == "failed"
    monkeypatch.setenv("SLURM_RESTART_COUNT", "2")
    assert NodeTask(step=step)() == {"outcome": "done"}
    assert step.exists()


def test_settings_and_git_patch_are_written_once_not_into_every_task(
    fake_cluster: FakeCluster, tmp_path, monkeypatch: pytest.MonkeyPatch
) -> None:
    patch = "+" + "x" * 200_000  # a dirty repository's diff
    git = {"git_commit": "abc", "git_branch": "main", "git_remote": None, "git_patch": patch}
    furu.RunContext(settings={}, git=git).adopt()  # as if this process's repository were dirty
    base = Base(name="b")
    batch = _executor(tmp_path).submit_many([base, *(Child(base=base, i=i) for i in range(20))])
    assert batch.sbatch_calls == 2
    jobs = tmp_path / "jobs"
    (settings_file,) = jobs.glob("furu-settings-*.pkl")
    settings = pickle.loads(settings_file.read_bytes())
    assert isinstance(settings, _node.SubmitterSettings)
    assert settings.run.git is not None
    assert settings.run.git["git_patch"] == patch
    assert settings.run.settings["base_root"] == furu.FURU_CONFIG.base_root
    assert settings.slurm == furu_slurm.SLURM_CONFIG.as_dict()
    task_pickles = list(jobs.glob("*_submitted.pkl"))
    assert len(task_pickles) == 21
    assert max(p.stat().st_size for p in task_pickles) < 10_000


def test_the_node_applies_the_submitter_s_settings(tmp_path) -> None:
    furu_slurm.SLURM_CONFIG.preempt_max = 7
    furu.FURU_CONFIG.wait_log_every = 3.0
    path = _node.write_settings(tmp_path / "jobs")
    furu_slurm.SLURM_CONFIG.preempt_max = 1
    furu.FURU_CONFIG.wait_log_every = 99.0
    step = Base(name="settled")
    assert NodeTask(step=step, settings_path=path)() == {"outcome": "done"}
    assert furu_slurm.SLURM_CONFIG.preempt_max == 7
    assert furu.FURU_CONFIG.wait_log_every == 3.0
    assert step.exists()


def test_a_settings_file_of_another_format_is_refused(tmp_path) -> None:
    old = tmp_path / "furu-settings-old.pkl"
    old.write_bytes(pickle.dumps({"base_root": "/somewhere"}))  # what furu-slurm 0.1 wrote
    with pytest.raises(furu_slurm.SlurmConfigError, match="holds dict") as info:
        NodeTask(step=Base(name="old"), settings_path=str(old))()
    assert "Submit the steps again" in str(info.value)


def test_a_node_whose_settings_file_is_gone_says_what_happened(tmp_path) -> None:
    missing = tmp_path / "jobs" / "furu-settings-gone.pkl"
    with pytest.raises(furu_slurm.SlurmConfigError, match="is gone") as info:
        NodeTask(step=Base(name="lost"), settings_path=str(missing))()
    assert str(missing) in str(info.value)
    assert "Submit the steps again" in str(info.value)
    missing.parent.mkdir()
    missing.write_bytes(b"not a pickle")
    with pytest.raises(furu_slurm.SlurmConfigError, match="unreadable"):
        NodeTask(step=Base(name="lost"), settings_path=str(missing))()


def test_an_sbatch_refusal_fails_the_steps_with_sbatch_s_words(
    fake_cluster: FakeCluster, tmp_path
) -> None:
    fake_cluster.refuse_sbatch("sbatch: error: invalid partition specified: nosuch")
    steps = [Base(name=str(i)) for i in range(3)]
    batch = _executor(tmp_path).submit_many(steps)
    assert batch.counts()["failed"] == 3
    (_, error), *_ = batch.errors()
    assert isinstance(error, furu_slurm.SlurmSubmitError)
    assert "invalid partition specified: nosuch" in str(error)
    assert "Check the resources" in str(error)
    fake_cluster.refuse_sbatch(None)  # the claims were released: a new submission goes through
    again = _executor(tmp_path).submit_many(steps)
    assert again.sbatch_calls == 1
    assert all(t.origin == "submitted" for t in again.tracked)


def test_a_full_disk_for_the_job_files_fails_the_submission_clearly(
    fake_cluster: FakeCluster, tmp_path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def full(folder: Any) -> str:
        raise OSError(errno.ENOSPC, "No space left on device", str(folder))

    monkeypatch.setattr(_submission, "write_settings", full)
    batch = _executor(tmp_path).submit_many([Base(name="nospace")])
    (_, error), *_ = batch.errors()
    assert isinstance(error, furu_slurm.SlurmSubmitError)
    assert "No space left on device" in str(error)
    assert "another folder" in str(error)
    assert fake_cluster.calls("sbatch") == []


def test_under_force_recompute_a_job_loads_what_its_batch_recomputed_before_it(
    fake_cluster: FakeCluster, tmp_path
) -> None:
    from submitit.core.utils import DelayedSubmission

    base = Base(name="forced")
    children = [Child(base=base, i=i) for i in range(2)]
    furu.FURU_CONFIG.force_recompute = frozenset({f"{Base.__module__}.Base"})
    batch = _executor(tmp_path).submit_many(children)
    assert batch.sbatch_calls == 2
    pickles = (tmp_path / "jobs").glob("*_submitted.pkl")
    tasks = {furu.step_id(t.step): t for t in (DelayedSubmission.load(p).function for p in pickles)}
    base_id = furu.step_id(base)
    assert tasks[base_id].recomputed == ()
    for child in children:
        assert tasks[furu.step_id(child)].recomputed == ((base_id.namespace, base_id.hash),)

    assert furu.RunPolicy.current().forces(base_id)  # here, a cached Base would be recomputed
    NodeTask(step=Base(name="another"), recomputed=tasks[furu.step_id(children[0])].recomputed)()
    assert not furu.RunPolicy.current().forces(base_id)  # in the child's job, it is loaded
