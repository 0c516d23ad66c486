"""Migrations, played with real code changes: a tiny project in `tmp_path`, run by real
subprocesses (the pipeline, and the real `furu migrate` command), changed between runs.

v1 trains two models and evaluates them; v2 adds `average: bool = False` to `Train`; v3
renames `lr` to `learning_rate` and declares it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

FURU = str(Path(sys.executable).with_name("furu"))

STEPS = """
import json, os
from pathlib import Path
import furu


def _note(what):
    with open(os.environ["CREATES_LOG"], "a") as f:
        f.write(what + "\\n")


class Train(furu.Furu[dict]):
    {train_fields}

    def _create(self):
        _note("Train")
        (self.furu_dir / "model.json").write_text(json.dumps({{"w": {lr} * 10}}))
        (self.furu_dir / "parts").mkdir()
        (self.furu_dir / "parts" / "a.txt").write_text("part a")

    def _load(self):
        model = json.loads((self.furu_dir / "model.json").read_text())
        model["part"] = (self.furu_dir / "parts" / "a.txt").read_text()
        return model


class Evaluate(furu.Furu[float]):
    model: Train
    split: str = "test"

    def _create(self):
        _note("Evaluate")
        w = self.model.load_or_create()["w"]
        (self.furu_dir / "score.json").write_text(json.dumps(w + len(self.split)))

    def _load(self):
        return json.loads((self.furu_dir / "score.json").read_text())
"""

V1 = {"train_fields": "lr: float", "lr": "self.lr"}
V2 = {"train_fields": "lr: float\n    average: bool = False", "lr": "self.lr"}
V3 = {
    "train_fields": "learning_rate: float\n    average: bool = False\n"
    "    furu_migrations = (furu.FieldRenamed(old='lr', new='learning_rate'),)",
    "lr": "self.learning_rate",
}

RUN = """
import json, sys
from pipe.steps import Evaluate, Train

LR = "{lr_name}"
out = {{}}
for lr in (0.1, 0.03):
    ev = Evaluate(model=Train(**{{LR: lr}}))
    out[str(lr)] = {{"score": ev.load_or_create(), "model": ev.model.load_or_create(),
                    "train": ev.model._furu_hash, "eval": ev._furu_hash}}
