"""Disk use of a store: every step (its directory and the raw files it owns) and the rest.

```
usage = furu.disk_usage(store)       # one walk: os.scandir + one lstat per entry
usage.by("class")                    # rows: key, steps, bytes, share (also namespace/status/age)
usage.areas                          # shared raw/, raw/steps without a step, code/, catalog/, journal/
```

Sizes are apparent sizes, counted the way `du -sb` counts them: every entry (directories
too), a symbolic link as the link itself (never followed, so nothing outside the store is
counted), a hard-linked file once. `disk` is what the blocks take (`du -s`). A step's size is
its directory plus its own raw directory (`StepDir.raw_dir`, made by `Furu.step_raw_dir`);
the shared `<root>/raw` belongs to no step. Files that vanish during the walk (a step being
deleted or published) are skipped, not an error.

A step's *age* is the time since furu last wrote one of its records (the newest file in its
`.furu/`): a cache hit writes nothing, so it is the age of the result, not of its last use.
"""

from __future__ import annotations

import os
import re
import stat
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from furu._errors import FuruConfigError, FuruStoreError
from furu._step_dir import StepId
from furu._store import FURU_DIR, LOCK_FILE, SUCCESS_FILE, TAGS_FILE

if TYPE_CHECKING:
    from furu._step_dir import StepDir
    from furu._workspace import Store

GROUPINGS = ("class", "namespace", "status", "age")
"""What `Usage.by` groups steps by: `class` is the step's namespace (`module.Class`),
`namespace` its module, `status` the latest attempt's (or result's) status, `age` a bucket."""

DAY = 86400.0
AGE_BUCKETS = ((DAY, "<1d"), (7 * DAY, "1-7d"), (30 * DAY, "7-30d"), (90 * DAY, "30-90d"))
"""Upper bounds (seconds) and labels; older than the last is `>90d`."""
OLDEST_BUCKET = ">90d"
ALIAS_FILE = "migration.json"
TRASH = re.compile(r"^\.[^/]+\.(deleting|undo)\.\d+\.[0-9a-f]+$")
"""The name `StepDir.delete()` (`.<hash>.deleting.<pid>.<hex>`) or an undone migration
(`.<hash>.undo.<pid>.<hex>`) renames a step directory to before removing it."""
MIGRATIONS_LOG = "migrations.jsonl"


@dataclass(slots=True)
class Size:
    """What a walk counted: apparent bytes (as `du -sb`), disk bytes (blocks) and entries."""

    bytes: int = 0
    disk: int = 0
    files: int = 0

    def add(self, other: Size) -> None:
        self.bytes += other.bytes
        self.disk += other.disk
        self.files += other.files

    def to_json(self) -> dict[str, int]:
        return {"bytes": self.bytes, "disk": self.disk, "files": self.files}


@dataclass(frozen=True, slots=True)
class StepUsage:
    """One step's disk use and what garbage collection needs to know of it without reading it.

    Attributes:
        store: the store it is in.
        kind: `data` or `vc` (version-controlled), as `StepDir.kind`.
        rel_dir: its directory below that root, as `StepDir.rel_dir`.
        id: its namespace and hash.
        size: its directory and its own raw directory together.
        raw: its own raw directory alone (`StepDir.raw_dir`).
        status: `success`, the latest attempt's status (`running`, `failed`, `crashed`, ...),
            `incomplete`, `absent`, or `unreadable` (a damaged `state.json`).
        modified: the newest modification time (epoch seconds) of a file in its `.furu/`.
        tagged: it has a `tags.json` (read it with `StepDir.read_labels`).
        alias: it is a migration's alias (`.furu/migration.json`): its files are links into
            the directory it was migrated from.
        migrated: it was migrated to an alias at least once (`.furu/migrations.jsonl`).
        locked: a compute lock file exists (its holder may be alive or dead).
    """

    store: Store
    kind: str
    rel_dir: str
    id: StepId
    size: Size
    raw: Size
    status: str
    modified: float
    tagged: bool = False
    alias: bool = False
    migrated: bool = False
    locked: bool = False

    @property
    def step(self) -> StepDir:
        """The step directory (made on demand: 100,000 of them cost a second)."""
        from furu._step_dir import StepDir

        return StepDir(self.store, self.kind, self.rel_dir)

    @property
    def namespace(self) -> str:
        return self.id.namespace

    def age(self, now: float) -> float:
        return max(0.0, now - self.modified)


