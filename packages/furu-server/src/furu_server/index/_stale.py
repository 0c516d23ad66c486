"""Which indexed experiments are stale: the current code would no longer produce them.

ADR 0005 section 4. The code is known from `<root>/manifest.json` (`furu.Manifest`, written by
`furu manifest`); without it staleness is unknown (`stale` is null), never guessed. An
experiment's own reason comes from `Manifest.stale_reason(namespace, types)` with the field
names and types its `metadata.json` recorded (the `schema_types` column), decided once per
distinct `(namespace, schema_types)`, so 100,000 experiments of a few classes cost a few
calls. Then `dependency-stale` is propagated through the `deps` table, level by level: an
experiment below a stale dependency is stale, and its reason names that dependency.

`ManifestFile` reads the manifest once per change of the file (its stat stamp); the indexer
recomputes every experiment's flag when the stamp moves, and only the changed experiments and
their dependents otherwise.
"""

from __future__ import annotations

import json
import logging
import os
import sqlite3
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import furu

_log = logging.getLogger("furu_server")
BROKEN_ALIAS = "broken-alias"
DEPENDENCY_STALE = "dependency-stale"
"""The kinds (`furu.STALE_KINDS`) the index decides itself; the others come from
`Manifest.stale_cause`."""
MANIFEST_NAME = "manifest.json"
MAX_LEVELS = 1000
"""Propagation rounds at most (a dependency chain longer than this is not followed further)."""
REASON_CHARS = 1000
"""Characters kept of one stale reason."""

Stamp = tuple[int, int, int, int]


@dataclass(frozen=True)
class Loaded:
    """The manifest as last read: the object (None: no file), or why it could not be read."""

    manifest: Any
    stamp: Stamp | None
    error: str | None = None


