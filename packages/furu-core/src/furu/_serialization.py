"""Turning configs into JSON-safe dicts, back again, and into the Python that rebuilds them.

A chz object becomes `{"__class__": "module:Qualname", <field>: <value>, ...}`. JSON has no
tuples, sets, paths, enums, dates or non-string keys, so those carry a one-key tag
(`{"__tuple__": [...]}`) and round-trip exactly. The vocabulary, and how a record reads without
its code, is `furu._tagged`'s; this module turns live objects into it and back. Large arrays and buffers are summarised
(dtype, shape, size) rather than written out: the dict is for humans, the dashboard and the
index; the hash has already digested the real bytes.
"""

from __future__ import annotations

import base64
import datetime as dt
import enum
import importlib
import pathlib
from collections.abc import Callable
from typing import Any

import chz

from furu._errors import FuruConfigError
from furu._tagged import CLASS_KEY, ClassRef, int_from_hex

_LARGE = 10_000
BIG_INT = 10**640
"""Integers this large or larger are written as `{"__int__": "0x..."}`: Python converts ints of
more than 640 to 4300 digits (`sys.get_int_max_str_digits()`) to and from decimal text only on
request, so JSON could neither write nor read them back. Hex has no such limit."""


def qualified_name(cls: type) -> str:
    """`module.Qualname`: a class's namespace."""
    return f"{cls.__module__}.{cls.__qualname__}"


def class_ref(cls: type) -> str:
    """`module:Qualname`: how a record names a class (the module's end is explicit)."""
    return str(ClassRef.of(cls))


def import_qualified(name: str) -> Any:
    """The object named `module:Qualname` (or, in older records, `module.Qualname`).

    Raises:
        FuruConfigError: the name is not dotted Python identifiers (checked before anything
            is imported), or nothing importable defines it.
    """
    ClassRef.checked(name, where="the config")
    module, colon, qualname = name.partition(":")
    if colon:
        try:
            target: Any = importlib.import_module(module)
            for attr in qualname.split("."):
                target = getattr(target, attr)
            return target
        except (ImportError, AttributeError):
            raise FuruConfigError(
                f"cannot import {name!r}: module {module!r} does not define {qualname!r}. Make "
                "sure the package that defines it is installed in this environment (and the "
                "class was not renamed or moved)."
            ) from None
    parts = name.split(".")
    for cut in range(len(parts) - 1, 0, -1):
        try:
            target = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        try:
            for attr in parts[cut:]:
                target = getattr(target, attr)
        except AttributeError:
            break
        return target
    raise FuruConfigError(
        f"cannot import {name!r}: no importable module defines it. Make sure the package that "
        "defines it is installed in this environment (and the name was not renamed)."
    )


# ---------------------------------------------------------------- to_dict


def to_dict(obj: Any) -> Any:
    """A JSON-safe rendering of `obj` (a chz object or any config value)."""
    if chz.is_chz(obj) and not isinstance(obj, type):
        out: dict[str, Any] = {CLASS_KEY: class_ref(type(obj))}
        for name in obj.__chz_fields__:
            out[name] = to_dict(getattr(obj, name))
        return out
    if isinstance(obj, int) and not isinstance(obj, bool) and not -BIG_INT < obj < BIG_INT:
        return {"__int__": hex(obj)}
    if obj is None or isinstance(obj, bool | int | str):
        return obj
    if isinstance(obj, float):
        return (
            obj
            if obj == obj and obj not in (float("inf"), float("-inf"))
            else {"__float__": repr(obj)}
        )
    encoder = _encoder_for(obj)
    return encoder(obj)


def _encode_dict(obj: dict[Any, Any]) -> Any:
    # A `__name__` key would be read back as a tag (`__class__`, `__tuple__`, ...): use pairs.
    if all(type(k) is str and not (k[:2] == "__" == k[-2:]) for k in obj):
        return {k: to_dict(v) for k, v in obj.items()}
    return {"__dict__": [[to_dict(k), to_dict(v)] for k, v in obj.items()]}


def _encode_set(obj: set[Any] | frozenset[Any]) -> Any:
    items = sorted((to_dict(v) for v in obj), key=repr)
    return {"__frozenset__" if isinstance(obj, frozenset) else "__set__": items}


def _encode_bytes(obj: bytes) -> Any:
    if len(obj) > _LARGE:
        return {"__bytes_summary__": {"size": len(obj)}}
    return {"__bytes__": base64.b64encode(obj).decode()}


