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


def update_stale(
    conn: sqlite3.Connection, manifest: furu.Manifest | None, scope: Iterable[int] | None
) -> int:
    """Set `stale` and `stale_reason` of the experiments in `scope` and of everything that
    depends on them (every experiment when `scope` is None); returns how many were looked at.

    Without a manifest every one of them is unknown (null).
    """
    conn.execute("CREATE TEMP TABLE IF NOT EXISTS stale_scope (id INTEGER PRIMARY KEY)")
    conn.execute("DELETE FROM stale_scope")
    if scope is None:
        conn.execute("INSERT INTO stale_scope SELECT id FROM experiments")
    else:
        conn.executemany("INSERT OR IGNORE INTO stale_scope VALUES (?)", [(i,) for i in scope])
        _close_downward(conn)
    (count,) = conn.execute("SELECT count(*) FROM stale_scope").fetchone()
    if manifest is None:
        conn.execute(
            "UPDATE experiments SET stale = NULL, stale_kind = NULL, stale_reason = NULL "
            "WHERE id IN (SELECT id FROM stale_scope)"
        )
        return int(count)
    _own_reasons(conn, manifest)
    _propagate(conn)
    return int(count)


def _close_downward(conn: sqlite3.Connection) -> None:
    """Add every transitive dependent of the experiments in `stale_scope` to it."""
    for _ in range(MAX_LEVELS):
        added = conn.execute(
            "INSERT OR IGNORE INTO stale_scope "
            "SELECT DISTINCT d.exp_id FROM stale_scope s JOIN experiments e ON e.id = s.id "
            "JOIN deps d ON d.dep_namespace = e.namespace AND d.dep_hash = e.hash "
            "WHERE d.exp_id NOT IN (SELECT id FROM stale_scope)"
        ).rowcount
        if added <= 0:
            return


def _own_reasons(conn: sqlite3.Connection, manifest: furu.Manifest) -> None:
    groups = conn.execute(
        "SELECT DISTINCT e.namespace, e.schema_types FROM experiments e "
        "JOIN stale_scope s ON s.id = e.id"
    ).fetchall()
    conn.executemany(
        "UPDATE experiments SET stale = ?, stale_kind = ?, stale_reason = ? "
        "WHERE namespace = ? AND schema_types IS ? AND id IN (SELECT id FROM stale_scope)",
        [(*own_cause(manifest, ns, types), ns, types) for ns, types in groups],
    )
    # an alias whose old directory is gone is stale whatever its class says (ADR 0005)
    conn.execute(
        f"UPDATE experiments SET stale = 1, stale_kind = '{BROKEN_ALIAS}', "
        "stale_reason = alias_problem "
        "WHERE alias_problem IS NOT NULL AND id IN (SELECT id FROM stale_scope)"
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


def _propagate(conn: sqlite3.Connection) -> None:
    """Mark as `dependency-stale` what depends on a stale experiment, level by level."""
    stale_dep = (
        "FROM deps d JOIN experiments p ON p.namespace = d.dep_namespace AND p.hash = d.dep_hash "
        "WHERE d.exp_id = experiments.id AND p.stale = 1"
    )
    for _ in range(MAX_LEVELS):
        changed = conn.execute(
            f"UPDATE experiments SET stale = 1, stale_kind = '{DEPENDENCY_STALE}', "
            "stale_reason = (SELECT 'its `' || d.field || '` (' || p.namespace || '/' || "
            "p.hash || ') is stale (' || p.stale_kind || ')' "
            f"{stale_dep} ORDER BY d.rowid LIMIT 1) "
            "WHERE id IN (SELECT id FROM stale_scope) AND (stale IS NULL OR stale = 0) "
            f"AND EXISTS (SELECT 1 {stale_dep})"
        ).rowcount
        if changed <= 0:
            return
