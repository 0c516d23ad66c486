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

import itertools
import json
import os
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
    """Replace `target` with `data` in one step; with `durable`, survive a power cut too."""
    tmp = temp_name(target)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    try:
        os.write(fd, data)
        if durable:
            os.fsync(fd)
    finally:
        os.close(fd)
    try:
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    if durable:
        _fsync_dir(target.parent)


def _fsync_dir(directory: Path) -> None:
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


def read_json(path: Path, *, what: str) -> dict[str, Any] | None:
    """Read a JSON object furu wrote; None when the file does not exist.

    Raises:
        FuruStoreError: the file is empty, truncated, not JSON or not an object; the message
            names the file and what it should hold.
    """
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return None
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
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
