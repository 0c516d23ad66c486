"""Keeping the SQLite index equal to the store: a first build, incremental refreshes, rescans.

```
build        walk every root, read every experiment (the first time, or after a schema change)
refresh      O(changes): the journal's new lines, the class directories whose mtime moved,
             and the experiments recorded as running or queued (a dead holder reads as crashed)
rescan       walk every root and stat each `.furu/`: catches what no journal recorded
             (a store written by an older furu, a hand-edited file); run every few minutes
```

Every write also sets the `stale` flag (`_stale`) of the experiments it wrote and of their
dependents, before it commits; when `manifest.json` changes, every experiment's flag is set
again.

One writer at a time (a lock); readers use their own connections and never wait (WAL).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from furu import StepDir
from furu_server.index._columns import INSERT_SQL, NAMES, UPSERT_SQL
from furu_server.index._database import (
    SCHEMA,
    FileStamp,
    file_problem,
    file_stamp,
    get_info,
    is_damage,
    open_index,
    set_info,
)
from furu_server.index._readers import read_in_workers
from furu_server.index._rows import RecordRows, read_rows
from furu_server.index._scanner import (
    Root,
    WalkResult,
    join_rel,
    journal_files,
    list_children,
    parent_of,
    read_journal,
    settled_mtime,
    walk,
)
from furu_server.index._stale import ManifestFile, update_stale
from furu_server.index._text import sql_value

_log = logging.getLogger("furu_server")
BATCH = 500
PARALLEL_FROM = 4000
"""A build reads in worker processes from this many experiments (a worker costs ~0.2 s)."""


@dataclass(frozen=True)
class RefreshStats:
    """What one refresh did."""

    kind: str
    changed: int
    removed: int
    seconds: float
    generation: int


class Indexer:
    """The only writer of one index file."""

    def __init__(
        self,
        db_path: Path,
        base_root: Path,
        roots: list[Root],
        manifest: ManifestFile | None = None,
    ) -> None:
        self.db_path = db_path
        self.base_root = base_root
        self.manifest = manifest if manifest is not None else ManifestFile(base_root)
        self._gone: list[str] = []  # `<namespace>/<hash>` removed by `_delete`, for `_apply`
        self._touched: list[int] = []  # experiments written (or whose dependency went) since
        # the last `_update_stale`
        self.roots = {r.kind: r for r in roots}
        self.lock = threading.Lock()
        self.generation = 0
        self.stamp: FileStamp | None = None  # the file as this writer last left it
        self.built = False
        self.build_total: int | None = None
        """While a first build runs: how many experiments its walk found (None before)."""
        self.incarnation = 0
        """Counts the files this writer opened: readers reconnect when it changes."""
        self.last_damage: str | None = None
        self.conn = self._open()
        self.closed = False
        self.damage: str | None = None
        """Damage a reader reported (`report_damage`): the next refresh starts over."""
        self.last: RefreshStats | None = None
        self.last_rescan = 0.0
        self._children: dict[tuple[str, str], set[str]] = {}  # names listed last, per directory
        self.not_indexed: list[str] = []  # the last records no row could be written for
        self._logged = 0

    def _open(self, *, fresh: bool = False) -> sqlite3.Connection:
        damage: list[str] = []
        conn = open_index(self.db_path, fresh=fresh, damage=damage)
        if damage:  # a file found damaged as it was opened (e.g. at a restart)
            self.last_damage = damage[0]
        self.stamp = file_stamp(self.db_path)
        self.incarnation += 1
        self.built = get_info(conn, "built") == "1"
        # never backwards: responses cached under a generation must not come back
        self.generation = max(self.generation, int(get_info(conn, "generation") or 0))
        return conn

    def close(self) -> None:
        """Close the connection; the next refresh opens it again."""
        with self.lock:
            self.conn.close()
            self.closed = True

    def checkpoint(self) -> None:
        """Move the WAL into the database (off the refresh's critical path: autocheckpoints
        are off, so a refresh never waits for one)."""
        with self._writing():
            self.conn.execute("PRAGMA wal_checkpoint(PASSIVE)")

    def _reopen(self) -> None:
        if self.closed:
            self.conn = self._open()
            self.closed = False

    # ------------------------------------------------------------ healing

    def report_damage(self, reason: str) -> None:
        """A reader found the index damaged (`_database.is_damage`): the next refresh starts
        a new one (reports made while that one is built are about the old file: dropped)."""
        if self.damage is None:
            self.damage = reason

    def _heal(self) -> None:
        """Start over when the file is gone, replaced, overwritten, or a reader found it
        damaged. The store is the truth and the index a cache: it is simply built again."""
        reason = file_problem(self.db_path, self.stamp) or self.damage
        if reason is not None:
            self._start_over(reason)

    def _start_over(self, reason: str) -> None:
        _log.warning(
            "furu-server: the index at %s is damaged (%s); building a new one from the store",
            self.db_path,
            reason,
        )
        self.built = False  # before the new file exists: no answer from it says "built"
        self.generation += 1  # and none cached from the damaged one is served again
        with contextlib.suppress(sqlite3.Error):
            self.conn.close()
        self.closed = True
        self.conn = self._open(fresh=True)  # IndexPathError when the path cannot hold one
        self.closed = False
        self._children = {}
        set_info(self.conn, "generation", str(self.generation))
        self.conn.commit()
        self.last_damage = reason

    # ------------------------------------------------------------ entry points

    @contextlib.contextmanager
    def _writing(self) -> Iterator[None]:
        """Hold the writer: the file (re)opened and healed first, its stamp taken after."""
        with self.lock:
            self._reopen()
            self._heal()
            try:
                yield
            finally:
                if not self.closed:
                    with contextlib.suppress(OSError):
                        self.stamp = file_stamp(self.db_path)

    def refresh(self, *, full: bool = False) -> RefreshStats:
        """Bring the index up to date: build, rescan (`full`) or an incremental refresh.

        A damaged index file (gone, replaced, overwritten, pages that do not read) is replaced
        by a new one, built from the store.
        """
        with self._writing():
            try:
                return self._refresh(full)
            except sqlite3.DatabaseError as exc:
                if not is_damage(exc):
                    raise
                self._start_over(f"{type(exc).__name__}: {exc}")
                return self._refresh(full)

    def _refresh(self, full: bool) -> RefreshStats:
        self._logged = 0
        start = time.perf_counter()
        if not self.built:
            kind, (changed, removed) = "build", self._build()
            self.damage = None  # reported by readers of the file this build replaced
        elif full:
            kind, (changed, removed) = "rescan", self._rescan()
        else:
            kind, (changed, removed) = "refresh", self._incremental()
        if self._manifest_changed():
            self._update_stale(None)
            changed = max(changed, 1)  # the flags changed: a new generation
        if changed or removed:
            self.generation += 1
            set_info(self.conn, "generation", str(self.generation))
            self.conn.commit()
        # built only now: answers cached while it was built belong to an older generation
        self.built = True
        self.last = RefreshStats(
            kind, changed, removed, time.perf_counter() - start, self.generation
        )
        return self.last

    def reindex(self, root_kind: str, rel_dir: str) -> None:
        """Re-read one experiment now (after this server changed it)."""
        with self._writing():
            try:
                self._apply({(root_kind, rel_dir)})
            except sqlite3.DatabaseError as exc:
                if not is_damage(exc):
                    raise
                self._start_over(f"{type(exc).__name__}: {exc}")  # the build will read it
            self.generation += 1
            set_info(self.conn, "generation", str(self.generation))
            self.conn.commit()

    # ------------------------------------------------------------ build and rescan

    def _build(self) -> tuple[int, int]:
        snapshot = journal_files(self.base_root)
        found: list[tuple[str, str]] = []
        for root in self.roots.values():
            result = walk(root)
            found += [(root.kind, rel) for rel in result.steps]
            self._set_dirs(root.kind, result.dirs, replace=True)
            self._remember_children(root.kind, result)
        self.build_total = len(found)
        self.conn.execute("DELETE FROM experiments")
        for table in ("config_kv", "result_kv", "deps", "tags"):
            self.conn.execute(f"DELETE FROM {table}")
        # Loading into unindexed tables, then indexing once, takes half the time of keeping
        # every index up to date row by row (requests meanwhile are answered, more slowly).
        indexes = self.conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL"
        ).fetchall()
        for (name,) in indexes:
            self.conn.execute(f"DROP INDEX {name}")
        self._write_records(self._read_all(found), fresh=True)
        self.conn.executescript(SCHEMA)  # creates the indexes again
        self._update_stale(None)
        self.conn.execute("DELETE FROM journal")
        self.conn.executemany(
            "INSERT INTO journal VALUES (?, ?, ?)", [(f.name, f.size, f.ino) for f in snapshot]
        )
        set_info(self.conn, "built", "1")
        self.conn.commit()
        self.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        self.last_rescan = time.monotonic()
        return len(found), 0

    def _rescan(self) -> tuple[int, int]:
        known = {
            (kind, rel): mtime
            for kind, rel, mtime in self.conn.execute(
                "SELECT root_kind, rel_dir, mtime_ns FROM experiments"
            )
        }
        changed: set[tuple[str, str]] = set()
        seen: set[tuple[str, str]] = set()
        for root in self.roots.values():
            result = walk(root)
            self._set_dirs(root.kind, result.dirs, replace=True)
            self._remember_children(root.kind, result)
            for rel in result.steps:
                key = (root.kind, rel)
                seen.add(key)
                if known.get(key) != _furu_mtime(root.abs(rel)):
                    changed.add(key)
        gone = set(known) - seen
        self._apply(changed | gone)
        self.last_rescan = time.monotonic()
        return len(changed), len(gone)

    # ------------------------------------------------------------ incremental

    def _incremental(self) -> tuple[int, int]:
        changed = self._journal_changes()
        changed |= self._dir_changes()
        changed |= {
            (kind, rel)
            for kind, rel in self.conn.execute(
                "SELECT root_kind, rel_dir FROM experiments "
                "WHERE attempt_status IN ('running', 'queued')"
            )
        }
        return self._apply(changed)

    def _journal_changes(self) -> set[tuple[str, str]]:
        offsets = {
            name: (offset, ino)
            for name, offset, ino in self.conn.execute("SELECT file, offset, ino FROM journal")
        }
        changed: set[tuple[str, str]] = set()
        files = journal_files(self.base_root)
        gone = set(offsets) - {f.name for f in files}  # compacted away (`furu gc`)
        self.conn.executemany("DELETE FROM journal WHERE file = ?", [(n,) for n in gone])
        for file in files:
            offset, ino = offsets.get(file.name, (0, file.ino))
            if ino != file.ino or file.size < offset:
                offset = 0  # replaced or truncated: read it again from the start
            found, new_offset = read_journal(self.base_root, file, offset)
            changed |= {key for key in found if key[0] in self.roots}
            if new_offset != offsets.get(file.name, (None, None))[0]:
                self.conn.execute(
                    "INSERT OR REPLACE INTO journal VALUES (?, ?, ?)",
                    (file.name, new_offset, file.ino),
                )
        return changed

    def _dir_changes(self) -> set[tuple[str, str]]:
        """Step directories added or removed below the module and class directories."""
        changed: set[tuple[str, str]] = set()
        rows = self.conn.execute("SELECT root_kind, rel, mtime_ns FROM dirs").fetchall()
        for kind, rel, mtime in rows:
            root = self.roots.get(kind)
            if root is None:
                continue
            try:
                st = os.stat(root.abs(rel))
            except OSError:
                changed |= self._forget_subtree(kind, rel)
                continue
            if st.st_mtime_ns != mtime:
                changed |= self._rescan_dir(root, rel, st)
        return changed

    def _rescan_dir(self, root: Root, rel: str, st: os.stat_result) -> set[tuple[str, str]]:
        """What appeared in or vanished from one directory since it was last listed."""
        changed: set[tuple[str, str]] = set()
        key = (root.kind, rel)
        if rel and os.path.isdir(os.path.join(root.abs(rel), StepDir.META_DIR)):
            self.conn.execute("DELETE FROM dirs WHERE root_kind = ? AND rel = ?", key)
            self._children.pop(key, None)
            return {key}  # a directory that became a step directory
        names = list_children(root, rel)
        if names is None:
            return self._forget_subtree(root.kind, rel)
        present = set(names)
        known = self._children.get(key)
        if known is None:  # not listed since this process started: ask the index
            known = self._known_children(root.kind, rel)
        for name in present - known:
            result = walk(root, join_rel(rel, name))
            changed |= {(root.kind, s) for s in result.steps}
            self._set_dirs(root.kind, result.dirs)
        for name in known - present:  # a step (removed by _apply) or a directory
            gone = join_rel(rel, name)
            changed.add((root.kind, gone))
            changed |= self._forget_subtree(root.kind, gone)
        self._children[key] = present
        self._set_dirs(root.kind, [(rel, settled_mtime(st.st_mtime_ns))])
        return changed

    def _remember_children(self, kind: str, result: WalkResult) -> None:
        """What a walk listed in each directory (the next listing is compared with it)."""
        for rel, _ in result.dirs:
            self._children.setdefault((kind, rel), set())
        for child in [*result.steps, *(rel for rel, _ in result.dirs if rel)]:
            parent, _, name = child.rpartition("/")
            self._children.setdefault((kind, parent), set()).add(name)

    def _known_children(self, kind: str, rel: str) -> set[str]:
        steps = self.conn.execute(
            "SELECT rel_dir FROM experiments WHERE root_kind = ? AND parent_rel = ?", (kind, rel)
        )
        dirs = self.conn.execute(
            "SELECT rel FROM dirs WHERE root_kind = ? AND parent_rel = ?", (kind, rel)
        )
        return {r.rpartition("/")[2] for (r,) in steps} | {r.rpartition("/")[2] for (r,) in dirs}

    def _forget_subtree(self, kind: str, rel: str) -> set[tuple[str, str]]:
        """Drop a vanished directory's rows; return its experiments (to be removed)."""
        low, high = (rel + "/", rel + "0") if rel else ("", "\U0010ffff")
        self._children = {
            k: v
            for k, v in self._children.items()
            if k[0] != kind or not (k[1] == rel or low <= k[1] < high)
        }
        self.conn.execute(
            "DELETE FROM dirs WHERE root_kind = ? AND (rel = ? OR (rel >= ? AND rel < ?))",
            (kind, rel, low, high),
        )
        rows = self.conn.execute(
            "SELECT rel_dir FROM experiments WHERE root_kind = ? AND rel_dir >= ? AND rel_dir < ?",
            (kind, low, high),
        )
        return {(kind, r) for (r,) in rows}

    def _set_dirs(self, kind: str, dirs: Iterable[tuple[str, int]], replace: bool = False) -> None:
        if replace:
            self._children = {k: v for k, v in self._children.items() if k[0] != kind}
            self.conn.execute("DELETE FROM dirs WHERE root_kind = ?", (kind,))
        self.conn.executemany(
            "INSERT OR REPLACE INTO dirs VALUES (?, ?, ?, ?)",
            [(kind, rel, parent_of(rel) if rel else None, mtime) for rel, mtime in dirs],
        )

    # ------------------------------------------------------------ reading and writing rows

    def _apply(self, keys: set[tuple[str, str]]) -> tuple[int, int]:
        present: list[tuple[str, str]] = []
        removed = 0
        for kind, rel in keys:
            root = self.roots.get(kind)
            if root is not None and os.path.isdir(os.path.join(root.abs(rel), StepDir.META_DIR)):
                present.append((kind, rel))
            else:
                removed += self._delete(kind, rel)
        present += [key for key in self._orphaned_aliases() if key not in keys]
        self._write_records(self._read_all(present), fresh=False)
        self._update_stale(self._touched)
        self.conn.commit()
        return len(present), removed

    def _read_all(self, keys: list[tuple[str, str]]) -> Iterator[RecordRows]:
        items = [(kind, rel, self.roots[kind].abs(rel)) for kind, rel in keys]
        chunks = [items[i : i + BATCH] for i in range(0, len(items), BATCH)]
        workers = os.cpu_count() or 1
        if len(items) < PARALLEL_FROM or workers < 2:
            for chunk in chunks:
                yield from read_rows(chunk)
            return
        yield from read_in_workers(chunks, workers)

    def _delete(self, kind: str, rel: str) -> int:
        gone = self.conn.execute(
            "DELETE FROM experiments WHERE root_kind = ? AND rel_dir = ? "
            "RETURNING id, namespace, hash",
            (kind, rel),
        ).fetchall()
        self._gone += [f"{namespace}/{digest}" for _, namespace, digest in gone]
        for _, namespace, digest in gone:  # their dependents' flags may change
            self._touched += [
                i
                for (i,) in self.conn.execute(
                    "SELECT exp_id FROM deps WHERE dep_namespace = ? AND dep_hash = ?",
                    (namespace, digest),
                )
            ]
        ids = [i for i, _, _ in gone]
        self._delete_children(ids)
        return len(ids)

    def _orphaned_aliases(self) -> list[tuple[str, str]]:
        """The aliases of the experiments just removed: their links dangle now, so they are
        read again (nothing in their own `.furu/` changed)."""
        gone, self._gone = self._gone, []
        found: list[tuple[str, str]] = []
        for ref in gone:
            found += self.conn.execute(
                "SELECT root_kind, rel_dir FROM experiments WHERE migrated_from = ?", (ref,)
            ).fetchall()
        return found

    def _delete_children(self, ids: list[int]) -> None:
        for table in ("config_kv", "result_kv", "deps", "tags"):
            self.conn.executemany(f"DELETE FROM {table} WHERE exp_id = ?", [(i,) for i in ids])

    def _write_records(self, records: Iterable[RecordRows], *, fresh: bool) -> None:
        batch: list[RecordRows] = []
        for rec in records:
            batch.append(rec)
            if len(batch) >= BATCH:
                self._write_batch(batch, fresh)
                self.conn.commit()  # readers see a first build grow
                batch = []
        if batch:
            self._write_batch(batch, fresh)

    def _write_batch(self, batch: list[RecordRows], fresh: bool) -> None:
        """Write a batch at once; when one record's rows fail, write them one by one."""
        self._report(batch)
        self.conn.execute("SAVEPOINT batch")
        try:
            self._write_rows(batch, fresh)
        except RECORD_ERRORS:
            self.conn.execute("ROLLBACK TO batch")
            for rows in batch:
                self._write_one(rows)
        finally:
            self.conn.execute("RELEASE batch")

    def _write_one(self, rows: RecordRows) -> None:
        """Write one record; when its rows fail, its listing row only, with the error noted."""
        self.conn.execute("SAVEPOINT one")
        try:
            self._write_rows([rows], fresh=False)
        except RECORD_ERRORS as exc:
            self.conn.execute("ROLLBACK TO one")
            where = f"{rows[0][_NAMESPACE]}/{rows[0][_HASH]} ({rows[0][_REL_DIR]})"
            _log.warning("furu-server: indexing %s failed (%s); listing it only", where, exc)
            try:
                self._write_rows([_listing_only(rows, exc)], fresh=False)
            except RECORD_ERRORS as again:
                self.conn.execute("ROLLBACK TO one")
                self._not_indexed(f"{where}: not indexed ({type(again).__name__}: {again})")
        finally:
            self.conn.execute("RELEASE one")

    def _write_rows(self, batch: list[RecordRows], fresh: bool) -> None:
        conn = self.conn
        if fresh:  # an empty table: number the rows here and insert them all at once
            (top,) = conn.execute("SELECT coalesce(max(id), 0) FROM experiments").fetchone()
            ids = list(range(top + 1, top + 1 + len(batch)))
            conn.executemany(
                INSERT_SQL, [(i, *rows[0]) for i, rows in zip(ids, batch, strict=True)]
            )
        else:
            ids = [conn.execute(UPSERT_SQL, rows[0]).fetchone()[0] for rows in batch]
            self._delete_children(ids)
        self._touched += ids
        kv: list[tuple[Any, ...]] = []
        results: list[tuple[Any, ...]] = []
        deps: list[tuple[Any, ...]] = []
        tags: list[tuple[Any, ...]] = []
        classes: dict[str, tuple[str, str, str]] = {}
        for exp_id, (_, leaves, dependencies, labels, cls, outcome) in zip(ids, batch, strict=True):
            kv += [(exp_id, *leaf) for leaf in leaves]
            results += [(exp_id, *leaf) for leaf in outcome]
            deps += [(exp_id, *dep) for dep in dependencies]
            tags += [(exp_id, tag) for tag in labels]
            if cls is not None:
                classes[cls[0]] = cls
        conn.executemany("INSERT INTO config_kv VALUES (?, ?, ?, ?, ?)", kv)
        conn.executemany("INSERT INTO result_kv VALUES (?, ?, ?, ?, ?)", results)
        conn.executemany("INSERT INTO deps VALUES (?, ?, ?, ?, ?)", deps)
        conn.executemany("INSERT INTO tags VALUES (?, ?)", tags)
        conn.executemany("INSERT OR REPLACE INTO classes VALUES (?, ?, ?)", classes.values())

    # ------------------------------------------------------------ staleness

    def _manifest_changed(self) -> bool:
        """Whether `manifest.json` changed since the flags were last set from it."""
        stamp = json.dumps(self.manifest.stamp())
        return get_info(self.conn, "manifest_stamp") != stamp

    def _update_stale(self, scope: list[int] | None) -> None:
        """Set the `stale` flags of `scope` and its dependents (None: of every experiment),
        from the manifest as it is now (not committed: the caller commits)."""
        self._touched = []
        if scope is not None and not scope:
            return
        loaded = self.manifest.load()
        update_stale(self.conn, loaded.manifest, scope)
        if scope is None:
            set_info(self.conn, "manifest_stamp", json.dumps(loaded.stamp))

    def _report(self, batch: list[RecordRows]) -> None:
        """Log the experiments indexed with problems (a few per refresh)."""
        for rows in batch:
            problems = rows[0][_PROBLEMS]
            if problems is None:
                continue
            self._logged += 1
            if self._logged <= LOGGED_PROBLEMS:
                _log.warning(
                    "furu-server: %s/%s is indexed with problems: %s%s",
                    rows[0][_NAMESPACE],
                    rows[0][_HASH],
                    problems,
                    " (more are not logged this refresh; GET /api/health counts them)"
                    if self._logged == LOGGED_PROBLEMS
                    else "",
                )

    def _not_indexed(self, message: str) -> None:
        _log.error("furu-server: %s", message)
        self.not_indexed.append(message)
        del self.not_indexed[:-LOGGED_PROBLEMS]


