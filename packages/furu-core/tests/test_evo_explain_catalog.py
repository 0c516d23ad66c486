"""The catalog (`<root>/catalog/<namespace>.jsonl`, ADR 0005 §1): appended, healed, trusted only
as far as the directories agree."""

from __future__ import annotations

import dataclasses
import json
import shutil
from pathlib import Path

import evo_versions as v
import pytest

import furu

M1 = v.model(lr=(float, 0.1))
E1 = v.evaluate(M1)


def _catalog_file(store: Path, namespace: str) -> Path:
    return store / "catalog" / f"{namespace}.jsonl"


def _lines(store: Path, namespace: str) -> list[dict[str, object]]:
    text = _catalog_file(store, namespace).read_text()
    return [json.loads(line) for line in text.splitlines()]


def test_publishing_appends_one_line_with_fields_types_deps(furu_store: Path) -> None:
    top = E1(model=M1(lr=0.3))
    top.load_or_create()
    model_id, top_id = furu.step_id(top.model), furu.step_id(top)

    [line] = _lines(furu_store, v.MODEL)
    assert line["v"] == 1
    assert line["kind"] == "data"
    assert line["hash"] == model_id.hash
    assert line["fields"] == {"lr": 0.3}
    assert line["types"] == {"lr": "float"}
    assert line["deps"] == []
    success = json.loads(furu.step_dir(top.model).success_path.read_text())
    assert line["at"] == success["created_at"]

    [line] = _lines(furu_store, v.EVALUATE)
    assert line["fields"] == {"model": {"__step__": str(model_id)}}
    assert line["deps"] == [["model", v.MODEL, model_id.hash]]

    [entry] = furu.Store.current().catalog(v.EVALUATE)
    assert isinstance(entry, furu.CatalogEntry)
    assert entry.hash == top_id.hash
    assert entry.deps == (("model", v.MODEL, model_id.hash),)
    with pytest.raises(dataclasses.FrozenInstanceError):
        entry.hash = "x"  # type: ignore[misc]


def test_a_cache_hit_appends_nothing(furu_store: Path) -> None:
    step = M1(lr=0.5)
    step.load_or_create()
    step.load_or_create()
    M1(lr=0.5).load_or_create()
    assert len(_lines(furu_store, v.MODEL)) == 1


def test_a_lost_catalog_is_healed_from_the_directories(furu_store: Path) -> None:
    steps = [M1(lr=x) for x in (0.1, 0.2, 0.3)]
    for step in steps:
        step.load_or_create()
    _catalog_file(furu_store, v.MODEL).unlink()

    entries = furu.Store.current().catalog(v.MODEL)
    assert sorted(e.hash for e in entries) == sorted(furu.step_id(s).hash for s in steps)
    assert {e.fields["lr"] for e in entries} == {0.1, 0.2, 0.3}
    healed = _lines(furu_store, v.MODEL)
    assert sorted(line["hash"] for line in healed) == sorted(e.hash for e in entries)
    # Healed once: the next read finds every line and appends nothing.
    furu.Store.current().catalog(v.MODEL)
    assert len(_lines(furu_store, v.MODEL)) == 3


def test_a_torn_line_is_skipped_and_its_result_healed(furu_store: Path) -> None:
    first, second = M1(lr=0.1), M1(lr=0.2)
    first.load_or_create()
    second.load_or_create()
    path = _catalog_file(furu_store, v.MODEL)
    lines = path.read_bytes().splitlines(keepends=True)
    # The second append was cut short (a crash, NFS), then another process appended after it.
    torn = lines[1][: len(lines[1]) // 2]
    newer = json.dumps({"v": 99, "hash": "f" * 20, "fields": {}, "deps": []}).encode()
    path.write_bytes(lines[0] + torn + b"\n" + b"not json at all\n" + newer + b"\n")

    entries = furu.Store.current().catalog(v.MODEL)
    assert sorted(e.hash for e in entries) == sorted(furu.step_id(s).hash for s in (first, second))
    assert json.loads(path.read_text().splitlines()[-1])["hash"] == furu.step_id(second).hash


def test_a_directory_without_its_result_is_not_listed(furu_store: Path) -> None:
    kept, invalidated, deleted = M1(lr=0.1), M1(lr=0.2), M1(lr=0.3)
    for step in (kept, invalidated, deleted):
        step.load_or_create()
    assert furu.step_dir(invalidated).invalidate("test: its result was wrong")
    shutil.rmtree(deleted.furu_dir)

    entries = furu.Store.current().catalog(v.MODEL)
    assert [e.hash for e in entries] == [furu.step_id(kept).hash]
    assert len(_lines(furu_store, v.MODEL)) == 3  # the cache keeps lines; readers ignore them


def test_a_failed_step_is_not_catalogued(furu_store: Path) -> None:
    import core_test_steps as steps

    with pytest.raises(furu.FuruComputeError):
        steps.Failing(message="no").load_or_create()
    assert not _catalog_file(furu_store, "core_test_steps.Failing").exists()
    assert furu.Store.current().catalog("core_test_steps.Failing") == []


def test_a_catalog_that_is_a_symlink_is_refused(furu_store: Path, tmp_path: Path) -> None:
    M1(lr=0.1).load_or_create()
    path = _catalog_file(furu_store, v.MODEL)
    elsewhere = tmp_path / "elsewhere.jsonl"
    path.rename(elsewhere)
    path.symlink_to(elsewhere)
    with pytest.raises(furu.FuruStoreError, match="is a symbolic link"):
        furu.Store.current().catalog(v.MODEL)


def test_an_unknown_class_has_an_empty_catalog() -> None:
    assert furu.Store.current().catalog("nowhere.Nothing") == []
