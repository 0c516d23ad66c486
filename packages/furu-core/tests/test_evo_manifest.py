"""`furu manifest` and `furu dag`, run as real commands on a temporary project."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from evo_manifest_project import Project

import furu


@pytest.fixture
def project(tmp_path: Path) -> Project:
    return Project(tmp_path / "project")


def _stored(project: Project) -> dict[str, list[dict[str, object]]]:
    """`config_schema` of every stored experiment, by namespace."""
    found: dict[str, list[dict[str, object]]] = {}
    for step_dir in furu.Store(project.store).step_dirs():
        metadata = step_dir.read_metadata()
        assert metadata is not None
        found.setdefault(step_dir.namespace, []).append(metadata)
    return found


def test_manifest_describes_the_code_and_its_named_experiments(project: Project) -> None:
    project.pipeline()
    done = project.furu("manifest")
    assert done.returncode == 0, done.stderr
    assert "6 class(es) from 2 of 2 module(s)" in done.stderr
    assert "1 FuruList(s) naming 3 experiment(s) (1 defined, not yet run)" in done.stderr

    data = project.manifest_json()
    assert data["version"] == 1
    assert data["modules"] == ["proj.steps", "proj.experiments"]
    assert data["errors"] == []
    assert Path(data["project"]) == project.root.resolve()
    classes = {c["namespace"]: c for c in data["classes"]}
    assert sorted(classes) == [
        f"proj.steps.{n}"
        for n in ("Evaluate", "Legacy", "MakeDataset", "Report", "Tokenize", "TrainModel")
    ]
    train = classes["proj.steps.TrainModel"]
    assert train["module"] == "proj.steps"
    assert train["qualname"] == "TrainModel"
    assert train["doc"] == "Train a model."
    assert train["fields"] == [
        {
            "name": "dataset",
            "type": "proj.steps:MakeDataset",
            "default": None,
            "has_default": False,
        },
        {"name": "lr", "type": "float", "default": 0.1, "has_default": True},
    ]
    assert train["dependencies"] == [{"field": "dataset", "namespace": "proj.steps.MakeDataset"}]
    # a field typed Optional[list[TrainModel]] and a classmethod _dependencies() are followed
    assert classes["proj.steps.Evaluate"]["dependencies"] == [
        {"field": "model", "namespace": "proj.steps.TrainModel"},
        {"field": "baseline", "namespace": "proj.steps.TrainModel"},
    ]
    assert classes["proj.steps.Report"]["dependencies"] == [
        {"field": "_dependencies()", "namespace": "proj.steps.Tokenize"}
    ]

    # the field types are those metadata.json records for the same classes
    for namespace, records in _stored(project).items():
        expected = [{"name": f["name"], "type": f["type"]} for f in classes[namespace]["fields"]]
        assert all(r["config_schema"] == expected for r in records), namespace

    (sweep,) = data["lists"]
    assert sweep["name"] == "proj.experiments:Sweep"
    by_name = {e["name"]: e for e in sweep["experiments"]}
    assert list(by_name) == ["baseline", "lr03", "later"]
    assert by_name["baseline"]["status"] == "success"
    assert by_name["later"]["status"] == "absent"
    stored = {(m["furu_namespace"], m["furu_hash"]) for ms in _stored(project).values() for m in ms}
    assert ("proj.steps.Evaluate", by_name["lr03"]["hash"]) in stored
    assert by_name["lr03"]["config"]["model"]["lr"] == 0.3
    assert by_name["lr03"]["config"]["__class__"] == "proj.steps:Evaluate"

    manifest = furu.Manifest.read(furu.Store(project.store))
    assert manifest is not None
    assert manifest.to_json() == data
    assert manifest.classes["proj.steps.TrainModel"].field_types == {
        "dataset": "proj.steps:MakeDataset",
        "lr": "float",
    }


def test_the_snippet_of_a_named_experiment_reproduces_it(project: Project) -> None:
    project.pipeline()
    assert project.furu("manifest").returncode == 0
    (sweep,) = project.manifest_json()["lists"]
    later = next(e for e in sweep["experiments"] if e["name"] == "later")
    assert later["python"].startswith("from proj.steps import ")
    done = project.run(sys.executable, "-c", later["python"])
    assert done.returncode == 0, done.stderr
    made = furu.Store(project.store).step_dir(later["namespace"], later["hash"])
    assert made.has_result()
    assert project.furu("manifest").returncode == 0
    (sweep,) = project.manifest_json()["lists"]
    assert {e["name"]: e["status"] for e in sweep["experiments"]}["later"] == "success"


def test_a_module_that_fails_to_import_is_reported_and_the_rest_written(
    project: Project,
) -> None:
    project.write("broken.py", "import furu\nraise RuntimeError('half-written module')\n")
    done = project.furu("manifest", "proj.steps", "proj.broken", "proj.experiments")
    assert done.returncode == 0, done.stderr
    assert "module proj.broken failed to import (RuntimeError: half-written module)" in (
        done.stderr
    )
    data = project.manifest_json()
    assert data["errors"] == [
        {"module": "proj.broken", "error": "RuntimeError: half-written module"}
    ]
    assert "proj.steps.TrainModel" in {c["namespace"] for c in data["classes"]}
    assert [x["name"] for x in data["lists"]] == ["proj.experiments:Sweep"]
    # a class of the failed module is not known to be gone
    manifest = furu.Manifest.read(furu.Store(project.store))
    assert manifest is not None
    assert manifest.stale_reason("proj.broken.Thing", {}) is None
    assert manifest.stale_reason("proj.steps.Gone", {}) is not None


def test_without_modules_the_error_names_pyproject_and_the_key(project: Project) -> None:
    (project.root / "pyproject.toml").write_text('[project]\nname = "proj"\n')
    done = project.furu("manifest")
    assert done.returncode == 1
    assert "pyproject.toml has no [tool.furu] modules" in done.stderr
    assert "furu manifest pkg.steps" in done.stderr
    assert not (project.store / "manifest.json").exists()

    (project.root / "pyproject.toml").write_text('[tool.furu]\nmodules = "proj.steps"\n')
    done = project.furu("manifest")
    assert done.returncode == 1
    assert "[tool.furu] modules is 'proj.steps'; it must be a list of module names" in (done.stderr)


def test_modules_are_found_from_a_subdirectory_and_with_project(project: Project) -> None:
    sub = project.root / "notebooks"
    sub.mkdir()
    done = project.furu("manifest", cwd=sub)
    assert done.returncode == 0, done.stderr
    assert project.manifest_json()["modules"] == ["proj.steps", "proj.experiments"]
    elsewhere = project.root.parent
    done = project.furu("manifest", "proj.steps", "--project", str(project.root), cwd=elsewhere)
    assert done.returncode == 0, done.stderr
    assert project.manifest_json()["modules"] == ["proj.steps"]


def test_a_damaged_manifest_is_a_clear_error(project: Project) -> None:
    project.store.mkdir(parents=True)
    path = project.store / "manifest.json"
    path.write_text('{"version": 1, "classes": [')
    store = furu.Store(project.store)
    with pytest.raises(furu.FuruStoreError, match=r"manifest\.json is damaged") as caught:
        furu.Manifest.read(store)
    assert "Run `furu manifest` again" in str(caught.value)
    for command in ("stale", "dag"):
        done = project.furu(command)
        assert done.returncode == 1
        assert f"{path} is damaged" in done.stderr
        assert "Run `furu manifest` again" in done.stderr
    path.write_text(json.dumps({"version": 7, "written_at": "x", "classes": []}))
    with pytest.raises(furu.FuruStoreError, match="this furu reads version 1"):
        furu.Manifest.read(store)
    path.write_text("")
    with pytest.raises(furu.FuruStoreError, match="is empty"):
        furu.Manifest.read(store)
    path.unlink()
    path.symlink_to(project.root / "pyproject.toml")
    with pytest.raises(furu.FuruStoreError, match="is a symbolic link") as caught:
        furu.Manifest.read(store)
    assert "Delete it and run `furu manifest` again" in str(caught.value)


def test_declared_migrations_are_recorded_without_importing_their_classes(
    project: Project,
) -> None:
    project.write(
        "evolve.py",
        """
        import dataclasses

        import furu


        @dataclasses.dataclass(frozen=True)
        class FieldAdded:
            name: str
            default: object


        class Fit(furu.Furu[int]):
            lr: float = 0.1
            average: bool = False
            furu_migrations = (FieldAdded("average", default=False),)

            def _create(self) -> int:
                return 1

            def _load(self) -> int:
                return 1


        class Opaque:
            pass


        class Runs(furu.FuruList[Fit]):
            fine = Fit(lr=0.5)
            odd = Fit(lr=Opaque())  # no hash for it: left out, reported
        """,
    )
    done = project.furu("manifest", "proj.evolve")
    assert done.returncode == 0, done.stderr
    assert "furu manifest: proj.evolve:Runs: experiment 'odd': cannot hash Fit.lr" in done.stderr
    (runs,) = project.manifest_json()["lists"]
    assert [e["name"] for e in runs["experiments"]] == ["fine"]
    (error,) = project.manifest_json()["errors"]
    assert error["module"] == "proj.evolve:Runs"
    (fit,) = project.manifest_json()["classes"]
    assert fit["migrations"] == [{"name": "average", "default": False, "kind": "FieldAdded"}]
    manifest = furu.Manifest.read(furu.Store(project.store))
    assert manifest is not None
    reason = manifest.stale_reason("proj.evolve.Fit", {"lr": "float"})
    assert reason == (
        "field `average` was added (default False) "
        "(declared in furu_migrations: load_or_create() reuses it)"
    )


def test_dag_shows_the_class_graph_with_counts(project: Project) -> None:
    project.pipeline()
    done = project.furu("dag")  # writes the manifest first: none was written yet
    assert done.returncode == 0, done.stderr
    assert "Wrote " in done.stderr
    lines = done.stdout.splitlines()
    assert "Evaluate  [2 stored]" in lines
    assert "    model: TrainModel  [2 stored]" in lines
    assert "        dataset: MakeDataset  [1 stored]" in lines
    assert "    baseline: TrainModel  [2 stored] (see above)" in lines
    assert "Report  [no experiments]" in lines
    assert "    _dependencies(): Tokenize  [1 stored]" in lines

    mermaid = project.furu("dag", "--mermaid")
    assert mermaid.returncode == 0, mermaid.stderr
    text = mermaid.stdout
    assert text.startswith("graph TD\n")
    assert '    proj_steps_Report["Report<br/>no experiments"]' in text
    assert '    proj_steps_TrainModel -->|"model"| proj_steps_Evaluate' in text
    assert "classDef noExperiments" in text
    assert "    class proj_steps_Report noExperiments" in text

    graph = project.furu_json("dag")
    counts = {c["name"]: c["stored"] for c in graph["classes"]}
    assert counts == {
        "Evaluate": 2,
        "Legacy": 1,
        "MakeDataset": 1,
        "Report": 0,
        "Tokenize": 1,
        "TrainModel": 2,
    }
    assert {
        "from": "proj.steps.Tokenize",
        "to": "proj.steps.Report",
        "field": "_dependencies()",
    } in (graph["edges"])


def test_dag_after_a_class_is_removed_lists_it_as_stored_only(project: Project) -> None:
    project.pipeline()
    steps = (project.package / "steps.py").read_text()
    start = steps.index("class Legacy")
    end = steps.index("class Report")
    project.write("steps.py", steps[:start] + steps[end:])
    done = project.furu("dag", "proj.steps")  # modules given: the manifest is refreshed
    assert done.returncode == 0, done.stderr
    assert "stored, gone from the code:\n    proj.steps.Legacy  [1 stored, 1 stale]" in done.stdout
    graph = project.furu_json("dag")
    assert graph["gone"] == {"proj.steps.Legacy": 1}
    assert graph["outside"] == {}
    # a manifest of proj.experiments alone does not speak for proj.steps' classes
    done = project.furu("dag", "proj.experiments")
    assert done.returncode == 0, done.stderr
    assert "stored, outside the manifest's modules" in done.stdout
    assert "    proj.steps.Legacy  [1 stored]" in done.stdout


def test_furu_help_lists_the_commands() -> None:
    from evo_manifest_project import furu_command

    done = subprocess.run(
        [str(furu_command()), "--help"], capture_output=True, text=True, check=True
    )
    for command in ("manifest", "dag", "stale"):
        assert command in done.stdout


def test_dependencies_by_annotation_and_chz_migrations(project: Project) -> None:
    project.write(
        "more.py",
        """
        import chz

        import furu

        from proj.steps import MakeDataset, TrainModel


        @chz.chz
        class FieldRenamed:
            old: str
            new: str


        class Blend(furu.Furu[int]):
            models: dict[str, TrainModel] = chz.field(default_factory=dict)
            learning_rate: float = 0.1
            furu_migrations = (FieldRenamed(old="lr", new="learning_rate"),)

            def _dependencies(self) -> list[MakeDataset]:
                return [MakeDataset(n=len(self.models))]

            def _create(self) -> int:
                return 1

            def _load(self) -> int:
                return 1
        """,
    )
    assert project.furu("manifest", "proj.more").returncode == 0
    (blend,) = project.manifest_json()["classes"]  # proj.steps is imported, not described
    assert blend["dependencies"] == [
        {"field": "models", "namespace": "proj.steps.TrainModel"},
        {"field": "_dependencies()", "namespace": "proj.steps.MakeDataset"},
    ]
    assert blend["fields"][0] == {
        "name": "models",
        "type": "dict[str, proj.steps.TrainModel]",
        "default": {},
        "has_default": True,
    }
    assert blend["migrations"] == [{"old": "lr", "new": "learning_rate", "kind": "FieldRenamed"}]
    manifest = furu.Manifest.read(furu.Store(project.store))
    assert manifest is not None
    stored = {"models": "dict[str, proj.steps.TrainModel]", "lr": "float"}
    assert manifest.stale_reason("proj.more.Blend", stored) == (
        "field `lr` was renamed to `learning_rate` "
        "(declared in furu_migrations: load_or_create() reuses it)"
    )


def test_a_src_layout_imports_from_src(project: Project) -> None:
    src = project.root / "src"
    src.mkdir()
    project.package.rename(src / "proj")
    done = project.furu("manifest")
    assert done.returncode == 0, done.stderr
    assert project.manifest_json()["errors"] == []
    assert "proj.steps.TrainModel" in {c["namespace"] for c in project.manifest_json()["classes"]}
