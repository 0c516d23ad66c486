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

import math
import os
from dataclasses import dataclass, fields
from typing import Any

from furu_slurm._errors import SlurmConfigError

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def _env(name: str) -> str | None:
    value = os.environ.get(name)
    return None if value is None else value.strip()


def _env_bool(name: str, default: bool) -> bool:
    raw = _env(name)
    if raw is None:
        return default
    if raw.lower() in _TRUE:
        return True
    if raw.lower() in _FALSE:
        return False
    raise SlurmConfigError(
        f"{name}={raw!r} is not a boolean. Set {name} to one of 1/true/yes/on or 0/false/no/off."
    )


def _env_float(name: str, default: float, *, minimum: float) -> float:
    raw = _env(name)
    if raw is None or raw == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        raise SlurmConfigError(
            f"{name}={raw!r} is not a number of seconds. Set {name} to a number such as "
            f"{default:g}, or unset it for the default."
        ) from None
    if not math.isfinite(value) or not value >= minimum:
        raise SlurmConfigError(
            f"{name}={raw!r} must be a finite number of at least {minimum:g}. Set {name} to "
            f"e.g. {default:g}, or unset it for the default."
        )
    return value


def _env_int(name: str, default: int) -> int:
    raw = _env(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SlurmConfigError(
            f"{name}={raw!r} is not a whole number. Set {name} to e.g. {default}."
        ) from None
    if value < 0:
        raise SlurmConfigError(
            f"{name}={raw!r} must not be negative. Set {name} to e.g. {default}."
        )
    return value


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
            poll_interval=_env_float("FURU_POLL_INTERVAL_SECS", 10.0, minimum=0.01),
            preempt_max=_env_int("FURU_PREEMPT_MAX", 5),
            cancelled_is_preempted=_env_bool("FURU_CANCELLED_IS_PREEMPTED", False),
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
