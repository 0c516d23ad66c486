"""Routes that change the store or start work: delete, invalidate, tags, name, rerun (token
required), and the snippet that recreates an experiment (read-only).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from furu_server._actions import delete, invalidate, invalidate_plan, set_labels
from furu_server._errors import ErrorCode, ServerError
from furu_server._experiments import load, locate
from furu_server._models import (
    Deleted,
    Invalidated,
    InvalidatePlan,
    InvalidateRequest,
    Labels,
    NameUpdate,
    RerunRequest,
    Run,
    Snippet,
    TagsUpdate,
)
from furu_server._snippet import check_config, checked_overrides, parse_overrides, snippet
from furu_server.routes._deps import Guarded, Services, Svc

router = APIRouter(prefix="/api")
EXP = "/experiments/{namespace}/{hash}"


@router.delete(EXP, operation_id="deleteExperiment", response_model=Deleted, dependencies=Guarded)
def delete_experiment(svc: Svc, namespace: str, hash: str) -> Deleted:
    """Delete the experiment's directory (refused while it is being computed)."""
    return delete(svc.index, namespace, hash)


@router.post(
    EXP + "/invalidate",
    operation_id="invalidateExperiment",
    response_model=Invalidated,
    dependencies=Guarded,
)
def invalidate_experiment(
    svc: Svc, namespace: str, hash: str, body: InvalidateRequest | None = None
) -> Invalidated:
    """Drop the cached result (the next `load_or_create` recomputes); optionally of dependents."""
    dependents = body.dependents if body is not None else False
    return invalidate(svc.index, namespace, hash, dependents)


@router.get(EXP + "/invalidate/plan", operation_id="planInvalidate", response_model=InvalidatePlan)
def plan_invalidate(
    svc: Svc, namespace: str, hash: str, dependents: bool = False
) -> InvalidatePlan:
    """What `POST .../invalidate` with the same `dependents` would hit (`furu.plan_targets`,
    as the action itself), with each experiment's status; nothing is changed, no token needed."""
    return invalidate_plan(svc.index, namespace, hash, dependents)


@router.put(EXP + "/tags", operation_id="setTags", response_model=Labels, dependencies=Guarded)
def set_tags(svc: Svc, namespace: str, hash: str, body: TagsUpdate) -> Labels:
    """Replace the experiment's tags (kept in `.furu/tags.json`)."""
    return set_labels(svc.index, namespace, hash, tags=body.tags)


@router.put(EXP + "/name", operation_id="setName", response_model=Labels, dependencies=Guarded)
def set_name(svc: Svc, namespace: str, hash: str, body: NameUpdate) -> Labels:
    """Name the experiment (null or empty removes the name)."""
    return set_labels(svc.index, namespace, hash, name=body.name, set_name=True)


def _config(
    svc: Services, namespace: str, hash: str
) -> tuple[dict[str, object], dict[str, object] | None]:
    loaded = load(svc.index, namespace, hash)
    if loaded.record.config is None:
        raise ServerError(
            ErrorCode.RERUN_UNAVAILABLE,
            f"{namespace}/{hash} has no readable metadata.json, so its config is unknown; "
            "recreate it from your code instead.",
        )
    return loaded.record.config, loaded.metadata


@router.get(EXP + "/snippet", operation_id="getSnippet", response_model=Snippet)
def get_snippet(
    svc: Svc,
    namespace: str,
    hash: str,
    set: Annotated[
        list[str] | None, Query(description="Overrides PATH=VALUE (JSON value), e.g. lr=0.01")
    ] = None,
) -> Snippet:
    """The Python that recreates (or reruns) the experiment, optionally with changed fields."""
    config, _ = _config(svc, namespace, hash)
    return snippet(config, namespace, parse_overrides(set or []))


@router.post(
    EXP + "/rerun", operation_id="rerunExperiment", response_model=Run, dependencies=Guarded
)
def rerun_experiment(svc: Svc, namespace: str, hash: str, body: RerunRequest | None = None) -> Run:
    """Recompute the experiment (with optional overrides) in the project's environment."""
    request = body or RerunRequest()
    config, metadata = _config(svc, namespace, hash)
    check_config(config, namespace)
    changed = checked_overrides(config, request.overrides)
    where = locate(svc.index, namespace, hash)
    return svc.runs.start(where, changed, metadata, force=request.force and not request.overrides)


@router.get("/runs", operation_id="listRuns", response_model=list[Run])
def list_runs(svc: Svc) -> list[Run]:
    """The reruns this server started, oldest first."""
    return svc.runs.all()


@router.get("/runs/{run_id}", operation_id="getRun", response_model=Run)
def get_run(svc: Svc, run_id: str) -> Run:
    """A rerun's progress: status, return code and the tail of its output."""
    return svc.runs.get(run_id)
