"""Python that recreates or reruns an experiment, written from its recorded config (as text).

The server never imports user code, so the snippet is rendered from `metadata.json`'s
`furu_obj` (what `to_dict` wrote) by `furu.render_config`: each `{"__class__": "pkg.mod:Class",
...}` becomes `Class(...)` plus `from pkg.mod import Class`, and tagged values (`__tuple__`,
`__path__`, `__enum__`, ...) become the Python that rebuilds them. Overrides (`lr=0.01`,
`dataset.name="big"`) are applied to that dict first, so the snippet makes a new experiment.

A recorded config is a file anyone who can write the store may have planted, so every name
that becomes code (a class `module:Qualname`, an enum member, a field name) is checked to be a
dotted Python identifier first (`check_names`), and the outermost class must be the
experiment's own; the same check guards what a rerun hands to its subprocess.
"""

from __future__ import annotations

import copy
import json
import keyword
from typing import Any

import furu
from furu_server._errors import ErrorCode, ServerError
from furu_server._models import Snippet

_CLASS_TAGS = ("__enum__", "__type__")
SNIPPET_CHARS = 8 * 1024 * 1024
"""A config (with overrides) renders to a snippet only up to about 8 MiB of text."""
SNIPPET_DEPTH = 100
"""A config renders to a snippet only when nested at most 100 levels deep."""


def _identifier(text: str) -> bool:
    return text.isidentifier() and not keyword.iskeyword(text)


def _dotted(text: str) -> bool:
    return all(_identifier(part) for part in text.split("."))


def _class_name(value: Any) -> bool:
    """`pkg.mod:Outer.Inner` (or the older `pkg.mod.Class`): dotted identifiers only."""
    if not isinstance(value, str):
        return False
    module, colon, qualname = value.partition(":")
    return _dotted(module) and _dotted(qualname) if colon else "." in value and _dotted(value)


def _refused(where: str, what: str, value: Any, origin: str) -> ServerError:
    shown = repr(value)
    shown = shown if len(shown) <= 200 else shown[:200] + "..."
    return ServerError(
        ErrorCode.BAD_REQUEST if origin == "override" else ErrorCode.FILE_UNREADABLE,
        f"{where} holds {what} {shown}, which is not a Python name (a class is written "
        "module:Qualname, e.g. my_project.steps:Train; fields and enum members are "
        f"identifiers), so it cannot become code. {_ORIGINS[origin]}",
        {"path": where},
    )


_ORIGINS = {
    "record": "The experiment's .furu/metadata.json (furu_obj) is damaged or was edited: "
    "recreate the experiment from your code.",
    "override": "Fix the override.",
}


def check_names(value: Any, where: str, origin: str = "record") -> None:
    """Refuse a config whose class names, enum members or field names are not Python names,
    or that is too large (`SNIPPET_CHARS`) or too deep (`SNIPPET_DEPTH`) to render as code.

    Raises:
        ServerError: `file_unreadable` (422) for a recorded config, `bad_request` (400) for an
            override; `detail.path` names the field.
    """
    stack = [(value, where, 0)]
    size = 0
    while stack:
        item, path, depth = stack.pop()
        size += len(item) if isinstance(item, str) else 8
        if size > SNIPPET_CHARS or depth > SNIPPET_DEPTH:
            raise _too_big(path, origin, deep=depth > SNIPPET_DEPTH)
        if isinstance(item, list):
            stack.extend((v, f"{path}[{i}]", depth + 1) for i, v in enumerate(item))
            continue
        if not isinstance(item, dict):
            continue
        if "__class__" in item:
            if not _class_name(item["__class__"]):
                raise _refused(f"{path}.__class__", "the class", item["__class__"], origin)
            for key in item:
                if key != "__class__" and not (isinstance(key, str) and _identifier(key)):
                    raise _refused(path, "the field name", key, origin)
        tag = next(iter(item), None) if len(item) <= 2 else None
        if tag in _CLASS_TAGS:
            if not _class_name(item[tag]):
                raise _refused(f"{path}.{tag}", "the class", item[tag], origin)
            member = item.get("name")
            if tag == "__enum__" and not (isinstance(member, str) and _identifier(member)):
                raise _refused(f"{path}.name", "the enum member", member, origin)
        size += sum(len(str(k)) for k in item)
        stack.extend((v, f"{path}.{k}", depth + 1) for k, v in item.items() if k != "__class__")


