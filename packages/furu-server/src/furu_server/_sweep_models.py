"""The API's models of sweeps and batches (`POST /api/sweeps/plan`, `/api/sweeps`,
`/api/batches/plan`, `/api/batches`)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SweepRequest(_Request):
    """A sweep from one experiment: its config with `overrides` set, once per combination of
    `axes` (the cartesian product of each field's values).

    Values are JSON, typed by the field's recorded type (`config_schema`): `lr: [0.1, 0.3]`.
    """

    namespace: str
    hash: str
    axes: dict[str, list[Any]] = Field(default_factory=dict)
    """Field (a top-level field or a `a.b` path) -> the values it takes."""
    overrides: dict[str, Any] = Field(default_factory=dict)
    """Fields set to one value in every config of the sweep."""
    executor: Literal["local", "slurm"] = "local"
    max_workers: int | None = Field(default=None, ge=1, le=256)


class BatchRequest(_Request):
    """Selected experiments, recomputed (`rerun`) or completed (`missing`: their missing or
    failed dependencies and themselves, when not cached)."""

    experiments: list[str] = Field(min_length=1)
    """`<namespace>/<hash>` of each experiment."""
    mode: Literal["rerun", "missing"]
    executor: Literal["local", "slurm"] = "local"
    max_workers: int | None = Field(default=None, ge=1, le=256)


class PlannedItem(BaseModel):
    """One experiment of a plan: `create` (to compute), `cached` (loaded as it is) or
    `running` (being computed elsewhere now: the batch waits for it)."""

    namespace: str
    hash: str
    status: Literal["create", "cached", "running"]
    reason: str = ""
    """Why it is created (`missing`, `failed`, `incomplete`, `invalid`, `forced`)."""
    values: dict[str, Any] = Field(default_factory=dict)
    """The swept fields' values of this configuration (empty for a batch)."""


class SlurmAvailability(BaseModel):
    """Whether the project's environment can run the batch on SLURM (furu-slurm)."""

    available: bool
    reason: str
    """Why not (or what it would use)."""


class SweepPlan(BaseModel):
    """What launching would do (`furu.plan` in the project's environment): the requested
    experiments (`items`, in order) and the dependencies that must be created first."""

    items: list[PlannedItem]
    dependencies: list[PlannedItem]
    to_create: int
    cached: int
    running: int
    summary: str
    """`12 to create, 4 cached, 2 running elsewhere (+3 dependencies to create)`."""
    slurm: SlurmAvailability
    code: str
    """The Python that does the same (`furu.load_or_create_many`)."""
    limit: int
    """The most configurations one sweep may have (`--max-sweep`, `FURU_SERVER_MAX_SWEEP`)."""
