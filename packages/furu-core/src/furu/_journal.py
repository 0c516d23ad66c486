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
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

from furu._errors import FuruConfigError
from furu._settings import FURU_CONFIG
from furu._store import HOSTNAME

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
