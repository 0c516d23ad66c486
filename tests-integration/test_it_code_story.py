"""The issue's story from the shell, in one temporary project whose code changes four times.

v1 runs. v2 adds `average: bool = False` to `TrainModel`: `furu explain` and a dry run name the
field and count the results it orphans, `furu migrate --default` reuses them (dependents too),
and the v2 pipeline creates nothing. v3 renames `lr` to `learning_rate` with a declared
migration: it loads without any command. v4 removes the class `Legacy`: `furu stale` lists its
result as `class-removed`, and `furu dag --mermaid` draws `Report`, a class with no
experiments. (The server's and the dashboard's part of the story: test_it_server_migrate.py
and test_it_dashboard_code.py.)
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

import furu

STEPS = """
import furu
from pathlib import Path

CREATED = Path(__file__).with_name("created.log")


def _note(what):
    with open(CREATED, "a") as log:
        log.write(what + "\\n")


class Data(furu.Furu[int]):
    n: int = 3

    def _create(self) -> int:
        _note("Data")
        (self.furu_dir / "data.txt").write_text(str(self.n))
        return self.n

    def _load(self) -> int:
        return int((self.furu_dir / "data.txt").read_text())


class TrainModel(furu.Furu[float]):
    data: Data
    LR_FIELD
    EXTRA

    def _create(self) -> float:
        _note("TrainModel")
        (self.furu_dir / "weights.txt").write_text(str(self.LR_NAME * self.data.load_or_create()))
        return self.LR_NAME

    def _load(self) -> float:
        return float((self.furu_dir / "weights.txt").read_text())


class Evaluate(furu.Furu[float]):
    model: TrainModel

    def _create(self) -> float:
        _note("Evaluate")
        score = self.model.load_or_create() * 2
        (self.furu_dir / "score.txt").write_text(str(score))
        return score

    def _load(self) -> float:
        return float((self.furu_dir / "score.txt").read_text())


class Report(furu.Furu[str]):
    evaluation: Evaluate

    def _create(self) -> str:
        return "report"

    def _load(self) -> str:
        return "report"

LEGACY
"""

LEGACY = """
class Legacy(furu.Furu[int]):
    x: int = 1

    def _create(self) -> int:
        _note("Legacy")
        return self.x

    def _load(self) -> int:
        return self.x
"""

RUN = """
from story.steps import Data, Evaluate, TrainModel

STEPS = [Evaluate(model=TrainModel(data=Data(), LR_NAME=lr)) for lr in (0.1, 0.3)]

if __name__ == "__main__":
    import story.steps as steps
    for step in STEPS:
        print("score", step.load_or_create())
    if hasattr(steps, "Legacy"):
        steps.Legacy().load_or_create()
"""


def write(project: Path, *, lr: str, extra: str = "", legacy: bool = True) -> None:
    """The project's code: `lr` names the learning-rate field, `extra` more class body."""
    (project / "story").mkdir(parents=True, exist_ok=True)
    (project / "story" / "__init__.py").write_text("")
    steps = STEPS.replace("LR_FIELD", f"{lr}: float = 0.1").replace("LR_NAME", lr)
    steps = steps.replace("EXTRA", extra or "pass").replace("LEGACY", LEGACY if legacy else "")
    (project / "story" / "steps.py").write_text(steps)
    (project / "story" / "run.py").write_text(RUN.replace("LR_NAME", lr))
    (project / "pyproject.toml").write_text(
        '[project]\nname = "story"\nversion = "0"\n\n[tool.furu]\nmodules = ["story.steps"]\n'
    )
    log = project / "story" / "created.log"
    log.unlink(missing_ok=True)


def created(project: Path) -> list[str]:
    log = project / "story" / "created.log"
    return sorted(log.read_text().split()) if log.exists() else []


FURU = Path(sys.executable).with_name("furu")
"""The `furu` command of this environment."""


def sh(project: Path, store: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """`python ARGS` in the project, on the store; fails the test if it fails."""
    return execute([sys.executable, *args], project, store, **env)


def execute(
    argv: list[str], project: Path, store: Path, **env: str
) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("FURU_")}
    base |= {"FURU_PATH": str(store), "PYTHONPATH": str(project), "PYTHONDONTWRITEBYTECODE": "1"}
    done = subprocess.run(
        argv,
        cwd=project,
        env=base | env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, f"{argv}\n--- stdout\n{done.stdout}\n--- stderr\n{done.stderr}"
    return done


def furu_cli(project: Path, store: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return execute([str(FURU), *args], project, store)


@pytest.mark.timeout(300)
def test_a_code_change_is_explained_migrated_declared_and_listed(tmp_path: Path) -> None:
    project, store = tmp_path / "project", tmp_path / "store"

    # v1: everything is created once.
    write(project, lr="lr")
    sh(project, store, "-m", "story.run")
    assert created(project) == [
        "Data",
        "Evaluate",
        "Evaluate",
        "Legacy",
        "TrainModel",
        "TrainModel",
    ]

    # v2 adds a field: explain and a dry run say why, and how many results it orphans.
    write(project, lr="lr", extra="average: bool = False")
    explained = furu_cli(project, store, "explain", "story.run:STEPS").stdout
    assert "average" in explained, explained
    assert re.search(r"\b2 stored TrainModels?\b", explained), explained
    dry = sh(project, store, "-m", "story.run", FURU_DRY_RUN="1")
    assert "average" in dry.stdout + dry.stderr
    assert created(project) == []

    plan = json.loads(
        furu_cli(
            project, store, "migrate", "story.steps.TrainModel", "--default", "--dry-run", "--json"
        ).stdout
    )
    assert plan["counts"]["planned"] == 4  # 2 models and the 2 evaluations above them
    assert created(project) == []
    furu_cli(project, store, "migrate", "story.steps.TrainModel", "--default", "--yes")
    scores = sh(project, store, "-m", "story.run").stdout
    assert created(project) == []  # the models and evaluations are aliases; Legacy is cached
    assert scores.count("score") == 2

    # v3 renames `lr` with a declared migration: loads without any command.
    write(
        project,
        lr="learning_rate",
        extra=(
            "average: bool = False\n"
            '    furu_migrations = (furu.FieldRenamed(old="lr", new="learning_rate"),)'
        ),
    )
    again = sh(project, store, "-m", "story.run")
    assert created(project) == []
    assert again.stdout == scores

    # v4 removes Legacy: its result is listed as stale, class removed; Report has no experiments.
    write(
        project,
        lr="learning_rate",
        extra=(
            "average: bool = False\n"
            '    furu_migrations = (furu.FieldRenamed(old="lr", new="learning_rate"),)'
        ),
        legacy=False,
    )
    furu_cli(project, store, "manifest")
    stale = json.loads(furu_cli(project, store, "stale", "--json").stdout)
    kinds = {(s["namespace"].rsplit(".", 1)[1], s["kind"]) for s in stale["stale"]}
    assert ("Legacy", "class-removed") in kinds, stale
    mermaid = furu_cli(project, store, "dag", "--mermaid").stdout
    assert "Report" in mermaid, mermaid
    assert "noExperiments" in mermaid, mermaid

    # The reused results are aliases: two models and two evaluations, nothing copied.
    aliases = [
        d for d in furu.Store(store).step_dirs() if (d.meta_dir / "migration.json").is_file()
    ]
    assert len(aliases) >= 4
