"""The code manifest: what the project's current code defines, as a file the server can read.

`furu manifest` imports the project's modules and writes `<root>/manifest.json` (see
`furu._manifest_scan` for how it is built): every `furu.Furu` class with its fields, bases,
dependencies and declared migrations, and every module-level `FuruList` with its named
experiments. Nothing here imports user code: `Manifest.read` is plain JSON, which is how the
server, which never imports user code, learns what the code looks like.

`Manifest.stale_reason` decides ADR 0005 §4's first two causes of staleness from a stored
record's field types (`config_schema` of `metadata.json`): the class is gone
(`class-removed`), or its fields differ (`fields-changed`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from furu._errors import FuruError, FuruStoreError
from furu._store import MIB, read_regular_file, write_json_atomic
from furu._tagged import render_config, untag

MANIFEST_FILE = "manifest.json"
MANIFEST_VERSION = 1
MANIFEST_MAX_BYTES = 256 * MIB
_WHAT = "code manifest (written by `furu manifest`)"

CLASS_REMOVED = "class-removed"
"""The stored experiment's class is gone from the code."""
FIELDS_CHANGED = "fields-changed"
"""The class's fields were added, removed, renamed or retyped since the experiment was stored."""
DEPENDENCY_STALE = "dependency-stale"
"""The experiment's stored dependency is stale."""
BROKEN_ALIAS = "broken-alias"
"""A migrated alias whose target directory (the old result) is gone."""
STALE_KINDS = (CLASS_REMOVED, FIELDS_CHANGED, DEPENDENCY_STALE, BROKEN_ALIAS)
"""Every stable code a stale experiment is grouped by, in the order `furu stale` prints them."""


@dataclass(frozen=True)
class ManifestField:
    """One field of a class: its name, its type as `metadata.json` writes it, its default."""

    name: str
    type: str
    default: Any = None
    """The default in tagged JSON (`furu.untag` reads it); None without one."""
    has_default: bool = False

    def describe_default(self) -> str:
        """`default False`, or `no default`."""
        if not self.has_default:
            return "no default"
        try:
            return f"default {render_config(self.default).expression}"
        except FuruError:
            return f"default {untag(self.default)!r}"


@dataclass(frozen=True)
class ManifestDependency:
    """A class a class depends on: by a field's type, or by `_dependencies()`."""

    field: str
    namespace: str


@dataclass(frozen=True)
class ManifestClass:
    """One `furu.Furu` subclass of the code."""

    namespace: str
    module: str
    qualname: str
    doc: str = ""
    fields: tuple[ManifestField, ...] = ()
    bases: tuple[str, ...] = ()
    dependencies: tuple[ManifestDependency, ...] = ()
    migrations: tuple[dict[str, Any], ...] = ()
    """Declared migrations: `{"kind": <class name>, ...their attributes in tagged JSON}`."""

    @property
    def name(self) -> str:
        return self.qualname.rsplit(".", 1)[-1]

    @property
    def field_types(self) -> dict[str, str]:
        return {f.name: f.type for f in self.fields}

    def field(self, name: str) -> ManifestField | None:
        return next((f for f in self.fields if f.name == name), None)


@dataclass(frozen=True)
class ManifestExperiment:
    """A named experiment of a `FuruList`: its config, identity, status and the code for it."""

    name: str
    namespace: str
    hash: str
    config: dict[str, Any]
    python: str
    status: str = "absent"
    """The result status when the manifest was written (`absent` = defined, not yet run)."""


@dataclass(frozen=True)
class ManifestList:
    """A module-level `FuruList`, named `module:Attribute`."""

    name: str
    experiments: tuple[ManifestExperiment, ...] = ()


@dataclass(frozen=True)
class StaleCause:
    """Why a stored experiment is stale: a stable `kind` (see `STALE_KINDS`) and a sentence."""

    kind: str
    reason: str


