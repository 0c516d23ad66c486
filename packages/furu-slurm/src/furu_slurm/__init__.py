"""furu_slurm: run furu's cache misses on a SLURM cluster through submitit.

```python
import furu, furu_slurm, submitit

executor = submitit.AutoExecutor(folder="slurm-logs")
executor.update_parameters(timeout_min=60, slurm_partition="gpu")
job = TrainModel(lr=3e-4).load_or_create(executor=executor)   # submits; returns at once
print(job.job_id)                                              # also in .furu/state.json

ex = furu_slurm.SlurmExecutor(executor, resources=furu_slurm.Resources(cpus=4))
furu.load_or_create_many(sweep, executor=ex)                   # job arrays with dependencies
```
"""

# Helpers under private names: everything public in `dir(furu_slurm)` is in `__all__`.
import importlib as _importlib
import typing as _typing

if _typing.TYPE_CHECKING:
    from furu_slurm._batch import Batch
    from furu_slurm._errors import (
        FuruSlurmError,
        SlurmConfigError,
        SlurmJobError,
        SlurmSubmitError,
        SlurmWaitTimeout,
    )
    from furu_slurm._executor import SlurmExecutor, StepJob, submit_many
    from furu_slurm._reconcile import Reconciled, reconcile
    from furu_slurm._resources import Resources
    from furu_slurm._scheduler import parse_sacct
    from furu_slurm._settings import SLURM_CONFIG, SlurmConfig

# Imported on first use. Every array task on a node unpickles a `furu_slurm._node.NodeTask`,
# which imports this package first: the node then pays only for `_node` and the small modules
# it needs (`_claim`, `_context`, `_records`, `_settings`, `_errors`), not for the submitting
# and watching half (see benchmarks/bench_slurm.py).
_LAZY = {
    "Batch": "furu_slurm._batch",
    "FuruSlurmError": "furu_slurm._errors",
    "SlurmConfigError": "furu_slurm._errors",
    "SlurmJobError": "furu_slurm._errors",
    "SlurmSubmitError": "furu_slurm._errors",
    "SlurmWaitTimeout": "furu_slurm._errors",
    "SlurmExecutor": "furu_slurm._executor",
    "StepJob": "furu_slurm._executor",
    "submit_many": "furu_slurm._executor",
    "Reconciled": "furu_slurm._reconcile",
    "reconcile": "furu_slurm._reconcile",
    "Resources": "furu_slurm._resources",
    "parse_sacct": "furu_slurm._scheduler",
    "SLURM_CONFIG": "furu_slurm._settings",
    "SlurmConfig": "furu_slurm._settings",
}


def __getattr__(name: str) -> _typing.Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'furu_slurm' has no attribute {name!r}")
    value = getattr(_importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


__version__ = "0.1.0"

__all__ = [
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
