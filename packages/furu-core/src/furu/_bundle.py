"""Export steps from a store into one tar file (a bundle), with a manifest of checksums.

```
furu-bundle.json                         the manifest (always the first member)
code/<id>/manifest.json|diff.patch|...   the code states the steps were made from
steps/<kind>/<rel_dir>/<path>            each step's files (`.furu/` included, locks left out)
raw/<rel_dir>/<path>                     the raw files each step owns (`StepDir.raw_dir`)
```

The manifest comes first so that `furu import` can check every later member against it while
it streams the archive once (a `.tar.gz` cannot seek back): a member that is not listed, has
another size or checksum, or is anything but a regular file is refused before anything
becomes visible in the target store (`furu._bundle_import`).

Export reads every file twice: once to list its size and sha256 in the manifest, and once to
copy it, checked against that first read, so a file that changes meanwhile fails the export
instead of making a bundle that can never be imported. Symbolic links are never followed: one
pointing inside its step is recorded in the manifest (and recreated on import), as is one of a
migration alias into the result it reuses (which always travels with it); any other is left
out and reported, as are FIFOs, sockets and devices. See ADR 0006.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import os
import stat
import tarfile
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from furu._bundle_files import (
    CHUNK,
    BundleFile,
    LeftOut,
    Tree,
    member_name,
    scan_tree,
    sha256_of,
)
from furu._errors import FuruStoreError
from furu._step_dir import StepDir, StepId
from furu._store import temp_name
from furu._workspace import Store

BUNDLE_MANIFEST = "furu-bundle.json"
BUNDLE_FORMAT = "furu-bundle"
BUNDLE_SCHEMA = 1
CODE_FILES = ("manifest.json", "diff.patch", "untracked.tar")
"""The files of a recorded code state (`furu._code_state`) a bundle may carry."""


@dataclass
class ExportReport:
    """What `export_steps` wrote.

    Attributes:
        path: the bundle.
        steps: the exported steps (the requested ones first, then their dependencies).
        code_states: the ids of the recorded code states packed as provenance.
        left_out: what was not packed, and why (unsuccessful or running dependencies,
            symlinks pointing out of a step, FIFOs, code states the store lacks).
        files: how many files were packed; bytes: their total size.
    """

    path: Path
    steps: list[StepId]
    code_states: list[str]
    left_out: list[LeftOut]
    files: int
    bytes: int

    def to_json(self) -> dict[str, Any]:
        return {
            "bundle": str(self.path),
            "steps": [str(s) for s in self.steps],
            "code_states": self.code_states,
            "left_out": [x.to_json() for x in self.left_out],
            "files": self.files,
            "bytes": self.bytes,
        }


# ---------------------------------------------------------------- export


@dataclass
class _Packed:
    """One step as the manifest lists it, and where its files are."""

    step: StepDir
    requested: bool
    tree: Tree
    raw: Tree
    code_state: str | None
    dependencies: list[StepId]

    def to_json(self) -> dict[str, Any]:
        return {
            "namespace": self.step.namespace,
            "hash": self.step.hash,
            "kind": self.step.kind,
            "rel_dir": self.step.rel_dir,
            "status": "success",
            "requested": self.requested,
            "dependencies": [str(d) for d in self.dependencies],
            "code_state": self.code_state,
            **self.tree.to_json(),
            "raw": self.raw.to_json(),
        }


def export_steps(
    store: Store,
    steps: Iterable[StepDir | StepId | str],
    path: Path | str,
    *,
    dependencies: bool = True,
) -> ExportReport:
    """Pack `steps` (and, with `dependencies`, everything they depend on) into a bundle.

    The bundle is a tar file (gzip-compressed when `path` ends in `.gz` or `.tgz`) written
    to a temporary name and renamed onto `path`, so a failed export leaves nothing behind.
    Only successful steps are packed: a requested step without a result, or being computed
    right now, is an error; such a dependency is left out and reported.

    Args:
        store: the store to read.
        steps: step directories, ids, or references `Store.find` accepts.
        path: the bundle to write.
        dependencies: also pack every step the requested ones depend on, transitively.

    Returns:
        What was packed and what was left out.

    Raises:
        FuruStoreError: a requested step has no result or is being computed, a file changed
            while it was packed, or the bundle cannot be written.
    """
    roots = [_resolve(store, s) for s in steps]
    left_out: list[LeftOut] = []
    requested, reads = set(roots), _Reads()
    packed = [
        _pack_step(d, d in requested, left_out, reads)
        for d in _closure(store, roots, dependencies, left_out, reads)
    ]
    code_states = _code_states(store, packed, left_out)
    manifest = _manifest(store, packed, code_states, left_out)
    target = Path(path)
    files, size = _write_bundle(target, manifest, packed, code_states)
    return ExportReport(
        target, [p.step.id for p in packed], [c for c, _ in code_states], left_out, files, size
    )


def _resolve(store: Store, step: StepDir | StepId | str) -> StepDir:
    if isinstance(step, StepDir):
        return step
    if isinstance(step, StepId):
        return _find_id(store, step) or store.step_dir(step.namespace, step.hash)
    return store.find(step)


def _find_id(store: Store, step: StepId) -> StepDir | None:
    """The directory of `step` in `store` (data, else version-controlled); None if absent."""
    found = store.step_dir(step.namespace, step.hash)
    if found.exists():
        return found
    if store.version_controlled_root is not None:
        found = store.step_dir(step.namespace, step.hash, version_controlled=True)
        if found.exists():
            return found
    return None


class _Reads:
    """What export reads of each step, read once: its metadata and whether it can be packed."""

    def __init__(self) -> None:
        self.problems: dict[StepDir, str | None] = {}
        self.metadata: dict[StepDir, dict[str, Any]] = {}

    def problem(self, step: StepDir) -> str | None:
        if step not in self.problems:
            self.problems[step] = _unexportable(step)
        return self.problems[step]

    def record(self, step: StepDir) -> dict[str, Any]:
        """`metadata.json` (empty when absent or damaged: the step then has no edges)."""
        if step not in self.metadata:
            try:
                self.metadata[step] = step.read_metadata() or {}
            except FuruStoreError:
                self.metadata[step] = {}
        return self.metadata[step]

    def dependencies(self, step: StepDir) -> list[StepId]:
        deps = self.record(step).get("dependencies")
        found = []
        for dep in deps if isinstance(deps, list) else []:
            if isinstance(dep, dict):
                namespace, digest = dep.get("namespace"), dep.get("hash")
                if isinstance(namespace, str) and isinstance(digest, str):
                    found.append(StepId(namespace, digest))
        return found

    def migrated_from(self, step: StepDir) -> StepDir | None:
        """The stored result a migration alias reuses (`SUCCESS.json`'s `migrated_from`)."""
        from furu._store import read_json

        try:
            success = read_json(step.success_path, what="result marker") or {}
        except FuruStoreError:
            return None
        ref = success.get("migrated_from")
        if not isinstance(ref, str) or "/" not in ref:
            return None
        namespace, _, digest = ref.rpartition("/")
        found = _find_id(step.store, StepId(namespace, digest))
        return found if found is not None and found.namespace == step.namespace else None

    def code_state(self, step: StepDir) -> str | None:
        from furu._code_state import is_code_state_id

        ref = self.record(step).get("code_state")
        state_id = ref.get("id") if isinstance(ref, dict) else None
        return state_id if is_code_state_id(state_id) else None


def _closure(
    store: Store,
    roots: list[StepDir],
    dependencies: bool,
    left_out: list[LeftOut],
    reads: _Reads,
) -> list[StepDir]:
    """The requested steps, checked, then (with `dependencies`) every exportable dependency."""
    from furu._graph import StoreGraph

    for root in roots:
        problem = reads.problem(root)
        if problem is not None:
            raise FuruStoreError(
                f"cannot export {root.id}: {problem}. Export it once it has a result, or "
                "leave it out of the list.",
                path=root.path,
            )
    graph = StoreGraph()
    queue, seen = list(roots), set[StepId]()
    while queue:  # only the metadata of the closure is read, not the whole store's
        step = queue.pop()
        if step.id in seen:
            continue
        seen.add(step.id)
        # A migration alias's files are links into the result it reuses: that result goes
        # along even with --no-deps, or the alias would arrive empty.
        old = reads.migrated_from(step)
        deps = [*(reads.dependencies(step) if dependencies else []), *([old.id] if old else [])]
        graph.add(step, deps)
        queue.extend(d for d in (_find_id(store, i) for i in deps if i not in seen) if d)
    out: list[StepDir] = []
    for step_id in graph.closure(roots):
        found = graph.steps.get(step_id)
        problem = "not in this store" if found is None else reads.problem(found)
        if problem is not None:
            left_out.append(LeftOut(str(step_id), f"dependency {problem}"))
        elif found is not None:
            out.append(found)
    return out


def _unexportable(step: StepDir) -> str | None:
    """Why `step` cannot be exported (no result, being computed, damaged); None if it can."""
    if not step.exists():
        return f"it does not exist in {step.store.root}"
    holder = step.live_holder()
    if holder is not None:
        return f"it is being computed by {holder.describe()}; its result may change"
    try:
        status = step.read_state().result_status.value
    except FuruStoreError as exc:
        return f"its state is unreadable ({exc})"
    if status != "success":
        return f"its result is {status} (only successful steps are exported)"
    return None


def _pack_step(step: StepDir, requested: bool, left_out: list[LeftOut], reads: _Reads) -> _Packed:
    old = reads.migrated_from(step)
    siblings = frozenset([old.hash] if old is not None else [])
    tree = scan_tree(step.path, meta=True, left_out=left_out, siblings=siblings)
    raw = Tree()
    if step.raw_dir.is_symlink():
        left_out.append(LeftOut(str(step.raw_dir), "its raw directory is a symbolic link"))
    elif step.raw_dir.is_dir():
        raw = scan_tree(step.raw_dir, meta=False, left_out=left_out)
    return _Packed(step, requested, tree, raw, reads.code_state(step), reads.dependencies(step))


def _code_states(
    store: Store, packed: list[_Packed], left_out: list[LeftOut]
) -> list[tuple[str, Tree]]:
    out: list[tuple[str, Tree]] = []
    for state_id in dict.fromkeys(p.code_state for p in packed if p.code_state):
        assert state_id is not None
        directory = store.code_root / state_id
        tree = Tree()
        for name in CODE_FILES:
            if (directory / name).is_file() and not (directory / name).is_symlink():
                digest, info = sha256_of(directory / name)
                tree.files.append(BundleFile(name, info.st_size, digest))
        if not any(f.path == "manifest.json" for f in tree.files):
            left_out.append(LeftOut(f"code state {state_id}", f"not in {store.code_root}"))
            continue
        out.append((state_id, tree))
    return out


def _manifest(
    store: Store,
    packed: list[_Packed],
    code_states: list[tuple[str, Tree]],
    left_out: list[LeftOut],
) -> dict[str, Any]:
    import furu
    from furu._state import now_iso
    from furu._store import HOSTNAME

    vc_root = store.version_controlled_root
    return {
        "format": BUNDLE_FORMAT,
        "schema": BUNDLE_SCHEMA,
        "created_at": now_iso(),
        "furu_version": furu.__version__,
        "source": {
            "root": os.path.abspath(store.root),
            "version_controlled_root": os.path.abspath(vc_root) if vc_root is not None else None,
            "host": HOSTNAME,
        },
        "steps": [p.to_json() for p in packed],
        "code_states": [{"id": i, "files": [f.to_json() for f in t.files]} for i, t in code_states],
        "left_out": [x.to_json() for x in left_out],
    }


def _members(
    packed: list[_Packed], code_states: list[tuple[str, Tree]]
) -> Iterator[tuple[str, Path, BundleFile]]:
    """`(member name, source path, listed file)` of every file, in manifest order."""
    for state_id, tree in code_states:
        directory = packed[0].step.store.code_root / state_id
        for f in tree.files:
            yield member_name("code", state_id, f.path), directory / f.path, f
    for p in packed:
        for f in p.tree.files:
            yield member_name("steps", p.step.kind, p.step.rel_dir, f.path), p.step.path / f.path, f
        for f in p.raw.files:
            yield member_name("raw", p.step.rel_dir, f.path), p.step.raw_dir / f.path, f


def _write_bundle(
    target: Path,
    manifest: dict[str, Any],
    packed: list[_Packed],
    code_states: list[tuple[str, Tree]],
) -> tuple[int, int]:
    """Write the manifest, then every file checked against it; atomic (temp + rename)."""
    compressed = target.name.endswith((".gz", ".tgz"))
    tmp = temp_name(target)
    files = size = 0
    try:
        with _open_tar(tmp, compressed) as tar:
            # Compact: ~150 bytes per file (`tar xOf B furu-bundle.json | python -m json.tool`).
            _add_bytes(tar, BUNDLE_MANIFEST, json.dumps(manifest, separators=(",", ":")).encode())
            for name, source, listed in _members(packed, code_states):
                _add_file(tar, name, source, listed)
                files += 1
                size += listed.size
        os.replace(tmp, target)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            tmp.unlink(missing_ok=True)
        if isinstance(exc, OSError) and exc.errno == errno.ENOSPC:
            raise FuruStoreError(
                f"the disk holding {target} is full; {size} bytes were packed. Free space or "
                "write the bundle elsewhere (-o).",
                path=target,
            ) from exc
        if isinstance(exc, OSError):
            raise FuruStoreError(
                f"cannot write the bundle {target} ({exc}); choose a writable path with -o.",
                path=target,
            ) from exc
        raise
    return files, size


def _open_tar(path: Path, compressed: bool) -> tarfile.TarFile:
    if compressed:
        tar = tarfile.open(path, "w:gz", format=tarfile.PAX_FORMAT, compresslevel=6)  # noqa: SIM115
    else:
        tar = tarfile.open(path, "w", format=tarfile.PAX_FORMAT)  # noqa: SIM115
    tar.copybufsize = CHUNK  # type: ignore[attr-defined]  # 16 KiB by default; real attribute
    return tar


def _add_bytes(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    import io

    info = tarfile.TarInfo(name)
    info.size, info.mtime, info.mode = len(data), int(time.time()), 0o644
    tar.addfile(info, io.BytesIO(data))


class _HashingReader:
    """A file object that hashes what `tarfile` reads from it."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self.digest = hashlib.sha256()

    def read(self, size: int = CHUNK) -> bytes:
        data = os.read(self.fd, size)
        self.digest.update(data)
        return data


def _add_file(tar: tarfile.TarFile, name: str, source: Path, listed: BundleFile) -> None:
    changed = FuruStoreError(
        f"{source} changed while it was exported (the manifest lists {listed.size} bytes, "
        f"sha256 {listed.sha256[:12]}…); export again once nothing writes to the step.",
        path=source,
    )
    try:
        fd = os.open(source, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError as exc:
        raise changed from exc
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode) or info.st_size != listed.size:
            raise changed
        member = tarfile.TarInfo(name)
        member.size, member.mtime = listed.size, int(info.st_mtime)
        member.mode = 0o755 if listed.executable else 0o644
        reader = _HashingReader(fd)
        try:
            tar.addfile(member, _as_file(reader))
        except OSError as exc:
            if exc.errno == errno.ENOSPC:
                raise
            raise changed from exc
        if reader.digest.hexdigest() != listed.sha256:
            raise changed
    finally:
        os.close(fd)


def _as_file(reader: _HashingReader) -> IO[bytes]:
    return reader  # type: ignore[return-value]  # tarfile only calls read()
