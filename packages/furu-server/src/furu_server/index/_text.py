"""Text from the store as SQLite and JSON can hold it: lone surrogates escaped, visibly.

A Python string may hold lone surrogates: `os.listdir` returns one per byte of a file name
that is not UTF-8 (`"data/\\udcff.bin"`), and a JSON file may spell one as an escape. Neither
SQLite nor a JSON response can encode them (`UnicodeEncodeError`), so every record is made
encodable when it is read (`encodable`): each such character becomes its visible escape, a
backslash, `u` and four hex digits (`backslashreplace`), and the record's `problems` say where.
The index stores that form, and a filter matches it. `sql_value` is the last step before
SQLite: it also stores an int beyond SQLite's 64 bits as unknown (NULL).
"""

from __future__ import annotations

from typing import Any


def needs_escape(value: str) -> bool:
    """Whether `value` holds characters UTF-8 cannot encode (lone surrogates)."""
    if value.isascii():
        return False
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def escape_text(value: str) -> str:
    """`value` with every lone surrogate written as its escape (`\\udcff`)."""
    return value.encode("utf-8", "backslashreplace").decode("utf-8")


MAX_DEPTH = 128
"""Levels `encodable` descends; deeper values are left as they are (every response and the
index cut nesting well above this, so nothing deeper is shown or stored)."""


def encodable(value: Any, path: str = "", found: list[str] | None = None, depth: int = 0) -> Any:
    """`value` (JSON-like: dicts, lists, tuples, text) with every string made encodable.

    Returns `value` itself when nothing had to change. The path of each escaped string
    (`config.name`, `meta.argv[2]`) is appended to `found`.
    """
    if depth > MAX_DEPTH:
        return value
    if isinstance(value, str):
        if not needs_escape(value):
            return value
        if found is not None:
            found.append(escape_text(path) or "(text)")
        return escape_text(value)
    if isinstance(value, dict):
        items = [
            (
                encodable(k, f"{path}(key)", found, depth + 1),
                encodable(v, _join(path, k), found, depth + 1),
            )
            for k, v in value.items()
        ]
        if all(k is k0 and v is v0 for (k, v), (k0, v0) in zip(items, value.items(), strict=True)):
            return value
        return dict(items)
    if isinstance(value, list | tuple):
        converted = [encodable(v, f"{path}[{i}]", found, depth + 1) for i, v in enumerate(value)]
        if all(a is b for a, b in zip(converted, value, strict=True)):
            return value
        return type(value)(converted)
    return value


def _join(path: str, key: Any) -> str:
    return f"{path}.{key}" if path else str(key)


def sql_value(value: Any) -> Any:
    """`value` as SQLite can store it: text made encodable, an int beyond SQLite's 64 bits
    None (unknown: no column holds such a number honestly); tuples and lists item by item."""
    if isinstance(value, str):
        return escape_text(value) if not value.isascii() and needs_escape(value) else value
    if isinstance(value, int) and not isinstance(value, bool) and not -(2**63) <= value < 2**63:
        return None
    if isinstance(value, tuple | list):
        return type(value)(sql_value(v) for v in value)
    return value
