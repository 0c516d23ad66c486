"""Why a step would be created, and how two configs differ, as data (ADR 0005 §2).

`explain(step)` says why `load_or_create()` would compute `step`: `forced` (FURU_ALWAYS_RERUN,
FURU_FORCE_RECOMPUTE), `invalid` (`_validate()` refused the stored result), `failed` or
`incomplete` (its last attempt), `missing` with the nearest stored configs of its class field by
field, and `migratable` when those differ from it only in fields the class added with their
defaults. Stored configs come from the catalog (`furu._catalog`): one file per class, so 10,000
stored experiments of a class are compared in tens of milliseconds.

Nearest = fewest differing leaves. A nested step counts as the leaves by which it differs from
the stored one, so "its `model` (TrainModel) changes `lr` 0.1 → 0.03" is one leaf away.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from furu._catalog import CatalogEntry, entry_from_record, fields_of, step_of
from furu._errors import FuruError
from furu._tagged import CLASS_KEY, render_config

if TYPE_CHECKING:
    from furu._furu import Furu
    from furu._step_dir import StepDir, StepId
    from furu._workspace import Store

_ABSENT: Any = object()
_NEIGHBOURS = 3


# ---------------------------------------------------------------- the data


@dataclass(frozen=True)
class FieldChange:
    """How one field differs between a stored config (old) and another one (new).

    Attributes:
        kind: `added` (only the new config has it), `removed` (only the old one), `renamed`
            (a removed and an added field holding equal values), `changed` (a value, `path`
            may go below the field: `opt.lr`, `layers[1]`), or `step` (a nested step is
            another config: `changes` say how).
        path: the field (for `renamed`, its new name).
        old: the old value (tagged JSON, as `metadata.json` records it), or for `step` the
            old hash.
        new: the new value, or for `step` the new hash.
        old_name: `renamed`: the field's old name.
        default: `added`: the class's default, when the class is known and has one.
        has_default: whether `default` holds one.
        step: `step`: the nested step's namespace.
        changes: `step`: how the nested step differs (empty when the old one is not stored).
    """

    kind: str
    path: str
    old: Any = None
    new: Any = None
    old_name: str | None = None
    default: Any = None
    has_default: bool = False
    step: str | None = None
    changes: tuple[FieldChange, ...] = ()

    @property
    def at_default(self) -> bool:
        """An `added` field whose new value is the class's default (a migration can fill it)."""
        return self.kind == "added" and self.has_default and _same(self.new, self.default)

    def describe(self) -> str:
        """One phrase: "field `average` is new (default False)", "`lr` changes 0.1 → 0.03"."""
        if self.kind == "added":
            if self.at_default:
                return f"field `{self.path}` is new (default {_show(self.default)})"
            here = f"{_show(self.new)} here"
            if self.has_default:
                return f"field `{self.path}` is new ({here}, default {_show(self.default)})"
            return f"field `{self.path}` is new ({here})"
        if self.kind == "removed":
            return f"field `{self.path}` was removed (it held {_show(self.old)})"
        if self.kind == "renamed":
            return f"field `{self.old_name}` was renamed to `{self.path}` (same value {_show(self.new)})"
        if self.kind == "step":
            cls = (self.step or "").rsplit(".", 1)[-1]
            if not self.changes:
                return (
                    f"its `{self.path}` ({cls}) is another config ({str(self.old)[:9]} → "
                    f"{str(self.new)[:9]}; the old one is no longer stored)"
                )
            inner = _join_changes(self.changes)
            return f"its `{self.path}` ({cls}){'' if inner[0] == ':' else ' '}{inner}"
        return f"`{self.path}` {_show(self.old)} → {_show(self.new)}"

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"kind": self.kind, "path": self.path, "text": self.describe()}
        if self.kind in ("removed", "changed", "step"):
            out["old"] = self.old
        if self.kind != "removed":
            out["new"] = self.new
        if self.old_name is not None:
            out["old_name"] = self.old_name
        if self.has_default:
            out["default"] = self.default
        if self.kind == "step":
            out["step"] = self.step
            out["changes"] = [c.to_json() for c in self.changes]
        return out


