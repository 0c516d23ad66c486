"""Migrations as their directories record them (ADR 0005 section 5), read without user code.

A migration creates an *alias* directory `<ns>/<new>/` whose `.furu/migration.json` says when,
by whom and how it was made and from which stored result (`<ns>/<old>`); each entry of the
alias but `.furu` is a relative symlink into the old directory. The old directory appends one
line per migration (and per undo) to its `.furu/migrations.jsonl`. An alias whose old
directory is gone is *broken*: its links dangle.

The readers here accept the forms furu-core writes (`"from": {"namespace", "hash"}`, or
`from_namespace`/`from_hash`), and never fail: a damaged record is reported as a problem.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from furu import FuruStoreError, StepDir, read_regular_file

MIGRATION_FILE = "migration.json"
MIGRATIONS_LOG = "migrations.jsonl"
MAX_RECORD_BYTES = 1 << 20
MAX_LOG_LINES = 200
"""Lines of `migrations.jsonl` a detail shows (the last ones)."""


@dataclass(frozen=True)
class Alias:
    """What an alias directory's `migration.json` says (`record` as written)."""

    record: dict[str, Any]
    migrated_from: str | None
    """`<namespace>/<hash>` of the stored result it links to (None: not named)."""
    problem: str | None
    """Why it no longer reaches its result (its old directory is gone), or its record is bad."""


def _ref(data: dict[str, Any], side: str, namespace: str) -> str | None:
    """`<namespace>/<hash>` of one side (`from`/`to`) of a migration record."""
    names = {"from": ("from", "old", "source"), "to": ("to", "new", "target")}[side]
    for key in names:
        value = data.get(key)
        if isinstance(value, dict) and isinstance(value.get("hash"), str):
            ns = value.get("namespace")
            return f"{ns if isinstance(ns, str) else namespace}/{value['hash']}"
        if isinstance(value, str) and "/" in value:
            return value
    for key in names:
        digest = data.get(f"{key}_hash")
        if isinstance(digest, str):
            ns = data.get(f"{key}_namespace")
            return f"{ns if isinstance(ns, str) else namespace}/{digest}"
    return None


def ref_of(data: dict[str, Any], side: str, namespace: str) -> str | None:
    """The `from` or `to` side of a migration record as `<namespace>/<hash>` (None: absent)."""
    return _ref(data, side, namespace)


def read_alias(step_dir: StepDir, namespace: str) -> Alias | None:
    """The alias record of `step_dir` (None: it is not an alias)."""
    path = Path(step_dir.meta_dir) / MIGRATION_FILE
    try:
        raw = read_regular_file(path, what="migration record", max_bytes=MAX_RECORD_BYTES)
    except FuruStoreError as exc:
        return Alias({}, None, str(exc))
    if raw is None:
        return None
    try:
        data = json.loads(raw)
    except ValueError as exc:
        return Alias({}, None, f".furu/{MIGRATION_FILE} is not JSON ({exc})")
    if not isinstance(data, dict):
        return Alias({}, None, f".furu/{MIGRATION_FILE} is not a JSON object")
    source = _ref(data, "from", namespace)
    return Alias(data, source, _broken(step_dir, source))


def _broken(step_dir: StepDir, source: str | None) -> str | None:
    """Why the alias's links no longer reach the old result (None: they do)."""
    try:
        entries = list(os.scandir(step_dir.path))
    except OSError:
        return None
    dangling = sorted(
        e.name
        for e in entries
        if e.name != StepDir.META_DIR and e.is_symlink() and not os.path.exists(e.path)
    )
    if not dangling:
        return None
    shown = ", ".join(dangling[:3])
    where = f" of {source}" if source else ""
    return (
        f"it is a migrated alias{where} whose links ({shown}) point at a directory that is "
        "gone; recompute it (load_or_create()), or undo the migration"
    )


def read_log(step_dir: StepDir) -> list[dict[str, Any]]:
    """The lines of `.furu/migrations.jsonl` (the migrations made from this directory, and
    their undos), the last `MAX_LOG_LINES`; lines that do not parse are skipped."""
    path = Path(step_dir.meta_dir) / MIGRATIONS_LOG
    try:
        raw = read_regular_file(path, what="migration log", max_bytes=16 * MAX_RECORD_BYTES)
    except FuruStoreError:
        return []
    if raw is None:
        return []
    found: list[dict[str, Any]] = []
    for line in raw.decode("utf-8", errors="replace").splitlines()[-MAX_LOG_LINES:]:
        try:
            data = json.loads(line)
        except ValueError:
            continue  # a torn append
        if isinstance(data, dict):
            found.append(data)
    return found
