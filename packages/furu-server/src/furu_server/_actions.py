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
from collections import deque
from collections.abc import Iterator
from datetime import UTC, datetime

from furu import FuruLockNotAcquired, FuruStoreError, Labels
from furu_server._errors import ErrorCode, ServerError
from furu_server._experiments import is_active, locate
from furu_server._models import Deleted, Invalidated
from furu_server._models import Labels as LabelsModel
from furu_server.index._index import Index, Located

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
    """Remove the experiment's directory (renamed away first, so it vanishes at once)."""
    where = locate(index, namespace, digest)
    if is_active(where.step_dir):
        raise _running_error(where, "deleted")
    with _writing(where, "deleted"):
        try:
            gone = where.step_dir.delete()
        except FuruLockNotAcquired:
            raise _running_error(where, "deleted") from None
    if not gone:
        raise ServerError(
            ErrorCode.EXPERIMENT_NOT_FOUND, f"{namespace}/{digest} was deleted meanwhile."
        )
    _reindex(index, where)
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
    if is_active(where.step_dir):
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
    stamp = datetime.now(UTC).isoformat(timespec="milliseconds")
    with _writing(where, "invalidated"):
        done = where.step_dir.invalidate(f"invalidated by furu-server at {stamp}")
    if not done:
        return False  # someone is computing it right now
    _reindex(index, where)
    return True


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