def _join_changes(changes: tuple[FieldChange, ...]) -> str:
    """`changes `lr` 0.1 → 0.03, `epochs` 3 → 4` or `: field `x` is new (...)`."""
    texts = [c.describe() for c in changes]
    if all(c.kind == "changed" for c in changes):
        return "changes " + ", ".join(texts)
    return ": " + "; ".join(texts)


@dataclass(frozen=True)
class Neighbour:
    """A stored config of the same class and how the explained one differs from it.

    Attributes:
        hash: its hash. at: when it was created. distance: the number of differing leaves.
        changes: field by field, old = the stored config, new = the explained one.
    """

    hash: str
    at: str
    distance: int
    changes: tuple[FieldChange, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "hash": self.hash,
            "at": self.at,
            "distance": self.distance,
            "changes": [c.to_json() for c in self.changes],
        }


@dataclass(frozen=True)
class Reason:
    """One reason a step would be created.

    Attributes:
        kind: `missing`, `forced`, `dependent`, `invalid`, `failed`, `incomplete` or
            `migratable`.
        message: a sentence for people.
        neighbours: `missing`: the nearest stored configs of the class, nearest first.
        count: `missing`/`migratable`: how many stored configs differ exactly as the nearest.
        hashes: `migratable`: the stored results a migration would reuse.
        command: `migratable`: the command that migrates them.
    """

    kind: str
    message: str
    neighbours: tuple[Neighbour, ...] = ()
    count: int = 0
    hashes: tuple[str, ...] = ()
    command: str | None = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"kind": self.kind, "message": self.message}
        if self.neighbours:
            out["neighbours"] = [n.to_json() for n in self.neighbours]
        if self.count:
            out["count"] = self.count
        if self.hashes:
            out["hashes"] = list(self.hashes)
        if self.command:
            out["command"] = self.command
        return out


@dataclass(frozen=True)
class Explanation:
    """Why a step would be created (`status` "to create"), or that it is cached.

    Attributes:
        step: its identity. status: `cached` or `to create`.
        reasons: the most decisive first; empty when cached.
    """

    step: StepId
    status: str
    reasons: tuple[Reason, ...] = ()

    @property
    def first(self) -> Reason | None:
        return self.reasons[0] if self.reasons else None

    def describe(self) -> str:
        """`Class 3f9a1c2b0: to create` and one indented line per reason."""
        lines = [f"{self.step.short}: {self.status}"]
        lines += [f"  {r.kind}: {r.message}" for r in self.reasons]
        return "\n".join(lines)

    def to_json(self) -> dict[str, Any]:
        return {
            "namespace": self.step.namespace,
            "hash": self.step.hash,
            "status": self.status,
            "reasons": [r.to_json() for r in self.reasons],
        }


@dataclass(frozen=True)
class Diff:
    """How the config of `b` differs from that of `a` (old = a, new = b)."""

    a: StepId
    b: StepId
    changes: tuple[FieldChange, ...]

    def describe(self) -> str:
        head = f"{self.a} → {self.b}"
        if not self.changes:
            return f"{head}\n  (same fields and values)"
        return "\n".join([head, *(f"  {c.kind:<8} {c.describe()}" for c in self.changes)])

    def to_json(self) -> dict[str, Any]:
        return {"a": str(self.a), "b": str(self.b), "changes": [c.to_json() for c in self.changes]}


# ---------------------------------------------------------------- values


def _same(a: Any, b: Any) -> bool:
    return type(a) is type(b) and a == b


def _show(value: Any) -> str:
    ref = step_of(value)
    if ref is not None:
        return f"{ref[0].rsplit('.', 1)[-1]} {ref[1][:9]}"
    try:
        return render_config(value).expression
    except (FuruError, TypeError, ValueError, KeyError):
        return json.dumps(value, default=str)


def _is_scalar(value: Any) -> bool:
    return not isinstance(value, dict | list)


