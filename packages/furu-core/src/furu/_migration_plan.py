"""Explicit migrations: `furu.migrate(cls, ...)` and the plan it returns.

Seed 001's list: migrate one experiment (`hashes`), all to the new defaults (`default=True`),
all to a value you set (`values`), or those matching a filter (`where`). Each selected stored
experiment's new config is built from its stored one (`metadata.json`'s `furu_obj`): renamed
fields take their new names, fields the class no longer has are dropped, new fields take the
value given or their default. Stored experiments that hold a migrated one as a dependency are
migrated with it (the dependency replaced by its new config), in dependency order. Applying a
plan makes one alias directory per migration (`furu._migration.publish_alias`).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from chz.util import MISSING

from furu._errors import FuruConfigError, FuruError, FuruStoreError
from furu._migration import (
    FieldAdded,
    FieldRemoved,
    FieldRenamed,
    declarations,
    field_default,
    publish_alias,
    read_migration,
)
from furu._tagged import CLASS_KEY, untag

if TYPE_CHECKING:
    from furu._furu import Furu
    from furu._step_dir import StepDir
    from furu._workspace import Store


@dataclass(frozen=True)
class Migration:
    """One stored experiment and the config it is (or would be) migrated to."""

    namespace: str
    old_hash: str
    new_hash: str
    changes: tuple[dict[str, Any], ...]
    """Field by field: `{"field", "kind": added|removed|renamed|changed|dependency, "old",
    "new"}` (values as plain JSON)."""
    via: str | None = None
    """None for a selected experiment; for a dependent, the field holding the migrated step."""
    status: str = "planned"
    """planned (dry run), migrated, skipped (see `reason`) or failed (see `reason`)."""
    reason: str | None = None
    step: Any = field(default=None, repr=False, compare=False)

    @property
    def old_ref(self) -> str:
        return f"{self.namespace}/{self.old_hash}"

    @property
    def new_ref(self) -> str:
        return f"{self.namespace}/{self.new_hash}"

    def to_json(self) -> dict[str, Any]:
        return {
            "namespace": self.namespace,
            "old_hash": self.old_hash,
            "new_hash": self.new_hash,
            "status": self.status,
            "reason": self.reason,
            "via": self.via,
            "changes": list(self.changes),
        }

    def describe(self) -> str:
        cls = self.namespace.rsplit(".", 1)[-1]
        what = "; ".join(_change_text(c) for c in self.changes) or "no field changes"
        via = f" (depends on it through `{self.via}`)" if self.via else ""
        status = f" [{self.status}{': ' + self.reason if self.reason else ''}]"
        return f"{cls} {self.old_hash[:9]} -> {self.new_hash[:9]}{via}: {what}{status}"


def _change_text(change: Mapping[str, Any]) -> str:
    kind, name = change["kind"], change["field"]
    if kind == "added":
        return f"`{name}` added = {change['new']!r}"
    if kind == "removed":
        return f"`{name}` removed (was {change['old']!r})"
    if kind == "renamed":
        return f"`{change['old']}` renamed to `{name}`"
    if kind == "dependency":
        return f"`{name}` {change['old'][:9]}... -> {change['new'][:9]}..."
    return f"`{name}` {change['old']!r} -> {change['new']!r}"


@dataclass(frozen=True)
class MigrationPlan:
    """What `furu.migrate` found (dry run) or did: one `Migration` per stored experiment."""

    namespace: str
    dry_run: bool
    migrations: tuple[Migration, ...]

    def counts(self) -> dict[str, int]:
        found = {"planned": 0, "migrated": 0, "skipped": 0, "failed": 0}
        for m in self.migrations:
            found[m.status] += 1
        return found

    def to_json(self) -> dict[str, Any]:
        """The JSON `furu migrate --json` prints (documented in docs/code-changes.md)."""
        return {
            "namespace": self.namespace,
            "dry_run": self.dry_run,
            "counts": self.counts(),
            "migrations": [m.to_json() for m in self.migrations],
        }

    def describe(self) -> str:
        counts = ", ".join(f"{n} {k}" for k, n in self.counts().items() if n)
        head = f"{'Would migrate' if self.dry_run else 'Migrations of'} {self.namespace}"
        lines = [f"{head}: {len(self.migrations)} experiment(s) ({counts or 'nothing to do'})"]
        lines += [f"  {m.describe()}" for m in self.migrations]
        return "\n".join(lines)


# ---------------------------------------------------------------- the public entry point


def migrate(
    cls: type[Furu[Any]],
    *,
    hashes: Iterable[str] | None = None,
    where: Callable[[dict[str, Any]], bool] | None = None,
    values: Mapping[str, Any] | None = None,
    renames: Mapping[str, str] | None = None,
    default: bool = False,
    dry_run: bool = False,
    store: Store | None = None,
) -> MigrationPlan:
    """Migrate stored experiments of `cls` that the current code no longer reproduces.

    Each gets an alias directory under the hash its migrated config has now (nothing is copied
    or recomputed); stored experiments that depend on a migrated one are migrated with it.
    Declared migrations (`furu_migrations`) of `cls` apply too: their renames, and the
    defaults of fields they declare added.

    Args:
        cls: the step class, as the current code defines it.
        hashes: only these stored experiments (hash prefixes).
        where: only stored experiments whose stored config (the tagged JSON of
            `metadata.json`'s `furu_obj`; nested steps as dicts) it accepts.
        values: values of new fields (or new values of existing ones) for every migrated config.
        renames: `{old name: new name}` of renamed fields.
        default: new fields not in `values` take their default (else such a field is an error).
        dry_run: only plan: return what would be done (status `planned`), write nothing.
        store: the store (default: the current one, `FURU_PATH`).

    Returns:
        The plan, each migration with its status (`migrated`, `skipped` with the reason, e.g.
        the new hash already has a result, or `failed`).

    Raises:
        FuruConfigError: a new field has no value (and no default, or `default=False`), a name
            in `values`/`renames` is not a field of `cls`, or a hash prefix matches nothing.
    """
    from furu._workspace import Store

    the_store = store or Store.current()
    spec = _Spec.of(cls, values or {}, renames or {}, default)
    namespace = _namespace(cls)
    prefixes = [h.strip().lower() for h in hashes] if hashes is not None else None
    selected = _select(the_store, cls, spec, prefixes, where)
    found: list[Migration] = [m for m in selected if m.status != "same"]
    if found:
        found += _dependents(the_store, {m.old_ref: m for m in found if m.status == "planned"})
    if not dry_run:
        found = _apply_all(the_store, found)
    return MigrationPlan(namespace, dry_run, tuple(found))


_WORKERS = 8


def _apply_all(store: Store, found: list[Migration]) -> list[Migration]:
    """Make every planned alias; a few at a time, since each waits on its own `fsync`.

    Order does not matter for consistency: an alias names its config's hash only, so a
    dependent's alias is valid before (or without) its dependency's.
    """
    from concurrent.futures import ThreadPoolExecutor

    planned = [m for m in found if m.status == "planned"]
    if len(planned) < 2:
        return [_apply(store, m) if m.status == "planned" else m for m in found]
    with ThreadPoolExecutor(min(_WORKERS, len(planned)), "furu-migrate") as pool:
        done = iter(list(pool.map(lambda m: _apply(store, m), planned)))
    return [next(done) if m.status == "planned" else m for m in found]


def _namespace(cls: type) -> str:
    from furu._furu import _namespace_of

    return _namespace_of(cls)


# ---------------------------------------------------------------- how a config changes


@dataclass(frozen=True)
class _Spec:
    cls: type
    values: Mapping[str, Any]
    renames: Mapping[str, str]
    default: bool
    removed_values: Mapping[str, Any]

    @classmethod
    def of(
        cls, step_cls: type, values: Mapping[str, Any], renames: Mapping[str, str], default: bool
    ) -> _Spec:
        declared = declarations(step_cls)
        all_renames = {d.old: d.new for d in declared if isinstance(d, FieldRenamed)}
        all_renames.update(renames)
        all_values = {d.name: d.default for d in declared if isinstance(d, FieldAdded)}
        all_values.update(values)
        fields = step_cls.__chz_fields__  # type: ignore[attr-defined]
        where = f"{step_cls.__module__}.{step_cls.__qualname__}"
        for name in values:
            if name not in fields:
                raise FuruConfigError(_not_a_field(where, name, "a value is given", fields))
        for old, new in renames.items():
            if new not in fields:
                raise FuruConfigError(_not_a_field(where, new, f"{old!r} is renamed to", fields))
        removed = {d.name: d.value for d in declared if isinstance(d, FieldRemoved)}
        return cls(step_cls, all_values, all_renames, default, removed)


def _not_a_field(where: str, name: str, what: str, fields: Iterable[str]) -> str:
    return (
        f"{where} has no field {name!r} ({what} it); its fields are {sorted(fields)}. Check the "
        "spelling, or update the class first."
    )


def _new_config(
    spec: _Spec, stored: Mapping[str, Any], subs: Mapping[str, Any], where: str
) -> tuple[Furu[Any], list[dict[str, Any]]]:
    """The step the current code makes of a stored config, and the field changes."""
    cls = spec.cls
    fields = cls.__chz_fields__  # type: ignore[attr-defined]
    old = {k: v for k, v in stored.items() if k != CLASS_KEY}
    changes: list[dict[str, Any]] = []
    for before, after in spec.renames.items():
        if before in old and after not in old:
            old[after] = old.pop(before)
            changes.append({"field": after, "kind": "renamed", "old": before, "new": after})
    kwargs: dict[str, Any] = {}
    for name, value in old.items():
        if name not in fields:
            if name in spec.removed_values and untag(value) != spec.removed_values[name]:
                raise _Skip(
                    f"its `{name}` is {untag(value)!r}, not the value the class declares "
                    f"removed (FieldRemoved({name!r}, value={spec.removed_values[name]!r}))"
                )
            changes.append({"field": name, "kind": "removed", "old": _plain(value), "new": None})
        elif name in spec.values:
            kwargs[name] = spec.values[name]
            if _plain(value) != _plain_live(spec.values[name]):
                changes.append(
                    {
                        "field": name,
                        "kind": "changed",
                        "old": _plain(value),
                        "new": _plain_live(spec.values[name]),
                    }
                )
        else:
            kwargs[name] = _rebuild(value, name, subs)
    for name in fields:
        if name in old:
            continue
        if name in spec.values:
            kwargs[name] = spec.values[name]
        else:
            fallback = field_default(cls, name)
            if fallback is MISSING:
                gone = [n for n in old if n not in fields]
                renamed = (
                    f"; or, if it is {gone[0]!r} renamed, say so: renames={{{gone[0]!r}: "
                    f"{name!r}}} (--rename {gone[0]}={name})"
                    if gone
                    else ""
                )
                raise FuruConfigError(
                    f"{where}: field {name!r} is new and has no default, so the stored configs "
                    f"lack its value; give it: values={{{name!r}: ...}} (furu migrate --set "
                    f"{name}=VALUE){renamed}."
                )
            if not spec.default:
                raise FuruConfigError(
                    f"{where}: field {name!r} is new (default {fallback!r}); migrate to the "
                    f"default with default=True (furu migrate --default), or give a value with "
                    f"values={{{name!r}: ...}} (--set {name}=VALUE)."
                )
            kwargs[name] = fallback
        changes.append(
            {"field": name, "kind": "added", "old": None, "new": _plain_live(kwargs[name])}
        )
    return cls(**kwargs), changes


class _Skip(Exception):
    """This stored experiment cannot be migrated (the reason is the message)."""


def _plain(value: Any) -> Any:
    if isinstance(value, dict) and CLASS_KEY in value:
        return {k: _plain(v) for k, v in value.items()}
    return untag(value)


def _plain_live(value: Any) -> Any:
    from furu._serialization import to_dict

    return _plain(to_dict(value))


def _rebuild(value: Any, path: str, subs: Mapping[str, Any]) -> Any:
    """A stored (tagged JSON) value as a live object, with the steps at `subs`' paths replaced.

    Paths are those of `furu._dependencies` (`model`, `cfg.model`, `models[0]`).
    """
    from furu._serialization import _config_class, from_dict

    if path in subs:
        return subs[path]
    if not subs or not any(p.startswith(path) for p in subs):
        return from_dict(value)
    if isinstance(value, dict) and CLASS_KEY in value:
        config_cls = _config_class(value[CLASS_KEY])
        kwargs = {k: _rebuild(v, f"{path}.{k}", subs) for k, v in value.items() if k != CLASS_KEY}
        return config_cls(**kwargs)
    if isinstance(value, list):
        return [_rebuild(v, f"{path}[{i}]", subs) for i, v in enumerate(value)]
    if isinstance(value, dict) and list(value) == ["__tuple__"]:
        return tuple(_rebuild(v, f"{path}[{i}]", subs) for i, v in enumerate(value["__tuple__"]))
    if isinstance(value, dict) and CLASS_KEY not in value and all(k[:2] != "__" for k in value):
        return {k: _rebuild(v, f"{path}[{k!r}]", subs) for k, v in value.items()}
    return from_dict(value)


# ---------------------------------------------------------------- selecting


def _stored_results(store: Store, namespace: str, version_controlled: bool) -> list[StepDir]:
    probe = store.step_dir(namespace, "0", version_controlled=version_controlled)
    try:
        names = sorted(e.name for e in os.scandir(probe.path.parent) if e.name[0] != ".")
    except FileNotFoundError:
        return []
    found = [store.step_dir(namespace, n, version_controlled=version_controlled) for n in names]
    return [d for d in found if d.has_result()]


def _select(
    store: Store,
    cls: type,
    spec: _Spec,
    prefixes: list[str] | None,
    where: Callable[[dict[str, Any]], bool] | None,
) -> list[Migration]:
    namespace = _namespace(cls)
    vc = bool(getattr(cls, "_furu_version_controlled", False))
    results = _stored_results(store, namespace, vc)
    if prefixes is not None:
        for prefix in prefixes:
            if not any(d.hash.startswith(prefix) for d in results):
                raise FuruConfigError(
                    f"no stored {namespace} with a result has a hash starting with {prefix!r} "
                    f"in {store.root}; list them with `furu ls --namespace {namespace}`."
                )
        results = [d for d in results if any(d.hash.startswith(p) for p in prefixes)]
    found: list[Migration] = []
    for old in results:
        stored = _stored_config(old)
        if stored is None or (where is not None and not where(stored)):
            continue
        found.append(_plan_one(spec, old, stored, {}, None, explicit=prefixes is not None))
    return found


def _stored_config(step_dir: StepDir) -> dict[str, Any] | None:
    try:
        metadata = step_dir.read_metadata()
    except FuruStoreError:
        return None
    config = (metadata or {}).get("furu_obj")
    return config if isinstance(config, dict) else None


def _plan_one(
    spec: _Spec,
    old: StepDir,
    stored: Mapping[str, Any],
    subs: Mapping[str, Any],
    via: str | None,
    *,
    explicit: bool,
    sub_olds: Mapping[str, str] | None = None,
) -> Migration:
    where = f"{old.namespace} {old.hash[:9]}"
    try:
        step, changes = _new_config(spec, stored, subs, where)
        new_hash = step._furu_hash
    except FuruConfigError:
        raise
    except (_Skip, FuruError, TypeError, ValueError) as exc:
        return Migration(
            old.namespace, old.hash, "", (), via, "skipped", f"cannot build its new config: {exc}"
        )
    for path, dep in subs.items():
        was = (sub_olds or {}).get(path, "")
        changes.append({"field": path, "kind": "dependency", "old": was, "new": dep._furu_hash})
    if new_hash != old.hash and os.path.exists(step._furu_location.success):
        reason = _why_taken(old.store, step, old)
        return Migration(
            old.namespace, old.hash, new_hash, tuple(changes), via, "skipped", reason, step
        )
    if new_hash == old.hash:
        status = "skipped" if explicit else "same"
        return Migration(
            old.namespace,
            old.hash,
            new_hash,
            (),
            via,
            status,
            "the current code gives it the same hash: nothing to migrate",
        )
    return Migration(old.namespace, old.hash, new_hash, tuple(changes), via, step=step)


# ---------------------------------------------------------------- dependents


def _dependents(store: Store, migrated: Mapping[str, Migration]) -> list[Migration]:
    """Stored experiments holding a migrated step (transitively), in dependency order."""
    records: dict[str, tuple[StepDir, dict[str, Any], list[tuple[str, str]]]] = {}
    for step_dir in store.step_dirs():
        if not step_dir.has_result():
            continue
        try:
            metadata = step_dir.read_metadata() or {}
        except FuruStoreError:
            continue
        deps = [
            (str(d.get("field")), f"{d.get('namespace')}/{d.get('hash')}")
            for d in metadata.get("dependencies") or ()
            if isinstance(d, dict)
        ]
        config = metadata.get("furu_obj")
        if deps and isinstance(config, dict):
            records[str(step_dir.id)] = (step_dir, config, deps)
    done: dict[str, Migration] = dict(migrated)
    out: list[Migration] = []
    changed = True
    while changed:  # each pass migrates those whose migrated dependencies are all settled
        changed = False
        for ref, (step_dir, config, deps) in records.items():
            if ref in done or not any(d in done for _, d in deps):
                continue
            if any(d in records and d not in done and _reaches(d, done, records) for _, d in deps):
                continue  # a dependency of it is still to be migrated first
            subs = {
                path: done[d].step for path, d in deps if d in done and done[d].step is not None
            }
            if not subs:
                continue
            olds = {path: d.rpartition("/")[2] for path, d in deps if path in subs}
            found = _plan_dependent(step_dir, config, subs, olds)
            done[ref] = found
            out.append(found)
            changed = True
    return out


def _reaches(ref: str, done: Mapping[str, Any], records: Mapping[str, Any]) -> bool:
    """Whether `ref` depends (transitively) on something migrated: it will be migrated too."""
    seen: set[str] = set()
    stack = [ref]
    while stack:
        current = stack.pop()
        if current in seen or current not in records:
            continue
        seen.add(current)
        for _, dep in records[current][2]:
            if dep in done:
                return True
            stack.append(dep)
    return False


def _plan_dependent(
    step_dir: StepDir, config: Mapping[str, Any], subs: Mapping[str, Any], olds: Mapping[str, str]
) -> Migration:
    from furu._serialization import _config_class

    try:
        dep_cls = _config_class(config[CLASS_KEY])
        spec = _Spec.of(dep_cls, {}, {}, False)
        via = ", ".join(sorted(subs))
        return _plan_one(spec, step_dir, config, subs, via, explicit=True, sub_olds=olds)
    except FuruError as exc:
        return Migration(
            step_dir.namespace, step_dir.hash, "", (), ", ".join(subs), "skipped", str(exc)
        )


# ---------------------------------------------------------------- applying


def _apply(store: Store, migration: Migration) -> Migration:
    from furu._compute import _acquire_or_wait

    step = migration.step
    old = store.step_dir(
        migration.namespace,
        migration.old_hash,
        version_controlled=bool(getattr(type(step), "_furu_version_controlled", False)),
    )
    how = f"dependency: {migration.via}" if migration.via else "explicit"
    try:
        step._furu_location.meta_dir.mkdir(parents=True, exist_ok=True)
        while True:
            if os.path.exists(step._furu_location.success):
                return replace(migration, status="skipped", reason=_why_taken(store, step, old))
            lock, _ = _acquire_or_wait(step, None)
            if lock is None:
                continue
            try:
                if os.path.exists(step._furu_location.success):
                    continue
                publish_alias(
                    step,
                    old,
                    lock,
                    how=how,
                    old_config=_stored_config(old),
                    changes=list(migration.changes),
                )
                return replace(migration, status="migrated")
            finally:
                lock.release()
    except (FuruError, OSError) as exc:
        return replace(migration, status="failed", reason=str(exc))


def _why_taken(store: Store, step: Furu[Any], old: StepDir) -> str:
    here = store.step_dir_of(step)
    try:
        record = read_migration(here)
    except FuruStoreError:
        record = None
    if record is not None and record.get("from", {}).get("hash") == old.hash:
        return "already migrated (the new hash is an alias of this result)"
    return "the new hash already has a result; it is kept"
