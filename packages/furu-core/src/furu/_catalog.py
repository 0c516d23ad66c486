"""The catalog: one JSON line per stored result of a class, for finding configs without code.

```
<root>/catalog/<namespace>.jsonl
{"v": 1, "kind": "data", "hash": "3f9a...", "fields": {"lr": 0.1, "model": {"__step__":
 "pkg.steps.TrainModel/a1b2..."}}, "types": {"lr": "float", ...}, "deps": [["model",
 "pkg.steps.TrainModel", "a1b2..."]], "at": "2026-12-05T13:08:27.742+00:00"}
```

A line is appended when a result is published (one `write` of the whole line, `O_APPEND`), so
explaining a cache miss reads one file per class instead of every `metadata.json`. The catalog
is a cache, never the truth (ADR 0005 §1): a reader lists the class directory, keeps only lines
whose directory holds a result, skips lines it cannot parse (a torn append), and heals what is
missing by reading the directory's `metadata.json` and appending its line.

`fields` are the step's own fields in the tagged JSON of `metadata.json` (`furu.untag` reads
them), except that a nested step is the reference `{"__step__": "<namespace>/<hash>"}`.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from furu._errors import FuruStoreError
from furu._logging import get_logger
from furu._store import (
    FURU_DIR,
    METADATA_FILE,
    METADATA_MAX_BYTES,
    METADATA_WHAT,
    SUCCESS_FILE,
    open_append,
    read_json,
    read_regular_file,
    write_all,
)
from furu._tagged import CLASS_KEY

if TYPE_CHECKING:
    from furu._workspace import Store

CATALOG_DIR = "catalog"
CATALOG_VERSION = 1
STEP_KEY = "__step__"
_MAX_BYTES = 4 * 1024**3
_log = get_logger()


@dataclass(frozen=True)
class CatalogEntry:
    """One stored result of a class, as its catalog line records it.

    Attributes:
        hash: the config hash (the directory's name).
        kind: `data` or `vc` (a `version_controlled=True` step).
        fields: the step's own fields in tagged JSON; a nested step is
            `{"__step__": "<namespace>/<hash>"}`.
        types: each field's declared type, as text (`float`, `pkg.mod:Dataset`).
        deps: `(field, namespace, hash)` of every step it depends on.
        at: when the result was created (ISO 8601).
    """

    hash: str
    kind: str
    fields: dict[str, Any]
    types: dict[str, str]
    deps: tuple[tuple[str, str, str], ...]
    at: str

    def to_json(self) -> dict[str, Any]:
        return {
            "v": CATALOG_VERSION,
            "kind": self.kind,
            "hash": self.hash,
            "fields": self.fields,
            "types": self.types,
            "deps": [list(d) for d in self.deps],
            "at": self.at,
        }

    @classmethod
    def from_json(cls, data: Any) -> CatalogEntry | None:
        """The entry a parsed line holds; None when it is not one (damaged, or a newer `v`)."""
        if not isinstance(data, dict) or data.get("v") != CATALOG_VERSION:
            return None
        digest, fields, types = data.get("hash"), data.get("fields"), data.get("types")
        deps = data.get("deps")
        if not (isinstance(digest, str) and isinstance(fields, dict) and isinstance(deps, list)):
            return None
        try:
            dep_tuples = tuple((str(f), str(n), str(h)) for f, n, h in deps)
        except (TypeError, ValueError):
            return None
        return cls(
            hash=digest,
            kind=str(data.get("kind", "data")),
            fields=fields,
            types=types if isinstance(types, dict) else {},
            deps=dep_tuples,
            at=str(data.get("at", "")),
        )


def step_ref(namespace: str, digest: str) -> dict[str, str]:
    return {STEP_KEY: f"{namespace}/{digest}"}


def step_of(value: Any) -> tuple[str, str] | None:
    """`(namespace, hash)` when `value` is a `{"__step__": ...}` reference, else None."""
    if isinstance(value, dict) and len(value) == 1 and STEP_KEY in value:
        namespace, _, digest = str(value[STEP_KEY]).rpartition("/")
        return namespace, digest
    return None


# ---------------------------------------------------------------- from a record


def fields_of(config: dict[str, Any], deps: Iterable[tuple[str, str, str]]) -> dict[str, Any]:
    """A recorded config's own fields, each nested step replaced by its reference.

    `deps` are `(field path, namespace, hash)` with the paths `furu._dependencies` gives
    (`model`, `parts[0]`, `cfg.model`, `by_name['a']`).
    """
    where = {path: step_ref(ns, digest) for path, ns, digest in deps}
    return {
        name: _replace(value, name, where) for name, value in config.items() if name != CLASS_KEY
    }


def _replace(value: Any, path: str, where: dict[str, dict[str, str]]) -> Any:
    found = where.get(path)
    if found is not None:
        return found
    if isinstance(value, dict):
        if CLASS_KEY in value:
            return {
                k: v if k == CLASS_KEY else _replace(v, f"{path}.{k}", where)
                for k, v in value.items()
            }
        if len(value) == 1 and "__tuple__" in value and isinstance(value["__tuple__"], list):
            items = value["__tuple__"]
            return {"__tuple__": [_replace(v, f"{path}[{i}]", where) for i, v in enumerate(items)]}
        if not any(k[:2] == "__" == k[-2:] for k in value):
            return {k: _replace(v, f"{path}[{k!r}]", where) for k, v in value.items()}
        return value
    if isinstance(value, list):
        return [_replace(v, f"{path}[{i}]", where) for i, v in enumerate(value)]
    return value


def entry_from_record(record: dict[str, Any], *, kind: str, at: str) -> CatalogEntry | None:
    """The catalog entry of a `metadata.json` (or `Furu._furu_record()`); None if unusable."""
    config, digest = record.get("furu_obj"), record.get("furu_hash")
    if not isinstance(config, dict) or not isinstance(digest, str):
        return None
    deps = tuple(
        (str(d.get("field")), str(d.get("namespace")), str(d.get("hash")))
        for d in record.get("dependencies") or ()
        if isinstance(d, dict)
    )
    types = {
        str(f.get("name")): str(f.get("type"))
        for f in record.get("config_schema") or ()
        if isinstance(f, dict)
    }
    return CatalogEntry(digest, kind, fields_of(config, deps), types, deps, at)


# ---------------------------------------------------------------- writing


def catalog_path(root: Path, namespace: str) -> Path:
    return root / CATALOG_DIR / f"{namespace}.jsonl"


def append(root: Path, namespace: str, entries: Iterable[CatalogEntry]) -> None:
    """Append the lines of `entries`, each with one `write` (errors are logged, not raised).

    The catalog is a cache: a line that could not be written is healed by the next reader.
    """
    lines = [
        json.dumps(e.to_json(), separators=(",", ":"), default=str).encode() + b"\n"
        for e in entries
    ]
    if not lines:
        return
    path = catalog_path(root, namespace)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = open_append(path, what="catalog of stored results")
        try:
            for line in lines:
                write_all(fd, line)
        finally:
            os.close(fd)
    except (OSError, FuruStoreError) as exc:
        _log.warning("could not append to the catalog %s: %s (readers heal it)", path, exc)


def record_published(root: Path, record: dict[str, Any], *, kind: str, at: str) -> None:
    """Append the line of a result just published (its `metadata.json` record)."""
    entry = entry_from_record(record, kind=kind, at=at)
    namespace = record.get("furu_namespace")
    if entry is not None and isinstance(namespace, str):
        append(root, namespace, [entry])


# ---------------------------------------------------------------- reading


def parse(data: bytes) -> dict[tuple[str, str], CatalogEntry]:
    """The entries of a catalog file by `(kind, hash)`; the last line wins, torn lines skipped.

    The lines are parsed as one JSON array (one call, the common case), else one by one.
    """
    lines = [line for line in data.splitlines() if line.strip()]
    try:
        parsed: list[Any] = json.loads(b"[" + b",".join(lines) + b"]")
    except (ValueError, UnicodeDecodeError, RecursionError):
        parsed = [_loads(line) for line in lines]
    found: dict[tuple[str, str], CatalogEntry] = {}
    for item in parsed:
        entry = CatalogEntry.from_json(item)
        if entry is not None:
            found[(entry.kind, entry.hash)] = entry
    return found


def _loads(line: bytes) -> Any:
    try:
        return json.loads(line)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return None


def read(store: Store, namespace: str, *, heal: bool = True) -> list[CatalogEntry]:
    """Every stored result of `namespace`, oldest first (see the module docstring).

    Lines whose directory has no result are left out; a result without a line is read from its
    `metadata.json` and (with `heal`) its line appended.

    Raises:
        FuruStoreError: the catalog file is not a regular file (a symlink, a FIFO).
    """
    path = catalog_path(store.root, namespace)
    raw = read_regular_file(path, what="catalog of stored results", max_bytes=_MAX_BYTES)
    recorded = parse(raw) if raw else {}
    entries: list[CatalogEntry] = []
    missing: list[CatalogEntry] = []
    for kind, class_dir in class_dirs(store, namespace):
        for digest in _with_result(class_dir):
            entry = recorded.get((kind, digest))
            if entry is None:
                entry = _from_directory(class_dir / digest, kind)
                if entry is None:
                    continue
                missing.append(entry)
            entries.append(entry)
    if heal and missing:
        append(store.root, namespace, missing)
    entries.sort(key=lambda e: e.at)
    return entries


def class_dirs(store: Store, namespace: str) -> Iterator[tuple[str, Path]]:
    """`(kind, directory)` of the class `namespace` under each root of `store` that has it.

    A nested class (`Outer.Inner`) is one directory named with its dot, so the split between
    module path and qualified name is tried from the right.
    """
    parts = namespace.split(".")
    for kind, root in store._roots():
        for cut in range(len(parts) - 1, 0, -1):
            candidate = root.joinpath(*parts[:cut], ".".join(parts[cut:]))
            if candidate.is_dir():
                yield kind, candidate
                break


def _with_result(class_dir: Path) -> list[str]:
    try:
        names = [e.name for e in os.scandir(class_dir) if e.name[0] != "."]
    except (FileNotFoundError, NotADirectoryError, PermissionError):
        return []
    base = str(class_dir)
    return [n for n in names if os.path.exists(f"{base}/{n}/{FURU_DIR}/{SUCCESS_FILE}")]


def _from_directory(directory: Path, kind: str) -> CatalogEntry | None:
    meta = directory / FURU_DIR
    try:
        record = read_json(meta / METADATA_FILE, what=METADATA_WHAT, max_bytes=METADATA_MAX_BYTES)
        marker = read_json(meta / SUCCESS_FILE, what="result marker")
    except FuruStoreError as exc:
        _log.warning("catalog: leaving out %s: %s", directory, exc)
        return None
    if record is None:
        return None
    at = str((marker or {}).get("created_at") or record.get("timestamp") or "")
    entry = entry_from_record(record, kind=kind, at=at)
    if entry is not None and entry.hash != directory.name:
        return None  # a copied or renamed directory: its record names another config
    return entry