def _encode_array(obj: Any) -> Any:
    if obj.size > _LARGE:
        return {"__ndarray_summary__": {"dtype": obj.dtype.str, "shape": list(obj.shape)}}
    return {"__ndarray__": {"dtype": obj.dtype.str, "shape": list(obj.shape), "data": obj.tolist()}}


def _encoder_for(obj: Any) -> Callable[[Any], Any]:
    if isinstance(obj, list):
        return lambda o: [to_dict(v) for v in o]
    if isinstance(obj, tuple):
        return lambda o: {"__tuple__": [to_dict(v) for v in o]}
    if isinstance(obj, dict):
        return _encode_dict
    if isinstance(obj, set | frozenset):
        return _encode_set
    if isinstance(obj, enum.Enum):
        return lambda o: {"__enum__": class_ref(type(o)), "name": o.name}
    if isinstance(obj, pathlib.PurePath):
        return lambda o: {"__path__": str(o)}
    if isinstance(obj, dt.datetime | dt.date | dt.time):
        return lambda o: {f"__{type(o).__name__}__": o.isoformat()}
    if isinstance(obj, dt.timedelta):
        return lambda o: {"__timedelta__": o.total_seconds()}
    if isinstance(obj, bytes | bytearray):
        return _encode_bytes
    if isinstance(obj, type):
        return lambda o: {"__type__": class_ref(o)}
    if type(obj).__module__ == "numpy" and hasattr(obj, "dtype"):
        return _encode_array if hasattr(obj, "shape") and obj.shape else lambda o: o.item()
    return lambda o: {"__repr__": repr(o), "__type__": class_ref(type(o))}


# ---------------------------------------------------------------- from_dict


def from_dict(data: Any) -> Any:
    """Rebuild what `to_dict` produced (importing classes by their qualified names)."""
    if isinstance(data, list):
        return [from_dict(v) for v in data]
    if not isinstance(data, dict):
        return data
    if CLASS_KEY in data:
        cls = _config_class(data[CLASS_KEY])
        kwargs = {k: from_dict(v) for k, v in data.items() if k != CLASS_KEY}
        return cls(**kwargs)
    if len(data) >= 1:
        tag = next(iter(data))
        decoder = _DECODERS.get(tag)
        if decoder is not None:
            return decoder(data)
        if tag.endswith("_summary__") or tag == "__repr__":
            raise FuruConfigError(
                f"cannot rebuild a value stored only as a summary ({data!r}); large arrays, "
                "buffers and unknown types are summarised by to_dict. Construct it in Python."
            )
    return {k: from_dict(v) for k, v in data.items()}


def _config_class(name: Any) -> type:
    """The chz class (a furu step, or a plain chz config) a record's `__class__` names.

    Checked before it is called: a record is a file anyone may have edited, and `from_dict`
    constructs nothing but config classes (and the tagged value types).
    """
    cls = import_qualified(name)
    if not (isinstance(cls, type) and chz.is_chz(cls)):
        raise FuruConfigError(_not_allowed(name, cls, "a furu step or chz config class"))
    return cls


def _imported_type(name: Any, base: type, what: str) -> Any:
    found = import_qualified(name)
    if not (isinstance(found, type) and issubclass(found, base)):
        raise FuruConfigError(_not_allowed(name, found, what))
    return found


def _not_allowed(name: Any, found: Any, what: str) -> str:
    kind = f"the class {found.__qualname__}" if isinstance(found, type) else type(found).__name__
    return (
        f"the config names {name!r}, which is {kind}, not {what}; from_dict constructs only "
        "furu steps, chz config classes, enums and the tagged value types. The record was "
        "edited or does not come from to_dict(); fix it, or build the config in Python."
    )


def _decode_enum(data: dict[str, Any]) -> Any:
    cls = _imported_type(data["__enum__"], enum.Enum, "an enum")
    name = data.get("name")
    if not isinstance(name, str) or name not in cls.__members__:
        raise FuruConfigError(
            f"the config names the member {name!r} of the enum {data['__enum__']!r}, which has "
            f"no such member (members: {', '.join(cls.__members__)}). Fix the record, or build "
            "the config in Python."
        )
    return cls[name]


def _decode_array(data: dict[str, Any]) -> Any:
    import numpy as np

    spec = data["__ndarray__"]
    return np.array(spec["data"], dtype=spec["dtype"]).reshape(spec["shape"])


