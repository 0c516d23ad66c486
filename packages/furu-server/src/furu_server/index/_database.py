"""The SQLite file behind the index: its schema, and how every connection to it is opened.

The index is a cache of the store, never a source of truth: when its schema version changes (or
it is damaged) it is deleted and rebuilt. It runs in WAL mode, so requests keep reading while
the refresher writes. `is_damage` and `file_problem` say when the file itself is broken (a
query's SQLite error, or a file deleted, replaced or overwritten under the server); readers
never create the file, and nothing maps it into memory (a file truncated under a mapping
kills the process with SIGBUS).
"""

from __future__ import annotations

import logging
import os
import sqlite3
import stat
import urllib.parse
from pathlib import Path

from furu_server._regex import regexp
from furu_server.index._columns import TABLE_SQL

_log = logging.getLogger("furu_server")
SCHEMA_VERSION = 8

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
CREATE INDEX IF NOT EXISTS exp_shown ON experiments (shown_status);
CREATE INDEX IF NOT EXISTS exp_attempt ON experiments (attempt_status);
CREATE INDEX IF NOT EXISTS exp_parent ON experiments (root_kind, parent_rel);
CREATE INDEX IF NOT EXISTS exp_rel ON experiments (root_kind, rel_dir);
CREATE INDEX IF NOT EXISTS exp_stale ON experiments (stale, namespace);
CREATE INDEX IF NOT EXISTS exp_schema ON experiments (namespace, schema_types);
CREATE INDEX IF NOT EXISTS exp_migrated ON experiments (migrated_from)
    WHERE migrated_from IS NOT NULL;
CREATE INDEX IF NOT EXISTS exp_alias_problem ON experiments (id)
    WHERE alias_problem IS NOT NULL;
CREATE INDEX IF NOT EXISTS exp_problems ON experiments (id) WHERE problems IS NOT NULL;
CREATE TABLE IF NOT EXISTS config_kv (
    exp_id INTEGER NOT NULL,
    path TEXT NOT NULL,
    kind TEXT NOT NULL,
    num REAL,
    str TEXT
);
CREATE INDEX IF NOT EXISTS kv_num ON config_kv (path, kind, num, exp_id);
CREATE INDEX IF NOT EXISTS kv_str ON config_kv (path, kind, str, exp_id);
CREATE INDEX IF NOT EXISTS kv_exp ON config_kv (exp_id, path);
CREATE TABLE IF NOT EXISTS result_kv (
    exp_id INTEGER NOT NULL,
    path TEXT NOT NULL,
    kind TEXT NOT NULL,
    num REAL,
    str TEXT
);
CREATE INDEX IF NOT EXISTS rkv_num ON result_kv (path, kind, num, exp_id);
CREATE INDEX IF NOT EXISTS rkv_str ON result_kv (path, kind, str, exp_id);
CREATE INDEX IF NOT EXISTS rkv_exp ON result_kv (exp_id, path);
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


class IndexPathError(Exception):
    """The index's path cannot hold an index (a directory, a FIFO, an unwritable place)."""


_HEADER = b"SQLite format 3\x00"
_DAMAGE = {"SQLITE_CORRUPT", "SQLITE_NOTADB", "SQLITE_CANTOPEN", "SQLITE_READONLY_DBMOVED"}


def is_damage(exc: BaseException) -> bool:
    """Whether `exc` says the index file itself is gone or damaged (rebuild it), rather than
    that a query failed (a bug, a busy database, an interrupted query)."""
    if not isinstance(exc, sqlite3.DatabaseError):
        return False
    name = getattr(exc, "sqlite_errorname", "") or ""
    return (
        name in _DAMAGE
        or name.startswith(("SQLITE_CORRUPT", "SQLITE_IOERR", "SQLITE_CANTOPEN"))
        or "no such table" in str(exc)
    )


FileStamp = tuple[int, int, int, int]
"""`(st_dev, st_ino, st_size, st_mtime_ns)` of the index file as its writer left it."""


def file_stamp(path: Path) -> FileStamp:
    st = os.stat(path)
    return st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns


