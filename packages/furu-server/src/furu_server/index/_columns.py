"""The one declaration of an experiment's row in the index, and everything derived from it.

Each `Column` says what SQLite stores (`name`, `sql`), how its value is read from a
`StepRecord` (`get`), written to SQLite and read back (`to_sql`, `from_sql`), which field of
the API's `ExperimentSummary` it fills (`field`), and by which names the filter language
reaches it (`filter_names`, compared as `filter_kind`). From `COLUMNS` come:

```
TABLE_SQL              the `experiments` table of the schema (`_database.SCHEMA`)
INSERT_SQL, UPSERT_SQL the writes of the indexer, and row_of(record), the row they take
SELECT_SQL             the select list of a listing, and summary_of_row(row), its summary
summary_of_record      the same summary straight from a record (the detail route)
filter_fields()        the fields of the filter language (`filters._sql`)
```

So a column is declared once and is then written, listed and filterable. Adding, removing or
retyping one changes the table: bump `_database.SCHEMA_VERSION` with it (an index of the old
shape is then rebuilt).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from operator import attrgetter
from typing import TYPE_CHECKING, Any, Literal

from furu_server.index._scanner import parent_of

if TYPE_CHECKING:
    from furu_server.index._records import StepRecord

FilterKind = Literal["str", "num", "bool", "date", "json"]
"""How the filter language compares a column: as text, a number, a boolean, an ISO date, or
(`json`) by a path into the JSON the column holds (`state.attempt.status`)."""


def _json(value: Any) -> str | None:
    return None if value is None else json.dumps(value, separators=(",", ":"), default=str)


def _same(value: Any) -> Any:
    return value


def _flag(value: Any) -> Any:
    return None if value is None else int(value)


def _bool_or_none(value: Any) -> bool | None:
    return None if value is None else bool(value)


def shown_status(result: str, attempt: str | None) -> str:
    """The status a row shows: the attempt's while it runs or after it ended otherwise than in
    success (`running`, `queued`, `failed`, `crashed`, ...), else the result's."""
    return attempt if attempt and attempt != "success" and result != "success" else result


def types_key(schema: list[dict[str, Any]] | None) -> str | None:
    """The `schema_types` column: the field names and types a record's metadata recorded, as
    compact JSON `[[name, type], ...]` (None when it recorded none); what staleness is
    decided from (`_stale`)."""
    if not schema:
        return None
    pairs = [[str(s.get("name")), str(s.get("type"))] for s in schema if isinstance(s, dict)]
    return json.dumps(pairs, separators=(",", ":"))


@dataclass(frozen=True)
class Column:
    """One column of the `experiments` table.

    Attributes:
        name: the SQLite column.
        sql: its type and constraint, e.g. `TEXT NOT NULL`.
        get: its value from a record (default: the record's attribute `name`).
        to_sql: the value as SQLite stores it (JSON text for lists and dicts, 0/1 for booleans).
        from_sql: back from SQLite to the value an API response holds.
        field: the `ExperimentSummary` field it fills; None when listings do not show it.
        filter_names: the names a filter uses for it (`status` and `result_status`).
        filter_kind: how a filter compares it (None when `filter_names` is empty).
    """

    name: str
    sql: str
    get: Callable[[StepRecord], Any] | None = None
    to_sql: Callable[[Any], Any] = _same
    from_sql: Callable[[Any], Any] = _same
    field: str | None = None
    filter_names: tuple[str, ...] = ()
    filter_kind: FilterKind | None = None

    @property
    def reader(self) -> Callable[[StepRecord], Any]:
        """Reads this column's value from a record, as an API response holds it."""
        return self.get or attrgetter(self.name)


def _listed(name: str, sql: str, kind: FilterKind, *aliases: str, **options: Any) -> Column:
    """A column that listings show under its own name and filters reach by it (and aliases)."""
    return Column(name, sql, field=name, filter_names=(name, *aliases), filter_kind=kind, **options)


RESOURCES = (
    ("wall_sec", "REAL"),
    ("cpu_user_sec", "REAL"),
    ("cpu_system_sec", "REAL"),
    ("peak_rss_bytes", "INTEGER"),
    ("gpu_peak_memory_bytes", "INTEGER"),
    ("gpu_utilization_pct", "REAL"),
)
"""What the latest attempt's `_create()` used (`furu.Resources`): null while it runs, when an
older furu wrote the state, and (GPU) without NVIDIA's management library."""


def _resource(name: str, sql: str) -> Column:
    """A field of `furu.Resources`: listed by its name, filtered as `resources.<name>` (or it)."""
    return _listed(name, sql, "num", f"resources.{name}")


