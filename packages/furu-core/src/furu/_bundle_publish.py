"""The last phase of `furu import`: move verified steps from staging into the store.

Everything here runs after the whole bundle was verified and no step conflicts. Code states go
first (content-addressed: one already here is kept), then each step, dependencies before what
depends on them: its recorded directories and inner symlinks are recreated in staging, its raw
directory and then its step directory are renamed into place (an attempt already there without
a result is moved aside under the compute lock), and it is noted in the journal (one open
file for the whole import) and, per class, in the catalog.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from furu._bundle_files import Tree
from furu._bundle_manifest import BundleManifest, BundleStep
from furu._errors import FuruStoreError
from furu._step_dir import StepDir

if TYPE_CHECKING:
    from furu._bundle_import import ImportedStep, ImportReport, _Staging
    from furu._catalog import CatalogEntry
    from furu._workspace import Store


def publish(
    store: Store, manifest: BundleManifest, staging: _Staging, report: ImportReport
) -> None:
    """Move every `imported` and `replaced` step of `report` into `store`."""
    for state_id, action in report.code_states.items():
        if action == "imported":
            final = store.code_root / state_id
            final.parent.mkdir(parents=True, exist_ok=True)
            with contextlib.suppress(OSError):  # another import or run wrote it meanwhile
                os.rename(staging.data / "code" / state_id, final)
    actions = {s.id: s.action for s in report.steps}
    for step in manifest.steps:  # every directory and link first: nothing can fail half way
        if actions[step.id] in ("imported", "replaced"):
            _materialize(staging.step(step), step.tree)
            _materialize(staging.data / "raw" / step.rel_dir, step.raw)
    catalog: dict[str, list[CatalogEntry]] = {}
    done = 0
    try:
        with _Journal(store) as journal:
            for index in reversed(range(len(manifest.steps))):  # dependencies were listed after
                step = manifest.steps[index]
                if actions[step.id] not in ("imported", "replaced"):
                    continue
                refused = _publish_step(store, staging, step)
                if refused is not None:
                    report.steps[index] = refused
                    continue
                done += 1
                journal.note(step)
                _catalog_entry(catalog, staging.records.get(f"{step.kind}/{step.rel_dir}"), step)
    except OSError as exc:
        raise FuruStoreError(
            f"moving the verified steps of {staging.bundle} into {store.root} failed ({exc}) "
            f"after {done} of them were imported (each one whole). Fix the cause and import "
            "again: what is already there is skipped.",
            path=Path(exc.filename) if exc.filename else store.root,
        ) from exc
    finally:
        _append_catalog(store, catalog)


def _publish_step(store: Store, staging: _Staging, step: BundleStep) -> ImportedStep | None:
    """Move one verified step into place; a conflict if the store changed meanwhile."""
    from furu._bundle_import import ImportedStep

    target = StepDir(store, step.kind, step.rel_dir)
    staged = staging.step(step)
    staged_raw = staging.data / "raw" / step.rel_dir
    exists = target.exists()
    lock = target._take_lock() if exists else None
    if exists and (lock is None or target.has_result()):
        if lock is not None:
            lock.release()
        return ImportedStep(step.id, "conflict", "it was computed here while the bundle was read")
    try:
        if step.raw.files or step.raw.dirs or step.raw.symlinks:
            _replace_dir(staged_raw, target.raw_dir, staging)
        _replace_dir(staged, target.path, staging)
    finally:
        if lock is not None:
            lock.release()  # its file went with the old directory
    return None


def _materialize(base: Path, tree: Tree) -> None:
    """Create the (possibly empty) directories and the inner symlinks the manifest lists."""
    for rel in tree.dirs:
        (base / rel).mkdir(parents=True, exist_ok=True)
    for link in tree.symlinks:
        (base / link["path"]).parent.mkdir(parents=True, exist_ok=True)
        os.symlink(link["target"], base / link["path"])


def _replace_dir(staged: Path, final: Path, staging: _Staging) -> None:
    """Rename `staged` onto `final`; an old `final` goes into the staging directory first."""
    staging.parent(final)
    if final.exists() or final.is_symlink():
        trash = staging.data / "replaced" / os.urandom(8).hex()
        staging.parent(trash)
        try:
            os.rename(final, trash)
        except OSError:  # another filesystem (a version-controlled root): remove it
            shutil.rmtree(final)
    os.rename(staged, final)


class _Journal:
    """This process's journal file, opened once for every step of an import."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.fd: int | None = None

    def __enter__(self) -> _Journal:
        from furu._journal import JOURNAL_DIR, journal_file_name

        directory = self.store.root / JOURNAL_DIR
        try:
            directory.mkdir(parents=True, exist_ok=True)
            flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC
            self.fd = os.open(directory / journal_file_name(), flags, 0o644)
        except OSError:
            self.fd = None  # the journal is an optimisation: readers rescan instead
        return self

    def note(self, step: BundleStep) -> None:
        if self.fd is None:
            return
        line = {"t": round(time.time(), 6), "root": step.kind, "dir": step.rel_dir}
        with contextlib.suppress(OSError):
            os.write(self.fd, (json.dumps(line | {"what": "import"}) + "\n").encode())

    def __exit__(self, *exc: object) -> None:
        if self.fd is not None:
            os.close(self.fd)


def _catalog_entry(
    catalog: dict[str, list[CatalogEntry]], record: dict[str, Any] | None, step: BundleStep
) -> None:
    from furu._catalog import entry_from_record
    from furu._state import now_iso

    if record is None:
        return  # no readable metadata: the catalog's reader heals it from the directory
    at = record.get("timestamp")
    entry = entry_from_record(record, kind=step.kind, at=at if isinstance(at, str) else now_iso())
    if entry is not None:
        catalog.setdefault(step.id.namespace, []).append(entry)


def _append_catalog(store: Store, catalog: dict[str, list[CatalogEntry]]) -> None:
    from furu._catalog import append

    for namespace, entries in catalog.items():
        append(store.root, namespace, entries)
