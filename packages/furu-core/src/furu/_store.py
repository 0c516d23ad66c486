"""The on-disk layout of a store, and the one way furu writes and reads its JSON files.

```
<root>/data/<module path>/<Class>/<hash>/
    .furu/  metadata.json  state.json  furu.log  SUCCESS.json  compute.lock
        attempts/<attempt id>/   an attempt's private staging directory (see _staging.py)
    <files the step wrote>
<root>/raw/
```

Every write goes to a temporary name unique to host, pid and call, then `os.replace`s the target,
so readers never see half a file and concurrent writers on NFS never collide. Only `SUCCESS.json`
decides whether a step is done, so only it (and its directory entry) is fsynced: the other files
describe, and a reader treats a damaged one as "unknown", never as "done".
"""

from __future__ import annotations

import errno
import itertools
import json
import os
import stat
from pathlib import Path
from typing import Any

from furu._errors import FuruStoreError

FURU_DIR = ".furu"
STATE_FILE = "state.json"
METADATA_FILE = "metadata.json"
SUCCESS_FILE = "SUCCESS.json"
LOG_FILE = "furu.log"
LOCK_FILE = "compute.lock"
TAGS_FILE = "tags.json"
ATTEMPTS_DIR = "attempts"

HOSTNAME = os.uname().nodename
_counter = itertools.count()


def temp_name(target: Path) -> Path:
    """A sibling of `target` no other host, process or call will pick."""
    return target.with_name(f".{target.name}.{HOSTNAME}.{os.getpid()}.{next(_counter)}.tmp")


def write_bytes_atomic(target: Path, data: bytes, *, durable: bool = False) -> None:
    """Replace `target` with `data` in one step; with `durable`, survive a power cut too.

    Every byte is written before the rename: a short write (a full disk writes what fits) is
    retried, and any error removes the temporary file and raises, leaving `target` as it was.
    """
    tmp = temp_name(target)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o644)
    try:
        try:
            write_all(fd, data)
            if durable:
                os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    if durable:
        fsync_dir(target.parent)


def write_all(fd: int, data: bytes) -> None:
    """Write all of `data` to `fd`; `os.write` may write less (then the rest is retried)."""
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        if written <= 0:  # pragma: no cover - a regular file never returns 0 for data
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        view = view[written:]


def fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def dump_json(data: Any) -> bytes:
    return json.dumps(data, indent=2, sort_keys=False, default=str).encode() + b"\n"


def write_json_atomic(target: Path, data: Any, *, durable: bool = False) -> None:
    """Write `data` as JSON to `target` atomically (see `write_bytes_atomic`)."""
    write_bytes_atomic(target, dump_json(data), durable=durable)


KIB = 1024
MIB = 1024 * KIB
METADATA_MAX_BYTES = 64 * MIB
METADATA_WHAT = "metadata (config, git and environment)"
"""`metadata.json` (config, git fields, environment; a record of furu 0.1 may inline a diff)
larger than this is refused when read."""
STATE_MAX_BYTES = 16 * MIB
"""`state.json` (the latest attempt, with its error and traceback)."""
SMALL_FILE_MAX_BYTES = 1 * MIB
"""Every other file furu reads in `.furu/` (tags, locks, a scheduler's claim)."""


def read_regular_file(path: Path, *, what: str, max_bytes: int) -> bytes | None:
    """The bytes of `path` if it is a regular file of at most `max_bytes`; None if absent.

    See `read_regular_file_stat`, which also returns the file's `os.stat_result`.
    """
    found = read_regular_file_stat(path, what=what, max_bytes=max_bytes)
    return None if found is None else found[0]


