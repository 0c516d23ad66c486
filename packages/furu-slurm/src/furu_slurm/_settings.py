"""furu-slurm's own settings: one mutable object, `SLURM_CONFIG`, filled from `FURU_*` variables.

They were furu's until the core stopped knowing any scheduler; the variables kept their names.
Read from the environment when first used (and again by `SLURM_CONFIG.reload()`, e.g. after
`furu.load_env()`); assigning an attribute changes this process from then on, and the jobs it
submits (the settings travel to the node with furu's own):

```python
furu_slurm.SLURM_CONFIG.preempt_max = 10
furu_slurm.SLURM_CONFIG.cancelled_is_preempted = True
```

This module imports only the standard library and furu: every job on a node reads it.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

from furu import env_bool, env_float, env_int
from furu_slurm._errors import SlurmConfigError


@dataclass
class SlurmConfig:
    """Every setting furu-slurm reads, with the variable each one comes from.

    Attributes:
        poll_interval: seconds between two `sacct` calls while a batch is watched
            (`FURU_POLL_INTERVAL_SECS`; `SlurmExecutor(poll_interval=...)` overrides it).
        preempt_max: requeues allowed after preemption or a time limit (`FURU_PREEMPT_MAX`).
        cancelled_is_preempted: resubmit a job that ends `CANCELLED`, for clusters that preempt
            by cancelling (`FURU_CANCELLED_IS_PREEMPTED`).
    """

    poll_interval: float = 10.0
    preempt_max: int = 5
    cancelled_is_preempted: bool = False

    @classmethod
    def from_env(cls) -> SlurmConfig:
        """Read the variables; a malformed one raises `SlurmConfigError` naming it.

        Raises:
            SlurmConfigError: a variable holds an unusable value (the message says which).
        """
        return cls(
            poll_interval=env_float(
                "FURU_POLL_INTERVAL_SECS", 10.0, minimum=0.01, error=SlurmConfigError
            ),
            preempt_max=env_int("FURU_PREEMPT_MAX", 5, error=SlurmConfigError),
            cancelled_is_preempted=env_bool(
                "FURU_CANCELLED_IS_PREEMPTED", False, error=SlurmConfigError
            ),
        )

    def reload(self) -> None:
        """Re-read the variables into this object (after changing `os.environ`)."""
        self.adopt(SlurmConfig.from_env().as_dict())

    def as_dict(self) -> dict[str, Any]:
        """Every field by name (what travels to the node with the submitter's settings)."""
        return {f.name: getattr(self, f.name) for f in fields(self)}

    def adopt(self, values: dict[str, Any]) -> None:
        """Take the fields in `values` (names this version does not know are ignored)."""
        for f in fields(self):
            if f.name in values:
                setattr(self, f.name, values[f.name])


SLURM_CONFIG = SlurmConfig.from_env()
