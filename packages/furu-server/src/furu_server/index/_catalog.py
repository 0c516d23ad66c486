"""The fields a table can show and sort by, read from the index (`GET /api/fields`).

A column picker needs the names before any row is on screen: every config leaf
(`config_kv`), every result (`result_kv`), and the results of the classes that depend on the
experiments (`downstream.<Class>.result.<name>`, joined through `deps`), each with how many
experiments have it. One grouped scan per table, memoised per index generation
(`Index.cached`), so typing in the picker never touches SQLite again.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from typing import Any

MAX_FIELDS = 2000
"""Fields returned at most (a store with more distinct leaves says `truncated`)."""


@dataclass(frozen=True)
class CatalogField:
    """One field of the catalog.

    Attributes:
        name: as a search's `columns` and `sort_field` take it (`config.lr`,
            `result.accuracy`, `downstream.Evaluate.result.accuracy`).
        source: `config`, `result` or `downstream`.
        kind: `num`, `str`, `bool`, `null`, or `mixed` when experiments disagree.
        experiments: how many experiments (of the class asked for, if any) have it.
        downstream_class: the dependents' class of a downstream field.
    """

    name: str
    source: str
    kind: str
    experiments: int
    downstream_class: str | None = None


def _kind(kinds: str) -> str:
    found = {k for k in kinds.split(",") if k and k != "null"}
    if not found:
        return "null"
    return found.pop() if len(found) == 1 else "mixed"


def _class_clause(alias: str, class_name: str | None) -> tuple[str, list[Any]]:
    """Experiments of `class_name` (its class name or its full namespace), or every one."""
    if class_name is None:
        return "1", []
    return f"({alias}.class_name = ? OR {alias}.namespace = ?)", [class_name, class_name]


def _leaves(
    conn: sqlite3.Connection, table: str, source: str, class_name: str | None
) -> list[CatalogField]:
    where, params = _class_clause("e", class_name)
    join = "" if class_name is None else "JOIN experiments e ON e.id = k.exp_id "
    rows = conn.execute(
        f"SELECT k.path, group_concat(DISTINCT k.kind), count(*) FROM {table} k {join}"
        f"WHERE {where} GROUP BY k.path",
        params,
    ).fetchall()
    return [CatalogField(f"{source}.{path}", source, _kind(kinds), n) for path, kinds, n in rows]


def _downstream(conn: sqlite3.Connection, class_name: str | None) -> list[CatalogField]:
    """Results of the direct dependents, per dependent class; `experiments` counts the
    upstream experiments (of `class_name`) that have such a value."""
    where, params = _class_clause("u", class_name)
    upstream = (
        "JOIN experiments u ON u.namespace = d.dep_namespace AND u.hash = d.dep_hash "
        if class_name is not None
        else ""
    )
    rows = conn.execute(
        "SELECT c.class_name, k.path, group_concat(DISTINCT k.kind), "
        "count(DISTINCT d.dep_namespace || '/' || d.dep_hash) "
        f"FROM deps d {upstream}JOIN experiments c ON c.id = d.exp_id "
        "JOIN result_kv k ON k.exp_id = c.id "
        f"WHERE {where} GROUP BY c.class_name, k.path",
        params,
    ).fetchall()
    return [
        CatalogField(f"downstream.{cls}.result.{path}", "downstream", _kind(kinds), n, cls)
        for cls, path, kinds, n in rows
    ]


def field_catalog(
    conn: sqlite3.Connection, class_name: str | None
) -> tuple[list[CatalogField], bool]:
    """Every config, result and downstream result field (of `class_name`'s experiments when
    given), sorted by source then name; True when more than `MAX_FIELDS` were cut."""
    fields = [
        *_leaves(conn, "config_kv", "config", class_name),
        *_leaves(conn, "result_kv", "result", class_name),
        *_downstream(conn, class_name),
    ]
    order = {"config": 0, "result": 1, "downstream": 2}
    fields.sort(key=lambda f: (order[f.source], f.name))
    return fields[:MAX_FIELDS], len(fields) > MAX_FIELDS
