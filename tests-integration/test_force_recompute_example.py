"""FURU_FORCE_RECOMPUTE on the README's example pipeline, run as a user runs it.

`examples/pipeline.py` builds `Evaluate -> TrainModel -> MakeDataset` seven times (one shared
dataset). Once everything is cached, forcing the inner `TrainModel` must still retrain every
model once, although the `Evaluate` steps above it are cached: by default the evaluations keep
their (now older) results; with FURU_FORCE_RECOMPUTE_DEPENDENTS=1 they are recomputed too.
"""

from __future__ import annotations

import json
import re
import subprocess
from collections import Counter
from pathlib import Path

import pytest

import furu
from test_examples import PIPELINE, created_and_loaded, run, run_pipeline

TRAIN = "ml_pipeline.steps.TrainModel"
EVALUATE = "ml_pipeline.steps.Evaluate"
DATASET = "ml_pipeline.steps.MakeDataset"


def attempts(store: Path) -> dict[str, list[int]]:
    """The attempt count of every step of the store, by namespace (sorted)."""
    found: dict[str, list[int]] = {}
    for step_dir in furu.Store(store).step_dirs():
        found.setdefault(step_dir.id.namespace, []).append(step_dir.read_state().attempts)
    return {namespace: sorted(counts) for namespace, counts in found.items()}


def created_at(store: Path, namespace: str) -> dict[str, float]:
    """`SUCCESS.json`'s `created_at` of every step of a class, by hash."""
    return {
        d.id.hash: json.loads(d.success_path.read_text())["created_at"]
        for d in furu.Store(store).step_dirs()
        if d.id.namespace == namespace
    }


def transitions(stderr: str) -> Counter[tuple[str, str]]:
    """How often each (class, transition) was logged, e.g. ("TrainModel", "success->recompute")."""
    return Counter(re.findall(r"load_or_create (\w+) [0-9a-f]{9} \(([a-z>-]+)\)", stderr))


def table(stdout: str) -> list[str]:
    """The results table's rows (one per experiment, ending with its hash)."""
    return [line for line in stdout.splitlines() if re.search(r"\s[0-9a-f]{20}$", line)]


@pytest.fixture
def cached(tmp_path: Path) -> tuple[Path, subprocess.CompletedProcess[str]]:
    """A store where the example pipeline ran once: every step cached, one attempt each."""
    first = run_pipeline(tmp_path)
    store = tmp_path / "furu-data"
    assert attempts(store) == {TRAIN: [1] * 7, EVALUATE: [1] * 7, DATASET: [1]}
    return store, first