def leaves(value: Any, path: str) -> Iterator[tuple[str, Any]]:
    """`(path, leaf)` of a catalog field value; a step reference and a tagged value are leaves.

    Paths are those of `furu._dependencies`: `opt.lr`, `layers[1]`, `by_name['a']`.
    """
    if isinstance(value, dict) and value:
        if step_of(value) is not None:
            yield path, value
        elif CLASS_KEY in value:
            for key, item in value.items():
                yield from leaves(item, f"{path}.{key}")
        elif len(value) == 1 and isinstance(value.get("__tuple__"), list) and value["__tuple__"]:
            for i, item in enumerate(value["__tuple__"]):
                yield from leaves(item, f"{path}[{i}]")
        elif any(k[:2] == "__" == k[-2:] for k in value):
            yield path, value
        else:
            for key, item in value.items():
                yield from leaves(item, f"{path}[{key!r}]")
    elif isinstance(value, list) and value:
        for i, item in enumerate(value):
            yield from leaves(item, f"{path}[{i}]")
    else:
        yield path, value


# ---------------------------------------------------------------- sides of a comparison


@dataclass
class _Side:
    """A config to compare: its catalog fields, and the live steps at its step fields."""

    namespace: str
    hash: str
    fields: dict[str, Any]
    live: dict[str, Furu[Any]] = field(default_factory=dict)
    cls: type | None = None

    @classmethod
    def of_step(cls, step: Furu[Any]) -> _Side:
        from furu._dependencies import direct_dependencies

        deps = direct_dependencies(step)
        refs = [(p, d._furu_namespace, d._furu_hash) for p, d in deps]
        fields = fields_of(step.to_dict(), refs)
        return cls(step._furu_namespace, step._furu_hash, fields, dict(deps), type(step))

    @classmethod
    def of_entry(cls, namespace: str, entry: CatalogEntry) -> _Side:
        return cls(namespace, entry.hash, entry.fields)


