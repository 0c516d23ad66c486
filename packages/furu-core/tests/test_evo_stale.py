"""Stale results: `furu stale` on a real project whose code changes, and the rules behind it."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from evo_manifest_project import Project

import furu


@pytest.fixture
def project(tmp_path: Path) -> Project:
    return Project(tmp_path / "project")


def _ids(project: Project, class_name: str) -> list[str]:
    return sorted(
        str(d.id)
        for d in furu.Store(project.store).step_dirs()
        if d.namespace == f"proj.steps.{class_name}"
    )


def _remove_class(project: Project, name: str, before: str) -> None:
    steps = (project.package / "steps.py").read_text()
    project.write("steps.py", steps[: steps.index(f"class {name}")] + steps[steps.index(before) :])


def test_stale_lists_what_the_changed_code_no_longer_makes(project: Project) -> None:
    project.pipeline()
    assert project.furu("manifest").returncode == 0
    assert project.furu_json("stale")["stale"] == []

    # v2: TrainModel gains a field, Tokenize's field changes type, Legacy is removed
    project.edit(
        "steps.py", "    lr: float = 0.1\n", "    lr: float = 0.1\n    average: bool = False\n"
    )
    project.edit("steps.py", "    size: int = 5\n", "    size: float = 5.0\n")
    _remove_class(project, "Legacy", "class Report")
    # the manifest still describes v1 until it is refreshed
    assert project.furu_json("stale")["stale"] == []
    assert project.furu("manifest").returncode == 0

    report = project.furu_json("stale")
    assert report["stored"] == 7
    assert report["counts"] == {
        "class-removed": 1,
        "fields-changed": 3,
        "dependency-stale": 2,
        "broken-alias": 0,
    }
    by_id = {f"{r['namespace']}/{r['hash']}": r for r in report["stale"]}
    (legacy,) = _ids(project, "Legacy")
    assert by_id[legacy]["kind"] == "class-removed"
    assert by_id[legacy]["reason"] == "class Legacy is gone from the code (proj.steps.Legacy)"
    for model in _ids(project, "TrainModel"):
        assert by_id[model]["kind"] == "fields-changed"
        assert by_id[model]["reason"] == "field `average` was added (default False)"
    (tokenize,) = _ids(project, "Tokenize")
    assert by_id[tokenize]["reason"] == "field `size` changed type int → float"
    models = set(_ids(project, "TrainModel"))
    for evaluation in _ids(project, "Evaluate"):
        assert by_id[evaluation]["kind"] == "dependency-stale"
        assert by_id[evaluation]["via"] in models
        assert by_id[evaluation]["field"] == "model"
        assert by_id[evaluation]["reason"].startswith("its `model` (TrainModel ")
        assert by_id[evaluation]["reason"].endswith(" is stale (fields-changed)")
    assert not set(_ids(project, "MakeDataset")) & set(by_id)

    text = project.furu("stale")
    assert text.returncode == 0, text.stderr
    lines = text.stdout.splitlines()
    assert lines[0] == "class-removed (1)"
    assert "fields-changed (3)" in lines
    assert "  TrainModel: field `average` was added (default False) (2)" in lines
    assert "  Tokenize: field `size` changed type int → float (1)" in lines
    assert "dependency-stale (2)" in lines
    assert "  Evaluate: its `model` (TrainModel) is stale (2)" in lines
    for evaluation in _ids(project, "Evaluate"):
        assert f"    {evaluation}  (below {by_id[evaluation]['via']})" in lines
    assert "6 stale of 7 stored experiment(s)" in text.stderr


def test_stale_with_modules_refreshes_the_manifest(project: Project) -> None:
    project.pipeline()
    assert project.furu("manifest").returncode == 0
    project.edit("steps.py", "    n: int = 4\n", "    size: int = 4\n")
    report = project.furu_json("stale", "proj.steps", "proj.experiments")
    kinds = {(r["namespace"].rsplit(".", 1)[1], r["kind"]) for r in report["stale"]}
    # a removed and an added field of the same type read as a rename
    (dataset,) = [r for r in report["stale"] if r["namespace"].endswith("MakeDataset")]
    assert dataset["reason"] == "field `n` was renamed to `size`"
    # everything below the dataset hangs below a stale dependency, through TrainModel
    assert kinds == {
        ("MakeDataset", "fields-changed"),
        ("TrainModel", "dependency-stale"),
        ("Evaluate", "dependency-stale"),
    }
    assert all(
        r["reason"].endswith("is stale (dependency-stale)")
        for r in report["stale"]
        if r["namespace"].endswith("Evaluate")
    )


def _manifest(**classes: tuple[furu.ManifestField, ...]) -> furu.Manifest:
    return furu.Manifest(
        written_at="2026-01-01T00:00:00+00:00",
        python="python",
        project=".",
        modules=("pkg",),
        classes={
            f"pkg.{name}": furu.ManifestClass(f"pkg.{name}", "pkg", name, fields=fields)
            for name, fields in classes.items()
        },
        errors=({"module": "pkg.failed", "error": "ImportError: x"},),
    )


LR = furu.ManifestField("lr", "float")
EPOCHS = furu.ManifestField("epochs", "int", default=3, has_default=True)


@pytest.mark.parametrize(
    ("stored", "reason"),
    [
        ({"lr": "float", "epochs": "int"}, None),
        ({"lr": "float"}, "field `epochs` was added (default 3)"),
        ({"lr": "float", "epochs": "int", "seed": "int"}, "field `seed` is gone"),
        ({"learning_rate": "float", "epochs": "int"}, "field `learning_rate` was renamed to `lr`"),
        ({"lr": "float", "epochs": "float"}, "field `epochs` changed type float → int"),
        (
            {"lr": "int", "old": "str"},
            "field `epochs` was added (default 3); field `old` is gone; "
            "field `lr` changed type int → float",
        ),
    ],
)
def test_stale_reason_names_each_field_change(stored: dict[str, str], reason: str | None) -> None:
    manifest = _manifest(Train=(LR, EPOCHS))
    assert manifest.stale_reason("pkg.Train", stored) == reason
    assert manifest.stale_kind("pkg.Train", stored) == (
        None if reason is None else "fields-changed"
    )


def test_stale_reason_for_a_class_the_manifest_does_not_know() -> None:
    manifest = _manifest(Train=(LR,))
    assert manifest.stale_reason("pkg.Gone", {}) == "class Gone is gone from the code (pkg.Gone)"
    assert manifest.stale_kind("pkg.Gone", {}) == "class-removed"
    # a module the manifest did not import, or that failed to: unknown, never guessed
    assert manifest.stale_reason("other.Thing", {}) is None
    assert manifest.stale_reason("pkg.failed.Thing", {}) is None
    assert "class-removed" in furu.STALE_KINDS


def _record(
    namespace: str, digest: str, deps: tuple[tuple[str, str, str], ...] = ()
) -> furu.StoredRecord:
    return furu.StoredRecord(
        furu.StepId(namespace, digest),
        {"lr": "float"},
        tuple((f, furu.StepId(n, h)) for f, n, h in deps),
    )


def test_dependency_staleness_follows_chains_and_survives_cycles(tmp_path: Path) -> None:
    manifest = _manifest(A=(LR,), B=(LR,))
    records = [
        _record("pkg.Gone", "01"),
        _record("pkg.A", "02", (("src", "pkg.Gone", "01"),)),
        _record("pkg.B", "03", (("a", "pkg.A", "02"),)),
        _record("pkg.B", "04", (("b", "pkg.B", "05"),)),
        _record("pkg.B", "05", (("b", "pkg.B", "04"),)),  # a cycle of damaged records
        _record("pkg.B", "06", (("missing", "pkg.A", "99"),)),  # a dependency no longer stored
    ]
    found = furu.find_stale(furu.Store(tmp_path), manifest, records)
    assert [(str(r.id), r.kind, str(r.via) if r.via else None) for r in found] == [
        ("pkg.Gone/01", "class-removed", None),
        ("pkg.A/02", "dependency-stale", "pkg.Gone/01"),
        ("pkg.B/03", "dependency-stale", "pkg.A/02"),
    ]
    assert found[2].reason == "its `a` (A 02) is stale (dependency-stale)"
    assert found[1].to_json()["via"] == "pkg.Gone/01"


def test_an_alias_whose_target_is_gone_is_a_broken_alias(project: Project) -> None:
    project.pipeline()
    store = furu.Store(project.store)
    (model,) = [d for d in store.step_dirs() if d.namespace.endswith("TrainModel")][:1]
    alias = store.step_dir(model.namespace, "f" * 20)
    alias.meta_dir.mkdir(parents=True)
    metadata = model.read_metadata()
    assert metadata is not None
    (alias.meta_dir / "metadata.json").write_text(json.dumps(metadata))
    (alias.meta_dir / "migration.json").write_text(
        json.dumps({"from": {"namespace": model.namespace, "hash": model.hash}})
    )
    os.symlink(os.path.relpath(model.path / "model.json", alias.path), alias.path / "model.json")
    assert project.furu("manifest").returncode == 0
    assert project.furu_json("stale")["stale"] == []

    # the old result is deleted: the alias's links dangle
    assert model.delete()
    report = project.furu_json("stale")
    broken = [r for r in report["stale"] if r["kind"] == "broken-alias"]
    assert [r["hash"] for r in broken] == ["f" * 20]
    assert broken[0]["reason"] == (f"it is an alias of {model.id.short}, whose directory is gone")

    # without a target in migration.json, a dangling link still tells
    (alias.meta_dir / "migration.json").write_text("{}")
    (broken,) = [r for r in project.furu_json("stale")["stale"] if r["kind"] == "broken-alias"]
    assert "(model.json) point at a directory that is gone" in broken["reason"]