def read_regular_file_stat(
    path: Path, *, what: str, max_bytes: int
) -> tuple[bytes, os.stat_result] | None:
    """The bytes of `path` and its stat, if it is a regular file of at most `max_bytes`.

    The one way furu reads a file of a store, which anyone may have planted: a symlink is not
    followed (its last component), and nothing but a regular file is opened for reading (a
    FIFO or device would block the reader forever), and at most `max_bytes + 1` bytes are
    read.

    Raises:
        FuruStoreError: the path is a symlink, a FIFO, a directory or anything but a regular
            file, or it is larger than `max_bytes`; the message names the file, what it should
            hold and what to do.
    """
    try:
        fd, info = _open_regular(path, os.O_RDONLY, what)
    except FileNotFoundError:
        return None
    try:
        if info.st_size > max_bytes:
            raise _too_large(path, info.st_size, max_bytes, what)
        chunks: list[bytes] = []
        size = 0
        while size <= max_bytes:
            chunk = os.read(fd, max_bytes + 1 - size)
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        if size > max_bytes:  # it grew after the fstat
            raise _too_large(path, size, max_bytes, what)
        return b"".join(chunks), info
    finally:
        os.close(fd)


def open_append(path: Path, *, what: str) -> int:
    """A descriptor appending to `path` (created if absent), which must be a regular file.

    Like `read_regular_file`, a symlink is not followed and a FIFO is not waited on.

    Raises:
        FuruStoreError: `path` is a symlink, a FIFO or anything but a regular file.
        OSError: it cannot be created or opened (permissions, a full disk).
    """
    return _open_regular(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, what)[0]


def _open_regular(path: Path, flags: int, what: str) -> tuple[int, os.stat_result]:
    """Open `path` with `flags`, never following a symlink nor waiting on a FIFO; a regular
    file only (else `FuruStoreError`, the descriptor closed)."""
    try:
        fd = os.open(path, flags | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC, 0o644)
    except OSError as exc:
        if exc.errno in (errno.ELOOP, errno.EMLINK):
            raise _not_regular(path, "a symbolic link", what) from None
        if exc.errno in (errno.ENXIO, errno.EISDIR):
            raise _not_regular(path, "not a regular file", what) from None
        raise
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode):
        os.close(fd)
        raise _not_regular(path, _kind(info.st_mode), what)
    return fd, info


def _kind(mode: int) -> str:
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    return "not a regular file"


def _not_regular(path: Path, kind: str, what: str) -> FuruStoreError:
    return FuruStoreError(
        f"{path} is {kind}, not a regular file; it should hold the step's {what}. furu reads "
        "only regular files in a store and never follows a symbolic link there. Remove it "
        "(or the whole step directory) to let furu recompute the step.",
        path=path,
    )


def _too_large(path: Path, size: int, max_bytes: int, what: str) -> FuruStoreError:
    return FuruStoreError(
        f"{path} holds {size} bytes, more than the {max_bytes} furu reads for the step's "
        f"{what}; furu did not write it this large. Remove it (or the whole step directory) to "
        "let furu recompute the step.",
        path=path,
    )


def read_json(
    path: Path, *, what: str, max_bytes: int = SMALL_FILE_MAX_BYTES
) -> dict[str, Any] | None:
    """Read a JSON object furu wrote; None when the file does not exist.

    Raises:
        FuruStoreError: the file is empty, truncated, not JSON or not an object, is not a
            regular file, or is larger than `max_bytes` (see `read_regular_file`); the message
            names the file and what it should hold.
    """
    raw = read_regular_file(path, what=what, max_bytes=max_bytes)
    if raw is None:
        return None
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        problem = "is empty" if not raw.strip() else f"is not valid JSON ({exc})"
        raise FuruStoreError(
            f"{path} {problem}; it should hold the step's {what}. It was probably cut short by a "
            "crash or a full disk. Delete it (or the whole step directory) to let furu "
            "recompute the step.",
            path=path,
        ) from None
    if not isinstance(data, dict):
        raise FuruStoreError(
            f"{path} holds a JSON {type(data).__name__}, not an object; it should hold the "
            f"step's {what}. Delete it to let furu recompute the step.",
            path=path,
        )
    return data
