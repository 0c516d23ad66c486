"""Python that recreates or reruns an experiment, written from its recorded config (as text).

The server never imports user code, so the snippet is rendered from `metadata.json`'s
`furu_obj` (what `to_dict` wrote) by `furu.render_config`: each `{"__class__": "pkg.mod:Class",
...}` becomes `Class(...)` plus `from pkg.mod import Class`, and tagged values (`__tuple__`,
`__path__`, `__enum__`, ...) become the Python that rebuilds them. Overrides (`lr=0.01`,
`dataset.name="big"`) are applied to that dict first, so the snippet makes a new experiment.
"""

from __future__ import annotations

import copy
import json
from typing import Any

import furu
from furu_server._errors import ErrorCode, ServerError
from furu_server._models import Snippet


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
    changed = apply_overrides(config, overrides) if overrides else config
    try:
        rendered = furu.render_config(changed)
    except furu.FuruConfigError as exc:  # a class or field name that is not a Python name
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
