"""A step's scalar results: `_results()`, conventional files, and damaged sources."""

from __future__ import annotations

import json
import os
from pathlib import Path

import core_test_steps as steps
import pytest

import furu
from furu import FuruComputeError


def test_declared_results_are_stored_and_read_back() -> None:
    step = steps.Scored(score=0.75)
    step.load_or_create()
    where = furu.step_dir(step)
    stored = json.loads((where.meta_dir / "results.json").read_text())
    assert stored == {"score": 0.75, "val.loss": 0.25, "val.name": "holdout"}
    results, problems = where.read_results()
    assert results == stored
    assert problems == []


def test_a_bad_declared_result_fails_the_attempt_with_the_method_named() -> None:
    step = steps.Scored(bad=True)
    with pytest.raises(FuruComputeError, match=r"Scored\._results\(\) returned the result name"):
        step.load_or_create()
    assert not furu.step_dir(step).has_result()


def test_conventional_files_and_the_last_jsonl_row() -> None:
    step = steps.WritesEval(accuracy=0.8)
    step.load_or_create()
    results, problems = furu.step_dir(step).read_results()
    # lists are skipped; the JSONL's last complete row gives loss and step
    assert results == {"accuracy": 0.8, "split": "test", "step": 2, "loss": 1 / 3}
    assert problems == []


def test_first_source_wins_and_a_partial_last_line_is_skipped(tmp_path: Path) -> None:
    (tmp_path / ".furu").mkdir()
    (tmp_path / ".furu" / "results.json").write_text('{"acc": 1}')
    (tmp_path / "results.json").write_text('{"acc": 2, "f1": 0.5}')
    (tmp_path / "results.jsonl").write_text('{"epoch": 1}\n{"epoch": 2}\n{"epoch": 3')
    results, problems = _read(tmp_path)
    assert results == {"acc": 1, "f1": 0.5, "epoch": 2}
    assert problems == []


def _read(path: Path) -> tuple[dict[str, object], list[str]]:
    from furu._results import read_results

    return read_results(path)


def test_damaged_sources_are_described_never_raised(tmp_path: Path) -> None:
    (tmp_path / "results.json").write_bytes(b"\xff\xfe not utf-8")
    (tmp_path / "metrics.json").write_text("[1, 2, 3]")
    os.mkfifo(tmp_path / "eval.json")  # never opened for reading: it would block
    (tmp_path / "elsewhere.json").write_text('{"secret": 1}')
    (tmp_path / "eval.jsonl").symlink_to(tmp_path / "elsewhere.json")
    (tmp_path / "metrics.jsonl").write_text('{"nan": NaN, "ok": 1}\n')
    results, problems = _read(tmp_path)
    assert results == {"nan": "nan", "ok": 1}
    joined = "\n".join(problems)
    assert "results.json was not read as results" in joined
    assert "metrics.json holds list" in joined
    assert "eval.json was not read" in joined
    assert "eval.jsonl was not read" in joined
    assert "secret" not in results


def test_huge_sources_are_refused_and_many_names_clipped(tmp_path: Path) -> None:
    (tmp_path / "results.json").write_text(json.dumps({"x": "y" * (2 << 20)}))
    (tmp_path / "metrics.json").write_text(json.dumps({f"m{i}": i for i in range(1000)}))
    results, problems = _read(tmp_path)
    assert len(results) == 200
    assert "results.json was not read" in problems[0]


def test_recomputing_drops_the_last_results() -> None:
    step = steps.Scored(score=0.5)
    step.load_or_create()
    where = furu.step_dir(step)
    assert where.invalidate("test")
    (where.meta_dir / "results.json").write_text('{"stale": 1}')
    step.load_or_create()
    assert where.read_results()[0]["score"] == 0.5
    assert "stale" not in where.read_results()[0]
