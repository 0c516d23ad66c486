"""furu's tagged JSON: the one place that knows how a recorded config reads without its code.

`to_dict` writes a config as JSON. JSON lacks tuples, sets, paths, enums, dates and non-string
keys, so such values carry a one-key tag (`{"__tuple__": [...]}`, `{"__path__": "/data"}`), and a
step names its class in `__class__`. Everything that reads a recorded config without importing
the user's code goes through this module: the server's index (its leaves, `config_leaves`), the
snippets that rebuild an experiment (`render_config`), the dashboard (through the golden cases in
`tests/tagged_json_golden.json`, which its own tests read too).

Classes are written as `module:Qualname` (`ClassRef`), so a reader knows where the module ends.
Stores written before that used `module.Qualname`; `ClassRef.parse` still reads them, guessing
the split at the first capitalised part (the only guess left, and only for old records).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from furu._errors import FuruConfigError

CLASS_KEY = "__class__"

LIST_TAGS = ("__tuple__", "__set__", "__frozenset__")
"""Tags holding a JSON list: they read as that list."""
TEXT_TAGS = (
    "__path__",
    "__datetime__",
    "__date__",
    "__time__",
    "__type__",
    "__bytes__",
    "__int__",
)
"""Tags holding a string: they read as that string (a type as its class reference, an integer
too large for decimal JSON as its hex text)."""
NUMBER_TAGS = ("__float__", "__timedelta__")
"""`{"__float__": "inf"}` (inf, -inf, nan) and `{"__timedelta__": seconds}` read as numbers."""
SUMMARY_TAGS = ("__ndarray__", "__ndarray_summary__", "__bytes_summary__")
"""Large values recorded as a description, not the value: they read as their JSON text."""


_MAX_NAME = 1000


def is_dotted_name(text: str) -> bool:
    """Whether `text` is Python identifiers joined by dots (`pkg.mod`, `Outer.Inner`)."""
    return bool(text) and all(part.isidentifier() for part in text.split("."))


@dataclass(frozen=True)
class ClassRef:
    """A class as a record names it: its module and its qualified name, kept apart.

    Attributes:
        module: `pkg.mod`.
        qualname: `Outer.Inner` (dots only for nested classes).
    """

    module: str
    qualname: str

    @classmethod
    def of(cls, obj_type: type) -> ClassRef:
        return cls(obj_type.__module__, obj_type.__qualname__)

    @classmethod
    def parse(cls, text: str) -> ClassRef:
        """Read `module:Qualname`, or the `module.Qualname` that older records hold."""
        module, colon, qualname = text.partition(":")
        if colon:
            return cls(module, qualname)
        parts = text.split(".")
        for i, part in enumerate(parts[1:], start=1):
            if part[:1].isupper():
                return cls(".".join(parts[:i]), ".".join(parts[i:]))
        return cls(".".join(parts[:-1]), parts[-1])

    @classmethod
    def checked(cls, text: Any, *, where: str = "a record") -> ClassRef:
        """`parse`, refusing anything but dotted Python identifiers (`pkg.mod:Outer.Inner`).

        A record is a file anyone may have edited: a name is checked before it is imported or
        written into code.

        Raises:
            FuruConfigError: `text` is not a string of the form `module:Qualname`.
        """
        if isinstance(text, str) and len(text) <= _MAX_NAME:
            ref = cls.parse(text)
            if is_dotted_name(ref.module) and is_dotted_name(ref.qualname):
                return ref
        raise FuruConfigError(
            f"{where} names the class {text!r}, which is not a Python name of the form "
            "module:Qualname (dotted identifiers). The record was edited or damaged; fix the "
            "name, or rebuild the config in Python."
        )

    def __str__(self) -> str:
        return f"{self.module}:{self.qualname}"

    @property
    def namespace(self) -> str:
        """`module.Qualname`: how furu names a step's class in paths, listings and filters."""
        return f"{self.module}.{self.qualname}"

    @property
    def name(self) -> str:
        """The class's own name (`Inner` for `Outer.Inner`)."""
        return self.qualname.rsplit(".", 1)[-1]


def int_from_hex(text: Any) -> int:
    """The integer an `{"__int__": "0x..."}` holds.

    Raises:
        FuruConfigError: it is not a hexadecimal integer.
    """
    if isinstance(text, str) and len(text) <= 10_000_000:
        try:
            return int(text, 16)
        except ValueError:
            pass
    shown = text[:40] if isinstance(text, str) else text
    raise FuruConfigError(
        f"the recorded config holds {{'__int__': {shown!r}}}, which is not a hexadecimal "
        "integer (to_dict writes integers of more than 640 digits as e.g. '0x1f'). Fix the "
        "record, or build the config in Python."
    )


def tag_of(value: Any) -> str | None:
    """The tag of a tagged value (`__tuple__`, `__enum__`, ...); None for plain JSON or a step."""
    if not isinstance(value, dict) or not value or CLASS_KEY in value:
        return None
    tag = next(iter(value))
    if not (isinstance(tag, str) and tag[:2] == "__" == tag[-2:]):
        return None
    if tag in ("__enum__", "__repr__") or len(value) == 1:
        return tag
    return None