@dataclass(frozen=True, slots=True)
class UsageRow:
    """One group of `Usage.by`: its key, how many steps, their size and share of all steps."""

    key: str
    steps: int
    bytes: int
    disk: int
    share: float

    def to_json(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "steps": self.steps,
            "bytes": self.bytes,
            "disk": self.disk,
            "share": round(self.share, 6),
        }


@dataclass
class Usage:
    """The disk use of a store at `scanned_at` (see `disk_usage`).

    Attributes:
        root: the store root.
        steps: every step's use, in `Store.step_dirs()` order.
        areas: what belongs to no step: `raw` (shared, `<root>/raw` without `raw/steps`),
            `raw/steps` (raw directories whose step is gone), `code`, `catalog`, `journal`,
            `other`: the root and `data/` directories themselves, the module and class
            directories above the steps, and any other file at the root (`manifest.json`),
            and `trash`: step directories a delete renamed away and did not finish removing.
        scanned_at: when the walk started (epoch seconds); ages are relative to it.
        trash: the paths of those half-deleted directories (`furu gc` removes them).
    """

    root: Path
    steps: list[StepUsage]
    areas: dict[str, Size] = field(default_factory=dict)
    scanned_at: float = 0.0
    trash: list[str] = field(default_factory=list)

    @property
    def steps_size(self) -> Size:
        total = Size()
        for s in self.steps:
            total.add(s.size)
        return total

    @property
    def total(self) -> Size:
        """Every step and every area: the store's whole size (hard links counted once)."""
        total = self.steps_size
        for size in self.areas.values():
            total.add(size)
        return total

    def by(self, grouping: str = "class") -> list[UsageRow]:
        """Steps grouped by `class`, `namespace`, `status` or `age`; largest first.

        Raises:
            FuruConfigError: `grouping` is not one of `GROUPINGS`.
        """
        key = _grouping(grouping, self.scanned_at)
        groups: dict[str, list[int]] = {}
        for s in self.steps:
            row = groups.setdefault(key(s), [0, 0, 0])
            row[0] += 1
            row[1] += s.size.bytes
            row[2] += s.size.disk
        whole = sum(r[1] for r in groups.values()) or 1
        rows = [UsageRow(k, n, b, d, b / whole) for k, (n, b, d) in groups.items()]
        if grouping == "age":
            order = [label for _, label in AGE_BUCKETS] + [OLDEST_BUCKET]
            return sorted(rows, key=lambda r: order.index(r.key))
        return sorted(rows, key=lambda r: (-r.bytes, r.key))

    def to_json(self, grouping: str = "class") -> dict[str, Any]:
        steps = self.steps_size
        raw = Size()
        for s in self.steps:
            raw.add(s.raw)
        return {
            "root": str(self.root),
            "scanned_at": self.scanned_at,
            "by": grouping,
            "groups": [r.to_json() for r in self.by(grouping)],
            "steps": {"count": len(self.steps), **steps.to_json(), "raw_bytes": raw.bytes},
            "areas": {name: size.to_json() for name, size in self.areas.items()},
            "total": self.total.to_json(),
        }


def _grouping(grouping: str, now: float) -> Any:
    if grouping == "class":
        return lambda s: s.namespace
    if grouping == "namespace":
        return lambda s: s.namespace.rpartition(".")[0] or s.namespace
    if grouping == "status":
        return lambda s: s.status
    if grouping == "age":
        return lambda s: age_bucket(s.age(now))
    raise FuruConfigError(
        f"cannot group disk use by {grouping!r}; choose one of {', '.join(GROUPINGS)} "
        "(`furu du --by ...`)."
    )


def age_bucket(age: float) -> str:
    """The label of the bucket `age` (seconds) falls in: `<1d`, `1-7d`, ... `>90d`."""
    for bound, label in AGE_BUCKETS:
        if age < bound:
            return label
    return OLDEST_BUCKET


def human_bytes(n: int) -> str:
    """`1.5 GiB`: binary units, one decimal (bytes as a whole number)."""
    size = float(n)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if size < 1024 or unit == "TiB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    raise AssertionError("unreachable")  # pragma: no cover


# ---------------------------------------------------------------- the walk


def disk_usage(store: Store, steps: Iterable[StepDir] | None = None) -> Usage:
    """Walk `store` once and measure every step and every shared area.

    Finding the step directories and measuring them is one walk (each directory is listed
    once), and a `StepDir` is only made for a step whose status needs `state.json` read.

    Args:
        store: the store (`furu.Store`).
        steps: measure only these (default: every step of the store); the areas are always
            measured.

    Returns:
        A `Usage`; group it with `Usage.by`.
    """
    from furu._stale import _gc_paused  # 100,000 acyclic records: no collection is needed

    with _gc_paused():
        return _disk_usage(store, steps)


