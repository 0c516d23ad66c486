"""What the API may change in a store: delete, invalidate, tags and name.

Each change is written the way furu-core writes (atomic replace; the compute lock held while a
result is invalidated), noted in the store's journal so other servers see it, and re-indexed at
once so the next listing shows it. A running experiment is never deleted or invalidated. A
store the server may not write (a read-only mount, no permission, a full disk) answers
`store_not_writable` (409), naming the directory.
"""

from __future__ import annotations

import contextlib
import errno
import os
import threading
from collections.abc import Iterator
from datetime import UTC, datetime

from furu import (
    AttemptStatus,
    FuruStoreError,
    Labels,
    ResultStatus,
    SkippedStep,
    StepDir,
    busy_reason,
    invalidate_steps,
    plan_targets,
    remove_steps,
)
from furu_server._errors import ErrorCode, ServerError
from furu_server._experiments import locate
from furu_server._models import Deleted, Invalidated, InvalidatePlan, PlannedStep
from furu_server._models import Labels as LabelsModel
from furu_server.index._index import Index, Located
from furu_server.index._records import class_name_of

_labels_lock = threading.Lock()


def _reindex(index: Index, where: Located) -> None:
    index.indexer.reindex(where.root_kind, where.rel_dir)


@contextlib.contextmanager
def _writing(where: Located, action: str) -> Iterator[None]:
    """Turn the store refusing a write into `store_not_writable` (409) naming the directory."""
    try:
        yield
    except OSError as exc:
        raise _not_writable(where, action, exc) from None
    except FuruStoreError as exc:
        if isinstance(exc.__cause__, OSError):
            raise _not_writable(where, action, exc.__cause__) from None
        raise


def _not_writable(where: Located, action: str, exc: OSError) -> ServerError:
    reason = {
        errno.EROFS: "the store is on a read-only filesystem",
        errno.EACCES: "this server's user may not write there",
        errno.EPERM: "this server's user may not write there",
        errno.ENOSPC: "the disk is full",
        errno.EDQUOT: "the disk quota is exhausted",
    }.get(exc.errno or 0, f"the filesystem refused ({exc.strerror})")
    path = exc.filename or where.furu_dir
    return ServerError(
        ErrorCode.STORE_NOT_WRITABLE,
        f"{where.namespace}/{where.hash} could not be {action}: {reason} ({path}). This "
        "server can only read the store: run furu-dashboard as a user who can write it, on a "
        "read-write mount (or free space), to change experiments.",
        {"namespace": where.namespace, "hash": where.hash, "path": os.fspath(path)},
    )


def _running_error(where: Located, action: str) -> ServerError:
    return ServerError(
        ErrorCode.EXPERIMENT_RUNNING,
        f"{where.namespace}/{where.hash} is being computed (or queued), so it cannot be "
        f"{action} now. Wait until it finishes, or stop the process computing it first.",
        {"namespace": where.namespace, "hash": where.hash},
    )


def delete(index: Index, namespace: str, digest: str) -> Deleted:
    """Remove the experiment's directory (renamed away first, so it vanishes at once).

    `furu.remove_steps` does it, as `furu rm` does: never while it is computed or queued.
    """
    where = locate(index, namespace, digest)
    step = where.step_dir
    with _writing(where, "deleted"):
        changes = remove_steps(step.store, [step])
    if changes.skipped:
        raise _skip_error(where, changes.skipped[0], "deleted")
    _reindex(index, where)
    return Deleted(deleted=f"{namespace}/{digest}")


def _skip_error(where: Located, skipped: SkippedStep, action: str) -> ServerError:
    """The API's answer for a step `furu.remove_steps`/`invalidate_steps` left alone."""
    if skipped.cause == "running":
        return _running_error(where, action)
    if skipped.cause == "failed" and skipped.error is not None:
        return _not_writable(where, action, skipped.error)
    return ServerError(
        ErrorCode.EXPERIMENT_NOT_FOUND, f"{where.namespace}/{where.hash} was {action} meanwhile."
    )


