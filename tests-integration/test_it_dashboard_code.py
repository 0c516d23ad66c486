"""The dashboard after a code change, in Chromium (ADR 0005, issue item 5).

A tiny project is written into a temporary directory and really run (v1: `TrainModel(lr)` and
`Evaluate(model)`, named by a `FuruList`); `furu manifest` records its code. Then its source
changes (v2: `TrainModel` gains `average: bool = False`, the list names one more experiment, and
a new class `Report` has no experiment yet), and a real `furu-dashboard serve` runs over the
store with the project as its working directory. In the browser: "Refresh from code" runs
`furu manifest` through the server; the DAG from the code shows `Report` apart and the stale
counts; the experiments table marks the stale experiments and the "stale" chip filters them;
the code's page lists the named experiments, one "defined, not yet run"; the migration helper
previews old hash → new hash, migrates after a confirmation, and the stale count goes down; the
migrated experiment says where it came from.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from dashboard_fixtures import Dashboard, open_with_token, serve, shoot

STEPS_V1 = """
import furu


class TrainModel(furu.Furu[float]):
    lr: float = 0.1

    def _create(self) -> float:
        (self.furu_dir / "weights.txt").write_text(str(self.lr))
        return self.lr

    def _load(self) -> float:
        return float((self.furu_dir / "weights.txt").read_text())


class Evaluate(furu.Furu[float]):
    model: TrainModel

    def _create(self) -> float:
        score = 1.0 - self.model.load_or_create()
        (self.furu_dir / "score.txt").write_text(str(score))
        return score

    def _load(self) -> float:
        return float((self.furu_dir / "score.txt").read_text())


class Sweep(furu.FuruList[Evaluate]):
    baseline = Evaluate(model=TrainModel(lr=0.1))
    small_lr = Evaluate(model=TrainModel(lr=0.03))
"""

# v2: a field added with a default, one more named experiment, a class without experiments.
STEPS_V2 = (
    STEPS_V1.replace(
        "    lr: float = 0.1\n",
        "    lr: float = 0.1\n    average: bool = False\n",
    ).replace(
        "    small_lr = Evaluate(model=TrainModel(lr=0.03))\n",
        "    small_lr = Evaluate(model=TrainModel(lr=0.03))\n"
        "    averaged = Evaluate(model=TrainModel(lr=0.1, average=True))\n",
    )
    + """

class Report(furu.Furu[str]):
    evaluation: Evaluate

    def _create(self) -> str:
        return f"score {self.evaluation.load_or_create()}"

    def _load(self) -> str:
        return "report"
