"""An append-only journal of which step directories changed, so readers can index a store cheaply.

Each process appends one JSON line per change to a file of its own,
`<root>/journal/<host>-<pid>-<nonce>.jsonl`:

```
{"t": 1767225600.123, "root": "data", "dir": "my_project/pipelines/TrainModel/<hash>", "what": "state"}
```

`root` is `data` (the directory is under `<root>/data/`) or `vc` (under the version-controlled
root); `dir` is relative to that root, so a store mounted at different paths on different hosts
still reads right. A reader (furu-server's index) remembers how far it read each file and
re-reads only the directories named after that point: keeping an index fresh costs O(changes)
instead of a walk of the whole store. One file per process means no two writers ever share a
file (appends are not atomic across NFS clients).

The journal only describes, like `state.json`: it is an optimisation for readers, so failing to
write it is ignored (a reader falls back to scanning), and only creates write it (a cache hit
never does).

Compaction (`compact`, run by `furu gc`) keeps the directory from growing one file per process
forever: the files of finished writers (a dead pid on this host; on another host, a file
untouched for `idle_after` seconds) are merged into one new
`compacted-<host>-<pid>-<nonce>.jsonl`, one line per step directory (its latest change), then
removed. Earlier compacted files are left alone (a reader that read them does not read them
again) until there are `MAX_COMPACTED` of them, when they are merged as well. A reader meets the compacted file under a name it never saw and reads it from offset 0,
so whatever it had not read of the originals reaches it; a live writer's file is never touched.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from furu._errors import FuruConfigError, FuruStoreError
from furu._settings import FURU_CONFIG
from furu._store import HOSTNAME, fsync_dir, temp_name, write_all

JOURNAL_DIR = "journal"
"""The journal's directory, directly under the store root (beside `data/` and `raw/`)."""

_file_name: tuple[int, str] | None = None


def journal_file_name() -> str:
    """This process's journal file name (a forked child gets a name of its own)."""
    global _file_name
    pid = os.getpid()
    if _file_name is None or _file_name[0] != pid:
        _file_name = (pid, f"{HOSTNAME}-{pid}-{os.urandom(4).hex()}.jsonl")
    return _file_name[1]


def _relative(path: str, root: Path | None) -> str | None:
    if root is None:
        return None
    prefix = str(root) + os.sep
    return path[len(prefix) :] if path.startswith(prefix) else None


def locate(furu_dir: Path) -> tuple[str, str] | None:
    """`(root kind, relative dir)` of a step directory in the current store; None if outside."""
    path = str(furu_dir)
    rel = _relative(path, FURU_CONFIG.base_root / "data")
    if rel is not None:
        return "data", rel
    try:
        vc_root: Path | None = FURU_CONFIG.vc_root()
    except FuruConfigError:
        vc_root = None
    rel = _relative(path, vc_root)
    return ("vc", rel) if rel is not None else None


def append(base_root: Path, root_kind: str, rel_dir: str, what: str) -> None:
    """Append one change to this process's journal under `base_root` (errors are ignored)."""
    line = json.dumps({"t": round(time.time(), 6), "root": root_kind, "dir": rel_dir, "what": what})
    directory = base_root / JOURNAL_DIR
    try:
        try:
            fd = os.open(directory / journal_file_name(), os.O_WRONLY | os.O_APPEND | os.O_CREAT)
        except FileNotFoundError:
            directory.mkdir(parents=True, exist_ok=True)
            fd = os.open(directory / journal_file_name(), os.O_WRONLY | os.O_APPEND | os.O_CREAT)
        try:
            os.write(fd, (line + "\n").encode())
        finally:
            os.close(fd)
    except OSError:
        pass  # a read-only or full store: readers rescan instead


def record(furu_dir: Path, what: str) -> None:
    """Note that the step in `furu_dir` changed (`what`: the file written, e.g. `state`)."""
    where = locate(furu_dir)
    if where is not None:
        append(FURU_CONFIG.base_root, where[0], where[1], what)


# ---------------------------------------------------------------- compaction