def _disk_usage(store: Store, steps: Iterable[StepDir] | None) -> Usage:
    now = time.time()
    seen: set[tuple[int, int]] = set()
    raw_root = store.root / "raw"
    from furu._step_dir import STEP_RAW_DIR

    raw_steps = str(raw_root / STEP_RAW_DIR)
    # Most stores own no raw files: then no step pays a failed lstat for its raw directory.
    owned_raw = raw_steps if os.path.isdir(raw_steps) else ""
    trash: list[str] = []
    if steps is None:
        found = [
            _measure(store, kind, rel, path, entries, owned_raw, seen)
            for kind, root in store._roots()
            for rel, path, entries in _step_dirs(str(root), trash)
        ]
    else:
        found = [_measure_dir(s, owned_raw, seen) for s in steps]
    leftovers = Size()
    for path in trash:
        leftovers.add(walk_size(path, seen))
    owned = {s.rel_dir for s in found}
    areas = {
        "raw": walk_size(str(raw_root), seen, skip=(raw_steps,)),
        "raw/steps": _unowned_raw(raw_steps, owned, seen),
        "code": walk_size(str(store.root / "code"), seen),
        "catalog": walk_size(str(store.root / "catalog"), seen),
        "journal": walk_size(str(store.journal.directory), seen),
        "other": _other(store, found, seen),
        "trash": leftovers,
    }
    return Usage(root=store.root, steps=found, areas=areas, scanned_at=now, trash=trash)


def measure_step(step: StepDir) -> StepUsage:
    """One step's `StepUsage` (its directory and raw directory, its status and age)."""
    from furu._step_dir import STEP_RAW_DIR

    return _measure_dir(step, str(step.store.root / "raw" / STEP_RAW_DIR), set())


def _measure_dir(step: StepDir, raw_steps: str, seen: set[tuple[int, int]]) -> StepUsage:
    path = str(step.path)
    try:
        entries = list(os.scandir(path))
    except OSError:
        entries = []
    return _measure(step.store, step.kind, step.rel_dir, path, entries, raw_steps, seen)


def _step_dirs(root: str, trash: list[str]) -> Iterator[tuple[str, str, list[os.DirEntry[str]]]]:
    """`(rel dir, path, its entries)` of every step directory below `root` (as
    `Store.step_dirs()` finds them: a directory holding `.furu/`, hidden names skipped).

    The hidden directories a delete or an undone migration renamed a step to, and did not
    finish removing (the process died), are added to `trash`.
    """
    stack = [root]
    cut = len(root) + 1
    while stack:
        directory = stack.pop()
        try:
            entries = list(os.scandir(directory))
        except OSError:
            continue
        if directory != root and any(e.name == FURU_DIR for e in entries):
            yield directory[cut:].replace(os.sep, "/"), directory, entries
            continue
        for e in entries:
            if not e.is_dir(follow_symlinks=False):
                continue
            if e.name[0] != ".":
                stack.append(e.path)
            elif TRASH.match(e.name):
                trash.append(e.path)


def _measure(
    store: Store,
    kind: str,
    rel: str,
    path: str,
    entries: list[os.DirEntry[str]],
    raw_steps: str,
    seen: set[tuple[int, int]],
) -> StepUsage:
    meta: dict[str, float] = {}
    own = Size()
    try:
        st = os.lstat(path)
        own.bytes, own.disk = st.st_size, st.st_blocks * 512
    except OSError:
        pass
    _count(entries, own, seen, path, meta)
    raw = walk_size(f"{raw_steps}/{rel}", seen) if raw_steps else Size()
    total = Size(own.bytes + raw.bytes, own.disk + raw.disk, own.files + raw.files)
    parent, _, digest = rel.rpartition("/")
    return StepUsage(
        store=store,
        kind=kind,
        rel_dir=rel,
        id=StepId(parent.replace("/", "."), digest),
        size=total,
        raw=raw,
        status="success" if SUCCESS_FILE in meta else _status(store, kind, rel),
        modified=max(meta.values(), default=0.0),
        tagged=TAGS_FILE in meta,
        alias=ALIAS_FILE in meta,
        migrated=MIGRATIONS_LOG in meta,
        locked=LOCK_FILE in meta,
    )