"""
)

RUN = "from evoproj.steps import Sweep\nfor e in Sweep.all():\n    e.load_or_create()\n"
TRAIN = "evoproj.steps.TrainModel"


@dataclass
class Project:
    path: Path
    root: Path
    env: dict[str, str]

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, *args],
            cwd=self.path,
            env=self.env,
            check=True,
            timeout=300,
            capture_output=True,
            text=True,
        )

    def furu(self, *args: str) -> subprocess.CompletedProcess[str]:
        exe = shutil.which("furu", path=str(Path(sys.executable).parent))
        assert exe, f"the furu command is not installed beside {sys.executable}"
        return subprocess.run(
            [exe, *args],
            cwd=self.path,
            env=self.env,
            check=True,
            timeout=300,
            capture_output=True,
            text=True,
        )

    def write_steps(self, source: str) -> None:
        steps = self.path / "evoproj" / "steps.py"
        steps.write_text(textwrap.dedent(source).lstrip())
        for cached in (self.path / "evoproj").rglob("__pycache__"):
            shutil.rmtree(cached)


def make_project(directory: Path) -> Project:
    path = directory / "project"
    (path / "evoproj").mkdir(parents=True)
    (path / "evoproj" / "__init__.py").write_text("")
    (path / "pyproject.toml").write_text(
        '[project]\nname = "evoproj"\nversion = "0.1.0"\n\n[tool.furu]\nmodules = ["evoproj.steps"]\n'
    )
    root = directory / "store"
    env = {k: v for k, v in os.environ.items() if not k.startswith("FURU_")}
    env.update(FURU_PATH=str(root), FURU_IGNORE_DIFF="1", PYTHONPATH=str(path))
    project = Project(path, root, env)
    project.write_steps(STEPS_V1)
    return project


@pytest.fixture(scope="module")
def evolved(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Project, Dashboard]]:
    """v1 run and recorded, the source changed to v2, a dashboard over the store."""
    directory = tmp_path_factory.mktemp("code-change")
    project = make_project(directory)
    project.run("-c", RUN)
    project.furu("manifest")
    project.write_steps(STEPS_V2)
    work = directory / "server"
    work.mkdir()
    with serve(project.root, work, project=project.path, env=project.env) as server:
        yield project, server


def stale_count(server: Dashboard, query: str = "stale = true") -> int:
    body = server.api("/api/experiments/search", "POST", json={"query": query, "limit": 1})
    body.raise_for_status()
    total: int = body.json()["total"]
    return total


def test_the_code_view_stale_badges_and_the_migration_helper(
    evolved: tuple[Project, Dashboard], page: Any
) -> None:
    project, server = evolved
    # The manifest still describes v1: nothing is stale, and the code DAG has no Report.
    assert stale_count(server) == 0

    # The DAG from the code: refresh it from the (changed) code through the server.
    open_with_token(page, server.url + "/dag?source=code")
    expect(page.get_by_test_id("dag")).to_have_attribute("data-source", "code")
    expect(
        page.locator("[data-testid=dag-node][data-namespace='evoproj.steps.Report']")
    ).to_have_count(0)
    page.get_by_role("button", name="Refresh from code").click()
    refresh = page.get_by_test_id("manifest-refresh")
    expect(refresh).to_have_attribute("data-task-status", "succeeded", timeout=90_000)
    report = page.locator("[data-testid=dag-node][data-namespace='evoproj.steps.Report']")
    expect(report).to_be_visible(timeout=30_000)
    expect(report).to_have_attribute("data-defined-only", "true")
    expect(report).to_contain_text("defined in the code, no experiments yet")
    expect(page.get_by_test_id("dag-defined-only")).to_contain_text(
        "Defined in the code, no experiments yet (1)"
    )
    train = page.locator(f"[data-testid=dag-node][data-namespace='{TRAIN}']")
    expect(train.get_by_test_id("dag-stale")).to_have_text("2 stale", timeout=30_000)
    evaluate = page.locator("[data-testid=dag-node][data-namespace='evoproj.steps.Evaluate']")
    expect(evaluate.get_by_test_id("dag-stale")).to_have_text("2 stale")
    shoot(page, "60-dag-from-code-light")

    # Clicking a class lists its experiments beside the graph.
    train.click(position={"x": 60, "y": 20})
    panel = page.get_by_test_id("dag-class-panel")
    expect(panel.get_by_test_id("class-experiments")).to_contain_text("2 experiments")

    # The experiments table: stale badges with their reason, the "stale" chip filters them.
    page.goto(server.url + "/experiments")
    expect(page.get_by_test_id("experiments-total")).to_have_text("4 experiments")
    page.get_by_test_id("stale-chip").click()
    expect(page).to_have_url(re.compile(r"q=stale%20%3D%20true"))
    expect(page.get_by_test_id("experiments-total")).to_have_text("4 experiments")
    badges = page.get_by_test_id("stale-badge")
    expect(badges).to_have_count(4)
    expect(page.locator("[data-stale-kind=fields-changed]")).to_have_count(2)
    expect(page.locator("[data-stale-kind=dependency-stale]")).to_have_count(2)
    assert "average" in (
        page.locator("[data-stale-kind=fields-changed]").first.get_attribute("title") or ""
    )
    shoot(page, "61-experiments-stale-light")

    # The code's experiments: named, one defined and not yet run, each with its Python.
    page.goto(server.url + "/code")
    sweep = page.get_by_test_id("furu-list")
    expect(sweep).to_have_attribute("data-list", "evoproj.steps:Sweep")
    averaged = sweep.locator("[data-testid=defined-experiment][data-name=averaged]")
    expect(averaged.get_by_test_id("defined-status")).to_have_text("defined, not yet run")
    # v2 changed every config's hash: none of them is in the store until a migration.
    expect(sweep.get_by_text("3 experiments · 3 not yet run")).to_be_visible()
    averaged.get_by_role("button", name="Show the Python of averaged").click()
    expect(page.get_by_test_id("defined-snippet")).to_contain_text("average=True")
    shoot(page, "62-code-experiments-light")

    # The migration helper, reached from the DAG's stale badge.
    page.goto(server.url + "/dag?source=code")
    page.locator(f"[data-testid=dag-node][data-namespace='{TRAIN}']").get_by_test_id(
        "dag-stale"
    ).click()
    expect(page).to_have_url(re.compile(r"/migrate\?ns=evoproj\.steps\.TrainModel"))
    helper = page.get_by_test_id("class-migration")
    expect(helper.get_by_test_id("stale-count")).to_have_text("(2)")
    expect(helper.get_by_test_id("to-migrate")).to_have_attribute("data-count", "2")
    rows = helper.get_by_test_id("stale-row")
    expect(rows).to_have_count(2)
    expect(rows.first.get_by_test_id("stale-changes")).to_contain_text(
        "average is new", timeout=60_000
    )
    helper.get_by_role("radio", name="new default").check()
    helper.get_by_role("button", name="Preview").click()
    table = helper.get_by_test_id("preview-table")
    expect(table).to_be_visible(timeout=60_000)
    old_hashes = {
        r.get_attribute("data-old"): r.get_attribute("data-new")
        for r in table.locator(f"[data-testid=plan-row][data-namespace='{TRAIN}']").all()
    }
    assert len(old_hashes) == 2, old_hashes
    # Their dependents (the two Evaluates) are migrated with them.
    expect(
        table.locator("[data-testid=plan-row][data-namespace='evoproj.steps.Evaluate']")
    ).to_have_count(2)
    shoot(page, "63-migrate-preview-light")
    # Nothing is written by a preview.
    assert stale_count(server, f"namespace = {TRAIN} and stale = true") == 2

    helper.get_by_role("button", name="Migrate…").click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text("Migrate")
    dialog.get_by_role("button", name="Migrate", exact=True).click()
    progress = helper.get_by_test_id("migration-progress")
    expect(progress).to_have_attribute("data-task-status", "succeeded", timeout=120_000)
    expect(progress.get_by_test_id("migration-result")).to_contain_text("migrated")
    # Their results are reused by the aliases: none is left to migrate. (The old directories
    # stay stale, since the code no longer makes them; the aliases are not.)
    expect(helper.get_by_test_id("to-migrate")).to_have_attribute("data-count", "0", timeout=30_000)
    expect(helper.locator("[data-testid=stale-row][data-migrated=true]")).to_have_count(2)
    shoot(page, "64-migrate-done-light")
    assert stale_count(server, 'migrated_from startswith "evoproj.steps." and stale = true') == 0
    assert stale_count(server, 'migrated_from startswith "evoproj.steps."') == 4

    # The migrated experiment (the new hash) says where it came from, with a link.
    old, new = next((o, n) for o, n in old_hashes.items() if o and n)
    page.goto(server.url + f"/experiments/{TRAIN}/{new}")
    came_from = page.get_by_test_id("migrated-from")
    expect(came_from).to_contain_text("migrated from")
    came_from.get_by_role("link", name=old[:10]).click()
    expect(page.get_by_test_id("experiment-hash")).to_have_text(old)

    # The code's experiments are now in the store, except the one v2 added.
    page.goto(server.url + "/code")
    status = page.locator("[data-testid=defined-experiment][data-name=baseline]").get_by_test_id(
        "defined-status"
    )
    expect(status).to_contain_text("success")
    expect(page.get_by_test_id("furu-list")).to_contain_text("3 experiments · 1 not yet run")

    # The FuruList's names are the display names of what the code reaches (now the aliases).
    page.goto(server.url + "/experiments?q=namespace%20%3D%20evoproj.steps.Evaluate")
    cell = page.get_by_role("gridcell", name="baseline", exact=True)
    expect(cell).to_have_count(1)
    cell.click()
    expect(page.get_by_test_id("experiment-title")).to_have_text("baseline")
    expect(page.get_by_test_id("experiment-class")).to_have_text("Evaluate")

    # And the v2 code finds the migrated results: its named baseline is a cache hit.
    check = project.run(
        "-c",
        "import json\nfrom evoproj.steps import Sweep\n"
        "print(json.dumps(Sweep.by_name('baseline').model.exists()))",
    )
    assert json.loads(check.stdout.strip().splitlines()[-1]) is True

    # A migration can be undone from the alias's page: the alias goes, the old result stays.
    page.goto(server.url + f"/experiments/{TRAIN}/{new}")
    page.get_by_role("button", name="Undo migration…").click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text("Undo this migration?")
    dialog.get_by_role("button", name="Undo migration").click()
    expect(page.get_by_test_id("experiment-hash")).to_have_text(old)
    assert server.api(f"/api/experiments/{TRAIN}/{new}").status_code == 404
    assert server.api(f"/api/experiments/{TRAIN}/{old}").json()["result_status"] == "success"