class Comparer:
    """Compares configs against stored ones, reading each class's catalog once."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._catalogs: dict[str, dict[str, CatalogEntry]] = {}
        self._distances: dict[tuple[str, str, str], int] = {}

    def catalog(self, namespace: str) -> dict[str, CatalogEntry]:
        found = self._catalogs.get(namespace)
        if found is None:
            try:
                entries = self.store.catalog(namespace)
            except FuruError:
                entries = []
            found = self._catalogs[namespace] = {e.hash: e for e in entries}
        return found

    def entry(self, namespace: str, digest: str) -> CatalogEntry | None:
        found = self.catalog(namespace).get(digest)
        if found is None:  # not a stored result, but its record may still be there
            found = _entry_of_dir(self.store.step_dir(namespace, digest))
        return found

    def dep_side(self, side: _Side, path: str, ref: tuple[str, str]) -> _Side | None:
        live = side.live.get(path)
        if live is not None:
            return _Side.of_step(live)
        entry = self.entry(*ref)
        return _Side.of_entry(ref[0], entry) if entry is not None else None

    # ------------------------------------------------------------ distance

    def distance(self, new: _Side, old: dict[str, Any]) -> int:
        """How many leaves of `new` differ from the stored fields `old`.

        Fields compare whole first (most are equal); only a differing one is flattened. An
        added or removed field counts once.
        """
        n = 0
        fields = new.fields
        for name, value in fields.items():
            before = old.get(name, _ABSENT)
            if before is _ABSENT:
                n += 1
            elif value == before and type(value) is type(before):
                continue
            elif isinstance(value, dict | list) or isinstance(before, dict | list):
                n += self._field_distance(new, name, value, before)
            else:  # two different scalars: one leaf
                n += 1
        return n + sum(1 for name in old if name not in fields)

    def _field_distance(self, new: _Side, name: str, value: Any, before: Any) -> int:
        mine, theirs = dict(leaves(value, name)), dict(leaves(before, name))
        n = 0
        for path, leaf in mine.items():
            old_leaf = theirs.get(path, _ABSENT)
            if old_leaf is _ABSENT:
                n += 1
            elif not _same(leaf, old_leaf):
                n += self._nested_distance(new, path, leaf, old_leaf)
        return max(1, n + sum(1 for path in theirs if path not in mine))

    def _nested_distance(self, new: _Side, path: str, value: Any, before: Any) -> int:
        ref, old_ref = step_of(value), step_of(before)
        if ref is None or old_ref is None or ref[0] != old_ref[0]:
            return 1
        key = (new.hash, path, old_ref[1])
        found = self._distances.get(key)
        if found is None:
            self._distances[key] = 1  # a cycle (impossible for hashes) ends here
            dep, stored = self.dep_side(new, path, ref), self.entry(*old_ref)
            found = 1
            if dep is not None and stored is not None:
                found = max(1, self.distance(dep, stored.fields))
            self._distances[key] = found
        return found

    # ------------------------------------------------------------ changes

    def changes(self, new: _Side, old: _Side) -> tuple[FieldChange, ...]:
        """Field by field, how `new` differs from `old`."""
        added = [n for n in new.fields if n not in old.fields]
        removed = [n for n in old.fields if n not in new.fields]
        renamed: list[FieldChange] = []
        for gone in list(removed):
            for name in added:
                if _canonical(old.fields[gone]) == _canonical(new.fields[name]):
                    renamed.append(
                        FieldChange(
                            "renamed", name, old.fields[gone], new.fields[name], old_name=gone
                        )
                    )
                    added.remove(name)
                    removed.remove(gone)
                    break
        out: list[FieldChange] = []
        for name, value in new.fields.items():
            if name in added:
                out.append(_added(name, value, new.cls))
            elif name in old.fields:
                out.extend(self._value_changes(new, name, value, old.fields[name]))
        out.extend(renamed)
        out.extend(FieldChange("removed", n, old=(old.fields[n])) for n in removed)
        return tuple(out)

    def _value_changes(self, new: _Side, name: str, value: Any, before: Any) -> list[FieldChange]:
        if _same(value, before):
            return []
        mine, theirs = dict(leaves(value, name)), dict(leaves(before, name))
        out: list[FieldChange] = []
        for path in [*mine, *(p for p in theirs if p not in mine)]:
            a, b = theirs.get(path, _ABSENT), mine.get(path, _ABSENT)
            if a is not _ABSENT and b is not _ABSENT and _same(a, b):
                continue
            ref, old_ref = step_of(b), step_of(a)
            if ref is not None and old_ref is not None and ref[0] == old_ref[0]:
                out.append(self._step_change(new, path, ref, old_ref))
            else:
                old = None if a is _ABSENT else (a)
                out.append(FieldChange("changed", path, old, None if b is _ABSENT else (b)))
        return out

    def _step_change(
        self, new: _Side, path: str, ref: tuple[str, str], old_ref: tuple[str, str]
    ) -> FieldChange:
        dep, stored = self.dep_side(new, path, ref), self.entry(*old_ref)
        inner: tuple[FieldChange, ...] = ()
        if dep is not None and stored is not None:
            inner = self.changes(dep, _Side.of_entry(old_ref[0], stored))
        return FieldChange("step", path, old_ref[1], ref[1], step=ref[0], changes=inner)


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str)


def _added(name: str, value: Any, cls: type | None) -> FieldChange:
    default, has = _default_of(cls, name)
    return FieldChange("added", name, new=value, default=default, has_default=has)


def _default_of(cls: type | None, name: str) -> tuple[Any, bool]:
    """The class's default of field `name` in tagged JSON, if it has one."""
    from chz.util import MISSING

    from furu._serialization import to_dict

    fields = getattr(cls, "__chz_fields__", None) or {}
    spec = fields.get(name)
    if spec is None:
        return None, False
    default: Any = getattr(spec, "_default", MISSING)
    factory: Any = getattr(spec, "_default_factory", MISSING)
    try:
        if default is not MISSING:
            return to_dict(default), True
        if factory is not MISSING:
            return to_dict(factory()), True
    except Exception:  # a default that cannot be described is no default here
        return None, False
    return None, False


def _entry_of_dir(step_dir: StepDir) -> CatalogEntry | None:
    try:
        record = step_dir.read_metadata()
    except FuruError:
        return None
    if record is None:
        return None
    return entry_from_record(record, kind=step_dir.kind, at=str(record.get("timestamp", "")))


# ---------------------------------------------------------------- explain


