"""Python that recreates or reruns an experiment, written from its recorded config (as text).

The server never imports user code, so the snippet is rendered from `metadata.json`'s
`furu_obj` (what `to_dict` wrote): each `{"__class__": "pkg.mod.Class", ...}` becomes
`Class(...)` plus `from pkg.mod import Class`, and tagged values (`__tuple__`, `__path__`,
`__enum__`, ...) become the Python that rebuilds them. Overrides (`lr=0.01`,
`dataset.name="big"`) are applied to that dict first, so the snippet makes a new experiment.
"""

from __future__ import annotations

import copy
import json
from typing import Any

from furu_server._errors import ErrorCode, ServerError
from furu_server._models import Snippet


def split_qualified(name: str) -> tuple[str, str]:
    """`pkg.mod.Outer.Inner` -> (`pkg.mod`, `Outer.Inner`): the class starts at a capital."""
    parts = name.split(".")
    for i, part in enumerate(parts[1:], start=1):
        if part[:1].isupper():
            return ".".join(parts[:i]), ".".join(parts[i:])
    return ".".join(parts[:-1]), parts[-1]


WIDTH = 88


def _layout(opener: str, items: list[str], closer: str, indent: int, trailing: str = "") -> str:
    """`opener items closer` on one line when it fits, else one item per line."""
    one = opener + ", ".join(items) + trailing + closer
    if "\n" not in one and indent + len(one) <= WIDTH:
        return one
    pad = " " * (indent + 4)
    return opener + "\n" + "".join(f"{pad}{item},\n" for item in items) + " " * indent + closer


class _Renderer:
    def __init__(self) -> None:
        self.from_imports: dict[str, set[str]] = {}
        self.modules: set[str] = set()
        self.exact = True

    def imports(self) -> list[str]:
        lines = [f"import {m}" for m in sorted(self.modules)]
        lines += [
            f"from {module} import {', '.join(sorted(names))}"
            for module, names in sorted(self.from_imports.items())
        ]
        return lines

    def name(self, qualified: str) -> str:
        module, qualname = split_qualified(qualified)
        self.from_imports.setdefault(module, set()).add(qualname.split(".")[0])
        return qualname

    def render(self, value: Any, indent: int = 0) -> str:
        """Python for `value`; continuation lines are indented for a value at `indent`."""
        inner = indent + 4
        if isinstance(value, dict):
            if "__class__" in value:
                cls = self.name(str(value["__class__"]))
                args = [
                    f"{k}={self.render(v, inner)}" for k, v in value.items() if k != "__class__"
                ]
                return _layout(f"{cls}(", args, ")", indent)
            tag = next(iter(value), None)
            if len(value) in (1, 2) and tag is not None and tag.startswith("__"):
                rendered = self.tagged(tag, value, indent)
                if rendered is not None:
                    return rendered
            items = [f"{k!r}: {self.render(v, inner)}" for k, v in value.items()]
            return _layout("{", items, "}", indent)
        if isinstance(value, list):
            return _layout("[", [self.render(v, inner) for v in value], "]", indent)
        return repr(value)

    def tagged(self, tag: str, value: dict[str, Any], indent: int) -> str | None:
        inner, sub = value[tag], indent + 4
        if tag == "__tuple__":
            items = [self.render(v, sub) for v in inner]
            return _layout("(", items, ")", indent, "," if len(items) == 1 else "")
        if tag in ("__set__", "__frozenset__"):
            body = (
                _layout("{", [self.render(v, sub) for v in inner], "}", indent)
                if inner
                else "set()"
            )
            return f"frozenset({body})" if tag == "__frozenset__" else body
        if tag == "__dict__":
            items = [f"{self.render(k, sub)}: {self.render(v, sub)}" for k, v in inner]
            return _layout("{", items, "}", indent)
        if tag == "__float__":
            return f"float({str(inner)!r})"
        if tag == "__enum__":
            return f"{self.name(str(inner))}.{value.get('name')}"
        if tag == "__path__":
            self.from_imports.setdefault("pathlib", set()).add("Path")
            return f"Path({inner!r})"
        if tag in ("__datetime__", "__date__", "__time__"):
            self.modules.add("datetime")
            return f"datetime.{tag.strip('_')}.fromisoformat({inner!r})"
        if tag == "__timedelta__":
            self.modules.add("datetime")
            return f"datetime.timedelta(seconds={inner!r})"
        if tag == "__bytes__":
            self.modules.add("base64")
            return f"base64.b64decode({inner!r})"
        if tag == "__type__" and len(value) == 1:
            return self.name(str(inner))
        if tag == "__ndarray__":
            self.modules.add("numpy")
            shape = tuple(inner["shape"])
            return f"numpy.array({inner['data']!r}, dtype={inner['dtype']!r}).reshape({shape!r})"
        if tag.endswith("_summary__") or tag in ("__repr__", "__type__"):
            self.exact = False
            return "None"  # the header comment asks to fill these in
        return None


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
    renderer = _Renderer()
    expr = renderer.render(changed)
    imports = renderer.imports()
    head = "\n".join(imports)
    code = f"{head}\n\nstep = {expr}\nresult = step.load_or_create()\n"
    rerun = (
        f"import furu\n{head}\n\n"
        f"# Recompute even though a result is cached (once in this process).\n"
        f"furu.FURU_CONFIG.force_recompute = frozenset({{{namespace!r}}})\n"
        f"step = {expr}\nresult = step.load_or_create()\n"
    )
    if not renderer.exact:
        note = "# Some values were recorded only as summaries (written as None): fill them in.\n"
        code, rerun = note + code, note + rerun
    return Snippet(
        code=code, rerun_code=rerun, imports=imports, overrides=overrides, changed=bool(overrides)
    )
