"""The documentation's code and the example pipeline, executed as a user would run them.

Every ```python block of README.md (and of the other markdown files in DOCS) runs in a fresh
interpreter as a module named after its place, e.g. `readme_block_README_md_46` (steps defined
in `__main__` are refused). The block is written to that module's file on the child's path, but
executed into a module registered by hand rather than imported: a block that runs a batch on worker processes at import time would
otherwise deadlock on the import lock the forked workers inherit. Blocks that cannot run on
their own carry another info string, such as ```python notest.
`examples/pipeline.py` runs twice: the first run creates steps, the second loads them all.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
DOCS = [
    README,
    ROOT / "packages" / "furu-core" / "README.md",
    ROOT / "examples" / "README.md",
    *sorted((ROOT / "docs").rglob("*.md")),
]
PIPELINE = ROOT / "examples" / "pipeline.py"
FENCE = re.compile(r"^```([^\n]*)\n(.*?)^```[ \t]*$", re.DOTALL | re.MULTILINE)
TIMEOUT_SEC = 120
# Runs a file as the importable module `name`, as `import name` would, minus the import lock.
DRIVER = """
import sys, types
path, name = sys.argv[1], sys.argv[2]
module = types.ModuleType(name)
module.__file__ = path
sys.modules[name] = module
with open(path, encoding="utf-8") as f:
    exec(compile(f.read(), path, "exec"), module.__dict__)
"""
HASH_AT_END = re.compile(r"\s[0-9a-f]{20}$")
TABLE_HEADER = ["experiment", "lr", "l2", "epochs", "train", "loss", "accuracy", "hash"]
EXPERIMENTS = {"baseline", "regularised", "lr=0.01", "lr=0.03", "lr=0.1", "lr=1", "lr=3"}


def python_blocks(markdown: str) -> list[tuple[int, str]]:
    """`(line number, code)` of every fenced block whose info string is exactly `python`."""
    blocks = []
    for match in FENCE.finditer(markdown):
        if match.group(1).strip() == "python":
            line = markdown.count("\n", 0, match.start()) + 1
            blocks.append((line, match.group(2)))
    return blocks


def doc_blocks() -> list[tuple[str, str]]:
    """`(where, code)` of every runnable block of DOCS, `where` being e.g. `README.md:46`."""
    blocks = []
    for doc in DOCS:
        where = doc.relative_to(ROOT).as_posix()
        text = doc.read_text(encoding="utf-8")
        blocks += [(f"{where}:{line}", code) for line, code in python_blocks(text)]
    return blocks


DOC_BLOCKS = doc_blocks()


def furu_env(tmp_path: Path) -> dict[str, str]:
    """The environment of a child process whose every write lands under `tmp_path`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("FURU_")}
    env["FURU_PATH"] = str(tmp_path / "furu-data")
    env["FURU_VERSION_CONTROLLED_PATH"] = str(tmp_path / "vc-artifacts")
    env["PYTHONPATH"] = str(tmp_path / "modules")
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