def _too_big(path: str, origin: str, *, deep: bool) -> ServerError:
    what = (
        f"nests deeper than {SNIPPET_DEPTH} levels"
        if deep
        else f"holds more than {SNIPPET_CHARS:,} characters"
    )
    return ServerError(
        ErrorCode.BAD_REQUEST if origin == "override" else ErrorCode.FILE_UNREADABLE,
        f"the config {what} (at {path[:200]}), more than a snippet or a rerun renders; "
        "recreate the experiment from your code.",
        {"path": path[:200]},
    )


def check_config(config: dict[str, Any], namespace: str) -> None:
    """`check_names`, and the outermost class must be the experiment's (`namespace`)."""
    check_names(config, "config")
    recorded = config.get("__class__")
    if recorded is None or furu.ClassRef.parse(str(recorded)).namespace != namespace:
        raise ServerError(
            ErrorCode.FILE_UNREADABLE,
            f"the recorded config's class {recorded!r} is not this experiment's class "
            f"{namespace!r}: its .furu/metadata.json was moved or edited. Recreate the "
            "experiment from your code.",
            {"path": "config.__class__"},
        )


def checked_overrides(config: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
    """`config` with `overrides` applied, every name in both checked (`check_config`)."""
    for path, value in overrides.items():
        check_names(value, f"override {path}", "override")
    return apply_overrides(config, overrides) if overrides else config


def parse_overrides(items: list[str]) -> dict[str, Any]:
    """`["lr=0.01", "dataset.name=big"]` -> `{"lr": 0.01, "dataset.name": "big"}` (JSON values)."""
    out: dict[str, Any] = {}
    for item in items:
        path, found, raw = item.partition("=")
        if not found or not path.strip():
            raise ServerError(
                ErrorCode.BAD_REQUEST,
                f'override {item!r} is not PATH=VALUE, e.g. lr=0.01 or dataset.name="big".',
                {"override": item},
            )
        try:
            out[path.strip()] = json.loads(raw)
        except ValueError:
            out[path.strip()] = raw
        except RecursionError:
            raise ServerError(
                ErrorCode.BAD_REQUEST,
                f"override {path.strip()!r} nests its value too deeply to read as JSON; "
                f"a snippet renders at most {SNIPPET_DEPTH} levels.",
                {"override": path.strip()},
            ) from None
    return out


def apply_overrides(config: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
    """A copy of `config` with each `a.b.0.c` path set; unknown paths are refused."""
    result = copy.deepcopy(config)
    for path, value in overrides.items():
        parts = path.split(".")
        target: Any = result
        for i, part in enumerate(parts):
            last = i == len(parts) - 1
            if isinstance(target, dict) and "__tuple__" in target and len(target) == 1:
                target = target["__tuple__"]
            if isinstance(target, list) and part.isdigit() and int(part) < len(target):
                key: Any = int(part)
            elif isinstance(target, dict) and part in target and part != "__class__":
                key = part
            else:
                fields = (
                    sorted(k for k in target if k != "__class__")
                    if isinstance(target, dict)
                    else []
                )
                raise ServerError(
                    ErrorCode.BAD_REQUEST,
                    f"cannot override {path!r}: there is no {part!r} there (fields: "
                    f"{', '.join(fields) or 'none'}).",
                    {"path": path},
                )
            if last:
                target[key] = value
            else:
                target = target[key]
    return result


def snippet(config: dict[str, Any], namespace: str, overrides: dict[str, Any]) -> Snippet:
    """The Python that recreates the experiment (with `overrides`) and that reruns it."""
    check_config(config, namespace)
    changed = checked_overrides(config, overrides)
    try:
        rendered = furu.render_config(changed)
    except furu.FuruConfigError as exc:  # the core refuses too: a name that is not Python
        raise ServerError(
            ErrorCode.RERUN_UNAVAILABLE,
            f"{namespace}: cannot write Python for this config: {exc}",
            {"namespace": namespace},
        ) from None
    expr, imports = rendered.expression, list(rendered.imports)
    head = "\n".join(imports)
    code = f"{head}\n\nstep = {expr}\nresult = step.load_or_create()\n"
    rerun = (
        f"import furu\n{head}\n\n"
        f"# Recompute even though a result is cached (once in this process).\n"
        f"furu.FURU_CONFIG.force_recompute = frozenset({{{namespace!r}}})\n"
        f"step = {expr}\nresult = step.load_or_create()\n"
    )
    if not rendered.exact:
        note = "# Some values were recorded only as summaries (written as None): fill them in.\n"
        code, rerun = note + code, note + rerun
    return Snippet(
        code=code, rerun_code=rerun, imports=imports, overrides=overrides, changed=bool(overrides)
    )