def run_ok(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    result = run([str(PIPELINE)], tmp_path, **env)
    assert result.returncode == 0, f"--- stdout\n{result.stdout}\n--- stderr\n{result.stderr}"
    return result


@pytest.mark.timeout(180)
def test_forcing_train_model_retrains_every_model_once_below_cached_evaluations(
    tmp_path: Path, cached: tuple[Path, subprocess.CompletedProcess[str]]
) -> None:
    store, first = cached
    evaluated_before = created_at(store, EVALUATE)

    forced = run_ok(tmp_path, FURU_FORCE_RECOMPUTE=TRAIN)

    # The README's example: "retrains every model once".
    assert created_and_loaded(forced.stdout) == (7, 8)  # 7 models; 7 evaluations + the dataset
    assert attempts(store) == {TRAIN: [2] * 7, EVALUATE: [1] * 7, DATASET: [1]}
    assert transitions(forced.stderr) == {("TrainModel", "success->recompute"): 7}
    # The cached evaluations keep their results, which are now older than the models they
    # scored: the table is the same (the training is deterministic), read from cache.
    assert table(forced.stdout) == table(first.stdout)
    assert created_at(store, EVALUATE) == evaluated_before
    trained = created_at(store, TRAIN)
    assert all(trained[h] > max(evaluated_before.values()) for h in trained)

    # Once per process: the next run without the setting loads everything.
    again = run_ok(tmp_path)
    assert created_and_loaded(again.stdout) == (0, 7)
    assert attempts(store) == {TRAIN: [2] * 7, EVALUATE: [1] * 7, DATASET: [1]}


@pytest.mark.timeout(180)
def test_forcing_train_model_with_dependents_also_rescores_every_model(
    tmp_path: Path, cached: tuple[Path, subprocess.CompletedProcess[str]]
) -> None:
    store, first = cached

    forced = run_ok(tmp_path, FURU_FORCE_RECOMPUTE=TRAIN, FURU_FORCE_RECOMPUTE_DEPENDENTS="1")

    assert created_and_loaded(forced.stdout) == (14, 1)  # only the dataset is loaded
    assert attempts(store) == {TRAIN: [2] * 7, EVALUATE: [2] * 7, DATASET: [1]}
    assert transitions(forced.stderr) == {
        ("TrainModel", "success->recompute"): 7,
        ("Evaluate", "success->recompute"): 7,
    }
    assert table(forced.stdout) == table(first.stdout)
    trained, evaluated = created_at(store, TRAIN), created_at(store, EVALUATE)
    # Each evaluation starts once its own model is retrained (ms stamps may tie); parallel
    # workers may start one evaluation before another, unrelated model has finished.
    for step_dir in furu.Store(store).step_dirs():
        if step_dir.id.namespace == EVALUATE:
            (model,) = (step_dir.read_metadata() or {})["dependencies"]
            assert evaluated[step_dir.id.hash] >= trained[model["hash"]]


@pytest.mark.timeout(180)
def test_forcing_evaluate_rescores_without_retraining(
    tmp_path: Path, cached: tuple[Path, subprocess.CompletedProcess[str]]
) -> None:
    store, _ = cached

    forced = run_ok(tmp_path, FURU_FORCE_RECOMPUTE=EVALUATE)  # examples/README.md's example

    assert attempts(store) == {TRAIN: [1] * 7, EVALUATE: [2] * 7, DATASET: [1]}
    assert transitions(forced.stderr) == {("Evaluate", "success->recompute"): 7}


@pytest.mark.timeout(180)
@pytest.mark.parametrize(
    ("dependents", "counts", "evaluate_line"),
    [
        ("0", "plan: 7 to create, 8 cached", None),
        (
            "1",
            "plan: 14 to create, 1 cached",
            r"  create Evaluate [0-9a-f]{9} \(dependent[:)].* after ",
        ),
    ],
)
def test_dry_run_shows_the_forced_inner_steps_and_changes_nothing(
    tmp_path: Path,
    cached: tuple[Path, subprocess.CompletedProcess[str]],
    dependents: str,
    counts: str,
    evaluate_line: str | None,
) -> None:
    store, _ = cached

    dry = run_ok(
        tmp_path,
        FURU_DRY_RUN="1",
        FURU_FORCE_RECOMPUTE=TRAIN,
        FURU_FORCE_RECOMPUTE_DEPENDENTS=dependents,
    )

    lines = dry.stdout.splitlines()
    assert lines[0] == counts
    forced = [
        line for line in lines if re.match(r"  create TrainModel [0-9a-f]{9} \(forced[:)]", line)
    ]
    assert len(forced) == 7
    rescored = [line for line in lines if evaluate_line and re.match(evaluate_line, line)]
    assert len(rescored) == (7 if evaluate_line else 0)
    assert all(" after TrainModel " in line for line in rescored)
    assert attempts(store) == {TRAIN: [1] * 7, EVALUATE: [1] * 7, DATASET: [1]}


@pytest.mark.timeout(60)
def test_a_malformed_dependents_setting_names_the_variable(tmp_path: Path) -> None:
    result = run(["-c", "import furu"], tmp_path, FURU_FORCE_RECOMPUTE_DEPENDENTS="evaluations")

    assert result.returncode == 1
    assert "FuruConfigError" in result.stderr
    assert "FURU_FORCE_RECOMPUTE_DEPENDENTS='evaluations' is not a boolean" in result.stderr