COMPACTED_PREFIX = "compacted-"
MAX_COMPACTED = 8
"""Compacted files kept side by side before they are merged into one (each merge makes a
reader re-read every step directory the merged files name)."""
JOURNAL_IDLE_AFTER = 7 * 86400.0
"""A journal file of another host untouched this long (seconds) is taken to be finished."""
_READ_MAX = 256 * 1024 * 1024


@dataclass
class JournalCompaction:
    """What `Journal.compact` merged (or, in a dry run, would merge).

    Attributes:
        merged: the journal files merged (and removed, unless a dry run).
        kept: the files left alone, with why (`its writer may still append`, ...).
        lines: the lines read from the merged files.
        steps: the lines written: one per step directory (0 in a dry run, which only
            counts lines).
        bytes_before: the size of the merged files.
        bytes_after: the size of the compacted file (0 in a dry run).
        compacted: the compacted file's name; None when nothing was merged.
        dry_run: nothing was written or removed.
    """

    merged: list[str] = field(default_factory=list)
    kept: list[tuple[str, str]] = field(default_factory=list)
    lines: int = 0
    steps: int = 0
    bytes_before: int = 0
    bytes_after: int = 0
    compacted: str | None = None
    dry_run: bool = False

    def to_json(self) -> dict[str, Any]:
        return {
            "merged": self.merged,
            "kept": [{"file": f, "why": why} for f, why in self.kept],
            "lines": self.lines,
            "steps": self.steps,
            "bytes_before": self.bytes_before,
            "bytes_after": self.bytes_after,
            "compacted": self.compacted,
            "dry_run": self.dry_run,
        }

    def describe(self) -> str:
        if not self.merged:
            return f"journal: nothing to compact; {len(self.kept)} file(s) of running writers kept"
        kept = f"; {len(self.kept)} file(s) of running writers kept"
        what = f"{len(self.merged)} file(s) ({self.lines} lines, {self.bytes_before} bytes)"
        if self.dry_run:
            return f"journal: would merge {what} into one line per step directory{kept}"
        return (
            f"journal: merged {what} into {self.compacted}, one line per step directory "
            f"({self.steps} lines, {self.bytes_after} bytes){kept}"
        )


def writer_finished(name: str, mtime: float, now: float, idle_after: float) -> str | None:
    """Why the writer of journal file `name` is done with it; None while it may still write.

    A file of this host is done when its pid is dead (or is another process now); a file of
    another host, whose pid cannot be asked, when it was not written for `idle_after` seconds.
    A compacted file is done by definition (nobody appends to it).
    """
    from furu._lock import pid_alive

    stem = name.removesuffix(".jsonl")
    if stem.startswith(COMPACTED_PREFIX):
        return "an earlier compaction"
    host, _, pid_text = stem.rpartition("-")[0].rpartition("-")
    if host == HOSTNAME and pid_text.isdigit():
        pid = int(pid_text)
        if pid == os.getpid() or pid_alive(pid, None):
            return None
        return f"pid {pid} on this host has exited"
    if now - mtime >= idle_after:
        return f"not written for {(now - mtime) / 3600:.0f}h"
    return None