print(json.dumps(out))
"""


class Project:
    """The temporary project: its source, its store, and the commands that run it."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.store = root / "store"
        self.creates = root / "creates.log"
        (root / "pipe").mkdir(parents=True)
        (root / "pipe" / "__init__.py").write_text("")

    def write(self, version: dict[str, str], lr_name: str = "lr") -> None:
        (self.root / "pipe" / "steps.py").write_text(STEPS.format(**version))
        (self.root / "run.py").write_text(RUN.format(lr_name=lr_name))
        for cached in (self.root / "pipe").glob("__pycache__"):
            for f in cached.iterdir():
                f.unlink()

    @property
    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("FURU_")}
        env.update(
            FURU_PATH=str(self.store), PYTHONPATH=str(self.root), CREATES_LOG=str(self.creates)
        )
        return env

    def run(
        self, *argv: str, check: bool = True, env: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        proc = subprocess.run(
            argv,
            cwd=self.root,
            env={**self.env, **(env or {})},
            capture_output=True,
            text=True,
            timeout=120,
        )
        if check and proc.returncode != 0:
            raise AssertionError(f"{argv} failed:\n{proc.stdout}\n{proc.stderr}")
        return proc

    def pipeline(self) -> dict[str, Any]:
        self.creates.unlink(missing_ok=True)
        out: dict[str, Any] = json.loads(self.run(sys.executable, "run.py").stdout)
        return out

    def created(self) -> list[str]:
        return self.creates.read_text().split() if self.creates.exists() else []

    def furu(self, *argv: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return self.run(FURU, *argv, check=check)

    def class_dir(self, name: str) -> Path:
        return self.store / "data" / "pipe" / "steps" / name


@pytest.fixture
def project(tmp_path: Path) -> Project:
    proj = Project(tmp_path / "proj")
    proj.write(V1)
    return proj


def _migrated_v2(project: Project) -> tuple[dict[str, Any], dict[str, Any]]:
    v1 = project.pipeline()
    assert sorted(project.created()) == ["Evaluate", "Evaluate", "Train", "Train"]
    project.write(V2)
    done = project.furu("migrate", "pipe.steps.Train", "--default", "--yes", "--json")
    return v1, json.loads(done.stdout)


def test_adding_a_field_then_migrating_to_the_default_reuses_every_result(
    project: Project,
) -> None:
    v1 = project.pipeline()
    assert sorted(project.created()) == ["Evaluate", "Evaluate", "Train", "Train"]
    project.write(V2)

    dry = project.furu("migrate", "pipe.steps.Train", "--default", "--dry-run")
    assert "Would migrate pipe.steps.Train: 4 experiment(s) (4 planned)" in dry.stdout
    for run in v1.values():
        assert f"Train {run['train'][:9]} -> " in dry.stdout
        assert f"Evaluate {run['eval'][:9]} -> " in dry.stdout
    assert "`average` added = False" in dry.stdout
    assert "(depends on it through `model`)" in dry.stdout
    assert len(list(project.class_dir("Train").iterdir())) == 2  # the dry run wrote nothing

    as_json = json.loads(
        project.furu("migrate", "pipe.steps.Train", "--default", "--dry-run", "--json").stdout
    )
    assert as_json["counts"]["planned"] == 4
    first = as_json["migrations"][0]
    assert set(first) == {
        "namespace",
        "old_hash",
        "new_hash",
        "status",
        "reason",
        "via",
        "changes",
    }

    elsewhere = project.run(
        FURU,
        "--root",
        str(project.store),
        "migrate",
        "pipe.steps.Train",
        "--default",
        "--yes",
        "--json",
        env={"FURU_PATH": str(project.root / "other-store")},
    )
    done = json.loads(elsewhere.stdout)
    assert done["counts"] == {"planned": 0, "migrated": 4, "skipped": 0, "failed": 0}
    assert not (project.root / "other-store").exists()  # --root is where aliases go too
    v2 = project.pipeline()
    assert project.created() == []  # every step loaded: nothing recomputed
    for lr, run in v1.items():
        assert v2[lr]["score"] == run["score"]
        assert v2[lr]["model"] == run["model"]
        assert v2[lr]["train"] != run["train"]  # new hashes, the old results reused
        new = project.class_dir("Train") / v2[lr]["train"]
        assert os.readlink(new / "model.json") == f"../{run['train']}/model.json"
        assert (new / "parts").is_symlink()
        record = json.loads((new / ".furu" / "migration.json").read_text())
        assert record["from"]["hash"] == run["train"]
        assert record["to"]["config"]["average"] is False
        assert "@" in record["by"]
        marker = json.loads((new / ".furu" / "SUCCESS.json").read_text())
        assert marker["migrated_from"] == f"pipe.steps.Train/{run['train']}"
        old_log = project.class_dir("Train") / run["train"] / ".furu" / "migrations.jsonl"
        assert json.loads(old_log.read_text())["to"] == f"pipe.steps.Train/{v2[lr]['train']}"
        ev_record = json.loads(
            (
                project.class_dir("Evaluate") / v2[lr]["eval"] / ".furu" / "migration.json"
            ).read_text()
        )
        assert ev_record["how"] == "dependency: model"
        meta = json.loads(
            (project.class_dir("Evaluate") / v2[lr]["eval"] / ".furu" / "metadata.json").read_text()
        )
        assert meta["dependencies"][0]["hash"] == v2[lr]["train"]

    again = json.loads(
        project.furu("migrate", "pipe.steps.Train", "--default", "--yes", "--json").stdout
    )
    assert {m["status"] for m in again["migrations"]} == {"skipped"}  # nothing to do twice
    assert {m["reason"] for m in again["migrations"]} == {
        "already migrated (the new hash is an alias of this result)"
    }


def test_a_new_field_without_default_choice_is_a_clear_error(project: Project) -> None:
    project.pipeline()
    project.write(V2)
    proc = project.furu("migrate", "pipe.steps.Train", "--dry-run", check=False)
    assert proc.returncode == 1
    assert "field 'average' is new (default False)" in proc.stderr
    assert "--default" in proc.stderr
    assert "--set average=VALUE" in proc.stderr
    missing = project.furu("migrate", "pipe.steps.Trian", "--dry-run", check=False)
    assert missing.returncode == 1
    assert "cannot import 'pipe.steps.Trian'" in missing.stderr
    assert "run it from the project's root" in missing.stderr
    not_tty = project.furu("migrate", "pipe.steps.Train", "--default", check=False)
    assert not_tty.returncode == 1
    assert "pass --yes" in not_tty.stderr


def test_migrating_to_a_value_one_hash_or_a_filter(project: Project) -> None:
    v1 = project.pipeline()
    project.write(V2)
    one = json.loads(
        project.furu(
            "migrate",
            "pipe.steps.Train",
            "--set",
            "average=true",
            "--hash",
            v1["0.1"]["train"][:8],
            "--yes",
            "--json",
        ).stdout
    )
    moved = [m for m in one["migrations"] if m["namespace"] == "pipe.steps.Train"]
    assert [m["old_hash"] for m in moved] == [v1["0.1"]["train"]]
    assert moved[0]["changes"] == [{"field": "average", "kind": "added", "old": None, "new": True}]
    filtered = json.loads(
        project.furu(
            "migrate", "pipe.steps.Train", "--default", "--where", "lr=0.03", "--yes", "--json"
        ).stdout
    )
    trains = [m for m in filtered["migrations"] if m["namespace"] == "pipe.steps.Train"]
    assert [m["old_hash"] for m in trains] == [v1["0.03"]["train"]]
    assert [m["status"] for m in filtered["migrations"]] == ["migrated", "migrated"]


def test_a_declared_rename_loads_without_any_command(project: Project) -> None:
    v1, _ = _migrated_v2(project)
    project.write(V3, lr_name="learning_rate")
    v3 = project.pipeline()
    assert project.created() == []
    for lr, run in v1.items():
        assert v3[lr]["score"] == run["score"]
        assert v3[lr]["model"] == run["model"]
        log = (project.class_dir("Train") / v3[lr]["train"] / ".furu" / "furu.log").read_text()
        assert "declared: FieldRenamed(old='lr', new='learning_rate')" in log
        ev = project.class_dir("Evaluate") / v3[lr]["eval"] / ".furu" / "migration.json"
        assert json.loads(ev.read_text())["how"].startswith("declared")


def test_undo_removes_the_alias_and_restores_the_miss(project: Project) -> None:
    v1, done = _migrated_v2(project)
    alias = next(m for m in done["migrations"] if m["old_hash"] == v1["0.1"]["train"])
    undone = json.loads(
        project.furu("migrate", "--undo", f"Train/{alias['new_hash'][:10]}", "--json").stdout
    )
    assert undone["undone"] == [
        {
            "alias": f"pipe.steps.Train/{alias['new_hash']}",
            "migrated_from": f"pipe.steps.Train/{v1['0.1']['train']}",
        }
    ]
    assert not (project.class_dir("Train") / alias["new_hash"]).exists()
    old_log = project.class_dir("Train") / v1["0.1"]["train"] / ".furu" / "migrations.jsonl"
    assert [json.loads(line)["action"] for line in old_log.read_text().splitlines()] == [
        "migrate",
        "undo",
    ]
    check = project.run(
        sys.executable,
        "-c",
        "from pipe.steps import Train; print(Train(lr=0.1).exists(), Train(lr=0.03).exists())",
    )
    assert check.stdout.split() == ["False", "True"]
    again = project.furu("migrate", "--undo", f"Train/{alias['new_hash'][:10]}", check=False)
    assert again.returncode == 1
    assert "no step matches" in again.stderr


def test_undo_refuses_an_alias_that_was_recomputed(project: Project) -> None:
    v1, done = _migrated_v2(project)
    alias = next(m for m in done["migrations"] if m["old_hash"] == v1["0.1"]["train"])
    new = project.class_dir("Train") / alias["new_hash"]
    (new / "model.json").unlink()
    (new / "model.json").write_text("{}")
    proc = project.furu("migrate", "--undo", f"pipe.steps.Train/{alias['new_hash']}", check=False)
    assert proc.returncode == 1
    assert "no longer only an alias" in proc.stderr
    assert "model.json" in proc.stderr
    assert new.is_dir()


def test_a_dangling_alias_is_a_clear_error_naming_both_directories(project: Project) -> None:
    import shutil

    v1, _ = _migrated_v2(project)
    old = project.class_dir("Train") / v1["0.1"]["train"]
    shutil.rmtree(old)
    load = (
        "import furu\nfrom pipe.steps import Train\n"
        "try:\n    Train(lr=0.1).load_or_create()\n"
        "except furu.FuruStoreError as exc:\n    print(exc)\n"
    )
    message = project.run(sys.executable, "-c", load).stdout
    assert "is a migration alias of pipe.steps.Train/" in message
    assert str(old) in message
    assert "model.json" in message
    assert "Run `furu migrate --undo pipe.steps.Train/" in message


def test_two_processes_migrating_at_once_make_one_alias_each(project: Project) -> None:
    v1 = project.pipeline()
    project.write(V2)
    argv = [FURU, "migrate", "pipe.steps.Train", "--default", "--yes", "--json"]
    procs = [
        subprocess.Popen(argv, cwd=project.root, env=project.env, stdout=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    outs = [json.loads(p.communicate(timeout=120)[0]) for p in procs]
    assert [p.returncode for p in procs] == [0, 0]
    statuses: dict[str, list[str]] = {}
    for out in outs:
        assert out["counts"]["failed"] == 0
        for m in out["migrations"]:
            statuses.setdefault(m["new_hash"], []).append(m["status"])
    assert len(statuses) == 4
    for seen in statuses.values():
        assert seen.count("migrated") == 1  # exactly one process made each alias
    for run in v1.values():
        logs = project.class_dir("Train") / run["train"] / ".furu" / "migrations.jsonl"
        assert len(logs.read_text().splitlines()) == 1
    project.pipeline()
    assert project.created() == []


def test_declared_added_field_is_adopted_on_a_miss(project: Project) -> None:
    v1 = project.pipeline()
    v2_declared = dict(V2)
    v2_declared["train_fields"] += (
        "\n    furu_migrations = (furu.FieldAdded('average', default=False),)"
    )
    project.write(v2_declared)
    v2 = project.pipeline()
    assert project.created() == []
    assert {lr: r["score"] for lr, r in v2.items()} == {lr: r["score"] for lr, r in v1.items()}
    new = project.class_dir("Train") / v2["0.1"]["train"]
    assert json.loads((new / ".furu" / "migration.json").read_text())["how"] == (
        "declared: FieldAdded('average', default=False)"
    )


PYTHON_API = """
import json, furu
from pipe.steps import Train

def only_small(config):
    return config["lr"] < 0.05

try:
    furu.migrate(Train, values={"averag": True})
except furu.FuruConfigError as exc:
    print("ERROR", exc)
plan = furu.migrate(Train, where=only_small, values={"average": True}, dry_run=True)
print(json.dumps(plan.to_json()))
plan = furu.migrate(Train, where=only_small, values={"average": True})
print(json.dumps(plan.to_json()))
print(plan.describe())
print(Train(lr=0.03, average=True).exists(), Train(lr=0.03).exists())
"""


def test_the_python_api_filters_with_a_callable_and_sets_values(project: Project) -> None:
    v1 = project.pipeline()
    project.write(V2)
    lines = project.run(sys.executable, "-c", PYTHON_API).stdout.splitlines()
    assert lines[0].startswith("ERROR pipe.steps.Train has no field 'averag'")
    assert "its fields are ['average', 'lr']" in lines[0]
    dry, done = json.loads(lines[1]), json.loads(lines[2])
    assert dry["dry_run"] is True
    assert [m["status"] for m in dry["migrations"]] == ["planned", "planned"]
    assert [(m["namespace"], m["old_hash"], m["status"]) for m in done["migrations"]] == [
        ("pipe.steps.Train", v1["0.03"]["train"], "migrated"),
        ("pipe.steps.Evaluate", v1["0.03"]["eval"], "migrated"),
    ]
    assert lines[3] == "Migrations of pipe.steps.Train: 2 experiment(s) (2 migrated)"
    assert "`average` added = True" in lines[4]
    assert lines[-1] == "True False"


CRASH = """
import furu, furu._staging
from pipe.steps import Train

def boom(*args, **kwargs):
    raise OSError(28, "No space left on device")

furu._staging.publish = boom
plan = furu.migrate(Train, default=True, hashes=["{prefix}"])
print(plan.migrations[0].status, plan.migrations[0].reason)
print(Train(lr=0.1).exists())
"""


def test_a_migration_cut_short_leaves_a_miss_and_can_be_redone(project: Project) -> None:
    v1 = project.pipeline()
    project.write(V2)
    prefix = v1["0.1"]["train"][:7]
    script = CRASH.format(prefix=prefix)
    first, second = project.run(sys.executable, "-c", script).stdout.splitlines()
    assert first.startswith("failed ")
    assert "No space left on device" in first
    assert second == "False"  # no SUCCESS.json: a miss, never a half-made result
    dry = project.furu(
        "migrate", "pipe.steps.Train", "--default", "--dry-run", "--json", "--hash", prefix
    )
    new_dir = project.class_dir("Train") / json.loads(dry.stdout)["migrations"][0]["new_hash"]
    assert (new_dir / ".furu").is_dir()  # the cut-short migration was there
    # No links are left where a later computation of the step would start from them.
    left = [p for p in new_dir.rglob("*") if p.is_symlink()] if new_dir.exists() else []
    assert left == []
    redo = json.loads(
        project.furu(
            "migrate",
            "pipe.steps.Train",
            "--default",
            "--hash",
            prefix,
            "--yes",
            "--json",
        ).stdout
    )
    assert [m["status"] for m in redo["migrations"]] == ["migrated", "migrated"]
    assert project.pipeline()["0.1"]["score"] == v1["0.1"]["score"]
    assert sorted(project.created()) == ["Evaluate", "Train"]  # lr=0.03, never migrated


def test_a_rename_without_declaration_migrates_with_the_rename_option(project: Project) -> None:
    v1 = project.pipeline()
    project.write(
        {"train_fields": "learning_rate: float", "lr": "self.learning_rate"}, "learning_rate"
    )
    proc = project.furu("migrate", "pipe.steps.Train", "--dry-run", check=False)
    assert proc.returncode == 1
    assert "field 'learning_rate' is new and has no default" in proc.stderr
    assert "if it is 'lr' renamed, say so" in proc.stderr
    assert "(--rename lr=learning_rate)" in proc.stderr
    done = json.loads(
        project.furu(
            "migrate", "pipe.steps.Train", "--rename", "lr=learning_rate", "--yes", "--json"
        ).stdout
    )
    trains = [m for m in done["migrations"] if m["namespace"] == "pipe.steps.Train"]
    assert [m["changes"] for m in trains] == [
        [{"field": "learning_rate", "kind": "renamed", "old": "lr", "new": "learning_rate"}]
    ] * 2
    assert done["counts"]["migrated"] == 4
    v2 = project.pipeline()
    assert project.created() == []
    assert {lr: r["score"] for lr, r in v2.items()} == {lr: r["score"] for lr, r in v1.items()}
