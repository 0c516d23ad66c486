"""`furu explain`, `furu diff` and FURU_DRY_RUN in real processes, on a project whose code
changes between two runs (a field added to a step, as users do)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

FURU = Path(sys.executable).with_name("furu")

STEPS_V1 = """
import json

import furu


class Data(furu.Furu[list]):
    n: int = 8

    def _create(self) -> list:
        (self.furu_dir / "data.json").write_text(json.dumps(list(range(self.n))))
        return []

    def _load(self) -> list:
        return json.loads((self.furu_dir / "data.json").read_text())


class TrainModel(furu.Furu[float]):
    data: Data
    lr: float = 0.1

    def _create(self) -> float:
        weight = sum(self.data.load_or_create()) * self.lr
        (self.furu_dir / "model.json").write_text(json.dumps(weight))
        return weight

    def _load(self) -> float:
        return json.loads((self.furu_dir / "model.json").read_text())


class Evaluate(furu.Furu[float]):
    model: TrainModel

    def _create(self) -> float:
        score = self.model.load_or_create() / 10
        (self.furu_dir / "score.json").write_text(json.dumps(score))
        return score

    def _load(self) -> float:
        return json.loads((self.furu_dir / "score.json").read_text())
"""

EXPERIMENTS = """
import furu

from mlpipe.steps import Data, Evaluate, TrainModel

SWEEP = [Evaluate(model=TrainModel(data=Data(), lr=lr)) for lr in (0.1, 0.03, 0.3)]


class Sweep(furu.FuruList[Evaluate]):
    baseline = SWEEP[0]
    small_lr = SWEEP[1]
    large_lr = SWEEP[2]
"""

RUN = """
import furu

from mlpipe.experiments import SWEEP

print(furu.load_or_create_many(SWEEP))
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    (root / "mlpipe").mkdir(parents=True)
    (root / "mlpipe" / "__init__.py").write_text("")
    (root / "mlpipe" / "steps.py").write_text(STEPS_V1)
    (root / "mlpipe" / "experiments.py").write_text(EXPERIMENTS)
    (root / "run.py").write_text(RUN)
    return root


def _run(
    project: Path, *argv: str, check: bool = True, **env: str
) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("FURU_")}
    clean.update(FURU_PATH=str(project / "store"), PYTHONDONTWRITEBYTECODE="1", **env)
    done = subprocess.run(
        argv, cwd=project, env=clean, capture_output=True, text=True, timeout=120, check=False
    )
    if check:
        assert done.returncode == 0, done.stdout + done.stderr
    return done


def _add_average_field(project: Path) -> None:
    steps = project / "mlpipe" / "steps.py"
    text = steps.read_text()
    assert "    lr: float = 0.1\n" in text
    steps.write_text(
        text.replace("    lr: float = 0.1\n", "    lr: float = 0.1\n    average: bool = False\n")
    )


def _train_dirs(project: Path) -> list[Path]:
    return sorted((project / "store" / "data" / "mlpipe" / "steps" / "TrainModel").iterdir())


