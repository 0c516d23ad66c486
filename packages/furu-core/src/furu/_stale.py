"""Stale results: stored experiments the current code would no longer produce (ADR 0005 §4).

The first two causes come from comparing a stored record with the code manifest
(`Manifest.stale_cause`): the class is gone, or its fields changed. The third follows the
stored `dependencies` of `metadata.json`: an experiment hanging below a stale one is stale too
(`dependency-stale`, naming the dependency). A migrated alias whose target directory is gone
is `broken-alias`. Reading is files only, so the server can call `find_stale` as well.
"""

from __future__ import annotations

import gc
import json
import os
import stat
from collections import defaultdict, deque
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from furu._errors import FuruStoreError
from furu._manifest import (
    BROKEN_ALIAS,
    DEPENDENCY_STALE,
    STALE_KINDS,
    Manifest,
    StaleCause,
)
from furu._step_dir import StepDir, StepId
from furu._store import (
    FURU_DIR,
    METADATA_FILE,
    METADATA_MAX_BYTES,
    SMALL_FILE_MAX_BYTES,
    read_regular_file,
)

if TYPE_CHECKING:
    from furu._workspace import Store

MIGRATION_FILE = "migration.json"
"""Written by a migration into the alias directory it creates (ADR 0005 §5)."""


@dataclass(frozen=True)
class StaleResult:
    """A stale stored experiment: which, why (`kind` of `furu.STALE_KINDS`, a sentence), and
    for `dependency-stale` the stale dependency it hangs below (`via`)."""

    id: StepId
    kind: str
    reason: str
    via: StepId | None = None
    field: str | None = None
    """For `dependency-stale`: the field (or `_dependencies()[i]`) that holds `via`."""

    def to_json(self) -> dict[str, Any]:
        return {
            "namespace": self.id.namespace,
            "hash": self.id.hash,
            "kind": self.kind,
            "reason": self.reason,
            "via": None if self.via is None else str(self.via),
            "field": self.field,
        }


@dataclass(frozen=True)
class StoredRecord:
    """What staleness needs of one stored experiment (from its `metadata.json`)."""

    id: StepId
    types: Mapping[str, str] | None
    """Its fields' types (`config_schema`); None when the record has none."""
    dependencies: tuple[tuple[str, StepId], ...] = ()
    """`(field, dependency)` pairs."""
    alias_problem: str | None = None
    """Set when it is a migrated alias whose target is gone."""


def find_stale(
    store: Store, manifest: Manifest, records: Iterable[StoredRecord] | None = None
) -> list[StaleResult]:
    """Every stale experiment of `store` by `manifest`, ordered by kind then id.

    Args:
        store: the store to walk (`Store.step_dirs()` and each `metadata.json`).
        manifest: the code manifest (`Manifest.read(store)`).
        records: the stored records, if the caller has read them already (else read here).
    """
    known = {r.id: r for r in (read_records(store) if records is None else records)}
    with _gc_paused():
        return _find(manifest, known)


def _find(manifest: Manifest, known: Mapping[StepId, StoredRecord]) -> list[StaleResult]:
    own: dict[StepId, StaleCause] = {}
    causes: dict[tuple[str, Any], StaleCause | None] = {}
    for record in known.values():
        if record.alias_problem is not None:
            own[record.id] = StaleCause(BROKEN_ALIAS, record.alias_problem)
            continue
        types = None if record.types is None else tuple(record.types.items())
        key = (record.id.namespace, types)
        if key not in causes:
            causes[key] = _own_cause(manifest, record)
        cause = causes[key]
        if cause is not None:
            own[record.id] = cause
    found = [StaleResult(i, c.kind, c.reason) for i, c in own.items()]
    found.extend(_below(known, own))
    order = {kind: n for n, kind in enumerate(STALE_KINDS)}
    return sorted(found, key=lambda r: (order.get(r.kind, len(order)), str(r.id)))


def _own_cause(manifest: Manifest, record: StoredRecord) -> StaleCause | None:
    if record.alias_problem is not None:
        return StaleCause(BROKEN_ALIAS, record.alias_problem)
    if record.types is None:  # an old record: only a gone class can be told
        if record.id.namespace in manifest.classes:
            return None
        return manifest.stale_cause(record.id.namespace, {})
    return manifest.stale_cause(record.id.namespace, record.types)


def _below(
    known: Mapping[StepId, StoredRecord], own: Mapping[StepId, StaleCause]
) -> Iterator[StaleResult]:
    """`dependency-stale` results: experiments (not stale themselves) below a stale one.

    Breadth first from the stale experiments up through their dependents, so each names the
    nearest stale dependency, and a cycle in damaged records ends the walk.
    """
    dependents: dict[StepId, list[tuple[StepId, str]]] = defaultdict(list)
    for record in known.values():
        for field, dep in record.dependencies:
            dependents[dep].append((record.id, field))
    queue = deque(sorted(own))
    seen = set(own)
    while queue:
        dep = queue.popleft()
        for step, field in dependents.get(dep, ()):
            if step in seen:
                continue
            seen.add(step)
            queue.append(step)
            why = own[dep].kind if dep in own else DEPENDENCY_STALE
            reason = f"its `{field}` ({dep.short}) is stale ({why})"
            yield StaleResult(step, DEPENDENCY_STALE, reason, via=dep, field=field)


