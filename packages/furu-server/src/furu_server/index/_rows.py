"""What the index stores for one experiment: its row, its config's leaves, its dependencies.

`index_rows` turns a `StepRecord` into the rows of every table the indexer writes: the
`experiments` row (`_columns.row_of`), one `config_kv` row per leaf of the config (what makes
`config.lr < 1e-3` an index range), the `deps` and `tags` rows, and the class's row. It runs in
the reader processes (`_readers`), so it imports only what reading needs.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from typing import Any

from furu import config_leaves
from furu_server.index._columns import row_of
from furu_server.index._records import StepRecord, make_encodable, namespace_of, read_record
from furu_server.index._text import sql_value

Leaf = tuple[str, str, float | None, str | None]
"""`(path, kind, number, text)`: one leaf of a config, a row of `config_kv` (without its id)."""

RecordRows = tuple[
    tuple[Any, ...],
    list[Leaf],
    list[tuple[str, str, str, str]],
    list[str],
    tuple[str, str, str] | None,
    list[Leaf],
]
"""The rows of one experiment: see `index_rows`."""


MAX_LEAVES = 2000
"""Config leaves indexed per experiment (the first ones, in order): what filters can reach."""
MAX_TEXT = 4096
"""Characters kept of one text value (a config leaf, a metadata or state value, an error)."""
MAX_ITEMS = 1000
"""Items kept of one list or object in the metadata and state the index stores."""
MAX_DEPTH = 32
"""Levels kept of the metadata and state the index stores (deeper: a marker)."""


def index_rows(rec: StepRecord) -> RecordRows:
    """What the index stores for `rec`: the experiments row (no id), config leaves, dependencies
    `(namespace, field, dependency namespace, dependency hash)`, tags, the class row (when
    metadata was read) and result leaves (`result_kv`); every value one SQLite can store
    (`sql_value`).

    What one experiment adds is bounded (`MAX_LEAVES`, `MAX_TEXT`, `MAX_ITEMS`, `MAX_DEPTH`):
    what was cut is named in the record's `problems` (the detail route still shows it whole).
    """
    make_encodable(rec)
    clipped: list[str] = []
    kv, total = _bounded_leaves(rec.config, clipped) if rec.config is not None else ([], 0)
    if len(kv) < total:
        rec.problems.append(
            f"config truncated in the index: {len(kv)} of {total} leaves indexed (filters on "
            f"config.* see only those; the index keeps at most {MAX_LEAVES} per experiment)"
        )
    rec.meta = _clip(rec.meta, "meta", clipped, 0)
    rec.state = _clip(rec.state, "state", clipped, 0)
    rec.error_message = _clip(rec.error_message, "error_message", clipped, 0)
    rec.tags = _clip(rec.tags, "tags", clipped, 0)
    rec.name = _clip(rec.name, "name", clipped, 0)
    if clipped:
        shown = ", ".join(clipped[:5]) + (
            f" and {len(clipped) - 5} more" if len(clipped) > 5 else ""
        )
        rec.problems.append(
            f"{len(clipped)} value(s) truncated in the index ({shown}): it keeps {MAX_TEXT} "
            f"characters of a text, {MAX_ITEMS} items of a list or object and {MAX_DEPTH} levels"
        )
    deps = [
        (rec.namespace, d.get("field", ""), d["namespace"], d["hash"])
        for d in rec.dependencies[:MAX_ITEMS]
    ]
    cls = None
    if rec.meta is not None:
        cls = (
            rec.namespace,
            json.dumps(rec.class_bases[:MAX_ITEMS]),
            json.dumps(_clip(rec.config_schema, "", [], 0), default=str),
        )
    # the record's text is encodable already; its location and ints may not be storable
    results = [leaf for name, value in rec.results.items() for leaf in _leaf(name, value)]
    return tuple(sql_value(v) for v in row_of(rec)), kv, deps, rec.tags, cls, results


def _bounded_leaves(config: Any, clipped: list[str]) -> tuple[list[Leaf], int]:
    """The first `MAX_LEAVES` leaves of `config`, and how many it has; a text longer than
    `MAX_TEXT` is cut (its path appended to `clipped`)."""
    kept: list[Leaf] = []
    total = 0
    for path, kind, num, text in flatten_config(config):
        total += 1
        if total > MAX_LEAVES:
            continue
        if len(path) > MAX_TEXT or (text is not None and len(text) > MAX_TEXT):
            clipped.append(f"config.{path[:100]}")
            path, text = path[:MAX_TEXT], text[:MAX_TEXT] if text is not None else None
        kept.append((path, kind, num, text))
    return kept, total


def _small(value: Any, depth: int) -> bool:
    """Whether `value` is within every bound, judged from its JSON at C speed: it cannot hold
    a text over `MAX_TEXT` or a container over `MAX_ITEMS` items within 2 * `MAX_ITEMS`
    characters, nor nest deeper than its brackets."""
    try:
        text = json.dumps(value, default=str)
    except (ValueError, TypeError, RecursionError):
        return False
    return len(text) <= 2 * MAX_ITEMS and depth + text.count("[") + text.count("{") <= MAX_DEPTH


def _clip(value: Any, path: str, clipped: list[str], depth: int) -> Any:
    """`value` (JSON-like) within the index's bounds; each place cut is appended to `clipped`."""
    if isinstance(value, str):
        if len(value) <= MAX_TEXT:
            return value
        clipped.append(path)
        return value[:MAX_TEXT] + f"... ({len(value) - MAX_TEXT} more characters)"
    if not isinstance(value, dict | list | tuple):
        return value
    if _small(value, depth):
        return value
    if depth >= MAX_DEPTH:
        clipped.append(path)
        return "... (nested too deeply for the index)"
    if len(value) > MAX_ITEMS:
        clipped.append(path)
    if isinstance(value, dict):
        items = list(value.items())[:MAX_ITEMS]
        return {k: _clip(v, f"{path}.{k}", clipped, depth + 1) for k, v in items}
    return [_clip(v, f"{path}[{i}]", clipped, depth + 1) for i, v in enumerate(value[:MAX_ITEMS])]


