"""The file tree of an experiment's directory, with sizes (symlinks listed, never followed).

The links of a migrated alias into the directory it was migrated from (`_reading.through_alias`)
are the exception: they are listed as what they link to (`linked`), and a linked directory is
listed below them.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from typing import Literal

from furu_server._models import ArtifactEntry, ArtifactTree
from furu_server._reading import through_alias

MAX_ENTRIES = 10_000


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="milliseconds")


def artifact_tree(furu_dir: str, limit: int = MAX_ENTRIES) -> ArtifactTree:
    """Every file and directory under `furu_dir` (`.furu/` included), sorted by path."""
    entries: list[ArtifactEntry] = []
    total = files = 0
    truncated = False
    stack = [""]
    while stack and not truncated:
        rel = stack.pop()
        try:
            found = sorted(os.scandir(os.path.join(furu_dir, rel)), key=lambda e: e.name)
        except OSError:
            continue
        for entry in found:
            if len(entries) >= limit:
                truncated = True
                break
            path = f"{rel}/{entry.name}" if rel else entry.name
            kind: Literal["file", "dir", "symlink"]
            linked = not rel and entry.is_symlink() and through_alias(furu_dir, path) is not None
            try:
                st = entry.stat(follow_symlinks=linked)
                if entry.is_symlink() and not linked:
                    kind = "symlink"
                elif entry.is_dir(follow_symlinks=linked):
                    kind = "dir"
                    stack.append(path)
                else:
                    kind = "file"
                    total += st.st_size
                    files += 1
            except OSError:
                continue
            size = st.st_size if kind != "dir" else 0
            entries.append(
                ArtifactEntry(
                    path=path, type=kind, size=size, modified_at=_iso(st.st_mtime), linked=linked
                )
            )
    entries.sort(key=lambda e: e.path)
    return ArtifactTree(entries=entries, total_bytes=total, file_count=files, truncated=truncated)
