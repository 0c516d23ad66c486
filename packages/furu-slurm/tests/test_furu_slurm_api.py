"""The public surface of furu_slurm, its errors, and how furu hands it raw submitit executors."""

from __future__ import annotations

import pickle
import re
from importlib.metadata import entry_points
from pathlib import Path

import pytest
import submitit
from slurm_fake_cluster import FakeCluster

import furu
import furu_slurm

EXPECTED = [
    "SLURM_CONFIG",
    "Batch",
    "FuruSlurmError",
    "Reconciled",
    "Resources",
    "SlurmConfig",
    "SlurmConfigError",
    "SlurmExecutor",
    "SlurmJobError",
    "SlurmSubmitError",
    "SlurmWaitTimeout",
    "StepJob",
    "__version__",
    "parse_sacct",
    "reconcile",
    "submit_many",
]


def _isort_key(name: str) -> tuple[int, list[int | str]]:
    """ruff's RUF022 order: SCREAMING_CASE, then CamelCase, then the rest (as furu's test)."""
    kind = 0 if len(name) > 1 and name.isupper() else 1 if name[:1].isupper() else 2
    return kind, [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", name)]


def test_all_is_sorted_and_complete() -> None:
    assert furu_slurm.__all__ == EXPECTED == sorted(EXPECTED, key=_isort_key)
    public = {n for n in dir(furu_slurm) if not n.startswith("_")}
    assert public == set(EXPECTED) - {"__version__"}
    for name in EXPECTED:
        assert getattr(furu_slurm, name) is not None


def test_errors_derive_from_furu_error_and_pickle() -> None:
    errors = [
        furu_slurm.SlurmJobError("x failed", step="X 1", job_id="12_3", state="FAILED"),
        furu_slurm.SlurmSubmitError("no", command="sbatch", output="bad partition"),
        furu_slurm.SlurmWaitTimeout("slow", waited_sec=3.0, unfinished=["12_3"]),
        furu_slurm.SlurmConfigError("bad"),
    ]
    for err in errors:
        assert isinstance(err, furu_slurm.FuruSlurmError)
        assert isinstance(err, furu.FuruError)
        back = pickle.loads(pickle.dumps(err))
        assert type(back) is type(err)
        assert str(back) == str(err)
        assert back.__dict__ == err.__dict__


def test_a_non_slurm_submitit_executor_is_refused_with_what_to_do(tmp_path) -> None:
    from unit_steps import Base

    local = submitit.AutoExecutor(folder=tmp_path / "jobs", cluster="local")
    with pytest.raises(furu_slurm.SlurmConfigError, match="AutoExecutor picked cluster 'local'"):
        Base(name="a").load_or_create(executor=local)


def test_an_object_that_is_no_executor_is_refused_by_furu() -> None:
    from unit_steps import Base

    with pytest.raises(furu.FuruConfigError, match="not a furu executor"):
        Base(name="a").load_or_create(executor=object())


def test_an_executor_needs_a_folder_or_a_submitit_executor() -> None:
    with pytest.raises(furu_slurm.SlurmConfigError, match="folder"):
        furu_slurm.SlurmExecutor()


def test_a_slurm_config_error_is_a_furu_config_error() -> None:
    assert issubclass(furu_slurm.SlurmConfigError, furu.FuruConfigError)
    assert issubclass(furu_slurm.SlurmConfigError, ValueError)


# ---------------------------------------------------------------- what the core finds by name


def test_furu_finds_the_adapter_and_the_attempt_context_through_entry_points() -> None:
    (adapter,) = entry_points(group="furu.executors", name="submitit")
    assert adapter.load() is furu_slurm.SlurmExecutor
    (context,) = entry_points(group="furu.attempt_contexts", name="slurm")
    from furu_slurm import _context

    assert context.load() is _context.ambient


def test_the_executor_and_its_handle_satisfy_furu_s_protocols(tmp_path) -> None:
    ex = furu_slurm.SlurmExecutor(folder=tmp_path / "jobs")
    assert isinstance(ex, furu.Executor)
    assert isinstance(furu_slurm.StepJob(object(), None, None), furu.Submitted)  # type: ignore[arg-type]


def test_a_raw_submitit_executor_submits_through_the_adapter(
    fake_cluster: FakeCluster, tmp_path
) -> None:
    from unit_steps import Base

    raw = submitit.AutoExecutor(folder=tmp_path / "jobs", cluster="slurm")
    raw.update_parameters(slurm_partition="p", timeout_min=5)
    step = Base(name="adapted")
    job = step.load_or_create(executor=raw)
    assert isinstance(job, furu_slurm.StepJob)
    assert job.submitted
    assert job.job_id
    assert not job.done()  # the fake cluster never runs it
    assert len(fake_cluster.calls("sbatch")) == 1
    assert "#SBATCH --partition=p" in fake_cluster.scripts()[0]
    attempt = furu.step_dir(step).read_raw_state().attempt  # type: ignore[union-attr]
    assert attempt is not None
    assert attempt.status is furu.AttemptStatus.QUEUED
    assert attempt.backend == "submitit"
    assert attempt.job_id == job.job_id
    assert (
        repr(job) == f"StepJob({furu.step_id(step).short}, job_id={job.job_id!r}, state='queued')"
    )


def test_furu_slurm_uses_furu_s_public_api_only() -> None:
    """No private module of furu, no private attribute of a step: the core may change them."""
    package = Path(__file__).resolve().parents[1]
    core = "furu"  # spelled apart, so that this test does not find itself
    private = re.compile(rf"\b{core}\._|from {core} import _|\._{core}_\w")
    found = [
        f"{path.relative_to(package)}:{number}: {line.strip()}"
        for path in sorted([*package.glob("src/**/*.py"), *package.glob("tests/*.py")])
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if private.search(line)
    ]
    assert found == [], "use furu's public API (furu.StepDir, furu.step_id, ...) instead"
