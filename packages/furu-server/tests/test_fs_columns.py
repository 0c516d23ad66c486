"""The index's column declaration: the table, the writes, the listings and the API agree."""

from __future__ import annotations

import contextlib
from pathlib import Path

from furu_server._models import ExperimentSummary
from furu_server.index._columns import (
    COLUMNS,
    KEY,
    LISTED,
    NAMES,
    SELECT_SQL,
    UPSERT_SQL,
    row_of,
    summary_of_record,
    summary_of_row,
)
from furu_server.index._database import open_index
from furu_server.index._records import StepRecord


def _record() -> StepRecord:
    rec = StepRecord(
        "pkg.models.TrainModel", "0123abcd", "vc", "pkg/models/TrainModel/0123abcd", "/s"
    )
    rec.result_status, rec.attempt_status, rec.attempt_number = "failed", "failed", 2
    rec.tags, rec.name, rec.version_controlled = ["best", "x"], "baseline", True
    rec.dependencies = [{"field": "corpus", "namespace": "pkg.Corpus", "hash": "ff"}]
    rec.config, rec.problems = {"__class__": "pkg.models.TrainModel", "lr": 0.1}, []
    return rec


def test_the_listed_columns_fill_every_field_of_a_summary() -> None:
    # where it lives, its name in the code's FuruLists, the values of the columns asked for
    added = {"furu_dir", "display_name", "values"}
    assert {field for field, _ in LISTED} | added == set(ExperimentSummary.model_fields)


def test_the_table_has_the_declared_columns(tmp_path: Path) -> None:
    with contextlib.closing(open_index(tmp_path / "index.sqlite")) as conn:
        info = conn.execute("PRAGMA table_info(experiments)").fetchall()
    table = [(name, kind) for _, name, kind, *_ in info]
    assert table == [("id", "INTEGER"), *((c.name, c.sql.split()[0]) for c in COLUMNS)]
    assert NAMES[: len(KEY)] == KEY


def test_a_written_row_lists_as_the_record_reads(tmp_path: Path) -> None:
    rec = _record()
    with contextlib.closing(open_index(tmp_path / "index.sqlite")) as conn:
        (exp_id,) = conn.execute(UPSERT_SQL, row_of(rec)).fetchone()
        select = f"SELECT {SELECT_SQL} FROM experiments e WHERE id = ?"
        row = conn.execute(select, (exp_id,)).fetchone()
    summary, where = summary_of_row(row)
    assert where == ("vc", "pkg/models/TrainModel/0123abcd")
    assert {**summary, "furu_dir": "/s"} == summary_of_record(rec)
    assert ExperimentSummary(**summary_of_record(rec)).n_dependencies == 1
    assert (summary["tags"], summary["version_controlled"]) == (["best", "x"], True)


def test_every_filterable_column_says_how_it_compares() -> None:
    for column in COLUMNS:
        assert bool(column.filter_names) == (column.filter_kind is not None), column.name