def read_records(store: Store) -> list[StoredRecord]:
    """The `StoredRecord` of every step directory of `store` that has a `metadata.json`.

    One `os.scandir` per directory and one guarded read of each `metadata.json` (no symlink
    followed, regular files only, at most 64 MiB), close to reading the files bare. A damaged
    `metadata.json` is skipped: it has nothing to compare (`furu ls` shows the step).
    """
    with _gc_paused():
        return list(_read_records(store))


@contextmanager
def _gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector: building 100,000 records (acyclic) would trigger
    many full collections for nothing (7.1 s instead of 3.9 s)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _read_records(store: Store) -> Iterator[StoredRecord]:
    for kind, root in store._roots():
        for directory, names in _walk(str(root)):
            rel = directory[len(str(root)) + 1 :]
            parent, _, digest = rel.replace(os.sep, "/").rpartition("/")
            metadata = _read_json(os.path.join(directory, FURU_DIR, METADATA_FILE))
            if metadata is None:
                continue
            step = StepId(parent.replace("/", "."), digest)
            alias = None
            if MIGRATION_FILE in names:
                alias = _alias_problem(StepDir(store, kind, rel.replace(os.sep, "/")))
            yield _record(step, metadata, alias)


def _walk(root: str) -> Iterator[tuple[str, set[str]]]:
    """Every step directory below `root`, with the names in its `.furu/` that matter here."""
    stack = [root]
    while stack:
        directory = stack.pop()
        try:
            entries = list(os.scandir(directory))
        except (FileNotFoundError, NotADirectoryError, PermissionError):
            continue
        if directory != root and any(e.name == FURU_DIR for e in entries):
            names = set()
            if _exists(os.path.join(directory, FURU_DIR, MIGRATION_FILE)):
                names.add(MIGRATION_FILE)
            yield directory, names
            continue
        stack.extend(
            e.path for e in entries if e.name[0] != "." and e.is_dir(follow_symlinks=False)
        )


def _exists(path: str) -> bool:
    try:
        os.lstat(path)
    except OSError:
        return False
    return True


def _read_json(path: str) -> dict[str, Any] | None:
    """A JSON object from `path` if it is a regular file of at most 64 MiB; else None."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError:
        return None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode) or info.st_size > METADATA_MAX_BYTES:
            return None
        raw = os.read(fd, info.st_size + 1)
        if len(raw) > info.st_size:  # it grew: read the rest the careful way
            return None
    finally:
        os.close(fd)
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError):
        return None
    return data if isinstance(data, dict) else None


def record_of(step_dir: StepDir) -> StoredRecord | None:
    """The `StoredRecord` of one step directory; None without `metadata.json`.

    Raises:
        FuruStoreError: `metadata.json` (or a `migration.json`) is damaged.
    """
    metadata = step_dir.read_metadata()
    if metadata is None:
        return None
    return _record(step_dir.id, metadata, _alias_problem(step_dir))


def _record(step: StepId, metadata: Mapping[str, Any], alias: str | None) -> StoredRecord:
    schema = metadata.get("config_schema")
    types: dict[str, str] | None = None
    if isinstance(schema, list):
        types = {
            str(f["name"]): str(f.get("type"))
            for f in schema
            if isinstance(f, dict) and "name" in f
        }
    return StoredRecord(
        id=step,
        types=types,
        dependencies=tuple(_dependencies(metadata.get("dependencies"))),
        alias_problem=alias,
    )


def _dependencies(value: Any) -> Iterator[tuple[str, StepId]]:
    for dep in value if isinstance(value, list) else ():
        if (
            isinstance(dep, dict)
            and isinstance(dep.get("namespace"), str)
            and isinstance(dep.get("hash"), str)
        ):
            yield str(dep.get("field", "?")), StepId(dep["namespace"], dep["hash"])


def _alias_problem(step_dir: StepDir) -> str | None:
    """Why `step_dir`, if it is a migrated alias, no longer reaches its result; else None."""
    path = step_dir.meta_dir / MIGRATION_FILE
    raw = read_regular_file(path, what="migration record", max_bytes=SMALL_FILE_MAX_BYTES)
    if raw is None:
        return None
    target = _target(raw, step_dir)
    if target is not None and not target.meta_dir.is_dir():
        return f"it is an alias of {target.id.short}, whose directory is gone"
    dangling = [
        e.name
        for e in os.scandir(step_dir.path)
        if e.name != StepDir.META_DIR and e.is_symlink() and not os.path.exists(e.path)
    ]
    if dangling:
        shown = ", ".join(sorted(dangling)[:3])
        return f"it is a migrated alias whose links ({shown}) point at a directory that is gone"
    return None


def _target(raw: bytes, step_dir: StepDir) -> StepDir | None:
    """The directory the alias was migrated from, if `migration.json` names it."""
    try:
        data = json.loads(raw)
    except ValueError:
        return None
    if not isinstance(data, dict):
        return None
    for key in ("from", "old", "source"):
        ref = data.get(key)
        if isinstance(ref, dict) and isinstance(ref.get("hash"), str):
            namespace = ref.get("namespace", step_dir.namespace)
            return _step_dir(step_dir, str(namespace), ref["hash"])
    for key in ("from_hash", "old_hash", "source_hash"):
        if isinstance(data.get(key), str):
            namespace = data.get(key.replace("hash", "namespace"), step_dir.namespace)
            return _step_dir(step_dir, str(namespace), data[key])
    return None


def _step_dir(step_dir: StepDir, namespace: str, digest: str) -> StepDir | None:
    try:
        return step_dir.store.step_dir(
            namespace, digest, version_controlled=step_dir.version_controlled
        )
    except FuruStoreError:
        return None