def explain(step: Furu[Any], *, comparer: Comparer | None = None) -> Explanation:
    """Why `load_or_create()` would create `step`, or that it is cached.

    ```python
    why = furu.explain(TrainModel(lr=0.03))
    print(why.describe())   # TrainModel 3f9a1c2b0: to create / missing: `lr` 0.1 → 0.03 ...
    why.reasons[0].neighbours[0].changes   # field by field, as data
    ```

    Args:
        step: the step to explain.
        comparer: shares catalogs read across many explanations (a plan's steps).
    """
    from furu._workspace import Store, step_id

    comparer = comparer or Comparer(Store.current())
    reasons = _result_reasons(step)
    if reasons is None:
        return Explanation(step_id(step), "cached")
    if not os.path.exists(step._furu_location.success):
        reasons.extend(_missing(step, comparer))
    return Explanation(step_id(step), "to create", tuple(reasons))


def _result_reasons(step: Furu[Any]) -> list[Reason] | None:
    """Forced, invalid, failed or incomplete; None when the stored result is used."""
    from furu._policy import Forcing
    from furu._settings import FURU_CONFIG, is_listed

    if os.path.exists(step._furu_location.success):
        forced = Forcing().reason(step) if Forcing.active() else None
        if forced is not None:
            ns = step._furu_namespace
            var = (
                "FURU_ALWAYS_RERUN"
                if is_listed(FURU_CONFIG.always_rerun, ns)
                else "FURU_FORCE_RECOMPUTE"
            )
            if forced == "dependent":
                text = (
                    "a FURU_FORCE_RECOMPUTE class lies below it (FURU_FORCE_RECOMPUTE_DEPENDENTS)"
                )
            else:
                text = f"{var} names {ns}, so its stored result is recomputed"
            return [Reason(forced, text)]
        if step._validate():
            return None
        return [
            Reason(
                "invalid",
                f"`{type(step).__qualname__}._validate()` returned False for its stored result "
                f"in {step._furu_location.furu_dir}",
            )
        ]
    return _attempt_reasons(step)


def _attempt_reasons(step: Furu[Any]) -> list[Reason]:
    from furu._state import StateManager

    try:
        state = StateManager(step._furu_location.furu_dir).read()
    except Exception as exc:
        return [Reason("incomplete", f"its state file is unreadable ({exc})")]
    attempt = state.attempt
    if attempt is None:
        return []
    when = attempt.ended_at or attempt.updated_at
    if state.result_status.value == "failed":
        error = attempt.error or {}
        what = f": {error.get('type')}: {error.get('message')}" if error else ""
        return [Reason("failed", f"its last attempt ({attempt.number}) failed at {when}{what}")]
    return [
        Reason(
            "incomplete",
            f"its last attempt ({attempt.number}) is {attempt.status.value} (at {when}) and "
            "left no result",
        )
    ]


def _missing(step: Furu[Any], comparer: Comparer) -> list[Reason]:
    cls = type(step).__qualname__
    new = _Side.of_step(step)
    stored = comparer.catalog(new.namespace)
    if not stored:
        return [Reason("missing", f"no {cls} is stored yet")]
    ranked = sorted(
        ((comparer.distance(new, e.fields), e.at, e) for e in stored.values()),
        key=lambda t: (t[0], t[1]),
    )
    neighbours = tuple(
        Neighbour(e.hash, e.at, d, comparer.changes(new, _Side.of_entry(new.namespace, e)))
        for d, _, e in ranked[:_NEIGHBOURS]
    )
    nearest = neighbours[0]
    alike = _alike(new, nearest, ranked, comparer)
    text = "; ".join(c.describe() for c in nearest.changes) or "the same fields and values"
    if len(alike) > 1:
        only = "it" if len(nearest.changes) == 1 else "these"
        message = f"{text} — {len(alike)} stored {cls}s differ only in {only}"
    else:
        message = f"{text}, compared with the nearest stored {cls} ({nearest.hash[:9]})"
    reasons = [Reason("missing", "", neighbours, len(alike))]
    command = _migrate_command(new.namespace, nearest.changes)
    if command is not None:
        message += f"; migrate {'them' if len(alike) > 1 else 'it'} with `{command}`"
        reasons.append(
            Reason(
                "migratable",
                f"{len(alike)} stored {cls}(s) were made before these changes: `{command}` "
                "reuses them instead of computing",
                count=len(alike),
                hashes=tuple(alike),
                command=command,
            )
        )
    if renames := [c for c in nearest.changes if c.kind == "renamed"]:
        declared = ", ".join(f'furu.FieldRenamed("{c.old_name}", "{c.path}")' for c in renames)
        message += f" (or declare `furu_migrations = ({declared},)` on {cls})"
    reasons[0] = Reason("missing", message, neighbours, len(alike))
    return reasons


