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

from furu_slurm._batch import Batch
from furu_slurm._errors import (
    FuruSlurmError,
    SlurmConfigError,
    SlurmJobError,
    SlurmSubmitError,
    SlurmWaitTimeout,
)
from furu_slurm._executor import SlurmExecutor, StepJob, submit_many
from furu_slurm._resources import Resources
from furu_slurm._scheduler import parse_sacct

__version__ = "0.1.0"

__all__ = [
    "Batch",
    "FuruSlurmError",
    "Resources",
    "SlurmConfigError",
    "SlurmExecutor",
    "SlurmJobError",
    "SlurmSubmitError",
    "SlurmWaitTimeout",
    "StepJob",
    "__version__",
    "parse_sacct",
    "submit_many",
]