def read_rows(items: list[tuple[str, str, str]]) -> list[RecordRows]:
    """`index_rows` of each `(root kind, rel dir, abs dir)` (run in worker processes).

    A record that cannot be read at all (a bug, a file no reader expected) is listed with what
    its directory's name says and the error in its `problems`: it never stops the others.
    """
    return [_read_one(kind, rel, path) for kind, rel, path in items]


def _read_one(kind: str, rel: str, path: str) -> RecordRows:
    try:
        rec = read_record(kind, rel, path)
    except Exception as exc:  # one bad record must not stop the others
        rec = StepRecord(*namespace_of(rel), kind, rel, path, result_status="incomplete")
        rec.version_controlled = kind == "vc"
        rec.problems.append(_failed("read", exc))
    try:
        return index_rows(rec)
    except Exception as exc:  # e.g. a config nested too deeply: index what the listing shows
        rec.config = rec.meta = rec.state = None
        rec.dependencies, rec.class_bases, rec.config_schema = [], [], []
        rec.problems.append(_failed("index the config, metadata and state of", exc))
        return index_rows(rec)


def _failed(what: str, exc: Exception) -> str:
    return (
        f"furu-server could not {what} this experiment ({type(exc).__name__}: {exc}); it is "
        "listed with what could be read. Please report this with the experiment's .furu/ files."
    )


# ---------------------------------------------------------------- config leaves


def flatten_config(config: Any) -> Iterator[Leaf]:
    """`(path, kind, number, text)` for every leaf of a recorded config (filter-language.md).

    The leaves and their paths are furu's (`furu.config_leaves`: a tuple reads as a list, a
    path or an enum as text, a timedelta as seconds, a nested step's `__class__` as its
    namespace). `kind` is `num`, `str`, `bool` or `null`; empty lists and objects are left out.
    """
    for path, value in config_leaves(config):
        yield from _leaf(path, value)


def _leaf(path: str, value: Any) -> Iterator[Leaf]:
    """The leaf row of a scalar (nothing for any other value)."""
    if isinstance(value, bool):
        yield path, "bool", float(value), None
    elif isinstance(value, int | float):
        yield _number(path, value)
    elif isinstance(value, str):
        yield path, "str", None, value
    elif value is None:
        yield path, "null", None, None


def _number(path: str, number: int | float) -> Leaf:
    try:
        value = float(number)
    except OverflowError:  # an int beyond a float's range (a config may hold any int)
        value = math.copysign(math.inf, number)
    if math.isnan(value):
        return path, "num", None, "nan"
    return path, "num", value, None
