"""Config and result fields as sort keys and table columns, and results joined along the graph.

```
config.lr                           a leaf of the experiment's config (`config_kv`)
result.accuracy                     one of its results (`result_kv`)
downstream.Evaluate.result.accuracy the result of the experiments of class `Evaluate` that
                                    depend on it directly (the largest, when several do)
downstream.Evaluate.config.split    the same for a config leaf of those dependents
```

A TrainModel row can so show, sort by and filter on the accuracy its Evaluate measured: the
graph the index keeps (`deps`) joins them, no tracker without it can.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from furu_server._errors import FilterInvalidError

TABLES = {"config": "config_kv", "result": "result_kv"}
MAX_COLUMNS = 16


@dataclass(frozen=True)
class FieldRef:
    """A config or result field, of the experiment itself or of its direct dependents.

    Attributes:
        name: as given (`result.accuracy`), the key of the value in a summary's `values`.
        table: `config_kv` or `result_kv`.
        path: the leaf's path in that table (`accuracy`, `layers.0.size`).
        downstream: the class name of the dependents it is read from (None: the experiment).
    """

    name: str
    table: str
    path: str
    downstream: str | None = None

    def value_sql(self, column: str) -> tuple[str, list[Any]]:
        """A scalar subquery of `column` (`kind`, `num` or `str`) of this field for the row `e`
        (of a downstream field: the largest among the dependents).

        `+k.path` keeps SQLite from walking every row of the path (`kv_num`) for each
        experiment: it looks the experiment's few leaves up by `exp_id` instead.
        """
        if self.downstream is None:
            return (
                f"(SELECT k.{column} FROM {self.table} k WHERE k.exp_id = e.id AND +k.path = ?)",
                [self.path],
            )
        return (
            f"(SELECT max(k.{column}) FROM deps d JOIN experiments c ON c.id = d.exp_id "
            f"JOIN {self.table} k ON k.exp_id = c.id AND +k.path = ? "
            "WHERE d.dep_namespace = e.namespace AND d.dep_hash = e.hash AND c.class_name = ?)",
            [self.path, self.downstream],
        )


def parse_field(name: str) -> FieldRef:
    """The field `name` names (`config.lr`, `result.acc`, `downstream.Evaluate.result.acc`).

    Raises:
        FilterInvalidError: `name` is none of these forms.
    """
    from furu_server.filters._sql import split_path

    parts = split_path(name)
    downstream = None
    if parts[0] == "downstream":
        if len(parts) < 4 or parts[2] not in TABLES:
            raise FilterInvalidError(
                f"{name!r}: a downstream field is `downstream.<Class>.result.<name>` or "
                "`downstream.<Class>.config.<field>` (e.g. downstream.Evaluate.result.accuracy)",
                path=name,
            )
        downstream, parts = parts[1], parts[2:]
    if parts[0] not in TABLES or len(parts) < 2:
        raise FilterInvalidError(
            f"{name!r} is not a field to sort or show: give config.<field>, result.<name> or "
            "downstream.<Class>.result.<name>",
            path=name,
        )
    return FieldRef(name, TABLES[parts[0]], ".".join(parts[1:]), downstream)


def downstream_values(field: FieldRef, descending: bool) -> tuple[str, list[Any]]:
    """A `WITH v AS (...)` of the downstream field's value per experiment (`v.ns`, `v.h`,
    `v.num`, `v.str`): the largest among its dependents of that class when `descending`, the
    smallest otherwise. Computed once per query from the dependents' leaves, then joined."""
    aggregate = "max" if descending else "min"
    return (
        f"WITH v AS (SELECT d.dep_namespace AS ns, d.dep_hash AS h, {aggregate}(k.num) AS num, "
        f"{aggregate}(k.str) AS str FROM deps d JOIN experiments c ON c.id = d.exp_id "
        f"JOIN {field.table} k ON k.exp_id = c.id AND +k.path = ? "
        "WHERE c.class_name = ? GROUP BY d.dep_namespace, d.dep_hash) ",
        [field.path, field.downstream],
    )


def column_values(conn: Any, fields: list[FieldRef], ids: list[int]) -> dict[int, dict[str, Any]]:
    """`{experiment id: {field name: value}}` of the page's experiments `ids`."""
    found: dict[int, dict[str, Any]] = {i: {} for i in ids}
    if not ids or not fields:
        return found
    marks = ", ".join("?" for _ in ids)
    for field in fields:
        select = []
        params: list[Any] = []
        for column in ("kind", "num", "str"):
            sql, more = field.value_sql(column)
            select.append(sql)
            params += more
        rows = conn.execute(
            f"SELECT e.id, {', '.join(select)} FROM experiments e WHERE e.id IN ({marks})",
            [*params, *ids],
        ).fetchall()
        for exp_id, kind, num, text in rows:
            if kind is not None or num is not None or text is not None:
                found[exp_id][field.name] = _value(kind, num, text)
    return found


def _value(kind: str | None, num: float | None, text: str | None) -> Any:
    if kind == "bool":
        return bool(num)
    if kind == "null":
        return None
    if num is not None:
        return int(num) if num.is_integer() and abs(num) < 2**53 else num
    return text
