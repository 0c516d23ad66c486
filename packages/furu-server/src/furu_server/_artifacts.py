"""The file tree of an experiment's directory, with sizes (symlinks listed, never followed)."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from typing import Literal

from furu_server._models import ArtifactEntry, ArtifactTree

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
            try:
                st = entry.stat(follow_symlinks=False)
                if entry.is_symlink():
                    kind = "symlink"
                elif entry.is_dir(follow_symlinks=False):
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
                ArtifactEntry(path=path, type=kind, size=size, modified_at=_iso(st.st_mtime))
            )
    entries.sort(key=lambda e: e.path)
    return ArtifactTree(entries=entries, total_bytes=total, file_count=files, truncated=truncated)
