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
from furu_server.index._records import StepRecord, read_record

Leaf = tuple[str, str, float | None, str | None]
"""`(path, kind, number, text)`: one leaf of a config, a row of `config_kv` (without its id)."""

RecordRows = tuple[
    tuple[Any, ...],
    list[Leaf],
    list[tuple[str, str, str, str]],
    list[str],
    tuple[str, str, str] | None,
]
"""The rows of one experiment: see `index_rows`."""


def index_rows(rec: StepRecord) -> RecordRows:
    """What the index stores for `rec`: the experiments row (no id), config leaves, dependencies
    `(namespace, field, dependency namespace, dependency hash)`, tags, and the class row (when
    metadata was read)."""
    kv = list(flatten_config(rec.config)) if rec.config is not None else []
    deps = [
        (rec.namespace, d.get("field", ""), d["namespace"], d["hash"]) for d in rec.dependencies
    ]
    cls = None
    if rec.meta is not None:
        cls = (
            rec.namespace,
            json.dumps(rec.class_bases),
            json.dumps(rec.config_schema, default=str),
        )
    return row_of(rec), kv, deps, rec.tags, cls


def read_rows(items: list[tuple[str, str, str]]) -> list[RecordRows]:
    """`index_rows` of each `(root kind, rel dir, abs dir)` (run in worker processes)."""
    return [index_rows(read_record(kind, rel, path)) for kind, rel, path in items]


# ---------------------------------------------------------------- config leaves


def flatten_config(config: Any) -> Iterator[Leaf]:
    """`(path, kind, number, text)` for every leaf of a recorded config (filter-language.md).

    The leaves and their paths are furu's (`furu.config_leaves`: a tuple reads as a list, a
    path or an enum as text, a timedelta as seconds, a nested step's `__class__` as its
    namespace). `kind` is `num`, `str`, `bool` or `null`; empty lists and objects are left out.
    """
    for path, value in config_leaves(config):
        if isinstance(value, bool):
            yield path, "bool", float(value), None
        elif isinstance(value, int | float):
            yield _number(path, float(value))
        elif isinstance(value, str):
            yield path, "str", None, value
        elif value is None:
            yield path, "null", None, None


def _number(path: str, value: float) -> Leaf:
    if math.isnan(value):
        return path, "num", None, "nan"
    return path, "num", value, None
