"""Reading one experiment directory into a flat record: what the index stores and lists.

Everything comes from the files furu wrote, read through furu's store API (`furu.StepDir`:
its state is healed, so a dead holder's attempt reads as crashed; `metadata.json`, `tags.json`); no user code is imported. A damaged
file does not hide the experiment: it is listed with what could be read, and the problem noted.
"""

from __future__ import annotations

import contextlib
import json
import os
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime
from typing import Any

from furu import FuruStoreError, ResultStatus, StepDir, StepState, status_rank
from furu_server.index._aliases import read_alias
from furu_server.index._scanner import settled_mtime
from furu_server.index._text import encodable

SIZE_WALK_LIMIT = 5000
"""Entries counted per experiment when measuring its size (beyond: `size_truncated`)."""

# Kept out of the index (the detail route reads them from the file): large and never filtered.
_META_DROP = ("furu_obj", "git_patch", "config_schema", "class_bases", "dependencies")


@dataclass
class StepRecord:
    """One experiment as the index stores it."""

    namespace: str
    hash: str
    root_kind: str
    rel_dir: str
    furu_dir: str
    result_status: str = "absent"
    attempt_status: str | None = None
    attempt_number: int | None = None
    attempts: int = 0
    backend: str | None = None
    hostname: str | None = None
    user: str | None = None
    started_at: str | None = None
    ended_at: str | None = None
    updated_at: str | None = None
    created_at: str | None = None
    runtime_sec: float | None = None
    wall_sec: float | None = None
    cpu_user_sec: float | None = None
    cpu_system_sec: float | None = None
    peak_rss_bytes: int | None = None
    gpu_peak_memory_bytes: int | None = None
    gpu_utilization_pct: float | None = None
    error_type: str | None = None
    error_message: str | None = None
    name: str | None = None
    tags: list[str] = field(default_factory=list)
    config: dict[str, Any] | None = None
    dependencies: list[dict[str, str]] = field(default_factory=list)
    class_bases: list[str] = field(default_factory=list)
    config_schema: list[dict[str, Any]] = field(default_factory=list)
    meta: dict[str, Any] | None = None
    state: dict[str, Any] | None = None
    version_controlled: bool = False
    size_bytes: int = 0
    file_count: int = 0
    mtime_ns: int = 0
    problems: list[str] = field(default_factory=list)
    migrated_from: str | None = None
    """`<namespace>/<hash>` this alias directory was migrated from (`.furu/migration.json`)."""
    alias_problem: str | None = None
    """Why this alias no longer reaches the result it links to."""
    results: dict[str, Any] = field(default_factory=dict)
    """Its scalar results (`result.*`: `StepDir.read_results`)."""

    @property
    def class_name(self) -> str:
        return class_name_of(self.namespace)

    @property
    def status_rank(self) -> int:
        return status_rank(self.result_status, self.attempt_status)


def class_name_of(namespace: str) -> str:
    """`pkg.models.TrainModel` -> `TrainModel`."""
    return namespace.rsplit(".", 1)[-1]


def namespace_of(rel_dir: str) -> tuple[str, str]:
    """`(namespace, hash)` of a step directory relative to its root (`a/b/Class/<hash>`)."""
    parent, _, digest = rel_dir.rpartition("/")
    return parent.replace("/", "."), digest


def read_record(root_kind: str, rel_dir: str, furu_dir: str) -> StepRecord:
    """Read the experiment in `furu_dir`; damaged files become `problems`, never exceptions."""
    namespace, digest = namespace_of(rel_dir)
    rec = StepRecord(namespace, digest, root_kind, rel_dir, furu_dir)
    rec.version_controlled = root_kind == "vc"
    step_dir = StepDir.at(furu_dir, rel_dir, kind=root_kind)
    try:
        mtime_ns = os.stat(step_dir.meta_dir).st_mtime_ns
    except OSError:
        mtime_ns = 0
    # A `.furu/` changed within the last mtime tick may change again unseen: rescan it later.
    rec.mtime_ns = settled_mtime(mtime_ns)
    for name, read in (
        ("state.json", _read_state),
        ("metadata.json", _read_metadata),
        ("tags.json", _read_tags),
    ):
        try:
            read(rec, step_dir)
        except Exception as exc:  # a file no reader expected must not hide the experiment
            rec.problems.append(f".furu/{name} could not be read ({type(exc).__name__}: {exc})")
    try:
        rec.results, found = step_dir.read_results()
        rec.problems += found
    except Exception as exc:  # a file no reader expected must not hide the experiment
        rec.problems.append(f"results could not be read ({type(exc).__name__}: {exc})")
    alias = read_alias(step_dir, namespace)
    if alias is not None:
        rec.migrated_from, rec.alias_problem = alias.migrated_from, alias.problem
    rec.size_bytes, rec.file_count, _ = directory_size(furu_dir)
    if rec.updated_at is None:
        rec.updated_at = rec.created_at or _iso_from_ns(mtime_ns)
    return rec


