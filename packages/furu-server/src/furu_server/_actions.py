"""What the API may change in a store: delete, invalidate, tags and name.

Each change is written the way furu-core writes (atomic replace; the compute lock held while a
result is invalidated), noted in the store's journal so other servers see it, and re-indexed at
once so the next listing shows it. A running experiment is never deleted or invalidated.
"""

from __future__ import annotations

import os
import shutil
import threading
from collections import deque
from dataclasses import replace
from pathlib import Path

from furu._errors import FuruStoreError
from furu._journal import append
from furu._lock import ComputeLock
from furu._logging import append_to_log
from furu._state import AttemptStatus, ResultStatus, StateManager, now_iso
from furu._store import FURU_DIR, LOG_FILE, SUCCESS_FILE, TAGS_FILE, read_json, write_json_atomic
from furu_server._errors import ErrorCode, ServerError
from furu_server._experiments import locate
from furu_server._index import Index, Located
from furu_server._models import Deleted, Invalidated, Labels

_labels_lock = threading.Lock()
_ACTIVE = (AttemptStatus.RUNNING, AttemptStatus.QUEUED)


def _changed(index: Index, where: Located, what: str) -> None:
    append(index.settings.resolved_root, where.root_kind, where.rel_dir, what)
    index.indexer.reindex(where.root_kind, where.rel_dir)


def _is_active(furu_dir: str) -> bool:
    try:
        attempt = StateManager(Path(furu_dir)).read().attempt
    except FuruStoreError:
        return False
    return attempt is not None and attempt.status in _ACTIVE


def _running_error(where: Located, action: str) -> ServerError:
    return ServerError(
        ErrorCode.EXPERIMENT_RUNNING,
        f"{where.namespace}/{where.hash} is being computed (or queued), so it cannot be "
        f"{action} now. Wait until it finishes, or stop the process computing it first.",
        {"namespace": where.namespace, "hash": where.hash},
    )


def delete(index: Index, namespace: str, digest: str) -> Deleted:
    """Remove the experiment's directory (renamed away first, so it vanishes at once)."""
    where = locate(index, namespace, digest)
    if _is_active(where.furu_dir):
        raise _running_error(where, "deleted")
    path = Path(where.furu_dir)
    trash = path.with_name(f".{path.name}.deleting.{os.getpid()}.{os.urandom(4).hex()}")
    try:
        os.rename(path, trash)
    except FileNotFoundError:
        raise ServerError(
            ErrorCode.EXPERIMENT_NOT_FOUND, f"{namespace}/{digest} was deleted meanwhile."
        ) from None
    shutil.rmtree(trash, ignore_errors=True)
    _changed(index, where, "delete")
    return Deleted(deleted=f"{namespace}/{digest}")


def _dependents(index: Index, namespace: str, digest: str) -> list[tuple[str, str]]:
    """Every experiment that depends on this one, transitively (from the index)."""
    conn = index.conn()
    seen: set[tuple[str, str]] = set()
    queue = deque([(namespace, digest)])
    while queue:
        ns, h = queue.popleft()
        for pair in conn.execute(
            "SELECT c.namespace, c.hash FROM deps d JOIN experiments c ON c.id = d.exp_id "
            "WHERE d.dep_namespace = ? AND d.dep_hash = ?",
            (ns, h),
        ):
            if pair not in seen:
                seen.add(pair)
                queue.append(pair)
    return sorted(seen)


def invalidate(index: Index, namespace: str, digest: str, dependents: bool) -> Invalidated:
    """Remove `SUCCESS.json` (the next `load_or_create` recomputes); optionally of dependents."""
    where = locate(index, namespace, digest)
    if _is_active(where.furu_dir):
        raise _running_error(where, "invalidated")
    targets = [where]
    if dependents:
        for ns, h in _dependents(index, namespace, digest):
            try:
                targets.append(locate(index, ns, h))
            except ServerError:
                continue
    done: list[str] = []
    skipped: list[str] = []
    for target in targets:
        name = f"{target.namespace}/{target.hash}"
        (done if _invalidate_one(index, target) else skipped).append(name)
    return Invalidated(invalidated=done, skipped=skipped)


def _invalidate_one(index: Index, where: Located) -> bool:
    meta = Path(where.furu_dir) / FURU_DIR
    lock = ComputeLock.try_acquire(meta, lease_secs=60.0, heartbeat=20.0)
    if lock is None:
        return False  # someone is computing it right now
    try:
        states = StateManager(Path(where.furu_dir))
        (meta / SUCCESS_FILE).unlink(missing_ok=True)
        try:
            state = states.read_raw()
        except FuruStoreError:
            state = None
        if state is not None and state.attempt is not None:
            attempt = replace(state.attempt, reason=f"invalidated by furu-server at {now_iso()}")
            states.write(ResultStatus.INCOMPLETE, attempt, state.attempts)
        append_to_log(
            meta / LOG_FILE, f"{now_iso()} invalidated by furu-server: SUCCESS.json removed"
        )
    finally:
        lock.release()
    _changed(index, where, "invalidate")
    return True


def read_labels(furu_dir: str) -> Labels:
    try:
        data = read_json(Path(furu_dir) / FURU_DIR / TAGS_FILE, what="tags and name") or {}
    except FuruStoreError:
        data = {}
    tags = data.get("tags")
    name = data.get("name")
    return Labels(
        tags=sorted({t for t in tags if isinstance(t, str)}) if isinstance(tags, list) else [],
        name=name if isinstance(name, str) else None,
    )


def _check_label(value: str, what: str) -> str:
    value = value.strip()
    if not value or len(value) > 200 or any(ord(c) < 32 for c in value):
        raise ServerError(
            ErrorCode.BAD_REQUEST,
            f"{what} {value!r} must be 1 to 200 printable characters.",
            {"value": value},
        )
    return value


def set_labels(
    index: Index,
    namespace: str,
    digest: str,
    *,
    tags: list[str] | None = None,
    name: str | None = None,
    set_name: bool = False,
) -> Labels:
    """Replace the tags (when `tags` is given) and/or the name (when `set_name`)."""
    where = locate(index, namespace, digest)
    with _labels_lock:
        labels = read_labels(where.furu_dir)
        if tags is not None:
            labels.tags = sorted({_check_label(t, "tag") for t in tags})
        if set_name:
            labels.name = _check_label(name, "name") if name and name.strip() else None
        write_json_atomic(
            Path(where.furu_dir) / FURU_DIR / TAGS_FILE, {"tags": labels.tags, "name": labels.name}
        )
    _changed(index, where, "tags")
    return labels