def test_explain_names_the_added_field_and_counts_the_results_it_orphans(project: Path) -> None:
    assert FURU.exists(), f"the furu command is not installed beside {sys.executable}"
    _run(project, sys.executable, "run.py")
    cached = _run(project, str(FURU), "explain", "mlpipe.experiments:SWEEP")
    assert cached.stdout.splitlines()[0] == "plan: 0 to create, 3 cached"
    assert cached.stdout.count(": cached") == 3

    _add_average_field(project)
    out = _run(project, str(FURU), "explain", "mlpipe.experiments:Sweep").stdout
    lines = out.splitlines()
    assert lines[0] == "plan: 6 to create, 1 cached"
    migrate = "`furu migrate mlpipe.steps.TrainModel --default`"
    assert (
        "  missing: field `average` is new (default False) — 3 stored TrainModels differ only "
        f"in it; migrate them with {migrate}"
    ) in lines
    assert any(
        line.startswith("Evaluate ") and line.endswith("(baseline): to create") for line in lines
    )
    assert (
        "  missing: its `model` (TrainModel): field `average` is new (default False), compared "
        "with the nearest stored Evaluate"
    ) in out
    assert "      added    field `average` is new (default False)" in lines

    data = json.loads(
        _run(project, str(FURU), "explain", "mlpipe.experiments:SWEEP", "--json").stdout
    )
    assert (data["to_create"], data["cached"]) == (6, 1)
    train = next(s for s in data["steps"] if s["namespace"] == "mlpipe.steps.TrainModel")
    missing = train["reasons"][0]
    assert missing["kind"] == "missing"
    assert missing["count"] == 3
    assert missing["neighbours"][0]["changes"] == [
        {
            "kind": "added",
            "path": "average",
            "text": "field `average` is new (default False)",
            "new": False,
            "default": False,
        }
    ]
    assert train["reasons"][1]["kind"] == "migratable"
    assert len(train["reasons"][1]["hashes"]) == 3

    dry = _run(project, sys.executable, "run.py", FURU_DRY_RUN="1")
    logged = dry.stdout + dry.stderr
    assert "FURU_DRY_RUN is set: computing nothing." in logged
    assert "plan: 6 to create, 1 cached" in logged
    assert (
        "(missing: field `average` is new (default False) — 3 stored TrainModels differ only "
        f"in it; migrate them with {migrate})"
    ) in logged
    assert len(_train_dirs(project)) == 3  # a dry run creates nothing


def test_diff_compares_two_stored_experiments(project: Path) -> None:
    _run(project, sys.executable, "run.py")
    records = {
        json.loads((d / ".furu" / "metadata.json").read_text())["furu_obj"]["lr"]: d.name
        for d in _train_dirs(project)
    }
    a, b = records[0.1], records[0.03]
    out = _run(project, str(FURU), "diff", f"TrainModel/{a[:7]}", b[:9]).stdout
    assert out.splitlines() == [
        f"mlpipe.steps.TrainModel/{a} → mlpipe.steps.TrainModel/{b}",
        "  changed  `lr` 0.1 → 0.03",
    ]
    data = json.loads(_run(project, str(FURU), "diff", a[:8], b[:8], "--json").stdout)
    assert data["changes"] == [
        {"kind": "changed", "path": "lr", "text": "`lr` 0.1 → 0.03", "old": 0.1, "new": 0.03}
    ]
    evaluations = sorted((project / "store" / "data" / "mlpipe" / "steps" / "Evaluate").iterdir())
    out = _run(project, str(FURU), "diff", str(evaluations[0]), str(evaluations[1])).stdout
    assert "  step     its `model` (TrainModel) changes `lr` " in out


@pytest.mark.parametrize(
    ("target", "message"),
    [
        ("mlpipe.experiments", "is not module:attr"),
        ("mlpipe.nowhere:SWEEP", "cannot import 'mlpipe.nowhere'"),
        ("mlpipe.experiments:Nope", "module 'mlpipe.experiments' has no attribute 'Nope'"),
        ("mlpipe.steps:json", "is a module, not a furu step"),
    ],
)
def test_explain_says_what_is_wrong_with_a_target(project: Path, target: str, message: str) -> None:
    done = _run(project, str(FURU), "explain", target, check=False)
    assert done.returncode == 1
    assert message in done.stderr
    assert done.stderr.startswith("furu: ")


def test_diff_of_an_unknown_reference(project: Path) -> None:
    _run(project, sys.executable, "run.py")
    done = _run(project, str(FURU), "diff", "TrainModel/ffffff", "TrainModel/eeeeee", check=False)
    assert done.returncode == 1
    assert "no step matches 'TrainModel/ffffff'" in done.stderr
    assert done.stdout == ""