def _status(store: Store, kind: str, rel: str) -> str:
    """The healed state's status (no result marker was seen)."""
    from furu._step_dir import StepDir

    try:
        state = StepDir(store, kind, rel).read_state()
    except FuruStoreError:
        return "unreadable"
    except OSError:
        return "absent"  # vanished meanwhile
    result, attempt = state.result_status.value, state.attempt
    if result == "failed" or attempt is None or attempt.status.value in ("success", "failed"):
        return result  # an invalidated result reads `incomplete`, not its old attempt's success
    return attempt.status.value


def walk_size(
    top: str,
    seen: set[tuple[int, int]],
    *,
    skip: tuple[str, ...] = (),
) -> Size:
    """The size of `top` and everything below it, never following a symbolic link.

    Args:
        top: a directory (or a file, or nothing: then zero).
        seen: `(device, inode)` of hard-linked files already counted (updated).
        skip: directories below `top` not to enter (nor count).
    """
    try:
        st = os.lstat(top)
    except OSError:
        return Size()
    size = Size(st.st_size, st.st_blocks * 512, 0)
    if not stat.S_ISDIR(st.st_mode):
        size.files = 1
        return size
    try:
        entries = list(os.scandir(top))
    except OSError:
        return size
    _count(entries, size, seen, top, None, skip)
    return size


def _count(
    entries: list[os.DirEntry[str]],
    size: Size,
    seen: set[tuple[int, int]],
    top: str,
    meta: dict[str, float] | None,
    skip: tuple[str, ...] = (),
) -> None:
    """Add the entries of `top` and everything below them to `size` (one lstat each).

    With `meta`, record `name: mtime` of the files in `top/.furu/` (one empty name for the
    directory's own mtime when it holds no file).
    """
    meta_dir = os.path.join(top, FURU_DIR) if meta is not None else None
    stack: list[tuple[str, list[os.DirEntry[str]] | None]] = [(top, entries)]
    nbytes = disk = files = 0
    is_dir = stat.S_ISDIR
    while stack:
        directory, listed = stack.pop()
        if listed is None:
            try:
                listed = list(os.scandir(directory))
            except OSError:  # vanished, or not readable: what can be seen is counted
                continue
        is_meta = meta is not None and directory == meta_dir
        for entry in listed:
            try:
                st = entry.stat(follow_symlinks=False)
            except OSError:
                continue
            if is_dir(st.st_mode):
                if skip and entry.path in skip:
                    continue
                stack.append((entry.path, None))
                if meta is not None and directory == top and entry.name == FURU_DIR:
                    meta[""] = st.st_mtime
            else:
                if st.st_nlink > 1:
                    key = (st.st_dev, st.st_ino)
                    if key in seen:
                        continue
                    seen.add(key)
                files += 1
                if is_meta:
                    meta[entry.name] = st.st_mtime  # type: ignore[index]
            nbytes += st.st_size
            disk += st.st_blocks
    size.bytes += nbytes
    size.disk += disk * 512
    size.files += files


def _other(store: Store, found: list[StepUsage], seen: set[tuple[int, int]]) -> Size:
    """The root itself and what is at its top besides the known areas, plus the directories
    between `data/` and the steps (a class directory of 10,000 steps takes hundreds of KiB)."""
    root = store.root
    known = ("data", "raw", "code", "catalog", "journal")
    total = walk_size(str(root), seen, skip=tuple(str(root / name) for name in known))
    above: set[str] = set()
    for s in found:
        if s.kind != "data":
            continue
        parts = s.rel_dir.split("/")[:-1]
        for end in range(len(parts) + 1):
            above.add("/".join(parts[:end]))
    for rel in above:
        try:
            st = os.lstat(store.data_root / rel if rel else store.data_root)
        except OSError:
            continue
        total.bytes += st.st_size
        total.disk += st.st_blocks * 512
    return total


def _unowned_raw(top: str, owned: set[str], seen: set[tuple[int, int]]) -> Size:
    """`raw/steps/...` directories whose step is not in the store (left by a deleted step)."""
    total = Size()
    try:
        st = os.lstat(top)
    except OSError:
        return total
    total.bytes, total.disk = st.st_size, st.st_blocks * 512
    stack = [(top, "")]
    while stack:
        directory, rel = stack.pop()
        try:
            entries = list(os.scandir(directory))
        except OSError:
            continue
        for entry in entries:
            child = f"{rel}/{entry.name}" if rel else entry.name
            if child in owned:
                continue
            if entry.is_dir(follow_symlinks=False):
                try:
                    st = entry.stat(follow_symlinks=False)
                except OSError:
                    continue
                total.bytes += st.st_size
                total.disk += st.st_blocks * 512
                stack.append((entry.path, child))
            else:
                total.add(walk_size(entry.path, seen))
    return total