_DECODERS: dict[str, Callable[[dict[str, Any]], Any]] = {
    "__tuple__": lambda d: tuple(from_dict(v) for v in d["__tuple__"]),
    "__set__": lambda d: {from_dict(v) for v in d["__set__"]},
    "__frozenset__": lambda d: frozenset(from_dict(v) for v in d["__frozenset__"]),
    "__dict__": lambda d: {from_dict(k): from_dict(v) for k, v in d["__dict__"]},
    "__float__": lambda d: float(d["__float__"]),
    "__int__": lambda d: int_from_hex(d["__int__"]),
    "__enum__": _decode_enum,
    "__path__": lambda d: pathlib.Path(d["__path__"]),
    "__datetime__": lambda d: dt.datetime.fromisoformat(d["__datetime__"]),
    "__date__": lambda d: dt.date.fromisoformat(d["__date__"]),
    "__time__": lambda d: dt.time.fromisoformat(d["__time__"]),
    "__timedelta__": lambda d: dt.timedelta(seconds=d["__timedelta__"]),
    "__bytes__": lambda d: base64.b64decode(d["__bytes__"]),
    "__type__": lambda d: _imported_type(d["__type__"], object, "a class"),
    "__ndarray__": _decode_array,
}


# ---------------------------------------------------------------- to_python


def to_python(obj: Any) -> str:
    """Python source that rebuilds `obj`, e.g. `TrainModel(lr=0.0003, steps=5000)`."""
    if chz.is_chz(obj) and not isinstance(obj, type):
        args = [f"{name}={to_python(getattr(obj, name))}" for name in obj.__chz_fields__]
        return f"{type(obj).__qualname__}({', '.join(args)})"
    if isinstance(obj, list):
        return "[" + ", ".join(to_python(v) for v in obj) + "]"
    if isinstance(obj, tuple):
        inner = ", ".join(to_python(v) for v in obj)
        return f"({inner},)" if len(obj) == 1 else f"({inner})"
    if isinstance(obj, dict):
        return "{" + ", ".join(f"{to_python(k)}: {to_python(v)}" for k, v in obj.items()) + "}"
    if isinstance(obj, enum.Enum):
        return f"{type(obj).__qualname__}.{obj.name}"
    if isinstance(obj, pathlib.PurePath):
        return f"{type(obj).__name__}({str(obj)!r})"
    if isinstance(obj, type):
        return obj.__qualname__
    if isinstance(obj, float) and obj != obj:
        return 'float("nan")'
    if isinstance(obj, float) and obj in (float("inf"), float("-inf")):
        return f'float("{obj}")'
    if type(obj) is int and not -BIG_INT < obj < BIG_INT:
        return hex(obj)  # a literal Python reads back whatever its int digit limit
    return repr(obj)


def python_imports(obj: Any) -> list[str]:
    """The import lines (`from module import Name`, `import datetime`) `to_python(obj)` needs."""
    seen: dict[str, set[str]] = {}
    modules: set[str] = set()

    def visit(value: Any) -> None:
        if chz.is_chz(value) and not isinstance(value, type):
            cls = type(value)
            seen.setdefault(cls.__module__, set()).add(cls.__qualname__.split(".")[0])
            for name in value.__chz_fields__:
                visit(getattr(value, name))
        elif isinstance(value, list | tuple | set | frozenset):
            for v in value:
                visit(v)
        elif isinstance(value, dict):
            for k, v in value.items():
                visit(k)
                visit(v)
        elif isinstance(value, enum.Enum):
            cls = type(value)
            seen.setdefault(cls.__module__, set()).add(cls.__qualname__.split(".")[0])
        elif isinstance(value, pathlib.PurePath):
            seen.setdefault("pathlib", set()).add(type(value).__name__)
        elif isinstance(value, dt.date | dt.time | dt.timedelta):
            modules.add("datetime")  # their repr is `datetime.datetime(...)`
        elif isinstance(value, type) and value.__module__ != "builtins":
            seen.setdefault(value.__module__, set()).add(value.__qualname__.split(".")[0])

    visit(obj)
    return [f"import {mod}" for mod in sorted(modules)] + [
        f"from {mod} import {', '.join(sorted(names))}" for mod, names in sorted(seen.items())
    ]


class FuruSerializer:
    """The serialization functions as one namespace (`to_dict`, `from_dict`, `to_python`)."""

    to_dict = staticmethod(to_dict)
    from_dict = staticmethod(from_dict)
    to_python = staticmethod(to_python)
    python_imports = staticmethod(python_imports)
