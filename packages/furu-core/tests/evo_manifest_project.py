"""A small project written into `tmp_path` and driven by real subprocesses (`furu` commands and
its own pipeline), for the manifest, dag and stale tests. Its code changes between runs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

STEPS_V1 = '''
"""The project's steps."""
import json
from typing import Optional

import furu


class MakeDataset(furu.Furu[list]):
    """Make a dataset of n numbers."""

    n: int = 4

    def _create(self) -> list:
        data = list(range(self.n))
        (self.furu_dir / "data.json").write_text(json.dumps(data))
        return data

    def _load(self) -> list:
        return json.loads((self.furu_dir / "data.json").read_text())


class TrainModel(furu.Furu[float]):
    """Train a model."""

    dataset: MakeDataset
    lr: float = 0.1

    def _create(self) -> float:
        value = sum(self.dataset.load_or_create()) * self.lr
        (self.furu_dir / "model.json").write_text(json.dumps(value))
        return value

    def _load(self) -> float:
        return json.loads((self.furu_dir / "model.json").read_text())


class Evaluate(furu.Furu[float]):
    model: TrainModel
    baseline: Optional[list[TrainModel]] = None

    def _create(self) -> float:
        value = self.model.load_or_create() + 1
        (self.furu_dir / "score.json").write_text(json.dumps(value))
        return value

    def _load(self) -> float:
        return json.loads((self.furu_dir / "score.json").read_text())


class Tokenize(furu.Furu[int]):
    size: int = 5

    def _create(self) -> int:
        return self.size

    def _load(self) -> int:
        return self.size


class Legacy(furu.Furu[int]):
    x: int = 1

    def _create(self) -> int:
        return self.x

    def _load(self) -> int:
        return self.x


class Report(furu.Furu[str]):
    """A report no experiment has asked for yet."""

    title: str = "summary"

    @classmethod
    def _dependencies(cls) -> list:
        return [Tokenize()]

    def _create(self) -> str:
        return self.title

    def _load(self) -> str:
        return self.title
'''

EXPERIMENTS = """
import furu

from proj.steps import Evaluate, MakeDataset, TrainModel


class Sweep(furu.FuruList[Evaluate]):
    baseline = Evaluate(model=TrainModel(dataset=MakeDataset(), lr=0.1))
    lrs = {"lr03": Evaluate(model=TrainModel(dataset=MakeDataset(), lr=0.3))}
    later = Evaluate(model=TrainModel(dataset=MakeDataset(n=9), lr=0.5))
"""

PIPELINE = """
from proj.experiments import Sweep
from proj.steps import Legacy, Tokenize

Sweep.baseline.load_or_create()
Sweep.by_name("lr03").load_or_create()
Tokenize().load_or_create()
Legacy().load_or_create()
"""

PYPROJECT = """
[project]
name = "proj"
version = "0.1"

[tool.furu]
modules = ["proj.steps", "proj.experiments"]
"""


class Project:
    """The project directory, its store, and how to run things in it."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.store = root / "store"
        self.package = root / "proj"
        self.package.mkdir(parents=True)
        (self.package / "__init__.py").write_text("")
        self.write("steps.py", STEPS_V1)
        self.write("experiments.py", EXPERIMENTS)
        self.write("pipeline.py", PIPELINE)
        (root / "pyproject.toml").write_text(PYPROJECT)

    def write(self, name: str, source: str) -> None:
        (self.package / name).write_text(textwrap.dedent(source).lstrip())
        for cached in (self.package / "__pycache__").glob(f"{Path(name).stem}.*"):
            cached.unlink()  # a same-second edit must not reuse the old bytecode

    def edit(self, name: str, old: str, new: str) -> None:
        path = self.package / name
        text = path.read_text()
        assert old in text, f"{old!r} is not in {path}"
        self.write(name, text.replace(old, new))

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("FURU_")}
        env["FURU_PATH"] = str(self.store)
        env.pop("PYTHONPATH", None)
        return env

    def run(self, *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
        """Run `args` (a python module, or the `furu` command) in the project."""
        return subprocess.run(
            list(args),
            cwd=cwd or self.root,
            env=self.env(),
            capture_output=True,
            text=True,
            timeout=120,
        )

    def pipeline(self) -> subprocess.CompletedProcess[str]:
        done = self.run(sys.executable, "-m", "proj.pipeline")
        assert done.returncode == 0, done.stderr
        return done

    def furu(self, *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
        return self.run(str(furu_command()), *args, cwd=cwd)

    def furu_json(self, *args: str) -> Any:
        done = self.furu(*args, "--json")
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout)

    def manifest_json(self) -> dict[str, Any]:
        return json.loads((self.store / "manifest.json").read_text())


def furu_command() -> Path:
    """The installed `furu` console script of this environment."""
    found = Path(sys.executable).parent / "furu"
    assert found.exists(), f"the furu console script is not installed next to {sys.executable}"
    return found