def _targets(
    index: Index, where: Located, dependents: bool
) -> tuple[list[StepDir], dict[str, Located]]:
    """What invalidating `where` (and with `dependents`, its dependents) hits: the answer of
    `furu.plan_targets`, the dependents read from the index; each located by its path."""
    located = {where.step_dir.path: where}

    def dependents_of(_: StepDir) -> list[StepDir]:
        for ns, h in index.dependents(where.namespace, where.hash):
            try:
                found = locate(index, ns, h)
            except ServerError:
                continue
            located[found.step_dir.path] = found
        return [w.step_dir for w in located.values() if w is not where]

    targets = plan_targets(
        where.step_dir.store, [where.step_dir], dependents=dependents, dependents_of=dependents_of
    )
    return targets, {str(p): w for p, w in located.items()}


MAX_PLANNED = 500
"""Targets an invalidation plan lists (the counts are of all)."""


def invalidate_plan(index: Index, namespace: str, digest: str, dependents: bool) -> InvalidatePlan:
    """What `invalidate` with the same arguments would hit, nothing changed: the experiment,
    its dependents (with `dependents`), each with its status and whether it would be skipped."""
    where = locate(index, namespace, digest)
    targets, located = _targets(index, where, dependents)
    statuses = index.status_of([(w.namespace, w.hash) for w in located.values()])
    planned = []
    for step in targets[:MAX_PLANNED]:
        w = located[str(step.path)]
        result, attempt = statuses.get((w.namespace, w.hash), ("absent", None))
        planned.append(
            PlannedStep(
                namespace=w.namespace,
                hash=w.hash,
                class_name=class_name_of(w.namespace),
                result_status=ResultStatus(result),
                attempt_status=AttemptStatus(attempt) if attempt else None,
                root=w is where,
                busy=busy_reason(step),
            )
        )
    return InvalidatePlan(
        targets=planned, dependents=len(targets) - 1, truncated=len(targets) > MAX_PLANNED
    )


def invalidate(index: Index, namespace: str, digest: str, dependents: bool) -> Invalidated:
    """Remove `SUCCESS.json` (the next `load_or_create` recomputes); optionally of dependents.

    `furu.plan_targets` plans it (as for `invalidate_plan` and `furu invalidate`), with the
    dependents read from the index, and `furu.invalidate_steps` does exactly those; the experiment
    asked for must not be running, its dependents that are are skipped.
    """
    where = locate(index, namespace, digest)
    if busy_reason(where.step_dir) is not None:
        raise _running_error(where, "invalidated")
    targets, located = _targets(index, where, dependents)
    stamp = datetime.now(UTC).isoformat(timespec="milliseconds")
    with _writing(where, "invalidated"):
        changes = invalidate_steps(
            where.step_dir.store, targets, reason=f"invalidated by furu-server at {stamp}"
        )
    for step in changes.done:
        _reindex(index, located[str(step.path)])
    for skipped in changes.skipped:
        if skipped.cause == "failed":
            raise _skip_error(located[str(skipped.step.path)], skipped, "invalidated")
    return Invalidated(
        invalidated=[_name(located[str(s.path)]) for s in changes.done],
        skipped=[_name(located[str(s.step.path)]) for s in changes.skipped],
    )


def _name(where: Located) -> str:
    return f"{where.namespace}/{where.hash}"


def set_labels(
    index: Index,
    namespace: str,
    digest: str,
    *,
    tags: list[str] | None = None,
    name: str | None = None,
    set_name: bool = False,
) -> LabelsModel:
    """Replace the tags (when `tags` is given) and/or the name (when `set_name`)."""
    where = locate(index, namespace, digest)
    step_dir = where.step_dir
    with _labels_lock:
        current = step_dir.read_labels()
        new_tags = tuple(tags) if tags is not None else current.tags
        new_name = (name if name and name.strip() else None) if set_name else current.name
        try:
            with _writing(where, "labelled"):
                written = step_dir.write_labels(Labels(new_tags, new_name))
        except FuruStoreError as exc:
            raise ServerError(ErrorCode.BAD_REQUEST, str(exc), {"value": name or tags}) from None
    _reindex(index, where)
    return LabelsModel(tags=list(written.tags), name=written.name)
