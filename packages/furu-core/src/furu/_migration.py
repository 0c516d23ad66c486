"""Migrations: a stored result reused under the hash the current code gives its config.

A migration never copies or recomputes a result. Migrating `<ns>/<old>` to `<ns>/<new>` makes
an *alias directory* (ADR 0005 §5):

```
<ns>/<new>/
    .furu/  metadata.json   the new config, written as the core writes it
            state.json      success
            migration.json  when, by whom (user@host), how, the old and the new config
            SUCCESS.json    written last; holds "migrated_from": "<ns>/<old>"
    <entry> -> ../<old>/<entry>   a relative symlink per top-level entry of the old directory
<ns>/<old>/.furu/migrations.jsonl  one line per migration to (and undo of) an alias
```

The alias is built under the new step's compute lock, its links are staged in
`.furu/attempts/<id>/` and published with the core's publish (all or nothing), and
`SUCCESS.json` comes last: a crash leaves a directory without a result, i.e. a cache miss. A
load of `<new>` is an ordinary cache hit (`_load()` reads through the links).

Migrations are explicit (`furu.migrate`, `furu migrate`; see `_migration_plan.py`) or declared
on the class (`furu_migrations = (furu.FieldAdded(...), ...)`): on a cache miss, never on a
hit, `load_or_create()` computes the hashes the same config had before the declared changes
(recursively through its dependencies) and adopts a stored one (`adopt_declared`).
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import shutil
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from chz.util import MISSING

from furu._errors import FuruConfigError, FuruStoreError
from furu._hashing import fields_hash
from furu._logging import append_to_log, get_logger
from furu._store import (
    FURU_DIR,
    HOSTNAME,
    SUCCESS_FILE,
    dump_json,
    open_append,
    read_json,
    write_all,
    write_json_atomic,
)

if TYPE_CHECKING:
    from furu._furu import Furu
    from furu._lock import ComputeLock
    from furu._step_dir import StepDir
    from furu._workspace import Store

MIGRATION_FILE = "migration.json"
MIGRATIONS_LOG = "migrations.jsonl"
MIGRATION_SCHEMA = 1
_MAX_CANDIDATES = 256
_log = get_logger()


# ---------------------------------------------------------------- declarations


@dataclass(frozen=True)
class FieldAdded:
    """The field `name` was added; configs made before it behaved as `name=default`.

    A config of the current code whose `name` equals `default` had, before the change, the
    hash of the same fields without `name`.
    """

    name: str
    default: Any

    def describe(self) -> str:
        return f"FieldAdded({self.name!r}, default={self.default!r})"


@dataclass(frozen=True)
class FieldRenamed:
    """The field `old` is now called `new` (same meaning, same values)."""

    old: str
    new: str

    def describe(self) -> str:
        return f"FieldRenamed(old={self.old!r}, new={self.new!r})"


@dataclass(frozen=True)
class FieldRemoved:
    """The field `name` was removed; the current code behaves as the old one did with `value`."""

    name: str
    value: Any

    def describe(self) -> str:
        return f"FieldRemoved({self.name!r}, value={self.value!r})"


Declaration = FieldAdded | FieldRenamed | FieldRemoved


def declarations(cls: type) -> tuple[Declaration, ...]:
    """The `furu_migrations` a class declares, checked (oldest change first).

    Raises:
        FuruConfigError: it is not a tuple of FieldAdded / FieldRenamed / FieldRemoved, or
            names a field the class lacks (added, renamed-to) or still has (removed).
    """
    found = getattr(cls, "furu_migrations", ())
    where = f"{cls.__module__}.{cls.__qualname__}.furu_migrations"
    if not isinstance(found, tuple | list) or not all(
        isinstance(d, FieldAdded | FieldRenamed | FieldRemoved) for d in found
    ):
        raise FuruConfigError(
            f"{where} is {found!r}; it must be a tuple of furu.FieldAdded(name, default=...), "
            "furu.FieldRenamed(old=..., new=...) and furu.FieldRemoved(name, value=...)."
        )
    fields = cls.__chz_fields__  # type: ignore[attr-defined]
    for d in found:
        present = d.new if isinstance(d, FieldRenamed) else d.name
        if isinstance(d, FieldRemoved):
            if d.name in fields:
                raise FuruConfigError(
                    f"{where}: {d.describe()} names a field the class still has; remove the "
                    "field from the class, or the declaration."
                )
        elif present not in fields:
            raise FuruConfigError(
                f"{where}: {d.describe()} names {present!r}, which is not a field of the class; "
                f"its fields are {sorted(fields)}."
            )
    return tuple(found)


def field_default(cls: type, name: str) -> Any:
    """The default of field `name` of chz class `cls`, or MISSING."""
    field = cls.__chz_fields__[name]  # type: ignore[attr-defined]
    if field._default is not MISSING:
        return field._default
    if field._default_factory is not MISSING:
        return field._default_factory()
    return MISSING


class _OldIdentity:
    """Stands in for a dependency under the identity it had before a change (for hashing)."""

    __slots__ = ("identity",)

    def __init__(self, namespace: str, digest: str) -> None:
        self.identity = (namespace, digest)

    def _furu_identity(self) -> tuple[str, str]:
        return self.identity


def _undone(fields: dict[str, Any], declared: Sequence[Declaration]) -> Iterator[dict[str, Any]]:
    """The field mappings the config had before each declared change (newest undone first)."""
    current = dict(fields)
    for d in reversed(declared):
        if isinstance(d, FieldAdded):
            if d.name not in current or not _same(current[d.name], d.default):
                return  # this config did not exist before the field was added
            del current[d.name]
        elif isinstance(d, FieldRenamed):
            if d.new not in current:
                return
            current[d.old] = current.pop(d.new)
        else:
            current[d.name] = d.value
        yield dict(current)


def _same(a: Any, b: Any) -> bool:
    return type(a) is type(b) and a == b


def _has_declarations(step: Furu[Any], depth: int = 0) -> bool:
    from furu._dependencies import field_steps

    if getattr(type(step), "furu_migrations", ()):
        return True
    return depth < 20 and any(_has_declarations(dep, depth + 1) for _, dep in field_steps(step))


def declared_old_hashes(step: Furu[Any]) -> list[str]:
    """Hashes `step`'s config had before its class's (and its dependencies') declared changes.

    Nearest first; the current hash is not included. Dependencies held directly in a field
    contribute their own old identities; at most 256 combinations are tried.
    """
    return [h for h in _old_hashes(step, 0) if h != step._furu_hash]


def _old_hashes(step: Furu[Any], depth: int) -> list[str]:
    from furu._furu import Furu

    cls = type(step)
    own = {name: getattr(step, name) for name in cls.__chz_fields__}
    variants = [own, *_undone(own, declarations(cls))]
    alternatives: dict[str, list[Any]] = {}
    if depth < 20:
        for name, value in own.items():
            if isinstance(value, Furu) and _has_declarations(value):
                olds = _old_hashes(value, depth + 1)
                ns = value._furu_namespace
                alternatives[name] = [value, *(_OldIdentity(ns, h) for h in olds)]
    found: list[str] = []
    names = list(alternatives)
    for variant in variants:
        combos = itertools.product(*(alternatives[n] for n in names))
        for combo in itertools.islice(combos, _MAX_CANDIDATES):
            values = dict(variant)
            for n, alt in zip(names, combo, strict=True):
                if n in values:
                    values[n] = alt
            digest = fields_hash(values, root=cls.__qualname__)
            if digest not in found:
                found.append(digest)
            if len(found) >= _MAX_CANDIDATES:
                return found
    return found


def adopt_declared(step: Furu[Any], lock: ComputeLock) -> bool:
    """On a cache miss, with `step`'s lock held: alias a stored result its declared migrations
    reach, and say so; False when there is none (the caller computes the step).

    Only a directory without a result and without leftover outputs is made an alias.
    """
    if not _has_declarations(step):
        return False
    from furu._workspace import Store

    store = Store.current()
    new = store.step_dir_of(step)
    if os.path.exists(new.success_path) or _outputs(new.path):
        return False
    for old_hash in declared_old_hashes(step):
        old = store.step_dir(
            step._furu_namespace, old_hash, version_controlled=new.version_controlled
        )
        if not old.has_result():
            continue
        how = "declared: " + ", ".join(d.describe() for d in _declared_in(step))
        old_config = (old.read_metadata() or {}).get("furu_obj")
        publish_alias(step, old, lock, how=how, old_config=old_config, changes=[])
        return True
    return False


def _declared_in(step: Furu[Any]) -> list[Declaration]:
    from furu._dependencies import field_steps

    found = list(declarations(type(step)))
    for _, dep in field_steps(step):
        found.extend(d for d in _declared_in(dep) if d not in found)
    return found


# ---------------------------------------------------------------- the alias directory


def who() -> str:
    """`user@host` of this process, as a migration records it."""
    from furu._state import current_user

    return f"{current_user()}@{HOSTNAME}"


def _outputs(path: Path) -> list[str]:
    try:
        return [e.name for e in os.scandir(path) if e.name != FURU_DIR]
    except FileNotFoundError:
        return []


def publish_alias(
    step: Furu[Any],
    old: StepDir,
    lock: ComputeLock,
    *,
    how: str,
    old_config: Any,
    changes: list[dict[str, Any]],
) -> None:
    """Make `step`'s directory an alias of the stored result `old` (its lock is held).

    Raises:
        FuruStoreError: the old result vanished, the new directory holds files of its own, or
            a write failed; nothing was published.
    """
    from furu import _staging
    from furu._metadata import MetadataManager
    from furu._state import Attempt, AttemptStatus, ResultStatus, StateManager, now_iso

    loc = step._furu_location
    new_dir, meta = loc.furu_dir, loc.meta_dir
    entries = _outputs(old.path)
    if not old.has_result():
        raise FuruStoreError(
            f"cannot migrate {old.id} to {step._furu_short()}: {old.path} has no result "
            "(SUCCESS.json) any more. Recompute it, or migrate another experiment.",
            path=old.path,
        )
    leftovers = _outputs(new_dir)
    if leftovers:
        raise FuruStoreError(
            f"cannot migrate {old.id} into {new_dir}: it holds files of an unfinished attempt "
            f"({', '.join(sorted(leftovers)[:5])}). Let that attempt finish, or delete those "
            "files, then migrate again.",
            path=new_dir,
        )
    stamp = now_iso()
    old_marker = read_json(old.success_path, what="result marker") or {}
    record = {
        "schema": MIGRATION_SCHEMA,
        "at": stamp,
        "by": who(),
        "how": how,
        "command": _command(),
        "from": {
            "namespace": old.namespace,
            "hash": old.hash,
            "dir": os.path.relpath(old.path, new_dir),
            "config": old_config,
        },
        "to": {
            "namespace": step._furu_namespace,
            "hash": step._furu_hash,
            "config": step.to_dict(),
        },
        "changes": changes,
        "links": sorted(entries),
    }
    attempt = Attempt.new(lock.attempt_id, 1, AttemptStatus.SUCCESS, "migration", None, how)
    attempt = attempt.finish(AttemptStatus.SUCCESS)
    MetadataManager.write(new_dir, MetadataManager.build(step._furu_record()))
    write_json_atomic(meta / MIGRATION_FILE, record)
    # A dot name: the core never resumes an attempt from it, so a migration cut short cannot
    # hand its links (into the old result) to a later computation that would write through them.
    staging = _staging.attempts_dir(new_dir) / f".migration-{lock.attempt_id}"
    marker = {
        "namespace": step._furu_namespace,
        "hash": step._furu_hash,
        "attempt_id": lock.attempt_id,
        "created_at": old_marker.get("created_at", stamp),
        "duration_sec": 0.0,
        "migrated_from": str(old.id),
        "migrated_at": stamp,
    }
    try:
        staging.mkdir(parents=True)
        for name in entries:
            os.symlink(os.path.relpath(old.path / name, new_dir), staging / name)
        _staging.publish(staging, new_dir, Path(loc.success), dump_json(marker))
    except BaseException as exc:  # publish removed the staging directory only on success
        shutil.rmtree(staging, ignore_errors=True)
        with contextlib.suppress(OSError):
            staging.parent.rmdir()
        if isinstance(exc, _staging.PublishConflict):
            raise FuruStoreError(
                f"cannot migrate {old.id} into {new_dir}: {exc.args[0]}; something wrote there "
                "meanwhile. Look at it, then migrate again.",
                path=new_dir,
            ) from None
        raise
    StateManager(new_dir).write(ResultStatus.SUCCESS, attempt, 1)
    _append_line(old, {"at": stamp, "by": who(), "action": "migrate", "to": _ref(step), "how": how})
    text = f"migrated from {old.id} ({how}); its {len(entries)} entries are links, nothing copied"
    append_to_log(meta / "furu.log", f"{stamp} INFO furu {text}")
    _log.info("load_or_create %s: %s", step._furu_short(), text)


def _ref(step: Furu[Any]) -> str:
    return f"{step._furu_namespace}/{step._furu_hash}"


def _command() -> str:
    import sys

    return " ".join(sys.argv) or sys.executable


def _append_line(step_dir: StepDir, data: Mapping[str, Any]) -> None:
    """One line in `<dir>/.furu/migrations.jsonl`, appended in one write (errors logged)."""
    try:
        fd = open_append(step_dir.meta_dir / MIGRATIONS_LOG, what="migration log")
        try:
            write_all(fd, json.dumps(data, sort_keys=True).encode() + b"\n")
        finally:
            os.close(fd)
        step_dir.note_change("migration")
    except (OSError, FuruStoreError) as exc:
        _log.warning("could not record the migration in %s: %s", step_dir.meta_dir, exc)


def read_migration(step_dir: StepDir) -> dict[str, Any] | None:
    """The `migration.json` of an alias directory; None when it is not an alias."""
    return read_json(step_dir.meta_dir / MIGRATION_FILE, what="migration record")


def migration_log(step_dir: StepDir) -> list[dict[str, Any]]:
    """The lines of `<dir>/.furu/migrations.jsonl` (unparsable lines skipped)."""
    from furu._store import read_regular_file

    raw = read_regular_file(
        step_dir.meta_dir / MIGRATIONS_LOG, what="migration log", max_bytes=16 * 1024 * 1024
    )
    lines: list[dict[str, Any]] = []
    for line in (raw or b"").splitlines():
        try:
            data = json.loads(line)
        except ValueError:
            continue
        if isinstance(data, dict):
            lines.append(data)
    return lines


# ---------------------------------------------------------------- undo


@dataclass(frozen=True)
class UndoneMigration:
    """An alias directory that `furu.undo_migration` removed."""

    alias: str
    """`namespace/hash` of the removed alias."""
    migrated_from: str
    """`namespace/hash` of the result it pointed to (kept)."""


def undo_migration(ref: str, *, store: Store | None = None) -> list[UndoneMigration]:
    """Remove the alias directory `ref` names (or every live alias of the result `ref` names).

    The old result is untouched; its `.furu/migrations.jsonl` records the undo. The next
    `load_or_create()` of the new config is a cache miss again (unless a declared migration
    reaches the old result again).

    Args:
        ref: `namespace/hash`, `Class/hash-prefix` or a hash prefix of the alias, or of a
            result that was migrated (then all its aliases are removed).
        store: the store (default: the current one, `FURU_PATH`).

    Raises:
        FuruStoreError: `ref` names nothing, or an alias that has since been recomputed into a
            real result (it is kept), or one a live process holds the lock of.
    """
    from furu._workspace import Store

    the_store = store or Store.current()
    found = the_store.find(ref)
    if read_migration(found) is not None:
        return [_undo_alias(found)]
    live = _live_aliases(found)
    if not live:
        raise FuruStoreError(
            f"{found.id} is neither a migration alias (it has no .furu/{MIGRATION_FILE}) nor a "
            "result with a live alias. Give the alias's reference (`furu ls` lists it; "
            f"{MIGRATIONS_LOG} of the old result names it).",
            path=found.path,
        )
    return [_undo_alias(alias) for alias in live]


def _live_aliases(old: StepDir) -> list[StepDir]:
    aliases: list[StepDir] = []
    for line in migration_log(old):
        to = line.get("to")
        if line.get("action") != "migrate" or not isinstance(to, str):
            continue
        namespace, _, digest = to.rpartition("/")
        alias = old.store.step_dir(namespace, digest, version_controlled=old.version_controlled)
        record = read_migration(alias) if alias.exists() else None
        ours = record is not None and record.get("from", {}).get("hash") == old.hash
        if ours and alias not in aliases:
            aliases.append(alias)
    return aliases


def _undo_alias(alias: StepDir) -> UndoneMigration:
    from furu._lock import ComputeLock

    record = read_migration(alias) or {}
    source = record.get("from", {})
    old_ref = f"{source.get('namespace')}/{source.get('hash')}"
    real = [n for n in _outputs(alias.path) if not os.path.islink(alias.path / n)]
    if real:
        raise FuruStoreError(
            f"{alias.id} is no longer only an alias of {old_ref}: it holds files of its own "
            f"({', '.join(sorted(real)[:5])}), so it was recomputed. It is kept; delete it "
            "yourself (the dashboard or `rm -r`) if you no longer want it.",
            path=alias.path,
        )
    lock = ComputeLock.try_acquire(alias.meta_dir, lease_secs=60.0, heartbeat=20.0)
    if lock is None:
        holder = alias.lock_holder()
        raise FuruStoreError(
            f"cannot undo the migration {alias.id}: "
            f"{holder.describe() if holder else 'another process'} holds its lock. Wait for "
            "it, then undo again.",
            path=alias.lock_path,
        )
    try:
        trash = alias.path.with_name(f".{alias.hash}.undo.{os.getpid()}.{os.urandom(4).hex()}")
        os.rename(alias.path, trash)
    finally:
        lock.release()
    shutil.rmtree(trash, ignore_errors=True)
    alias.note_change("delete")
    namespace, digest = str(source.get("namespace")), str(source.get("hash"))
    if namespace and digest:
        old = alias.store.step_dir(namespace, digest, version_controlled=alias.version_controlled)
        if old.exists():
            _append_line(
                old,
                {"at": _now(), "by": who(), "action": "undo", "to": str(alias.id), "how": "undo"},
            )
    return UndoneMigration(alias=str(alias.id), migrated_from=old_ref)


def _now() -> str:
    from furu._state import now_iso

    return now_iso()


# ---------------------------------------------------------------- a dangling alias


def dangling_alias_error(step: Furu[Any], exc: OSError) -> FuruStoreError | None:
    """The error to raise when `_load()` of an alias failed because its old result is gone."""
    from furu._workspace import Store

    here = Store.current().step_dir_of(step)
    try:
        record = read_migration(here)
    except FuruStoreError:
        return None
    if record is None:
        return None
    broken = [n for n in _outputs(here.path) if not os.path.exists(here.path / n)]
    if not broken:
        return None
    source = record.get("from", {})
    old_dir = (here.path / str(source.get("dir", ""))).resolve()
    return FuruStoreError(
        f"{step._furu_short()}: its directory {here.path} is a migration alias of "
        f"{source.get('namespace')}/{source.get('hash')} in {old_dir}, which is gone, so its "
        f"links ({', '.join(sorted(broken)[:5])}) point nowhere ({exc}). Run "
        f"`furu migrate --undo {here.id}` (or delete {here.path}) and the step is recomputed "
        "on the next load_or_create().",
        path=here.path,
    )


def success_marker(step_dir: StepDir) -> dict[str, Any] | None:
    """`SUCCESS.json` of a step directory (None when absent)."""
    return read_json(step_dir.meta_dir / SUCCESS_FILE, what="result marker")