_STRUCTURAL = ("added", "removed", "renamed")


def _alike(
    new: _Side,
    nearest: Neighbour,
    ranked: list[tuple[int, str, CatalogEntry]],
    comparer: Comparer,
) -> list[str]:
    """The stored configs that differ from `new` as the nearest does.

    When the nearest differs only in field names (added, removed, renamed), those are all the
    stored configs with its field names: the class's results under the old fields, which a
    migration would reuse. Otherwise, the configs as near whose changes are the same.
    """
    if nearest.changes and all(c.kind in _STRUCTURAL for c in nearest.changes):
        names = {e.hash: e for _, _, e in ranked}[nearest.hash].fields.keys()
        return [e.hash for _, _, e in ranked if e.fields.keys() == names]
    signature = _signature(nearest.changes)
    alike = []
    for distance, _, entry in ranked:
        if distance != nearest.distance:
            break
        if _signature(comparer.changes(new, _Side.of_entry(new.namespace, entry))) == signature:
            alike.append(entry.hash)
    return alike


def _signature(changes: tuple[FieldChange, ...]) -> str:
    return _canonical([c.to_json() for c in changes])


def _migrate_command(namespace: str, changes: tuple[FieldChange, ...]) -> str | None:
    """`furu migrate NS --default [--rename OLD=NEW ...]` when every change is a field added at
    its default or a renamed field (the migration ADR 0005 §5 makes from the stored results).

    A nested step whose own changes are such is migrated first: its dependents follow it.
    """
    if not changes:
        return None
    if all(c.at_default or c.kind == "renamed" for c in changes):
        flags = [" --default"] if any(c.kind == "added" for c in changes) else []
        flags += [f" --rename {c.old_name}={c.path}" for c in changes if c.kind == "renamed"]
        return f"furu migrate {namespace}{''.join(flags)}"
    if len(changes) == 1 and changes[0].kind == "step" and changes[0].step:
        return _migrate_command(changes[0].step, changes[0].changes)
    return None


# ---------------------------------------------------------------- diff


def diff(a: StepDir | str, b: StepDir | str, *, store: Store | None = None) -> Diff:
    """How the recorded config of `b` differs from that of `a`, nested steps included.

    ```python
    furu.diff("TrainModel/3f9a", "TrainModel/77c0").describe()
    # pkg.TrainModel/3f9a... → pkg.TrainModel/77c0...
    #   changed  `lr` 0.1 → 0.03
    ```

    Args:
        a, b: step directories, or references `Store.find` accepts (`namespace/hash`, a hash
            prefix, `Class/hash-prefix`).
        store: where references are looked up (default: the current store, `FURU_PATH`).

    Raises:
        FuruStoreError: a reference matches no step or several, or a step has no
            `metadata.json` (it was never attempted).
    """
    from furu._errors import FuruStoreError
    from furu._workspace import Store

    found = []
    for ref in (a, b):
        if isinstance(ref, str):
            store = store or Store.current()
            ref = store.find(ref)
        found.append(ref)
    a, b = found
    sides = []
    for step_dir in (a, b):
        entry = _entry_of_dir(step_dir)
        if entry is None:
            raise FuruStoreError(
                f"{step_dir.id} has no readable metadata.json, so its config is unknown; it was "
                "never attempted, or its .furu/ directory was emptied. Pick another step "
                "(`furu ls` lists them).",
                path=step_dir.metadata_path,
            )
        sides.append(_Side.of_entry(step_dir.namespace, entry))
    comparer = Comparer(a.store)
    changes = list(comparer.changes(sides[1], sides[0]))
    if a.namespace != b.namespace:
        changes.insert(0, FieldChange("changed", "class", a.namespace, b.namespace))
    return Diff(a.id, b.id, tuple(changes))
