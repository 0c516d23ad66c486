"""The exceptions furu-slurm raises.

Every one derives from `FuruSlurmError`, itself a `furu.FuruError`, so `except furu.FuruError`
still catches everything, and `except furu.FuruConfigError` catches every unusable setting:

```
furu.FuruError
└── FuruSlurmError            anything furu-slurm could not do
    ├── SlurmConfigError      an executor, a resources object or a FURU_* setting is unusable
    │                         (also a furu.FuruConfigError)
    ├── SlurmSubmitError      a submission failed: sbatch refused it, or its files could not be written
    ├── SlurmJobError         a job ended without a result (carries job id and scheduler state)
    └── SlurmWaitTimeout      waiting for jobs took longer than the deadline given
```

Errors travel from the cluster node back to the submitter, so each pickles: furu's
`FuruError.__reduce__` rebuilds an instance from its fields.
"""

from __future__ import annotations

from furu import FuruConfigError, FuruError


class FuruSlurmError(FuruError):
    """Root of every error furu-slurm raises."""


class SlurmConfigError(FuruSlurmError, FuruConfigError):
    """An executor, a `Resources` object or a FURU_* setting holds an unusable value.

    Also a `furu.FuruConfigError` (and so a `ValueError`): a malformed `FURU_PREEMPT_MAX` is
    caught where a malformed `FURU_LEASE_SECS` is.
    """


class SlurmSubmitError(FuruSlurmError):
    """A submission failed: the scheduler refused it, or its files could not be written.

    Attributes:
        command: the command that failed, as one string.
        output: what it printed.
    """

    def __init__(self, message: str, *, command: str, output: str) -> None:
        super().__init__(message)
        self.command = command
        self.output = output


class SlurmJobError(FuruSlurmError):
    """A job ended without a result for its step.

    Attributes:
        step: the step's short description (`Class hash`).
        job_id: the scheduler's job id (`123` or `123_4`).
        state: the scheduler's final state (`FAILED`, `CANCELLED`, `TIMEOUT`, ...), or the
            reason furu gave.
    """

    def __init__(self, message: str, *, step: str, job_id: str | None, state: str) -> None:
        super().__init__(message)
        self.step = step
        self.job_id = job_id
        self.state = state


class SlurmWaitTimeout(FuruSlurmError, TimeoutError):
    """Waited longer than the deadline given for jobs to finish.

    Attributes:
        waited_sec: how long the wait lasted.
        unfinished: job ids that had not finished.
    """

    def __init__(self, message: str, *, waited_sec: float, unfinished: list[str]) -> None:
        super().__init__(message)
        self.waited_sec = waited_sec
        self.unfinished = list(unfinished)
