"""The public surface of furu_slurm, its errors, and how furu hands it raw submitit executors."""

from __future__ import annotations

import pickle

import pytest
import submitit

import furu
import furu_slurm

EXPECTED = [
    "Batch",
    "FuruSlurmError",
    "Reconciled",
    "Resources",
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


def test_all_is_sorted_and_complete() -> None:
    assert furu_slurm.__all__ == EXPECTED == sorted(EXPECTED)
    public = {n for n in dir(furu_slurm) if not n.startswith("_")}
    assert public == set(EXPECTED) - {"__version__"}


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

    with pytest.raises(furu.FuruConfigError, match="no submit_step"):
        Base(name="a").load_or_create(executor=object())


def test_an_executor_needs_a_folder_or_a_submitit_executor() -> None:
    with pytest.raises(furu_slurm.SlurmConfigError, match="folder"):
        furu_slurm.SlurmExecutor()
