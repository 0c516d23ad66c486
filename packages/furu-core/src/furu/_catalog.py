"""A read-only view of a store: every step directory, its status, without importing user code.

The catalog only reads files, so it works from any process (a CLI, a server) whatever is
installed. A step directory is any `<module path>/<Class>/<hash>` holding a `.furu/` directory;
its namespace is that relative path with `/` read as `.` (the layout furu writes).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from furu._errors import FuruStoreError
from furu._state import ResultStatus, StateManager, StepState
from furu._store import FURU_DIR


@dataclass(frozen=True)
class CatalogEntry:
    """One step directory of a store."""

    namespace: str
    hash: str
    furu_dir: Path
    version_controlled: bool

    def state(self) -> StepState:
        """The healed state; a damaged state file reads as incomplete with the error noted."""
        try:
            return StateManager(self.furu_dir).read()
        except FuruStoreError:
            return StepState(ResultStatus.INCOMPLETE)


def _step_dirs(root: Path) -> Iterator[tuple[str, Path]]:
    """`(relative class dir, step dir)` under `root`, found with `os.scandir` (no stat calls)."""
    stack = [root]
    while stack:
        directory = stack.pop()
        try:
            entries = list(os.scandir(directory))
        except (FileNotFoundError, NotADirectoryError):
            continue
        if any(e.name == FURU_DIR for e in entries):
            rel = os.path.relpath(directory.parent, root)
            yield rel, directory
            continue
        stack.extend(
            Path(e.path) for e in entries if e.is_dir(follow_symlinks=False) and e.name[0] != "."
        )


def iter_catalog(base_root: Path, vc_root: Path | None = None) -> Iterator[CatalogEntry]:
    """Every step directory under `<base_root>/data` (and the version-controlled root)."""
    roots = [(base_root / "data", False)]
    if vc_root is not None:
        roots.append((vc_root, True))
    for root, version_controlled in roots:
        for rel, step_dir in _step_dirs(root):
            namespace = rel.replace(os.sep, ".")
            yield CatalogEntry(namespace, step_dir.name, step_dir, version_controlled)
