"""The SQLite file behind the index: its schema, and how every connection to it is opened.

The index is a cache of the store, never a source of truth: when its schema version changes (or
it is damaged) it is deleted and rebuilt. It runs in WAL mode, so requests keep reading while
the refresher writes.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from furu_server._regex import regexp
from furu_server.index._columns import TABLE_SQL

SCHEMA_VERSION = 5

SCHEMA = f"""
CREATE TABLE IF NOT EXISTS info (key TEXT PRIMARY KEY, value TEXT);
{TABLE_SQL}
CREATE INDEX IF NOT EXISTS exp_updated ON experiments (updated_at);
CREATE INDEX IF NOT EXISTS exp_created ON experiments (created_at);
CREATE INDEX IF NOT EXISTS exp_started ON experiments (started_at);
CREATE INDEX IF NOT EXISTS exp_runtime ON experiments (runtime_sec);
CREATE INDEX IF NOT EXISTS exp_rank ON experiments (status_rank);
CREATE INDEX IF NOT EXISTS exp_class ON experiments (class_name, namespace);
CREATE INDEX IF NOT EXISTS exp_ndeps ON experiments (n_deps);
CREATE INDEX IF NOT EXISTS exp_wall ON experiments (wall_sec);
CREATE INDEX IF NOT EXISTS exp_cpu_user ON experiments (cpu_user_sec);
CREATE INDEX IF NOT EXISTS exp_peak_rss ON experiments (peak_rss_bytes);
CREATE INDEX IF NOT EXISTS exp_ns_status ON experiments (namespace, result_status, size_bytes);
CREATE INDEX IF NOT EXISTS exp_result ON experiments (result_status);
CREATE INDEX IF NOT EXISTS exp_attempt ON experiments (attempt_status);
CREATE INDEX IF NOT EXISTS exp_parent ON experiments (root_kind, parent_rel);
CREATE INDEX IF NOT EXISTS exp_rel ON experiments (root_kind, rel_dir);
CREATE TABLE IF NOT EXISTS config_kv (
    exp_id INTEGER NOT NULL,
    path TEXT NOT NULL,
    kind TEXT NOT NULL,
    num REAL,
    str TEXT
);
CREATE INDEX IF NOT EXISTS kv_num ON config_kv (path, kind, num, exp_id);
CREATE INDEX IF NOT EXISTS kv_str ON config_kv (path, kind, str, exp_id);
CREATE INDEX IF NOT EXISTS kv_exp ON config_kv (exp_id);
CREATE TABLE IF NOT EXISTS deps (
    exp_id INTEGER NOT NULL,
    namespace TEXT NOT NULL,
    field TEXT NOT NULL,
    dep_namespace TEXT NOT NULL,
    dep_hash TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS deps_exp ON deps (exp_id);
CREATE INDEX IF NOT EXISTS deps_target ON deps (dep_namespace, dep_hash);
CREATE INDEX IF NOT EXISTS deps_class ON deps (namespace, field, dep_namespace);
CREATE TABLE IF NOT EXISTS tags (exp_id INTEGER NOT NULL, tag TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS tags_tag ON tags (tag, exp_id);
CREATE INDEX IF NOT EXISTS tags_exp ON tags (exp_id);
CREATE TABLE IF NOT EXISTS classes (
    namespace TEXT PRIMARY KEY,
    bases TEXT NOT NULL,
    config_schema TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS dirs (
    root_kind TEXT NOT NULL,
    rel TEXT NOT NULL,
    parent_rel TEXT,
    mtime_ns INTEGER NOT NULL,
    PRIMARY KEY (root_kind, rel)
);
CREATE TABLE IF NOT EXISTS journal (file TEXT PRIMARY KEY, offset INTEGER NOT NULL, ino INTEGER);
"""


def connect(path: Path, *, writer: bool = False) -> sqlite3.Connection:
    """A connection with the index's pragmas and the `regexp` function registered.

    Only the writer sets the journal mode: switching it needs an exclusive lock, which a reader
    must never wait for while a refresh writes.
    """
    conn = sqlite3.connect(path, check_same_thread=False)
    conn.execute("PRAGMA busy_timeout = 10000")
    if writer:
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = NORMAL")
        conn.execute("PRAGMA wal_autocheckpoint = 0")  # the refresher checkpoints after refreshes
    conn.execute("PRAGMA temp_store = MEMORY")
    conn.execute("PRAGMA cache_size = -65536")
    conn.execute("PRAGMA mmap_size = 268435456")
    conn.create_function("regexp", 2, regexp, deterministic=True)
    return conn


def open_index(path: Path) -> sqlite3.Connection:
    """The writer's connection; a file of another schema version is replaced by a new one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    conn: sqlite3.Connection | None = None
    try:
        conn = connect(path, writer=True)
        version = _version(conn)
    except sqlite3.DatabaseError:  # not a database (any more): start over
        version = None
    if conn is None or version != str(SCHEMA_VERSION):
        if conn is not None:
            conn.close()
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        conn = connect(path, writer=True)
    conn.executescript(SCHEMA)
    conn.execute("INSERT OR REPLACE INTO info VALUES ('schema', ?)", (str(SCHEMA_VERSION),))
    conn.commit()
    return conn


def _version(conn: sqlite3.Connection) -> str | None:
    try:
        row = conn.execute("SELECT value FROM info WHERE key = 'schema'").fetchone()
    except sqlite3.OperationalError:
        return None
    return row[0] if row else None


def get_info(conn: sqlite3.Connection, key: str) -> str | None:
    row = conn.execute("SELECT value FROM info WHERE key = ?", (key,)).fetchone()
    return row[0] if row else None


def set_info(conn: sqlite3.Connection, key: str, value: str) -> None:
    conn.execute("INSERT OR REPLACE INTO info VALUES (?, ?)", (key, value))