def compact(
    base_root: Path, *, idle_after: float = JOURNAL_IDLE_AFTER, dry_run: bool = False
) -> JournalCompaction:
    """Merge the journal files of finished writers into one file (see the module docstring).

    The compacted file is written under a temporary name and renamed into place before any
    original is removed, and an original is removed only if it did not change since it was
    read, so a crash at any point loses nothing (a line may at worst be read twice).
    """
    directory = base_root / JOURNAL_DIR
    report = JournalCompaction(dry_run=dry_run)
    now = time.time()
    done: list[tuple[str, os.stat_result]] = []
    try:
        entries = sorted(os.scandir(directory), key=lambda e: e.name)
    except (FileNotFoundError, NotADirectoryError):
        return report
    for entry in entries:
        if not entry.name.endswith(".jsonl"):
            continue
        try:
            st = entry.stat(follow_symlinks=False)
        except OSError:
            continue
        if not entry.is_file(follow_symlinks=False):
            report.kept.append((entry.name, "not a regular file"))
            continue
        why = writer_finished(entry.name, st.st_mtime, now, idle_after)
        if why is None:
            report.kept.append((entry.name, "its writer may still append"))
        else:
            done.append((entry.name, st))
    # Earlier compacted files stay as they are (a reader that read them need not read their
    # lines again) until there are `MAX_COMPACTED` of them; then they are merged too.
    earlier = [d for d in done if d[0].startswith(COMPACTED_PREFIX)]
    done = [d for d in done if not d[0].startswith(COMPACTED_PREFIX)]
    if not done:
        return report  # nothing new: rewriting what was compacted would gain nothing
    if len(earlier) + 1 > MAX_COMPACTED:
        done = earlier + done
    if dry_run:  # counted, not parsed: a dry run of a 100,000-step journal stays cheap
        for name, st in done:
            report.lines += _count_lines(directory / name)
            report.bytes_before += st.st_size
        report.merged = [name for name, _ in done]
        return report
    latest: dict[tuple[str, str], dict[str, Any]] = {}
    merged: list[tuple[str, os.stat_result]] = []
    for name, st in done:
        count = _merge(directory / name, latest)
        if count is None:
            report.kept.append((name, "unreadable as a journal file"))
            continue
        merged.append((name, st))
        report.lines += count
        report.bytes_before += st.st_size
    report.merged = [name for name, _ in merged]
    report.steps = len(latest)
    body = b"".join(
        json.dumps(line).encode() + b"\n" for line in sorted(latest.values(), key=_when)
    )
    report.bytes_after = len(body)
    target = directory / f"{COMPACTED_PREFIX}{HOSTNAME}-{os.getpid()}-{os.urandom(4).hex()}.jsonl"
    _write_new(target, body)
    report.compacted = target.name
    for name, st in merged:
        _remove_if_unchanged(directory / name, st)
    return report


def _count_lines(path: Path) -> int:
    """The line ends in `path` (a regular file, never followed if a symlink); 0 if unreadable."""
    from furu._store import read_regular_file

    try:
        return (read_regular_file(path, what="journal", max_bytes=_READ_MAX) or b"").count(b"\n")
    except (OSError, FuruStoreError):
        return 0


def _when(line: dict[str, Any]) -> float:
    t = line.get("t")
    return float(t) if isinstance(t, int | float) else 0.0


def _merge(path: Path, latest: dict[tuple[str, str], dict[str, Any]]) -> int | None:
    """Add the lines of `path` to `latest` (per step directory, the newest); count them.

    None when the file cannot be read whole (then it is neither merged nor removed).
    """
    from furu._store import read_regular_file

    try:
        raw = read_regular_file(path, what="journal", max_bytes=_READ_MAX) or b""
    except (OSError, FuruStoreError):
        return None
    count = 0
    for line in raw.split(b"\n"):
        try:
            data = json.loads(line)
        except ValueError:
            continue  # a torn or foreign line: nothing a reader could use either
        if not isinstance(data, dict):
            continue
        kind, rel = data.get("root"), data.get("dir")
        if not isinstance(kind, str) or not isinstance(rel, str):
            continue
        count += 1
        key = (kind, rel)
        old = latest.get(key)
        if old is None or _when(data) >= _when(old):
            latest[key] = {"t": data.get("t"), "root": kind, "dir": rel, "what": data.get("what")}
    return count


def _write_new(target: Path, body: bytes) -> None:
    """Write `target` whole (temporary name, fsync, rename): a reader never sees it half done."""
    tmp = temp_name(target)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o644)
    try:
        try:
            write_all(fd, body)
            os.fsync(fd)
        finally:
            os.close(fd)
        os.rename(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    fsync_dir(target.parent)


def _remove_if_unchanged(path: Path, seen: os.stat_result) -> None:
    """Remove a merged file unless it changed after it was read (then it stays, read twice)."""
    try:
        now = os.lstat(path)
    except OSError:
        return
    if (now.st_ino, now.st_size, now.st_mtime_ns) == (seen.st_ino, seen.st_size, seen.st_mtime_ns):
        path.unlink(missing_ok=True)
