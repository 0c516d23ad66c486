"""Routes over the code (ADR 0005): the manifest, its refresh, migrations, and their tasks.

What the server knows of the code comes from `manifest.json`; what needs the code (writing the
manifest, planning or applying a migration) runs `furu` as a subprocess in the project's
environment, like a rerun. Those routes need the token: they run the project's code.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from furu_server._code_models import (
    ManifestInfo,
    MigrationPlan,
    MigrationRequest,
    Task,
    Undone,
    UndoRequest,
)
from furu_server._manifest import manifest_info
from furu_server._migrations import apply_migration, preview_migration, undo
from furu_server.routes._deps import Guarded, Svc

router = APIRouter(prefix="/api")
TaskId = Annotated[str, Path(max_length=64, pattern=r"^[0-9a-f]{1,64}$")]


@router.get("/manifest", operation_id="getManifest", response_model=ManifestInfo)
def get_manifest(svc: Svc) -> ManifestInfo:
    """The current code as `furu manifest` recorded it: classes with their experiments' counts
    (stale ones too), and the `FuruList`s' named experiments with their status in the store
    (`defined, not yet run` when absent) and the snippet that reproduces each."""
    return manifest_info(svc.index)


@router.post(
    "/manifest/refresh", operation_id="refreshManifest", response_model=Task, dependencies=Guarded
)
def refresh_manifest(svc: Svc) -> Task:
    """Run `furu manifest` in the project's environment (a subprocess; follow it with
    GET /api/tasks/{task_id}); the index marks stale experiments once it has written."""
    return svc.tasks.start_manifest()


@router.post(
    "/migrations/preview",
    operation_id="previewMigration",
    response_model=MigrationPlan,
    dependencies=Guarded,
)
def preview(svc: Svc, body: MigrationRequest) -> MigrationPlan:
    """What the migration would do, old hash -> new hash with the field changes of each
    (`furu migrate --dry-run --json` in the project's environment; nothing is written)."""
    return preview_migration(svc.tasks, body)


@router.post(
    "/migrations/apply", operation_id="applyMigration", response_model=Task, dependencies=Guarded
)
def apply(svc: Svc, body: MigrationRequest) -> Task:
    """Start the migration (`furu migrate --yes --json`); follow it with
    GET /api/migrations/{task_id}."""
    return apply_migration(svc.tasks, body)


@router.post(
    "/migrations/undo", operation_id="undoMigration", response_model=Undone, dependencies=Guarded
)
def undo_migration(svc: Svc, body: UndoRequest) -> Undone:
    """Remove a migration's alias directory (the migrated result is kept and records the
    undo); refused when the alias has since been recomputed into a real result."""
    return undo(svc.index, body.ref)


@router.get("/migrations/{task_id}", operation_id="getMigration", response_model=Task)
def get_migration(svc: Svc, task_id: TaskId) -> Task:
    """A migration's progress, then its result (what was migrated, old -> new hash)."""
    return svc.tasks.get(task_id, kind="migration")


@router.get("/tasks/{task_id}", operation_id="getTask", response_model=Task)
def get_task(svc: Svc, task_id: TaskId) -> Task:
    """A task's progress and result (a manifest refresh or a migration)."""
    return svc.tasks.get(task_id)
