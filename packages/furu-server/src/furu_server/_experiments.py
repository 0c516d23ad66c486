"""One experiment, read from its files: finding its directory, its detail, and diffs of two.

The detail route reads the files themselves (not the index), so it is exact even between two
refreshes; finding the directory uses the index, then the layout furu writes.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from typing import Any

from furu import AttemptStatus, FuruStoreError, StepDir
from furu_server._clip import DETAIL_CHARS, DETAIL_DEPTH, DETAIL_ITEMS, Clipper
from furu_server._errors import ErrorCode, ServerError, not_found
from furu_server._models import (
    Change,
    CodeSource,
    CodeStateInfo,
    Diff,
    ErrorInfo,
    ExperimentDetail,
    LeftOut,
    MigrationInfo,
    Sizes,
    UntrackedFile,
)
from furu_server._reading import regular_size
from furu_server.index._aliases import read_alias, read_log, ref_of
from furu_server.index._columns import summary_of_record
from furu_server.index._index import Index, Located
from furu_server.index._records import StepRecord, directory_size, make_encodable, read_record
from furu_server.index._text import encodable

_NAMESPACE = re.compile(r"^[A-Za-z_][\w]*(\.[A-Za-z_][\w]*)*$")
_HASH = re.compile(r"^[A-Za-z0-9_-]{1,128}$")


def locate(index: Index, namespace: str, digest: str) -> Located:
    """The directory of an experiment (index first, then the layout); 404 when there is none.

    Raises:
        ServerError: `experiment_not_found`.
    """
    if not _NAMESPACE.match(namespace) or not _HASH.match(digest):
        raise not_found(namespace, digest)
    found = index.locate(namespace, digest)
    if found is not None and os.path.isdir(os.path.join(found.furu_dir, StepDir.META_DIR)):
        return found
    rel = namespace.replace(".", "/") + "/" + digest
    for root in index.roots.values():
        path = root.abs(rel)
        if os.path.isdir(os.path.join(path, StepDir.META_DIR)):
            return Located(namespace, digest, root.kind, rel, path)
    raise not_found(namespace, digest)


def is_active(step_dir: StepDir) -> bool:
    """Whether the experiment's latest attempt is running or queued (a dead holder's reads as
    crashed); a damaged state file reads as not active."""
    try:
        attempt = step_dir.read_state().attempt
    except FuruStoreError:
        return False
    return attempt is not None and attempt.status in (AttemptStatus.RUNNING, AttemptStatus.QUEUED)


@dataclass
class Loaded:
    record: StepRecord
    metadata: dict[str, Any] | None
    step_dir: StepDir


def load(index: Index, namespace: str, digest: str) -> Loaded:
    where = locate(index, namespace, digest)
    rec = read_record(where.root_kind, where.rel_dir, where.furu_dir)
    rec.namespace = namespace  # the name asked for (a nested class's dir may read differently)
    try:
        metadata = where.step_dir.read_metadata()
    except FuruStoreError:
        metadata = None
    return Loaded(rec, metadata, where.step_dir)


def shown(loaded: Loaded) -> Loaded:
    """The experiment as a response shows it: text UTF-8 cannot encode is escaped (a rerun
    uses `load`'s record, exactly as recorded)."""
    make_encodable(loaded.record)
    return Loaded(loaded.record, encodable(loaded.metadata), loaded.step_dir)


def detail(index: Index, namespace: str, digest: str) -> ExperimentDetail:
    """The experiment read from its files, each value within the detail limits (`_clip`)."""
    loaded = shown(load(index, namespace, digest))
    rec, metadata = loaded.record, loaded.metadata
    clipper = Clipper(DETAIL_CHARS, DETAIL_ITEMS, DETAIL_DEPTH)
    error = None
    attempt = (rec.state or {}).get("attempt") or {}
    if attempt.get("error"):
        err = clipper.clip_each(attempt["error"], "error")
        error = ErrorInfo(
            type=err.get("type"), message=err.get("message"), traceback=err.get("traceback")
        )
    total, files, truncated = directory_size(rec.furu_dir)
    step_dir = loaded.step_dir
    log_bytes = regular_size(str(step_dir.path), os.path.relpath(step_dir.log_path, step_dir.path))
    python_def = (metadata or {}).get("furu_python_def")
    summary = index.named(summary_of_record(rec))
    summary["stale"], summary["stale_kind"], summary["stale_reason"] = index.stale_of(
        namespace, digest
    )
    found = ExperimentDetail(
        **summary,
        config=clipper.clip_each(rec.config, "config"),
        python_def=clipper.text(python_def, "python_def") if isinstance(python_def, str) else None,
        state=clipper.clip_each(rec.state, "state"),
        metadata=clipper.clip_each(metadata, "metadata"),
        error=error,
        sizes=Sizes(total_bytes=total, file_count=files, log_bytes=log_bytes, truncated=truncated),
        class_bases=clipper.clip_each(rec.class_bases, "class_bases"),
        config_schema=clipper.clip_each(rec.config_schema, "config_schema"),
        problems=clipper.clip_each(rec.problems, "problems"),
        results=clipper.clip_each(rec.results, "results"),
        code_state=code_state_info(step_dir, metadata, clipper),
        migration=alias_info(step_dir, namespace, digest, clipper),
        migrations=migrations_info(step_dir, namespace, digest, clipper),
    )
    found.truncations = clipper.report()
    found.truncated = bool(found.truncations)
    return found


# ---------------------------------------------------------------- migrations


def _migration(
    data: dict[str, Any], namespace: str, digest: str, clipper: Clipper, path: str
) -> MigrationInfo:
    def text(*keys: str) -> str | None:
        for key in keys:
            if isinstance(data.get(key), str):
                return str(data[key])[:500]
        return None

    return MigrationInfo(
        migrated_from=ref_of(data, "from", namespace) or f"{namespace}/?",
        migrated_to=ref_of(data, "to", namespace) or f"{namespace}/{digest}",
        at=text("at", "when", "migrated_at", "created_at"),
        by=text("by", "user", "who"),
        how=text("how", "mode", "kind", "reason"),
        undone=data.get("action") == "undo" or data.get("undone") is True,
        record=clipper.clip_each(data, path),
    )


def alias_info(
    step_dir: StepDir, namespace: str, digest: str, clipper: Clipper
) -> MigrationInfo | None:
    """The migration that made this directory (an alias), from `.furu/migration.json`."""
    alias = read_alias(step_dir, namespace)
    if alias is None:
        return None
    found = _migration(alias.record, namespace, digest, clipper, "migration")
    return found.model_copy(update={"broken": alias.problem is not None})


def migrations_info(
    step_dir: StepDir, namespace: str, digest: str, clipper: Clipper
) -> list[MigrationInfo]:
    """The migrations made from this directory and their undos (`.furu/migrations.jsonl`)."""
    found = []
    for i, line in enumerate(read_log(step_dir)):
        item = _migration(line, namespace, digest, clipper, f"migrations[{i}]")
        if item.migrated_from.endswith("/?"):
            item = item.model_copy(update={"migrated_from": f"{namespace}/{digest}"})
        found.append(item)
    return found


# ---------------------------------------------------------------- code state

_LISTED_FILES = 1000
"""Untracked and left-out files a detail lists (a manifest may name more)."""


def code_state_info(
    step_dir: StepDir, metadata: dict[str, Any] | None, clipper: Clipper
) -> CodeStateInfo | None:
    """The code the experiment was made from: its code state in the store (`code/<id>/`), or
    what an older record inlined (`git_patch`), or only its commit; None outside git."""
    meta = metadata or {}
    commit = meta.get("git_commit")
    if not isinstance(commit, str) or not commit:
        return None
    ns, digest = step_dir.id.namespace, step_dir.id.hash
    command = f"furu checkout {ns}/{digest} ../{ns.rsplit('.', 1)[-1]}-{digest[:8]}"
    info = CodeStateInfo(
        source=CodeSource.commit,
        id=None,
        commit=commit,
        branch=_text(meta.get("git_branch")),
        remote=_text(meta.get("git_remote")),
        dirty=None,
        changed_files=None,
        diff=None,
        diff_bytes=0,
        diff_truncated=False,
        untracked=[],
        left_out=[],
        left_out_count=0,
        problem=None,
        checkout_command=command,
    )
    summary = meta.get("code_state")
    state_id = summary.get("id") if isinstance(summary, dict) else None
    patch = meta.get("git_patch")
    if isinstance(state_id, str):
        try:
            state = step_dir.store.code_state(state_id)
        except FuruStoreError as exc:
            return info.model_copy(update={"problem": str(exc)})
        if state is None:
            return info.model_copy(
                update={
                    "id": state_id,
                    "problem": f"the code state {state_id} is not in {step_dir.store.code_root} "
                    "(deleted, or the store was copied without its code/ directory)",
                }
            )
        problem = None
        try:
            head, size = state.read_diff_head(DETAIL_CHARS)
        except FuruStoreError as exc:
            head, size, problem = b"", state.diff_bytes, str(exc)
        diff = head.decode(errors="replace")
        if size > len(head):
            clipper.note("code_state.diff", "bytes", size, len(head))
        return info.model_copy(
            update={
                "source": CodeSource.store,
                "id": state.id,
                "dirty": state.dirty,
                "changed_files": state.changed_files,
                "diff": diff,
                "diff_bytes": size,
                "diff_truncated": size > len(head),
                "untracked": [_untracked(u) for u in state.untracked[:_LISTED_FILES]],
                "left_out": [_left_out(u) for u in state.left_out[:_LISTED_FILES]],
                "left_out_count": state.left_out_count,
                "problem": problem,
            }
        )
    if isinstance(patch, str) and patch:
        return info.model_copy(
            update={
                "source": CodeSource.inline,
                "dirty": True,
                "diff": clipper.text(patch, "code_state.diff"),
                "diff_bytes": len(patch.encode()),
                "diff_truncated": len(patch) > DETAIL_CHARS,
            }
        )
    return info


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _int(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _untracked(item: dict[str, Any]) -> UntrackedFile:
    return UntrackedFile(
        path=str(item.get("path"))[:4096], size=_int(item.get("size")), mode=str(item.get("mode"))
    )


def _left_out(item: dict[str, Any]) -> LeftOut:
    return LeftOut(
        path=str(item.get("path"))[:4096],
        what=str(item.get("what")),
        bytes=_int(item.get("bytes")),
        why=str(item.get("why"))[:1000],
    )


# ---------------------------------------------------------------- diff

_META_SKIP = {"furu_obj", "furu_python_def", "furu_hash", "furu_path", "config_schema"}


def parse_ref(ref: str) -> tuple[str, str]:
    """`namespace/hash` (or `namespace:hash`) -> the pair; 400 when malformed."""
    for sep in ("/", ":"):
        namespace, found, digest = ref.rpartition(sep)
        if found and namespace and digest:
            return namespace, digest
    raise ServerError(
        ErrorCode.BAD_REQUEST,
        f"{ref!r} does not name an experiment; write it as <namespace>/<hash>, e.g. "
        "my_project.pipelines.TrainModel/0123abcd",
        {"ref": ref},
    )


def diff(index: Index, a: str, b: str) -> Diff:
    """Field-by-field differences of two experiments' configs and metadata."""
    left = shown(load(index, *parse_ref(a)))
    right = shown(load(index, *parse_ref(b)))
    # Both sides within the detail limits first: bounded, and never nested deeper than the
    # recursive comparison goes.
    clipper = Clipper(DETAIL_CHARS, DETAIL_ITEMS, DETAIL_DEPTH)
    config_a = clipper.clip_each(left.record.config, "a.config")
    config_b = clipper.clip_each(right.record.config, "b.config")
    meta_a = {k: v for k, v in (left.metadata or {}).items() if k not in _META_SKIP}
    meta_b = {k: v for k, v in (right.metadata or {}).items() if k not in _META_SKIP}
    meta_a = clipper.clip_each(meta_a, "a.metadata")
    meta_b = clipper.clip_each(meta_b, "b.metadata")
    truncations = clipper.report()
    return Diff(
        a=a,
        b=b,
        same_class=left.record.namespace == right.record.namespace,
        config=list(_diff(config_a, config_b, "")),
        metadata=list(_diff(meta_a, meta_b, "")),
        truncated=bool(truncations),
        truncations=truncations,
    )


def _child(prefix: str, key: Any) -> str:
    if isinstance(key, int):
        return f"{prefix}[{key}]"
    return f"{prefix}.{key}" if prefix else str(key)


def _diff(a: Any, b: Any, path: str) -> Any:
    if isinstance(a, dict) and isinstance(b, dict):
        for key in list(a) + [k for k in b if k not in a]:
            where = _child(path, key)
            if key not in b:
                yield Change(path=where, kind="removed", a=a[key])
            elif key not in a:
                yield Change(path=where, kind="added", b=b[key])
            else:
                yield from _diff(a[key], b[key], where)
    elif isinstance(a, list) and isinstance(b, list):
        for i in range(max(len(a), len(b))):
            where = _child(path, i)
            if i >= len(b):
                yield Change(path=where, kind="removed", a=a[i])
            elif i >= len(a):
                yield Change(path=where, kind="added", b=b[i])
            else:
                yield from _diff(a[i], b[i], where)
    elif a != b or type(a) is not type(b):
        yield Change(path=path or "$", kind="changed", a=a, b=b)