def untag(value: Any) -> Any:
    """A tagged value as the plain JSON value it stands for (anything else unchanged).

    A tuple or set reads as its list, a path, date or type as its text, an enum as its member
    name, `{"__float__": "inf"}` as `inf`, a timedelta as seconds, `__dict__` pairs as an
    object with JSON-encoded non-string keys, a summary as its JSON text.
    """
    tag = tag_of(value)
    if tag is None:
        return value
    inner = value[tag]
    if tag in LIST_TAGS and isinstance(inner, list):
        return inner
    if tag in TEXT_TAGS:
        return _class_text(inner) if tag == "__type__" else str(inner)
    if tag == "__float__":
        return float(str(inner))
    if tag == "__timedelta__" and isinstance(inner, int | float):
        return float(inner)
    if tag == "__enum__":
        return str(value.get("name"))
    if tag == "__repr__":
        return str(inner)
    if tag == "__dict__" and isinstance(inner, list):
        return {_key_text(p[0]): p[1] for p in inner if isinstance(p, list) and len(p) == 2}
    if tag in SUMMARY_TAGS:
        return json.dumps(inner, sort_keys=True)
    return value


def _class_text(text: Any) -> str:
    return ClassRef.parse(str(text)).namespace


def _key_text(key: Any) -> str:
    return key if isinstance(key, str) else json.dumps(key, sort_keys=True)


def _join(prefix: str, key: str) -> str:
    return f"{prefix}.{key}" if prefix else key


def config_leaves(config: Any, prefix: str = "") -> Iterator[tuple[str, Any]]:
    """`(path, plain value)` for every leaf of a recorded config, in order.

    Paths join keys with `.` and list items by index (`layers.0`); these are the paths of the
    filter language. A nested step contributes its `__class__` as a leaf, read as its namespace
    (`pkg.mod.Class`) whichever form the record holds. Empty lists and objects are leaves too.
    """
    if isinstance(config, dict) and CLASS_KEY in config:
        for key, item in config.items():
            path = _join(prefix, key)
            if key == CLASS_KEY:
                yield path, _class_text(item)
            else:
                yield from config_leaves(item, path)
        return
    value = untag(config)
    if isinstance(value, dict) and value:
        for key, item in value.items():
            yield from config_leaves(item, _join(prefix, key))
    elif isinstance(value, list) and value:
        for i, item in enumerate(value):
            yield from config_leaves(item, _join(prefix, str(i)))
    else:
        yield prefix, value


# ---------------------------------------------------------------- Python from a record

WIDTH = 88


def _layout(opener: str, items: list[str], closer: str, indent: int, trailing: str = "") -> str:
    """`opener items closer` on one line when it fits, else one item per line."""
    one = opener + ", ".join(items) + trailing + closer
    if "\n" not in one and indent + len(one) <= WIDTH:
        return one
    pad = " " * (indent + 4)
    return opener + "\n" + "".join(f"{pad}{item},\n" for item in items) + " " * indent + closer


@dataclass(frozen=True)
class RenderedConfig:
    """Python that rebuilds a recorded config.

    Attributes:
        expression: the constructor call, e.g. `TrainModel(lr=0.1, data=Dataset(n=3))`.
        imports: the lines it needs (`import datetime`, `from pkg.mod import TrainModel`).
        exact: False when some values were recorded only as summaries (written as `None`).
    """

    expression: str
    imports: tuple[str, ...]
    exact: bool


def render_config(config: Any) -> RenderedConfig:
    """The Python that rebuilds a recorded config, without importing its classes."""
    renderer = _Renderer()
    expression = renderer.render(config)
    return RenderedConfig(expression, tuple(renderer.imports()), renderer.exact)


def _field_name(key: str, cls: str) -> str:
    if not key.isidentifier():
        raise FuruConfigError(
            f"the recorded config of {cls} has a field {key!r}, which is not a Python "
            "identifier. The record was edited or damaged; fix the field name, or rebuild the "
            "config in Python."
        )
    return key


def _member_name(name: Any, cls: Any) -> str:
    if not (isinstance(name, str) and name.isidentifier()):
        raise FuruConfigError(
            f"the recorded config names the enum member {name!r} of {cls!r}, which is not a "
            "Python identifier. The record was edited or damaged; fix it, or rebuild the config "
            "in Python."
        )
    return name


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

    def name(self, text: Any) -> str:
        ref = ClassRef.checked(text, where="the recorded config")
        self.from_imports.setdefault(ref.module, set()).add(ref.qualname.split(".")[0])
        return ref.qualname

    def render(self, value: Any, indent: int = 0) -> str:
        """Python for `value`; continuation lines are indented for a value at `indent`."""
        inner = indent + 4
        if isinstance(value, dict):
            if CLASS_KEY in value:
                cls = self.name(value[CLASS_KEY])
                args = [
                    f"{_field_name(k, cls)}={self.render(v, inner)}"
                    for k, v in value.items()
                    if k != CLASS_KEY
                ]
                return _layout(f"{cls}(", args, ")", indent)
            tag = tag_of(value)
            if tag is not None:
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
            items = [self.render(v, sub) for v in inner]
            body = _layout("{", items, "}", indent) if inner else "set()"
            return f"frozenset({body})" if tag == "__frozenset__" else body
        if tag == "__dict__":
            items = [f"{self.render(k, sub)}: {self.render(v, sub)}" for k, v in inner]
            return _layout("{", items, "}", indent)
        if tag == "__float__":
            return f"float({str(inner)!r})"
        if tag == "__int__":
            return hex(int_from_hex(inner))
        if tag == "__enum__":
            return f"{self.name(inner)}.{_member_name(value.get('name'), inner)}"
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
            return self.name(inner)
        if tag == "__ndarray__":
            self.modules.add("numpy")
            shape = tuple(inner["shape"])
            return f"numpy.array({inner['data']!r}, dtype={inner['dtype']!r}).reshape({shape!r})"
        if tag in SUMMARY_TAGS or tag in ("__repr__", "__type__"):
            self.exact = False
            return "None"
        return None
