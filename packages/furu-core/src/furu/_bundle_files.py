"""The files of a bundle: how a directory is read into one (no link followed), and named.

`scan_tree` walks a step (or raw) directory without following a symbolic link: regular files
are listed with their size and sha256, directories (so that empty ones travel too), and
symlinks that stay inside the directory; anything else is reported in `left_out`. Export
writes what it lists; import checks a bundle's manifest against the same rules
(`inner_link`, `sibling_link`) and compares a step already in the store with `scan_tree`.
"""

from __future__ import annotations

import hashlib
import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from furu._errors import FuruStoreError
from furu._store import FURU_DIR, LOCK_FILE

CHUNK = 1 << 20
_SKIPPED_META = (LOCK_FILE, LOCK_FILE + ".break", "attempts")
"""`.furu/` entries that belong to a running attempt on this host, never to a result."""


@dataclass(frozen=True)
class BundleFile:
    """A regular file of a bundle: its path (relative to what holds it), size and sha256."""

    path: str
    size: int
    sha256: str
    executable: bool = False

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"path": self.path, "size": self.size, "sha256": self.sha256}
        if self.executable:
            out["executable"] = True
        return out


@dataclass
class Tree:
    """What a directory holds, as a bundle records it: files, directories, inner symlinks."""

    files: list[BundleFile] = field(default_factory=list)
    dirs: list[str] = field(default_factory=list)
    symlinks: list[dict[str, str]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "files": [f.to_json() for f in self.files],
            "dirs": self.dirs,
            "symlinks": self.symlinks,
        }


@dataclass(frozen=True)
class LeftOut:
    """Something an export did not pack, and why (a step, a file, a code state)."""

    what: str
    why: str

    def to_json(self) -> dict[str, str]:
        return {"what": self.what, "why": self.why}


def member_name(section: str, *parts: str) -> str:
    """The tar member of a file: `steps/<kind>/<rel_dir>/<path>`, `raw/…` or `code/…`."""
    return "/".join((section, *parts))


def sha256_of(path: Path) -> tuple[str, os.stat_result]:
    """The sha256 of the regular file `path` (never a symlink) and its stat."""
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise FuruStoreError(f"{path} is not a regular file", path=path)
        digest = hashlib.sha256()
        while chunk := os.read(fd, CHUNK):
            digest.update(chunk)
        return digest.hexdigest(), info
    finally:
        os.close(fd)


def scan_tree(
    top: Path, *, meta: bool, left_out: list[LeftOut], siblings: frozenset[str] = frozenset()
) -> Tree:
    """Every regular file, directory and inner symlink below `top`, without following links.

    Args:
        top: a step directory or a raw directory.
        meta: `top` is a step directory, whose `.furu/` lock and attempts are left out.
        left_out: gets what was not recorded (a symlink out of `top`, a FIFO, a vanished file).
        siblings: hashes of steps of the same class whose directories symlinks may point
            into (a migration alias links to the result it reuses, `../<old hash>/<entry>`).
    """
    tree = Tree()
    for rel, entry in _walk(top):
        if meta and _skipped_meta(rel):
            continue
        try:
            mode = entry.stat(follow_symlinks=False).st_mode
            if stat.S_ISDIR(mode):
                tree.dirs.append(rel)
            elif stat.S_ISLNK(mode):
                _add_symlink(top, rel, tree, left_out, siblings)
            elif not stat.S_ISREG(mode):
                left_out.append(LeftOut(str(top / rel), "not a regular file (FIFO/socket/device)"))
            else:
                digest, info = sha256_of(top / rel)
                tree.files.append(
                    BundleFile(rel, info.st_size, digest, bool(info.st_mode & stat.S_IXUSR))
                )
        except FileNotFoundError:
            left_out.append(LeftOut(str(top / rel), "vanished while the export read the step"))
    return tree


def _skipped_meta(rel: str) -> bool:
    parts = rel.split("/")
    if parts[0] != FURU_DIR or len(parts) < 2:
        return False
    name = parts[1]
    return name in _SKIPPED_META or (name.startswith(".") and name.endswith(".tmp"))


def _walk(top: Path) -> Iterator[tuple[str, os.DirEntry[str]]]:
    """`(relative path, entry)` of everything below `top`, directories before their content."""
    stack = [""]
    while stack:
        rel = stack.pop()
        try:
            entries = sorted(os.scandir(top / rel if rel else top), key=lambda e: e.name)
        except (FileNotFoundError, NotADirectoryError):
            continue
        for entry in entries:
            child = f"{rel}/{entry.name}" if rel else entry.name
            yield child, entry
            if entry.is_dir(follow_symlinks=False):
                stack.append(child)


def _add_symlink(
    top: Path, rel: str, tree: Tree, left_out: list[LeftOut], siblings: frozenset[str]
) -> None:
    target = os.readlink(top / rel)
    if inner_link(rel, target) or sibling_link(rel, target) in siblings:
        tree.symlinks.append({"path": rel, "target": target})
    else:
        left_out.append(LeftOut(str(top / rel), f"a symbolic link to {target!r}, outside the step"))


def inner_link(rel: str, target: str) -> bool:
    """Whether a symlink at `rel` pointing to `target` stays inside the directory holding it."""
    if not target or os.path.isabs(target) or "\0" in target:
        return False
    resolved = os.path.normpath(os.path.join(os.path.dirname(rel), target))
    return resolved != ".." and not resolved.startswith("../") and not os.path.isabs(resolved)


def sibling_link(rel: str, target: str) -> str | None:
    """The hash `../<hash>/…` names when a symlink at `rel` points into a sibling step
    directory of the same class (a migration alias's links); None for any other target."""
    if not target or os.path.isabs(target) or "\0" in target:
        return None
    parts = os.path.normpath(os.path.join(os.path.dirname(rel), target)).split("/")
    if len(parts) < 2 or parts[0] != ".." or parts[1] in ("", ".", ".."):
        return None
    return parts[1]
