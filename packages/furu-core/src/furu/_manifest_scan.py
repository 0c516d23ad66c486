"""Building the code manifest: import the project's modules and describe what they define.

Importing a module is enough: every `furu.Furu` subclass whose module is one of the imported
modules (or a submodule of one) is described, and every module-level `furu.FuruList` with its
named experiments. A module that fails to import is recorded in `errors`; the others still go
in. The modules come from the command line or `[tool.furu] modules = [...]` of the nearest
`pyproject.toml`.
"""

from __future__ import annotations

import dataclasses
import importlib
import inspect
import sys
import tomllib
import typing
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import chz
from chz.util import MISSING

from furu._errors import FuruConfigError, FuruError
from furu._furu import Furu, _type_repr
from furu._furu_list import FuruList
from furu._manifest import (
    Manifest,
    ManifestClass,
    ManifestDependency,
    ManifestExperiment,
    ManifestField,
    ManifestList,
)
from furu._serialization import python_imports, qualified_name, to_dict, to_python
from furu._state import now_iso

PYPROJECT = "pyproject.toml"
_KEY = "[tool.furu] modules"


def project_modules(start: Path) -> tuple[Path, list[str]]:
    """The project directory and `[tool.furu] modules` of the nearest `pyproject.toml` that has
    them, searching from `start` upward.

    Raises:
        FuruConfigError: no `pyproject.toml` up from `start` declares the modules (the message
            names the nearest one and the key to add), or its `modules` is not a list of
            module names.
    """
    nearest: Path | None = None
    for directory in [start, *start.parents]:
        candidate = directory / PYPROJECT
        if not candidate.is_file():
            continue
        nearest = nearest or candidate
        try:
            data = tomllib.loads(candidate.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
            raise FuruConfigError(
                f"cannot read {candidate} ({exc}); fix it, or name the modules on the command "
                "line: `furu manifest pkg.steps pkg.experiments`."
            ) from None
        modules = data.get("tool", {}).get("furu", {}).get("modules")
        if modules is None:
            continue
        if not (isinstance(modules, list) and all(isinstance(m, str) and m for m in modules)):
            raise FuruConfigError(
                f"{candidate}: {_KEY} is {modules!r}; it must be a list of module names, e.g. "
                '`modules = ["pkg.steps", "pkg.experiments"]`.'
            )
        return directory, list(modules)
    where = f"{nearest} has no {_KEY}" if nearest else f"no {PYPROJECT} above {start}"
    raise FuruConfigError(
        f"which modules define the project's steps? {where}. Add `[tool.furu]` with "
        '`modules = ["pkg.steps", "pkg.experiments"]` to the project\'s pyproject.toml, or '
        "name them on the command line: `furu manifest pkg.steps pkg.experiments`."
    )


def build_manifest(
    modules: Sequence[str], *, project: Path | str | None = None, store: Any = None
) -> Manifest:
    """Import `modules` and describe the code they define (nothing is written).

    Args:
        modules: module names, e.g. `["pkg.steps", "pkg.experiments"]`.
        project: the directory the modules are imported from (put first on `sys.path`,
            with its `src/` when it has one); default: the working directory.
        store: the `furu.Store` whose statuses the named experiments report (default: the
            current store).
    """
    from furu._workspace import Store

    root = Path(project).resolve() if project is not None else Path.cwd()
    for directory in (root / "src", root):  # a src layout's packages are under src/
        if directory.is_dir() and str(directory) not in sys.path:
            sys.path.insert(0, str(directory))
    imported, errors = _import_all(modules)
    classes = [_describe(cls) for cls in _classes(imported)]
    lists = list(_lists(imported, store if store is not None else Store.current(), errors))
    return Manifest(
        written_at=now_iso(),
        python=sys.executable,
        project=str(root),
        modules=tuple(modules),
        classes={c.namespace: c for c in sorted(classes, key=lambda c: c.namespace)},
        lists=tuple(lists),
        errors=tuple(errors),
    )


def _import_all(modules: Sequence[str]) -> tuple[list[str], list[dict[str, str]]]:
    imported: list[str] = []
    errors: list[dict[str, str]] = []
    for name in modules:
        try:
            importlib.import_module(name)
        except (Exception, SystemExit) as exc:
            errors.append({"module": name, "error": f"{type(exc).__name__}: {exc}"})
        else:
            imported.append(name)
    return imported, errors


def _covered(module: str, imported: Sequence[str]) -> bool:
    return any(module == m or module.startswith(m + ".") for m in imported)


def _classes(imported: Sequence[str]) -> Iterator[type[Furu[Any]]]:
    seen: set[type] = set()
    stack: list[type] = list(Furu.__subclasses__())
    while stack:
        cls = stack.pop()
        if cls in seen:
            continue
        seen.add(cls)
        stack.extend(cls.__subclasses__())
        if "<locals>" not in cls.__qualname__ and _covered(cls.__module__, imported):
            yield cls


def _describe(cls: type[Furu[Any]]) -> ManifestClass:
    doc = inspect.getdoc(cls) if cls.__doc__ else ""
    return ManifestClass(
        namespace=qualified_name(cls),
        module=cls.__module__,
        qualname=cls.__qualname__,
        doc=(doc or "").strip().splitlines()[0] if doc else "",
        fields=tuple(_field(name, f) for name, f in cls.__chz_fields__.items()),
        bases=tuple(
            qualified_name(b) for b in cls.__mro__[1:] if issubclass(b, Furu) and b is not Furu
        ),
        dependencies=tuple(_dependencies(cls)),
        migrations=tuple(_migration(m) for m in _declared(cls)),
    )


def _field(name: str, f: Any) -> ManifestField:
    default: Any = MISSING
    if f._default is not MISSING:
        default = f._default
    elif f._default_factory is not MISSING:
        try:
            default = f._default_factory()
        except Exception:
            return ManifestField(name, _type_repr(f.final_type), None, True)
    if default is MISSING:
        return ManifestField(name, _type_repr(f.final_type))
    try:
        tagged = to_dict(default)
    except FuruError:
        tagged = {"__repr__": repr(default)}
    return ManifestField(name, _type_repr(f.final_type), tagged, True)


def _furu_types(tp: Any) -> Iterator[type]:
    """The `Furu` classes a type annotation names (through Optional, unions, containers)."""
    if isinstance(tp, type) and issubclass(tp, Furu) and typing.get_origin(tp) is None:
        yield tp
        return
    for arg in typing.get_args(tp):
        if arg is not Ellipsis:
            yield from _furu_types(arg)


def _dependencies(cls: type[Furu[Any]]) -> Iterator[ManifestDependency]:
    seen: set[tuple[str, str]] = set()
    for name, f in cls.__chz_fields__.items():
        for dep in _furu_types(f.final_type):
            key = (name, qualified_name(dep))
            if key not in seen:
                seen.add(key)
                yield ManifestDependency(*key)
    for dep in _hook_dependencies(cls):
        key = ("_dependencies()", qualified_name(dep))
        if key not in seen:
            seen.add(key)
            yield ManifestDependency(*key)


def _hook_dependencies(cls: type[Furu[Any]]) -> list[type]:
    """Classes `_dependencies()` names: called when it needs no instance, else its annotation."""
    raw = inspect.getattr_static(cls, "_dependencies", None)
    if raw is None or raw is inspect.getattr_static(Furu, "_dependencies"):
        return []
    if isinstance(raw, classmethod | staticmethod):
        try:
            values = list(cls._dependencies())  # type: ignore[call-arg]
        except Exception:
            return []
        return [v if isinstance(v, type) else type(v) for v in values if _is_step(v)]
    try:
        hints = typing.get_type_hints(raw)
    except Exception:
        return []
    return list(_furu_types(hints.get("return")))


def _is_step(value: Any) -> bool:
    return isinstance(value, Furu) or (isinstance(value, type) and issubclass(value, Furu))


def _declared(cls: type) -> list[Any]:
    found = getattr(cls, "furu_migrations", ())
    return list(found) if isinstance(found, list | tuple) else []


def _migration(m: Any) -> dict[str, Any]:
    """A declared migration as `{"kind": <its class name>, <attribute>: <tagged JSON>...}`."""
    if chz.is_chz(m):
        attrs = {name: getattr(m, name) for name in m.__chz_fields__}
    elif dataclasses.is_dataclass(m):
        attrs = {f.name: getattr(m, f.name) for f in dataclasses.fields(m)}
    else:
        try:
            attrs = dict(vars(m))
        except TypeError:  # __slots__
            slots = [s for k in type(m).__mro__ for s in getattr(k, "__slots__", ())]
            attrs = {s: getattr(m, s) for s in slots if hasattr(m, s)}
    out: dict[str, Any] = {}
    for key, value in attrs.items():
        if key.startswith("_"):
            continue
        try:
            out[key] = to_dict(value)
        except FuruError:
            out[key] = {"__repr__": repr(value)}
    return {**out, "kind": type(m).__name__}


def _lists(
    imported: Sequence[str], store: Any, errors: list[dict[str, str]]
) -> Iterator[ManifestList]:
    for module_name in sorted(m for m in sys.modules if _covered(m, imported)):
        module = sys.modules.get(module_name)
        for attr, value in sorted(vars(module).items()) if module is not None else ():
            if (
                isinstance(value, type)
                and issubclass(value, FuruList)
                and value is not FuruList
                and value.__module__ == module_name
                and value.__qualname__ == attr
            ):
                name = f"{module_name}:{attr}"
                yield ManifestList(name, tuple(_experiments(name, value, store, errors)))


def _experiments(
    list_name: str, furu_list: type[FuruList[Any]], store: Any, errors: list[dict[str, str]]
) -> Iterator[ManifestExperiment]:
    """The named experiments of `furu_list`; one that has no identity (a class in `__main__`,
    a value that cannot be hashed) goes into `errors` instead."""
    for name, step in furu_list.items():
        try:
            step_dir = store.step_dir_of(step)
            imports = "\n".join(python_imports(step))
            yield ManifestExperiment(
                name=name,
                namespace=step._furu_namespace,
                hash=step._furu_hash,
                config=step.to_dict(),
                python=f"{imports}\n\n{to_python(step)}.load_or_create()".lstrip(),
                status=_status(step_dir),
            )
        except FuruError as exc:
            errors.append({"module": list_name, "error": f"experiment {name!r}: {exc}"})


def _status(step_dir: Any) -> str:
    try:
        if not step_dir.exists():
            return "absent"
        return str(step_dir.read_state().result_status.value)
    except FuruError:
        return "unknown"