@dataclass(frozen=True)
class Manifest:
    """The code manifest of a store (`<root>/manifest.json`).

    `classes` are keyed by namespace (`module.Qualname`); `errors` lists the modules that
    failed to import (their classes are not in the manifest, so nothing of theirs is stale).
    """

    written_at: str
    python: str
    project: str
    modules: tuple[str, ...]
    classes: dict[str, ManifestClass] = field(default_factory=dict)
    lists: tuple[ManifestList, ...] = ()
    errors: tuple[dict[str, str], ...] = ()
    version: int = MANIFEST_VERSION

    # ------------------------------------------------------------ file

    @staticmethod
    def path(store: Any) -> Path:
        """`<root>/manifest.json` of `store` (a `furu.Store`)."""
        return Path(store.root) / MANIFEST_FILE

    @classmethod
    def read(cls, store: Any) -> Manifest | None:
        """The manifest of `store` (a `furu.Store`); None when `furu manifest` never ran.

        Raises:
            FuruStoreError: the file is damaged (not JSON, not the manifest format, a symlink
                or too large); the message names it and says to run `furu manifest` again.
        """
        path = cls.path(store)
        try:
            raw = read_regular_file(path, what=_WHAT, max_bytes=MANIFEST_MAX_BYTES)
        except FuruStoreError as exc:  # a symlink, a FIFO, a directory, too large
            problem = str(exc).split(";", 1)[0]
            raise FuruStoreError(
                f"{problem}; furu cannot read it as the {_WHAT}. Delete it and run "
                "`furu manifest` again (in the project's environment) to rewrite it.",
                path=path,
            ) from None
        if raw is None:
            return None
        try:
            data = json.loads(raw)
            if not isinstance(data, dict):
                raise ValueError(f"it holds a JSON {type(data).__name__}, not an object")
            return cls.from_json(data)
        except (ValueError, TypeError, KeyError, AttributeError, RecursionError) as exc:
            problem = "is empty" if not raw.strip() else f"is damaged ({_brief(exc)})"
            raise FuruStoreError(
                f"{path} {problem}; it should hold the {_WHAT}. Run `furu manifest` again "
                "(in the project's environment) to rewrite it.",
                path=path,
            ) from None

    def write(self, store: Any) -> Path:
        """Write the manifest into `store` atomically; returns its path."""
        path = self.path(store)
        path.parent.mkdir(parents=True, exist_ok=True)
        write_json_atomic(path, self.to_json())
        return path

    def to_json(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "written_at": self.written_at,
            "python": self.python,
            "project": self.project,
            "modules": list(self.modules),
            "errors": [dict(e) for e in self.errors],
            "classes": [_class_json(c) for c in self.classes.values()],
            "lists": [_list_json(x) for x in self.lists],
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Manifest:
        """The manifest `data` (`to_json()`'s form) describes.

        Raises:
            ValueError: a newer version, or a field of the wrong kind.
        """
        version = data["version"]
        if version != MANIFEST_VERSION:
            raise ValueError(f"version {version!r}; this furu reads version {MANIFEST_VERSION}")
        classes = [_class_from(c) for c in _list(data, "classes")]
        return cls(
            written_at=str(data["written_at"]),
            python=str(data.get("python", "")),
            project=str(data.get("project", "")),
            modules=tuple(str(m) for m in _list(data, "modules")),
            classes={c.namespace: c for c in classes},
            lists=tuple(_list_from(x) for x in _list(data, "lists")),
            errors=tuple(
                {"module": str(e["module"]), "error": str(e["error"])}
                for e in _list(data, "errors")
            ),
        )

    # ------------------------------------------------------------ staleness

    def covers(self, namespace: str) -> bool:
        """Whether the manifest speaks for `namespace`: its module was imported without error.

        A class of a module the manifest did not import (another package, a module that
        failed) is not known to be gone: its staleness is unknown, never guessed.
        """
        if namespace in self.classes:
            return True
        failed = [e["module"] for e in self.errors]
        if any(_within(namespace, m) for m in failed):
            return False
        return any(_within(namespace, m) for m in self.modules)

    def stale_cause(self, namespace: str, types: Mapping[str, str]) -> StaleCause | None:
        """Why a stored experiment of `namespace` with field `types` is stale; None if not.

        Args:
            namespace: the stored experiment's `module.Qualname`.
            types: its fields' types (`{name: type}` from `config_schema` in `metadata.json`).
        """
        found = self.classes.get(namespace)
        if found is None:
            if not self.covers(namespace):
                return None
            name = namespace.rsplit(".", 1)[-1]
            return StaleCause(CLASS_REMOVED, f"class {name} is gone from the code ({namespace})")
        changes = field_changes(found, types)
        if not changes:
            return None
        reason = "; ".join(changes)
        if _declared(found, types):
            reason += " (declared in furu_migrations: load_or_create() reuses it)"
        return StaleCause(FIELDS_CHANGED, reason)

    def stale_reason(self, namespace: str, types: Mapping[str, str]) -> str | None:
        """The sentence of `stale_cause`: e.g. "field `average` was added (default False)"."""
        cause = self.stale_cause(namespace, types)
        return None if cause is None else cause.reason

    def stale_kind(self, namespace: str, types: Mapping[str, str]) -> str | None:
        """The stable code of `stale_cause`: `class-removed`, `fields-changed` or None."""
        cause = self.stale_cause(namespace, types)
        return None if cause is None else cause.kind


def field_changes(current: ManifestClass, stored: Mapping[str, str]) -> list[str]:
    """How `current`'s fields differ from `stored` ones (`{name: type}`), one phrase each.

    A removed and an added field of the same type read as a rename (a declared
    `FieldRenamed` pairs them first).
    """
    now = current.field_types
    added = [n for n in now if n not in stored]
    removed = [n for n in stored if n not in now]
    phrases: list[str] = []
    for old, new in _renames(current, removed, added, stored, now):
        removed.remove(old)
        added.remove(new)
        phrases.append(f"field `{old}` was renamed to `{new}`")
    for name in added:
        described = current.field(name)
        default = described.describe_default() if described else "no default"
        phrases.append(f"field `{name}` was added ({default})")
    phrases.extend(f"field `{name}` is gone" for name in removed)
    phrases.extend(
        f"field `{name}` changed type {stored[name]} → {now[name]}"
        for name in now
        if name in stored and stored[name] != now[name]
    )
    return phrases


def _renames(
    current: ManifestClass,
    removed: Sequence[str],
    added: Sequence[str],
    stored: Mapping[str, str],
    now: Mapping[str, str],
) -> list[tuple[str, str]]:
    pairs: list[tuple[str, str]] = []
    for m in current.migrations:
        old, new = m.get("old"), m.get("new")
        if "renamed" in str(m.get("kind", "")).lower() and old in removed and new in added:
            pairs.append((str(old), str(new)))
    taken_old = {p[0] for p in pairs}
    taken_new = {p[1] for p in pairs}
    for old in removed:
        if old in taken_old:
            continue
        match = next((n for n in added if n not in taken_new and now[n] == stored[old]), None)
        if match is not None:
            pairs.append((old, match))
            taken_old.add(old)
            taken_new.add(match)
    return pairs


def _declared(current: ManifestClass, stored: Mapping[str, str]) -> bool:
    """Whether declared migrations name every added, removed and renamed field."""
    named: set[str] = set()
    for m in current.migrations:
        for key in ("field", "name", "old", "new"):
            if isinstance(m.get(key), str):
                named.add(m[key])
    now = current.field_types
    differing = {n for n in now if n not in stored} | {n for n in stored if n not in now}
    retyped = any(n in stored and stored[n] != now[n] for n in now)
    return bool(differing) and differing <= named and not retyped


def _within(namespace: str, module: str) -> bool:
    return namespace.startswith(module + ".")


def _brief(exc: BaseException) -> str:
    if isinstance(exc, KeyError):
        return f"the key {exc.args[0]!r} is missing"
    return str(exc)[:200] or type(exc).__name__


def _list(data: Mapping[str, Any], key: str) -> list[Any]:
    value = data.get(key, [])
    if not isinstance(value, list):
        raise ValueError(f"{key!r} is a JSON {type(value).__name__}, not a list")
    return value


# ---------------------------------------------------------------- JSON forms


def _class_json(c: ManifestClass) -> dict[str, Any]:
    return {
        "namespace": c.namespace,
        "module": c.module,
        "qualname": c.qualname,
        "doc": c.doc,
        "fields": [
            {"name": f.name, "type": f.type, "default": f.default, "has_default": f.has_default}
            for f in c.fields
        ],
        "bases": list(c.bases),
        "dependencies": [{"field": d.field, "namespace": d.namespace} for d in c.dependencies],
        "migrations": [dict(m) for m in c.migrations],
    }


def _class_from(d: Mapping[str, Any]) -> ManifestClass:
    return ManifestClass(
        namespace=str(d["namespace"]),
        module=str(d["module"]),
        qualname=str(d["qualname"]),
        doc=str(d.get("doc") or ""),
        fields=tuple(
            ManifestField(
                name=str(f["name"]),
                type=str(f["type"]),
                default=f.get("default"),
                has_default=bool(f.get("has_default", False)),
            )
            for f in _list(d, "fields")
        ),
        bases=tuple(str(b) for b in _list(d, "bases")),
        dependencies=tuple(
            ManifestDependency(field=str(x["field"]), namespace=str(x["namespace"]))
            for x in _list(d, "dependencies")
        ),
        migrations=tuple(dict(m) for m in _list(d, "migrations")),
    )


def _list_json(x: ManifestList) -> dict[str, Any]:
    return {
        "name": x.name,
        "experiments": [
            {
                "name": e.name,
                "namespace": e.namespace,
                "hash": e.hash,
                "status": e.status,
                "config": e.config,
                "python": e.python,
            }
            for e in x.experiments
        ],
    }


def _list_from(d: Mapping[str, Any]) -> ManifestList:
    return ManifestList(
        name=str(d["name"]),
        experiments=tuple(
            ManifestExperiment(
                name=str(e["name"]),
                namespace=str(e["namespace"]),
                hash=str(e["hash"]),
                config=dict(e.get("config") or {}),
                python=str(e.get("python") or ""),
                status=str(e.get("status") or "absent"),
            )
            for e in _list(d, "experiments")
        ),
    )
