"""Finding what is in a store, and what changed: directory walks and the core's journal.

A store has two kinds of directory: *step directories* (they hold `.furu/`) and the module and
class directories above them. The index remembers the mtime of every directory of the second
kind, because creating or removing a step directory changes its class directory's mtime: a
refresh stats those few directories and lists only the ones that changed. Changes *inside* a
step directory (its state moving from running to success) are read from the journal furu-core
appends to (`furu.Journal`).
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass
from pathlib import Path

from furu import StepDir, Store
from furu_server._errors import ServerError
from furu_server._reading import open_inside

FURU_DIR = StepDir.META_DIR

RACY_NS = 2_000_000_000
"""A directory changed this recently may change again within the same mtime tick: rescan it."""
JOURNAL_READ_MAX = 16 * 1024 * 1024
"""Bytes of one journal file read per refresh; the rest is read by the next ones."""


@dataclass(frozen=True)
class Root:
    """One root of a store: `data` (`<root>/data`) or `vc` (the version-controlled root)."""

    kind: str
    path: Path

    def abs(self, rel: str) -> str:
        return os.path.join(self.path, rel) if rel else str(self.path)


def settled_mtime(mtime_ns: int) -> int:
    """The mtime to remember for a directory; 0 (rescan next time) when it is racy-recent."""
    if time.time_ns() - mtime_ns < RACY_NS:
        return 0
    return mtime_ns


def join_rel(parent: str, name: str) -> str:
    return f"{parent}/{name}" if parent else name


def parent_of(rel: str) -> str:
    return rel.rpartition("/")[0]


@dataclass
class WalkResult:
    """What a walk found: step directories and the other directories (with their mtimes)."""

    steps: list[str]
    dirs: list[tuple[str, int]]


def walk(root: Root, start: str = "") -> WalkResult:
    """Every step directory and intermediate directory under `root/start` (relative paths)."""
    result = WalkResult([], [])
    stack = [start]
    while stack:
        rel = stack.pop()
        path = root.abs(rel)
        try:
            st = os.stat(path)
            entries = list(os.scandir(path))
        except (FileNotFoundError, NotADirectoryError, PermissionError):
            continue
        if any(e.name == FURU_DIR for e in entries) and rel:
            result.steps.append(rel)
            continue
        result.dirs.append((rel, settled_mtime(st.st_mtime_ns)))
        for entry in entries:
            if entry.name[0] != "." and _is_real_dir(entry):
                stack.append(join_rel(rel, entry.name))
    return result


def _is_real_dir(entry: os.DirEntry[str]) -> bool:
    try:
        return entry.is_dir(follow_symlinks=False)
    except OSError:
        return False


def list_children(root: Root, rel: str) -> list[str] | None:
    """Names of the visible entries of `root/rel` (no stat calls); None when it is gone."""
    try:
        names = os.listdir(root.abs(rel))
    except (FileNotFoundError, NotADirectoryError):
        return None
    except PermissionError:
        return []
    return [name for name in names if name[0] != "."]


# ---------------------------------------------------------------- the journal


@dataclass(frozen=True)
class JournalFile:
    name: str
    size: int
    ino: int


def journal_files(base_root: Path) -> list[JournalFile]:
    """The journal files under `<root>/journal/` with their sizes."""
    try:
        entries = list(os.scandir(Store(base_root).journal.directory))
    except (FileNotFoundError, NotADirectoryError):
        return []
    found = []
    for entry in entries:
        if not entry.name.endswith(".jsonl"):
            continue
        try:
            st = entry.stat(follow_symlinks=False)
        except OSError:
            continue
        found.append(JournalFile(entry.name, st.st_size, st.st_ino))
    return found


def read_journal(
    base_root: Path, file: JournalFile, offset: int
) -> tuple[set[tuple[str, str]], int]:
    """The `(root kind, rel dir)` changed after `offset` in one journal file, and the new offset.

    Only whole lines are consumed: a line being appended right now is read next time.
    """
    changed: set[tuple[str, str]] = set()
    if file.size <= offset:
        return changed, offset
    journal = str(Store(base_root).journal.directory)
    try:
        # The server's one opener: a regular file inside journal/, never a FIFO planted there.
        with open_inside(journal, file.name) as opened:
            data = os.pread(opened.file.fileno(), min(file.size - offset, JOURNAL_READ_MAX), offset)
    except (ServerError, OSError):
        return changed, offset
    end = data.rfind(b"\n")
    if end < 0:
        # A whole read without a line end is no journal line (the journal's are short): skip it.
        return changed, offset + (len(data) if len(data) == JOURNAL_READ_MAX else 0)
    for line in data[:end].split(b"\n"):
        entry = _parse_line(line)
        if entry is not None:
            changed.add(entry)
    return changed, offset + end + 1


def _parse_line(line: bytes) -> tuple[str, str] | None:
    try:
        data = json.loads(line)
        kind, rel = data["root"], data["dir"]
    except (ValueError, KeyError, TypeError):
        return None
    if kind not in ("data", "vc") or not isinstance(rel, str) or rel.startswith("/"):
        return None
    parts = rel.split("/")
    if len(parts) < 2 or any(p in ("", ".", "..") for p in parts):
        return None
    return kind, rel