RECORD_ERRORS = (
    sqlite3.IntegrityError,
    sqlite3.DataError,
    sqlite3.InterfaceError,
    sqlite3.ProgrammingError,
    OverflowError,
    ValueError,
    TypeError,
)
"""What one record's values can make a write raise (the rest, a full disk or a damaged file,
is about the index and fails the refresh)."""
LOGGED_PROBLEMS = 10
"""Experiments with problems logged per refresh; records that could not be indexed kept."""
_NAMESPACE, _HASH, _REL_DIR, _PROBLEMS, _META, _STATE = (
    NAMES.index(n) for n in ("namespace", "hash", "rel_dir", "problems", "meta", "state")
)


def _listing_only(rows: RecordRows, exc: Exception) -> RecordRows:
    """A record's listing row without what failed to store (config, metadata, state)."""
    row = list(rows[0])
    problems = json.loads(row[_PROBLEMS]) if row[_PROBLEMS] else []
    problems.append(
        f"furu-server could not store this experiment's config, metadata or state in the index "
        f"({type(exc).__name__}: {exc}); it is listed without them"
    )
    row[_PROBLEMS] = sql_value(json.dumps(problems))
    row[_META] = row[_STATE] = None
    return tuple(row), [], [], [], None, []


def _furu_mtime(step_dir: str) -> int:
    try:
        return os.stat(os.path.join(step_dir, StepDir.META_DIR)).st_mtime_ns
    except OSError:
        return -1