class ManifestFile:
    """`<root>/manifest.json`, read through `furu.Manifest` once per change of the file."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.path = root / MANIFEST_NAME
        self._lock = threading.Lock()
        self._loaded = Loaded(None, None)

    def stamp(self) -> Stamp | None:
        try:
            st = os.stat(self.path)
        except OSError:
            return None
        return st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns

    def load(self) -> Loaded:
        """The manifest of the file as it is now (read again only when it changed)."""
        stamp = self.stamp()
        with self._lock:
            if stamp == self._loaded.stamp and (stamp is not None or self._loaded.error is None):
                return self._loaded
            self._loaded = self._read(stamp)
            return self._loaded

    def _read(self, stamp: Stamp | None) -> Loaded:
        if stamp is None:
            return Loaded(None, None)
        try:
            manifest = furu.Manifest.read(furu.Store(self.root))
        except Exception as exc:  # a damaged or foreign file: say so, never fail a refresh
            why = (
                f"{self.path} could not be read ({type(exc).__name__}: {str(exc)[:500]}); "
                "run `furu manifest` in the project to write it again (or POST "
                "/api/manifest/refresh)"
            )
            _log.warning("furu-server: %s", why)
            return Loaded(None, stamp, why)
        return Loaded(manifest, stamp)


# ---------------------------------------------------------------- computing the flag
# (CROSS JOIN fixes the join order: from the few rows of a temporary table outwards; the index
# has no statistics, and SQLite would otherwise scan `deps` or `experiments` whole.)


def update_stale(
    conn: sqlite3.Connection, manifest: furu.Manifest | None, scope: Iterable[int] | None
) -> int:
    """Set `stale`, `stale_kind` and `stale_reason` of the experiments in `scope` and of
    everything that depends on them (every experiment when `scope` is None); returns how many
    were looked at. Without a manifest every one of them is unknown (null).

    The flags are computed in a temporary table (`stale_new`), then each row whose flags
    changed is written once: a row rewrite is what costs (a row holds its metadata).
    """
    for name, columns in _TEMP_TABLES.items():
        conn.execute(f"CREATE TEMP TABLE IF NOT EXISTS {name} ({columns})")
        conn.execute(f"DELETE FROM {name}")
    if scope is None:
        conn.execute("INSERT INTO stale_scope SELECT id FROM experiments")
    else:
        conn.executemany("INSERT OR IGNORE INTO stale_scope VALUES (?)", [(i,) for i in scope])
        _close_downward(conn)
    (count,) = conn.execute("SELECT count(*) FROM stale_scope").fetchone()
    if manifest is None:
        conn.execute("INSERT INTO stale_new (id) SELECT id FROM stale_scope")
    else:
        _own_causes(conn, manifest)
        _propagate(conn, partial=scope is not None)
    changed = conn.execute(
        "SELECT n.stale, n.kind, n.reason, n.id FROM stale_new n "
        "JOIN experiments e ON e.id = n.id WHERE e.stale IS NOT n.stale "
        "OR e.stale_kind IS NOT n.kind OR e.stale_reason IS NOT n.reason"
    ).fetchall()
    conn.executemany(
        "UPDATE experiments SET stale = ?, stale_kind = ?, stale_reason = ? WHERE id = ?", changed
    )
    return int(count)


_TEMP_TABLES = {
    "stale_scope": "id INTEGER PRIMARY KEY",
    "stale_groups": "namespace TEXT, schema_types TEXT, stale INTEGER, kind TEXT, reason TEXT",
    "stale_new": "id INTEGER PRIMARY KEY, stale INTEGER, kind TEXT, reason TEXT",
    "stale_frontier": "id INTEGER PRIMARY KEY, ref TEXT, kind TEXT",
    "stale_next": "id INTEGER PRIMARY KEY, ref TEXT, reason TEXT",
}
"""The temporary tables of one computation (this connection's own, emptied each time)."""


def _close_downward(conn: sqlite3.Connection) -> None:
    """Add every transitive dependent of the experiments in `stale_scope` to it (level by
    level: each level looks only at the dependents of the one before)."""
    conn.execute("INSERT INTO stale_frontier (id) SELECT id FROM stale_scope")
    for _ in range(MAX_LEVELS):
        conn.execute("DELETE FROM stale_next")
        conn.execute(
            "INSERT OR IGNORE INTO stale_next (id) "
            "SELECT d.exp_id FROM stale_frontier f CROSS JOIN experiments e ON e.id = f.id "
            "CROSS JOIN deps d ON d.dep_namespace = e.namespace AND d.dep_hash = e.hash "
            "WHERE d.exp_id NOT IN (SELECT id FROM stale_scope)"
        )
        added = conn.execute("INSERT INTO stale_scope SELECT id FROM stale_next").rowcount
        conn.execute("DELETE FROM stale_frontier")
        if added <= 0:
            break
        conn.execute("INSERT INTO stale_frontier (id) SELECT id FROM stale_next")
    conn.execute("DELETE FROM stale_next")


def _own_causes(conn: sqlite3.Connection, manifest: furu.Manifest) -> None:
    """Each experiment's own flag (into `stale_new`), from its class and field set: decided
    once per distinct `(namespace, schema_types)`."""
    groups = conn.execute(
        "SELECT DISTINCT e.namespace, e.schema_types FROM experiments e "
        "JOIN stale_scope s ON s.id = e.id"
    ).fetchall()
    conn.executemany(
        "INSERT INTO stale_groups VALUES (?, ?, ?, ?, ?)",
        [(ns, types, *own_cause(manifest, ns, types)) for ns, types in groups],
    )
    conn.execute(
        "INSERT INTO stale_new SELECT e.id, g.stale, g.kind, g.reason "
        "FROM stale_scope s JOIN experiments e ON e.id = s.id "
        "JOIN stale_groups g ON g.namespace = e.namespace AND g.schema_types IS e.schema_types"
    )
    # an alias whose old directory is gone is stale whatever its class says (ADR 0005)
    conn.execute(
        f"UPDATE stale_new SET stale = 1, kind = '{BROKEN_ALIAS}', reason = e.alias_problem "
        "FROM (SELECT id, alias_problem FROM experiments WHERE alias_problem IS NOT NULL) e "
        "WHERE e.id = stale_new.id"
    )


def own_cause(
    manifest: furu.Manifest, namespace: str, types: str | None
) -> tuple[int | None, str | None, str | None]:
    """`(stale, kind, reason)` of an experiment of `namespace` whose metadata recorded
    `types`, by itself: `(0, None, None)` when the code still makes it, all None when unknown
    (no fields recorded for a class the code has, or a class of a module the manifest did not
    import)."""
    if types is None:
        if namespace in manifest.classes:
            return None, None, None
        stored: dict[str, str] = {}
    else:
        stored = dict(json.loads(types))
    if not manifest.covers(namespace):
        return None, None, None
    try:
        cause = manifest.stale_cause(namespace, stored)
    except Exception as exc:  # a manifest this server does not understand: unknown, logged
        _log.warning("furu-server: deciding whether %s is stale failed: %s", namespace, exc)
        return None, None, None
    if cause is None:
        return 0, None, None
    return 1, cause.kind, cause.reason[:REASON_CHARS]


def _propagate(conn: sqlite3.Connection, *, partial: bool) -> None:
    """Mark as `dependency-stale` what in the scope depends on a stale experiment, level by
    level from the stale ones (each level costs its own edges, not the whole scope)."""
    # the stale ones of the scope, and (`partial`) the stale dependencies outside it of its
    # members
    conn.execute(
        "INSERT OR IGNORE INTO stale_frontier SELECT n.id, e.namespace || '/' || e.hash, n.kind "
        "FROM stale_new n JOIN experiments e ON e.id = n.id WHERE n.stale = 1"
    )
    if partial:
        conn.execute(
            "INSERT OR IGNORE INTO stale_frontier "
            "SELECT p.id, p.namespace || '/' || p.hash, p.stale_kind FROM stale_scope s "
            "CROSS JOIN deps d ON d.exp_id = s.id "
            "CROSS JOIN experiments p ON p.namespace = d.dep_namespace AND p.hash = d.dep_hash "
            "WHERE p.stale = 1 AND p.id NOT IN (SELECT id FROM stale_scope)"
        )
    for _ in range(MAX_LEVELS):
        conn.execute("DELETE FROM stale_next")
        added = conn.execute(
            "INSERT OR IGNORE INTO stale_next (id, ref, reason) "
            "SELECT n.id, c.namespace || '/' || c.hash, "
            "'its `' || d.field || '` (' || f.ref || ') is stale (' || f.kind || ')' "
            "FROM stale_frontier f CROSS JOIN experiments p ON p.id = f.id "
            "CROSS JOIN deps d ON d.dep_namespace = p.namespace AND d.dep_hash = p.hash "
            "CROSS JOIN stale_new n ON n.id = d.exp_id CROSS JOIN experiments c ON c.id = n.id "
            "WHERE n.stale IS NOT 1 ORDER BY d.rowid"
        ).rowcount
        if added <= 0:
            return
        conn.execute(
            f"UPDATE stale_new SET stale = 1, kind = '{DEPENDENCY_STALE}', reason = x.reason "
            "FROM stale_next x WHERE stale_new.id = x.id"
        )
        conn.execute("DELETE FROM stale_frontier")
        conn.execute(
            f"INSERT INTO stale_frontier SELECT id, ref, '{DEPENDENCY_STALE}' FROM stale_next"
        )