# fmt: off
COLUMNS: tuple[Column, ...] = (
    _listed("namespace", "TEXT NOT NULL", "str"),
    _listed("hash", "TEXT NOT NULL", "str"),
    _listed("class_name", "TEXT NOT NULL", "str", "class"),
    Column("root_kind", "TEXT NOT NULL"),
    Column("rel_dir", "TEXT NOT NULL"),
    Column("parent_rel", "TEXT NOT NULL", get=lambda r: parent_of(r.rel_dir)),
    _listed("result_status", "TEXT NOT NULL", "str"),
    _listed("attempt_status", "TEXT", "str"),
    # What the dashboard's badge shows, so `status = running` finds what reads "running".
    Column("shown_status", "TEXT NOT NULL", get=lambda r: shown_status(r.result_status, r.attempt_status), filter_names=("status",), filter_kind="str"),
    Column("status_rank", "INTEGER NOT NULL"),
    _listed("attempt_number", "INTEGER", "num"),
    Column("attempts", "INTEGER NOT NULL", filter_names=("attempts",), filter_kind="num"),
    _listed("backend", "TEXT", "str"),
    _listed("hostname", "TEXT", "str", "host"),
    _listed("user", "TEXT", "str"),
    _listed("started_at", "TEXT", "date"),
    _listed("ended_at", "TEXT", "date"),
    _listed("updated_at", "TEXT", "date"),
    _listed("created_at", "TEXT", "date"),
    _listed("runtime_sec", "REAL", "num", "runtime"),
    *(_resource(name, sql) for name, sql in RESOURCES),
    Column("error_type", "TEXT", filter_names=("error_type",), filter_kind="str"),
    Column("error_message", "TEXT", filter_names=("error_message",), filter_kind="str"),
    _listed("name", "TEXT", "str"),
    Column("tags", "TEXT NOT NULL", to_sql=_json, from_sql=json.loads, field="tags"),
    Column(
        "n_deps", "INTEGER NOT NULL", get=lambda r: len(r.dependencies), field="n_dependencies",
        filter_names=("n_dependencies", "dependencies"), filter_kind="num",
    ),
    _listed("version_controlled", "INTEGER NOT NULL", "bool", to_sql=int, from_sql=bool),
    _listed("size_bytes", "INTEGER NOT NULL", "num"),
    Column("file_count", "INTEGER NOT NULL", filter_names=("file_count",), filter_kind="num"),
    # Set by `_stale` after the row is written (null until then, and without a manifest);
    # before the large columns, so that reading them never follows a row's overflow pages.
    _listed("stale", "INTEGER", "bool", get=lambda r: None, to_sql=_flag, from_sql=_bool_or_none),
    _listed("stale_kind", "TEXT", "str", get=lambda r: None),
    _listed("stale_reason", "TEXT", "str", get=lambda r: None),
    _listed("migrated_from", "TEXT", "str"),
    Column("alias_problem", "TEXT"),
    Column("schema_types", "TEXT", get=lambda r: types_key(r.config_schema)),
    Column("state", "TEXT", to_sql=_json, filter_names=("state",), filter_kind="json"),
    Column("meta", "TEXT", to_sql=_json, filter_names=("meta",), filter_kind="json"),
    Column("problems", "TEXT", get=lambda r: r.problems or None, to_sql=_json),
    Column("mtime_ns", "INTEGER NOT NULL"),
)
# fmt: on
KEY = ("namespace", "hash")
"""What names an experiment: the table's unique key (an upsert updates every other column)."""

NAMES = tuple(c.name for c in COLUMNS)
LISTED = tuple((c.field, c) for c in COLUMNS if c.field is not None)
"""`(ExperimentSummary field, column)` of every column a listing shows."""
LOCATION = ("root_kind", "rel_dir")
"""Selected after the listed columns: where the experiment lives (its `furu_dir`)."""

# ---------------------------------------------------------------- SQL

TABLE_SQL = (
    "CREATE TABLE IF NOT EXISTS experiments (\n    id INTEGER PRIMARY KEY,\n"
    + "".join(f"    {c.name} {c.sql},\n" for c in COLUMNS)
    + f"    UNIQUE ({', '.join(KEY)})\n);"
)
INSERT_SQL = (
    f"INSERT INTO experiments (id, {', '.join(NAMES)}) VALUES (?, {', '.join('?' for _ in NAMES)})"
)
UPSERT_SQL = (
    f"INSERT INTO experiments ({', '.join(NAMES)}) VALUES ({', '.join('?' for _ in NAMES)}) "
    f"ON CONFLICT ({', '.join(KEY)}) DO UPDATE SET "
    + ", ".join(f"{n} = excluded.{n}" for n in NAMES if n not in KEY)
    + " RETURNING id"
)
SELECT_SQL = ", ".join(f"e.{name}" for name in (*(c.name for _, c in LISTED), *LOCATION))
"""The select list of a listing (over `experiments AS e`): the listed columns, then `LOCATION`."""

# ---------------------------------------------------------------- rows and summaries

_WRITE = tuple((c.reader, c.to_sql) for c in COLUMNS)
_READ = tuple((field, c.from_sql) for field, c in LISTED)


def row_of(rec: StepRecord) -> tuple[Any, ...]:
    """The values of `COLUMNS` for `rec`, as `INSERT_SQL` and `UPSERT_SQL` take them."""
    return tuple(to_sql(get(rec)) for get, to_sql in _WRITE)


def summary_of_row(row: Sequence[Any]) -> tuple[dict[str, Any], tuple[str, str]]:
    """A row selected with `SELECT_SQL` as `ExperimentSummary` fields (but `furu_dir`), and
    `(root_kind, rel_dir)`, where the experiment lives."""
    listed = row[: len(_READ)]
    summary = {
        field: from_sql(value) for (field, from_sql), value in zip(_READ, listed, strict=True)
    }
    root_kind, rel_dir = row[len(_READ) :]
    return summary, (root_kind, rel_dir)


def summary_of_record(rec: StepRecord) -> dict[str, Any]:
    """`ExperimentSummary`'s fields for a record read from the files (the detail route)."""
    summary = {field: c.reader(rec) for field, c in LISTED}
    summary["furu_dir"] = rec.furu_dir
    return summary


def filter_fields() -> dict[str, Column]:
    """Every name the filter language knows a column by (`tags` and `config.*` are not columns)."""
    return {name: c for c in COLUMNS for name in c.filter_names}