def run(args: list[str], tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    """Run a Python child with the furu environment, working directory `tmp_path / work`."""
    work = tmp_path / "work"
    work.mkdir(exist_ok=True)
    return subprocess.run(
        [sys.executable, *args],
        cwd=work,
        env=furu_env(tmp_path) | env,
        capture_output=True,
        text=True,
        timeout=TIMEOUT_SEC,
        check=False,
    )


def test_readme_has_python_blocks() -> None:
    readme_blocks = [where for where, _ in DOC_BLOCKS if where.startswith("README.md:")]
    assert len(readme_blocks) >= 10, "README.md lost its runnable examples"


@pytest.mark.parametrize(("where", "code"), DOC_BLOCKS, ids=[where for where, _ in DOC_BLOCKS])
def test_doc_block_runs(where: str, code: str, tmp_path: Path) -> None:
    modules = tmp_path / "modules"
    modules.mkdir()
    name = "readme_block_" + re.sub(r"\W", "_", where)
    path = modules / f"{name}.py"
    path.write_text(code, encoding="utf-8")
    result = run(["-c", DRIVER, str(path), name], tmp_path)
    assert result.returncode == 0, (
        f"the python block at {where} failed (exit {result.returncode}).\n"
        f"--- stdout\n{result.stdout}\n--- stderr\n{result.stderr}"
    )


def created_and_loaded(stdout: str) -> tuple[int, int]:
    """The counts of the pipeline's `created N steps, loaded M from cache` line."""
    match = re.search(r"^created (\d+) steps, loaded (\d+) from cache$", stdout, re.MULTILINE)
    assert match, f"no 'created N steps, loaded M from cache' line in:\n{stdout}"
    return int(match.group(1)), int(match.group(2))


@dataclass(frozen=True)
class PipelineRuns:
    """Two runs of `examples/pipeline.py` on one store."""

    store: Path
    first: subprocess.CompletedProcess[str]
    second: subprocess.CompletedProcess[str]


def run_pipeline(tmp_path: Path) -> subprocess.CompletedProcess[str]:
    result = run([str(PIPELINE)], tmp_path)
    assert result.returncode == 0, f"--- stdout\n{result.stdout}\n--- stderr\n{result.stderr}"
    return result


@pytest.fixture(scope="module")
def pipeline(tmp_path_factory: pytest.TempPathFactory) -> PipelineRuns:
    tmp_path = tmp_path_factory.mktemp("pipeline")
    first = run_pipeline(tmp_path)
    return PipelineRuns(tmp_path / "furu-data", first, run_pipeline(tmp_path))


def test_pipeline_first_run_creates_steps(pipeline: PipelineRuns) -> None:
    created, loaded = created_and_loaded(pipeline.first.stdout)
    assert (created, loaded) == (15, 0)
    assert pipeline.first.stderr.count("(missing->create)") == 15


def test_pipeline_second_run_only_loads_from_cache(pipeline: PipelineRuns) -> None:
    assert created_and_loaded(pipeline.second.stdout) == (0, 7)
    assert "->create" not in pipeline.second.stderr
    assert "->recompute" not in pipeline.second.stderr


def test_pipeline_prints_results_table_and_store(pipeline: PipelineRuns) -> None:
    for out in (pipeline.first.stdout, pipeline.second.stdout):
        lines = out.splitlines()
        header = next(line for line in lines if line.startswith("experiment"))
        assert header.split() == TABLE_HEADER
        rows = {line.split()[0]: line.split() for line in lines if HASH_AT_END.search(line)}
        assert set(rows) == EXPERIMENTS
        assert all(0.5 <= float(row[5]) <= 1.0 for row in rows.values())
        assert f"store: {pipeline.store}" in lines
    assert pipeline.first.stdout.split("\n", 1)[1] == pipeline.second.stdout.split("\n", 1)[1]


def test_pipeline_writes_the_promised_files(pipeline: PipelineRuns) -> None:
    steps = pipeline.store / "data" / "ml_pipeline" / "steps"
    expected = {
        "MakeDataset": {"data.jsonl", "data.csv"},
        "TrainModel": {"metrics.jsonl", "model.json"},
        "Evaluate": {"eval.json"},
    }
    for step, files in expected.items():
        for directory in (steps / step).iterdir():
            assert files <= {p.name for p in directory.iterdir()}, directory
            assert (directory / ".furu" / "SUCCESS.json").is_file()
    train_logs = [d / ".furu" / "furu.log" for d in (steps / "TrainModel").iterdir()]
    assert len(train_logs) == 7
    assert all("trained, final loss" in log.read_text() for log in train_logs)


def test_pipeline_dry_run_creates_nothing(tmp_path: Path) -> None:
    result = run([str(PIPELINE)], tmp_path, FURU_DRY_RUN="1")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("plan: 15 to create, 0 cached")
    assert not (tmp_path / "furu-data").exists()
