"""furu's pytest plugin, used as a user would: a sample project's own tests, run by `pytest`.

The sample project has no conftest.py: the `furu_store` fixture must come from the `pytest11`
entry point furu-core installs. Each run is a real `python -m pytest` subprocess.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

STEPS = """
import furu


class Dataset(furu.Furu[list[int]]):
    name: str = "big"

    def _create(self) -> list[int]:
        raise RuntimeError("the real dataset takes a day; tests stub it")

    def _load(self) -> list[int]:
        raise RuntimeError("never loaded in these tests")


class Train(furu.Furu[float]):
    dataset: Dataset = furu.chz.field(default_factory=Dataset)
    lr: float = 0.1

    def _create(self) -> float:
        data = self.dataset.load_or_create()
        (self.furu_dir / "loss.txt").write_text(repr(self.lr * sum(data)))
        return 0.0

    def _load(self) -> float:
        return float((self.furu_dir / "loss.txt").read_text())


class Report(furu.Furu[str]):
    train: Train = furu.chz.field(default_factory=Train)

    def _create(self) -> str:
        (self.furu_dir / "report.txt").write_text(f"loss {self.train.load_or_create():g}")
        return ""

    def _load(self) -> str:
        return (self.furu_dir / "report.txt").read_text()
"""

# The tests run in file order: the second one checks that the first one's store is gone.
TESTS = """
import os

import furu
import furu.testing
import pytest

from steps import Dataset, Report, Train


def test_a_step_with_its_dataset_stubbed(furu_store, tmp_path):
    assert furu_store.root == tmp_path / "furu-data"
    assert furu.get_furu_root() == furu_store.root
    assert os.environ["FURU_PATH"] == str(furu_store.root)
    train = Train(lr=0.5)
    with furu.testing.stub(train.dataset, [1, 2, 3]):
        assert train.load_or_create() == 3.0
    assert [d.id.namespace for d in furu_store.step_dirs()] == ["steps.Train"]
    furu.FURU_CONFIG.force_recompute = frozenset({"ALL"})  # undone after the test
    os.environ["FURU_LOG_LEVEL"] = "DEBUG"  # removed after the test


def test_each_test_has_a_store_of_its_own(furu_store):
    assert list(furu_store.step_dirs()) == []
    assert furu.FURU_CONFIG.force_recompute == frozenset()
    assert "FURU_LOG_LEVEL" not in os.environ
    report = Report()
    with furu.testing.stub(report, "train.dataset", [10]):
        assert report.load_or_create() == "loss 1"
    assert report.train.load_existing() == 1.0
    with pytest.raises(furu.FuruNotFoundError, match="load_existing"):
        report.train.dataset.load_existing()


def test_without_the_fixture(tmp_path):
    assert not str(furu.get_furu_root()).startswith(str(tmp_path))
    print("ROOT", furu.get_furu_root())
"""


AUTOUSE_TESTS = """
import furu


def test_every_test_is_isolated_without_asking(tmp_path):
    assert furu.get_furu_root() == tmp_path / "furu-data"
"""


def sample_project(tmp_path: Path, ini: str = "") -> Path:
    project = tmp_path / "project"
    project.mkdir()
    (project / "pyproject.toml").write_text(
        '[project]\nname = "sample"\nversion = "0"\n\n[tool.pytest.ini_options]\n'
        f"addopts = ['-p', 'no:cacheprovider']\n{ini}"
    )
    (project / "steps.py").write_text(STEPS)
    (project / "test_sample.py").write_text(textwrap.dedent(TESTS))
    (project / "test_autouse.py").write_text(AUTOUSE_TESTS)
    return project


def run_pytest(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FURU_", "PYTEST_", "COV_"))}
    env["PYTHONPATH"] = str(project)
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-s", "-p", "no:randomly", *args],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_the_entry_point_gives_a_sample_project_the_fixture(tmp_path: Path) -> None:
    project = sample_project(tmp_path)
    result = run_pytest(project, "test_sample.py")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "3 passed" in result.stdout
    # Opt-in: the test without the fixture used the project's ordinary store, and wrote nothing.
    assert f"ROOT {project / 'furu-data'}" in result.stdout
    assert not (project / "furu-data").exists()


def test_the_plugin_is_the_entry_point_named_furu(tmp_path: Path) -> None:
    result = run_pytest(sample_project(tmp_path), "-p", "no:furu", "test_sample.py")
    assert result.returncode != 0
    assert "fixture 'furu_store' not found" in result.stdout


def test_the_ini_option_isolates_every_test(tmp_path: Path) -> None:
    project = sample_project(tmp_path)
    off = run_pytest(project, "test_autouse.py")
    assert off.returncode == 1, off.stdout + off.stderr  # opt-in: not isolated by default
    (project / "pyproject.toml").write_text(
        (project / "pyproject.toml").read_text() + "furu_isolate_store = true\n"
    )
    on = run_pytest(project, "test_autouse.py")
    assert on.returncode == 0, on.stdout + on.stderr
    assert "1 passed" in on.stdout


def test_loading_the_plugin_imports_no_furu_before_the_user_s_conftest(tmp_path: Path) -> None:
    project = sample_project(tmp_path)
    (project / "conftest.py").write_text(
        "import os, sys\n"
        "assert 'furu' not in sys.modules, 'the plugin imported furu at startup'\n"
        f"os.environ['FURU_PATH'] = {str(tmp_path / 'from-conftest')!r}\n"
    )
    (project / "test_conftest_env.py").write_text(
        "import furu\n\n\ndef test_root():\n"
        f"    assert str(furu.get_furu_root()) == {str(tmp_path / 'from-conftest')!r}\n"
    )
    result = run_pytest(project, "test_conftest_env.py")
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("module", ["furu", "furu.testing"])
def test_furu_never_imports_pytest(module: str) -> None:
    code = f"import sys, {module}; print(sorted(m for m in sys.modules if 'pytest' in m))"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert out.stdout.strip() == "[]"