def file_problem(path: Path, stamp: FileStamp | None) -> str | None:
    """What is wrong with the index file at `path` (None when it is as its writer left it,
    `stamp`): gone, not a file, replaced, not SQLite, changed by another program.

    In WAL mode only the writer's checkpoints write the file itself (commits go to the WAL),
    so any other change of its size or mtime was made by someone else.
    """
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return "the file was deleted"
    except OSError as exc:
        return f"the file cannot be read ({exc.strerror})"
    if not stat.S_ISREG(st.st_mode):
        return "the path is no longer a regular file"
    if stamp is not None and (st.st_dev, st.st_ino) != stamp[:2]:
        return "the file was replaced by another"
    try:
        with open(path, "rb") as f:
            header = f.read(len(_HEADER))
    except OSError as exc:
        return f"the file cannot be read ({exc.strerror})"
    if header != _HEADER:
        return "the file was overwritten (it is not an SQLite database any more)"
    if stamp is not None and (st.st_size, st.st_mtime_ns) != stamp[2:]:
        return "the file was changed by another program"
    return None


def connect(path: Path, *, writer: bool = False) -> sqlite3.Connection:
    """A connection with the index's pragmas and the `regexp` function registered.

    A reader never creates the file (a missing index is an error it reports, not an empty
    database it would answer from). Only the writer sets the journal mode: switching it needs
    an exclusive lock, which a reader must never wait for while a refresh writes.
    """
    if writer:
        conn = sqlite3.connect(path, check_same_thread=False)
    else:
        uri = f"file:{urllib.parse.quote(str(path))}?mode=rw"
        conn = sqlite3.connect(uri, uri=True, check_same_thread=False)
    conn.execute("PRAGMA busy_timeout = 10000")
    if writer:
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = NORMAL")
        conn.execute("PRAGMA wal_autocheckpoint = 0")  # the refresher checkpoints after refreshes
    conn.execute("PRAGMA temp_store = MEMORY")
    conn.execute("PRAGMA cache_size = -65536")
    # No mmap: a file truncated under a mapping (the index overwritten while the server runs)
    # kills the process with SIGBUS, where read() lets SQLite report the damage and heal.
    conn.execute("PRAGMA mmap_size = 0")
    conn.create_function("regexp", 2, regexp, deterministic=True)
    return conn


def open_index(
    path: Path, *, fresh: bool = False, damage: list[str] | None = None
) -> sqlite3.Connection:
    """The writer's connection. A file of another schema version, one that is not a database,
    and any file at all when `fresh`, is replaced by a new, empty index (why a damaged one was
    replaced is appended to `damage`).

    Raises:
        IndexPathError: `path` is a directory or another non-file, or cannot be created.
    """
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.exists() and not path.is_file():
            raise IndexPathError(unusable(path, "it is a directory or another non-file"))
        if fresh:
            remove_index(path)
        return _open(path, damage if damage is not None else [])
    except (OSError, sqlite3.OperationalError) as exc:
        raise IndexPathError(unusable(path, str(exc))) from exc


def _open(path: Path, damage: list[str]) -> sqlite3.Connection:
    existed = path.is_file() and path.stat().st_size > 0
    conn: sqlite3.Connection | None = None
    why = "it was written by another version of furu-server"
    try:
        conn = connect(path, writer=True)
        version = _version(conn)
    except sqlite3.DatabaseError as exc:  # not a database (any more): start over
        version, why = None, f"it is damaged ({type(exc).__name__}: {exc})"
        if existed:
            damage.append(f"{type(exc).__name__}: {exc}")
    if conn is None or version != str(SCHEMA_VERSION):
        if conn is not None:
            conn.close()
        if existed:
            _log.warning("furu-server: the index at %s is replaced by a new one: %s", path, why)
        remove_index(path)
        conn = connect(path, writer=True)
    conn.executescript(SCHEMA)
    conn.execute("INSERT OR REPLACE INTO info VALUES ('schema', ?)", (str(SCHEMA_VERSION),))
    conn.commit()
    return conn


def remove_index(path: Path) -> None:
    """Delete the index file and its WAL files (never a directory)."""
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


def unusable(path: Path, why: str) -> str:
    return (
        f"furu-server cannot keep its index at {path}: {why}. The index is a cache of the "
        "store: point the server at another cache directory (--cache-dir, or the "
        "FURU_SERVER_CACHE_DIR variable), or move what is at that path away."
    )


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
