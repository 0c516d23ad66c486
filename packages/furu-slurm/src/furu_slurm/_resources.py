"""What a step asks of the scheduler: a typed `Resources` object, merged per class and per call.

Precedence, lowest first: the executor's `resources=`, the step class's `_slurm_resources`, and
the `overrides=` of `SlurmExecutor.with_resources(...)` (one call). A field left `None` inherits.
Steps whose merged resources are equal (and that sit at the same depth of the graph) share one
job array.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import chz

from furu_slurm._errors import SlurmConfigError

_TIME = re.compile(r"^(?:(?P<d>\d+)-)?(?:(?P<h>\d+):)?(?P<m>\d+)(?::(?P<s>\d+))?$")
_MEM = re.compile(r"^\d+(?:[KMGT]B?)?$", re.IGNORECASE)


def time_minutes(value: int | str) -> int:
    """Minutes from `90`, `"90"`, `"1:30:00"` or `"1-00:00:00"` (SLURM's time formats)."""
    if isinstance(value, int):
        minutes = value
    else:
        match = _TIME.match(value.strip())
        if match is None:
            raise SlurmConfigError(
                f"Resources(time={value!r}) is not a time. Give minutes (e.g. 90) or SLURM's "
                "format: 'MM', 'HH:MM:SS' or 'D-HH:MM:SS'."
            )
        d, h, m, s = (int(match.group(k) or 0) for k in "dhms")
        if match.group("h") is None and match.group("s") is not None:
            h, m, s = m, s, 0  # "MM:SS" is not SLURM's; "HH:MM" reads as hours and minutes
        minutes = d * 1440 + h * 60 + m + (1 if s else 0)
    if minutes <= 0:
        raise SlurmConfigError(f"Resources(time={value!r}) must be at least one minute.")
    return minutes


@chz.chz
class Resources:
    """What one step's job asks SLURM for; `None` means "not set here" (inherit or default).

    Attributes:
        partition: `--partition`.
        time: the time limit, in minutes or SLURM's `D-HH:MM:SS` (`--time`).
        cpus: CPUs per task (`--cpus-per-task`).
        gpus: GPUs per node (`--gpus-per-node`).
        mem: memory per node in SLURM's syntax, e.g. `"16G"` (`--mem`).
        account: `--account`.
        qos: `--qos`.
        constraint: node features (`--constraint`).
        array_parallelism: how many tasks of one array may run at once (`--array=...%N`).
        sbatch_args: any other `#SBATCH` flag, e.g. `{"exclude": "node7", "nice": "10"}`.
    """

    partition: str | None = None
    time: int | str | None = None
    cpus: int | None = None
    gpus: int | None = None
    mem: str | None = None
    account: str | None = None
    qos: str | None = None
    constraint: str | None = None
    array_parallelism: int | None = None
    sbatch_args: Mapping[str, str] | None = None

    @chz.validate
    def _check(self) -> None:
        if self.time is not None:
            time_minutes(self.time)
        for name in ("cpus", "gpus", "array_parallelism"):
            value = getattr(self, name)
            if value is not None and (not isinstance(value, int) or value < 0):
                raise SlurmConfigError(f"Resources({name}={value!r}) must be a whole number.")
        if self.cpus is not None and self.cpus < 1:
            raise SlurmConfigError(f"Resources(cpus={self.cpus!r}) must be at least 1.")
        if self.mem is not None and not _MEM.match(self.mem):
            raise SlurmConfigError(
                f"Resources(mem={self.mem!r}) is not SLURM memory syntax; write e.g. '16G' or "
                "'4000M'."
            )

    def merged(self, other: Resources | None) -> Resources:
        """These resources with every field `other` sets replacing ours."""
        if other is None:
            return self
        changes: dict[str, Any] = {}
        for name in chz.chz_fields(self):
            value = getattr(other, name)
            if value is None:
                continue
            if name == "sbatch_args" and self.sbatch_args:
                value = {**self.sbatch_args, **value}
            changes[name] = value
        return chz.replace(self, **changes) if changes else self

    def sbatch_flags(self) -> dict[str, str]:
        """The `#SBATCH` flags these resources set (without `--time`), sorted by name."""
        flags: dict[str, str] = {}
        simple = {
            "partition": self.partition,
            "cpus-per-task": self.cpus,
            "gpus-per-node": self.gpus,
            "mem": self.mem,
            "account": self.account,
            "qos": self.qos,
            "constraint": self.constraint,
        }
        for flag, value in simple.items():
            if value is not None:
                flags[flag] = str(value)
        for flag, value in (self.sbatch_args or {}).items():
            flags[flag.lstrip("-").replace("_", "-")] = str(value)
        return dict(sorted(flags.items()))

    def key(self) -> tuple[Any, ...]:
        """Equal for resources that may share one job array."""
        minutes = time_minutes(self.time) if self.time is not None else None
        return (minutes, self.array_parallelism, tuple(self.sbatch_flags().items()))


def resources_of(step: Any) -> Resources | None:
    """The step class's `_slurm_resources` (a `Resources`), if it declares one."""
    found = getattr(type(step), "_slurm_resources", None)
    if found is None:
        return None
    if not isinstance(found, Resources):
        raise SlurmConfigError(
            f"{type(step).__qualname__}._slurm_resources is {found!r}; it must be a "
            "furu_slurm.Resources(...) (declare it as a ClassVar)."
        )
    return found