def make_encodable(rec: StepRecord) -> None:
    """Escape the text UTF-8 cannot encode in every field the API shows and the index stores
    (`_text`), and say where in `problems`. `rel_dir` and `furu_dir` stay as they are (they
    find the files); a record read for a rerun is not made encodable (it would change the
    config)."""
    names = [f.name for f in fields(rec) if f.name not in ("rel_dir", "furu_dir")]
    with contextlib.suppress(UnicodeEncodeError, ValueError, TypeError, RecursionError):
        text = json.dumps([getattr(rec, n) for n in names], ensure_ascii=False, default=str)
        text.encode("utf-8")  # the common case, checked at C speed: nothing to escape
        return
    found: list[str] = []
    for name in names:
        if name != "problems":
            setattr(rec, name, encodable(getattr(rec, name), name, found))
    rec.problems = encodable(rec.problems)
    if found:
        shown = ", ".join(found[:5]) + (f" and {len(found) - 5} more" if len(found) > 5 else "")
        rec.problems.append(
            f"{len(found)} text value(s) are not valid UTF-8 ({shown}; e.g. a file name "
            "os.listdir returned undecodable): each bad character is shown as its escape "
            "(\\udcff), which is also what a filter matches"
        )


def _read_state(rec: StepRecord, step_dir: StepDir) -> None:
    try:
        state = step_dir.read_state()
    except FuruStoreError as exc:
        rec.problems.append(str(exc))
        state = StepState(ResultStatus.INCOMPLETE)
    rec.state = state.to_json()
    rec.result_status = state.result_status.value
    rec.attempts = state.attempts
    rec.updated_at = state.updated_at
    attempt = state.attempt
    if attempt is None:
        return
    rec.attempt_status = attempt.status.value
    rec.attempt_number = attempt.number
    rec.backend = attempt.backend
    rec.hostname = attempt.host
    rec.user = attempt.user
    rec.started_at = attempt.started_at
    rec.ended_at = attempt.ended_at
    rec.updated_at = rec.updated_at or attempt.updated_at
    rec.runtime_sec = runtime_of(attempt.started_at, attempt.ended_at)
    used = attempt.resources  # None for an attempt still running, and in older state files
    if used is not None:
        rec.wall_sec = used.wall_sec
        rec.cpu_user_sec = used.cpu_user_sec
        rec.cpu_system_sec = used.cpu_system_sec
        rec.peak_rss_bytes = used.peak_rss_bytes
        rec.gpu_peak_memory_bytes = used.gpu_peak_memory_bytes
        rec.gpu_utilization_pct = used.gpu_utilization_pct
    if attempt.error:
        rec.error_type = attempt.error.get("type")
        rec.error_message = attempt.error.get("message")


def _read_metadata(rec: StepRecord, step_dir: StepDir) -> None:
    try:
        data = step_dir.read_metadata()
    except FuruStoreError as exc:
        rec.problems.append(str(exc))
        return
    if data is None:
        return
    obj = data.get("furu_obj")
    rec.config = obj if isinstance(obj, dict) else None
    rec.dependencies = [d for d in data.get("dependencies") or [] if _is_dependency(d)]
    rec.class_bases = [b for b in data.get("class_bases") or [] if isinstance(b, str)]
    schema = data.get("config_schema")
    rec.config_schema = (
        [s for s in schema if isinstance(s, dict)] if isinstance(schema, list) else []
    )
    rec.meta = {k: v for k, v in data.items() if k not in _META_DROP}
    created = data.get("timestamp")
    rec.created_at = created if isinstance(created, str) else None
    rec.hostname = rec.hostname or _str_or_none(data.get("hostname"))
    rec.user = rec.user or _str_or_none(data.get("user"))


def _is_dependency(dep: Any) -> bool:
    return isinstance(dep, dict) and all(isinstance(dep.get(k), str) for k in ("namespace", "hash"))


def _read_tags(rec: StepRecord, step_dir: StepDir) -> None:
    try:
        labels = step_dir.read_labels(strict=True)
    except FuruStoreError as exc:
        rec.problems.append(str(exc))
        return
    rec.tags = list(labels.tags)
    rec.name = labels.name


def _str_or_none(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def runtime_of(started: str | None, ended: str | None) -> float | None:
    if not started or not ended:
        return None
    try:
        delta = datetime.fromisoformat(ended) - datetime.fromisoformat(started)
    except (ValueError, TypeError):
        return None
    return round(delta.total_seconds(), 6)


def _iso_from_ns(ns: int) -> str | None:
    if not ns:
        return None
    return datetime.fromtimestamp(ns / 1e9, UTC).isoformat(timespec="milliseconds")


def directory_size(path: str, limit: int = SIZE_WALK_LIMIT) -> tuple[int, int, bool]:
    """`(bytes, files, truncated)` under `path`, not following symlinks, at most `limit` entries."""
    total = files = seen = 0
    stack = [path]
    while stack:
        try:
            entries = list(os.scandir(stack.pop()))
        except OSError:
            continue
        for entry in entries:
            seen += 1
            if seen > limit:
                return total, files, True
            try:
                if entry.is_dir(follow_symlinks=False):
                    stack.append(entry.path)
                else:
                    total += entry.stat(follow_symlinks=False).st_size
                    files += 1
            except OSError:
                continue
    return total, files, False
