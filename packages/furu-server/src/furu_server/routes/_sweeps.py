"""Sweeps and batches (token required: they run the project's code): plan first, then launch
as a task followed with GET /api/tasks/{id}."""

from __future__ import annotations

from fastapi import APIRouter

from furu_server._code_models import Task
from furu_server._sweep_models import BatchRequest, SweepPlan, SweepRequest
from furu_server._sweeps import launch_batch, launch_sweep, plan_batch, plan_sweep
from furu_server.routes._deps import Guarded, Svc

router = APIRouter(prefix="/api")


@router.post(
    "/sweeps/plan", operation_id="planSweep", response_model=SweepPlan, dependencies=Guarded
)
def sweep_plan(svc: Svc, body: SweepRequest) -> SweepPlan:
    """What a sweep would do (`furu.plan` in the project's environment): each configuration
    to create, cached or running elsewhere, the dependencies to create, and its Python."""
    return plan_sweep(svc.tasks, body)


@router.post("/sweeps", operation_id="launchSweep", response_model=Task, dependencies=Guarded)
def sweep_launch(svc: Svc, body: SweepRequest) -> Task:
    """Launch the sweep as a batch (local executor or SLURM); follow GET /api/tasks/{id}."""
    return launch_sweep(svc.tasks, body)


@router.post(
    "/batches/plan", operation_id="planBatch", response_model=SweepPlan, dependencies=Guarded
)
def batch_plan(svc: Svc, body: BatchRequest) -> SweepPlan:
    """What rerunning the selected experiments (`rerun`) or running what they miss
    (`missing`) would do."""
    return plan_batch(svc.tasks, body)


@router.post("/batches", operation_id="launchBatch", response_model=Task, dependencies=Guarded)
def batch_launch(svc: Svc, body: BatchRequest) -> Task:
    """Rerun the selected experiments, or run what they miss, as one batch."""
    return launch_batch(svc.tasks, body)
