"""The server's view of a code change, over the wire (a real uvicorn) and real subprocesses.

A temporary project is run (v1), its code changed (v2: `TrainModel` gains `average: bool =
False`, a class `Report` without experiments appears), then the server, which never imports
the project: refreshes the manifest by running `furu manifest` in the project's environment,
flags the stale experiments, draws the code's DAG with `Report`, previews the migration
(`furu migrate --dry-run --json`), applies it (`furu migrate --yes --json`) as a task, and
serves the aliases' files. The v2 pipeline then computes nothing.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from furu_server import ServerSettings
from server_live import live

TOKEN = "it-token-0123456789"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
TASK_DEADLINE_SEC = 120.0

V1 = """
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
    lr: float = 0.1
    # v2-fields

    def _create(self) -> float:
        _note("TrainModel")
        (self.furu_dir / "weights.txt").write_text(str(self.lr * self.data.load_or_create()))
        return self.lr

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


class Paper(furu.FuruList[Evaluate]):
    baseline = Evaluate(model=TrainModel(data=Data(), lr=0.1))
    slower = Evaluate(model=TrainModel(data=Data(), lr=0.03))


def main() -> None:
    for step in Paper.all():
        step.load_or_create()
"""

V2_FIELDS = "average: bool = False"
V2_CLASS = """

class Report(furu.Furu[str]):
    evaluation: Evaluate

    def _create(self) -> str:
        return "report"

    def _load(self) -> str:
        return "report"
"""


@dataclass
class Project:
    dir: Path
    store: Path

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("FURU_")}
        env.update(
            FURU_PATH=str(self.store),
            FURU_IGNORE_DIFF="1",
            PYTHONPATH=str(self.dir),
            PYTHONDONTWRITEBYTECODE="1",
        )
        return env

    def run(self) -> None:
        done = subprocess.run(
            [sys.executable, "-c", "import pipeline; pipeline.main()"],
            cwd=self.dir,
            env=self.env(),
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr

    def created(self) -> list[str]:
        log = self.dir / "created.log"
        return log.read_text().split() if log.exists() else []

    def to_v2(self) -> None:
        source = (self.dir / "pipeline.py").read_text()
        source = source.replace("# v2-fields", V2_FIELDS).replace(
            "\n\nclass Paper", V2_CLASS + "\n\nclass Paper"
        )
        (self.dir / "pipeline.py").write_text(source)


@pytest.fixture
def project(tmp_path: Path) -> Project:
    proj = Project(tmp_path / "proj", tmp_path / "store")
    proj.dir.mkdir()
    (proj.dir / "pyproject.toml").write_text(
        textwrap.dedent(
            """\
            [project]
            name = "pipeline-project"
            version = "0"

            [tool.furu]
            modules = ["pipeline"]
            """
        )
    )
    (proj.dir / "pipeline.py").write_text(V1)
    proj.run()
    assert sorted(proj.created()) == ["Data", "Evaluate", "Evaluate", "TrainModel", "TrainModel"]
    return proj


@pytest.fixture
def server(project: Project, tmp_path: Path) -> Iterator[httpx.Client]:
    settings = ServerSettings(
        root=project.store,
        cache_dir=tmp_path / "cache",
        token=TOKEN,
        rerun_python=sys.executable,
        rerun_cwd=project.dir,
        refresh_interval=0.2,
    )
    with live(settings) as running, httpx.Client(base_url=running.url, timeout=60) as client:
        client.post("/api/index/refresh").raise_for_status()
        yield client


def _wait(client: httpx.Client, path: str) -> dict[str, Any]:
    deadline = time.monotonic() + TASK_DEADLINE_SEC
    while True:
        task: dict[str, Any] = client.get(path).raise_for_status().json()
        if task["status"] != "running":
            return task
        assert time.monotonic() < deadline, f"{path} still running: {task['output_tail']}"
        time.sleep(0.1)


def _search(client: httpx.Client, query: str) -> list[dict[str, Any]]:
    answer = client.post("/api/experiments/search", json={"query": query, "limit": 1000})
    items: list[dict[str, Any]] = answer.raise_for_status().json()["items"]
    return items


def _refresh_manifest(client: httpx.Client) -> dict[str, Any]:
    started = client.post("/api/manifest/refresh", headers=AUTH)
    assert started.status_code == 200, started.text
    assert started.json()["kind"] == "manifest"
    task = _wait(client, f"/api/tasks/{started.json()['id']}")
    assert task["status"] == "succeeded", task["output_tail"]
    client.post("/api/index/refresh").raise_for_status()
    return task


def test_the_story_of_a_code_change_through_the_server(
    project: Project, server: httpx.Client
) -> None:
    client = server
    assert client.get("/api/manifest").json()["error"]["code"] == "manifest_not_found"
    _refresh_manifest(client)
    assert _search(client, "stale = true") == []
    info = client.get("/api/manifest").json()
    (paper,) = info["lists"]
    assert [(e["name"], e["status"]) for e in paper["experiments"]] == [
        ("baseline", "success"),
        ("slower", "success"),
    ]
    assert "load_or_create()" in paper["experiments"][0]["snippet"]
    named = {i["display_name"] for i in _search(client, 'namespace = "pipeline.Evaluate"')}
    assert named == {"baseline", "slower"}

    # v2: a field added with a default, a class without experiments
    project.to_v2()
    _refresh_manifest(client)
    stale = _search(client, "stale = true")
    assert sorted(i["class_name"] for i in stale) == [
        "Evaluate",
        "Evaluate",
        "TrainModel",
        "TrainModel",
    ]
    model = next(i for i in stale if i["class_name"] == "TrainModel")
    assert model["stale_kind"] == "fields-changed"
    assert "`average` was added (default False)" in model["stale_reason"]
    info = client.get("/api/manifest").json()
    assert {e["status"] for e in info["lists"][0]["experiments"]} == {"defined, not yet run"}
    dag = client.get("/api/dag", params={"source": "code"}).json()
    nodes = {n["class_name"]: n for n in dag["nodes"]}
    assert nodes["Report"]["defined_only"] is True
    assert nodes["TrainModel"]["stale"] == 2
    assert nodes["Data"]["stale"] == 0

    body = {"namespace": "pipeline.TrainModel", "mode": "default"}
    plan = client.post("/api/migrations/preview", json=body, headers=AUTH)
    assert plan.status_code == 200, plan.text
    items = plan.json()["items"]
    models = [i for i in items if i["namespace"] == "pipeline.TrainModel"]
    assert {i["old_hash"] for i in models} == {
        i["hash"] for i in stale if i["class_name"] == "TrainModel"
    }
    assert all(i["status"] == "planned" for i in items)
    assert all(
        any(c["field"] == "average" and c["kind"] == "added" for c in i["changes"]) for i in models
    )
    evaluations = [i for i in items if i["namespace"] == "pipeline.Evaluate"]
    assert len(evaluations) == 2
    assert all(i["dependent"] and i["via"] == "model" for i in evaluations)
    assert _search(client, "migrated_from startswith pipeline.") == []  # a dry run writes nothing

    started = client.post("/api/migrations/apply", json=body, headers=AUTH)
    assert started.status_code == 200, started.text
    task = _wait(client, f"/api/migrations/{started.json()['id']}")
    assert task["status"] == "succeeded", task["output_tail"]
    assert task["result"]["counts"]["migrated"] == 4
    client.post("/api/index/refresh").raise_for_status()
    aliases = _search(client, "migrated_from startswith pipeline.")
    assert len(aliases) == 4
    assert all(a["stale"] is False for a in aliases)
    alias = next(a for a in aliases if a["class_name"] == "TrainModel")
    url = f"/api/experiments/{alias['namespace']}/{alias['hash']}"
    detail = client.get(url).json()
    assert detail["migration"]["migrated_from"] == alias["migrated_from"]
    assert detail["migration"]["how"]
    weights = client.get(f"{url}/files/weights.txt")
    assert weights.status_code == 200, weights.text
    assert float(weights.text) == pytest.approx(0.3) or float(weights.text) == pytest.approx(0.09)
    info = client.get("/api/manifest").json()
    assert {e["status"] for e in info["lists"][0]["experiments"]} == {"success"}

    # the v2 pipeline finds every result: nothing is computed again
    before = project.created()
    project.run()
    assert project.created() == before

    # undo one migration: its alias goes, the old result stays and records the undo
    evaluation = next(a for a in aliases if a["class_name"] == "Evaluate")
    ref = f"{evaluation['namespace']}/{evaluation['hash']}"
    assert client.post("/api/migrations/undo", json={"ref": ref}).status_code == 401
    undone = client.post("/api/migrations/undo", json={"ref": ref}, headers=AUTH)
    assert undone.status_code == 200, undone.text
    assert undone.json()["undone"] == [{"alias": ref, "migrated_from": evaluation["migrated_from"]}]
    assert len(_search(client, "migrated_from startswith pipeline.")) == 3
    old = client.get(f"/api/experiments/{evaluation['migrated_from']}").json()
    assert [m["undone"] for m in old["migrations"]] == [False, True]
    again = client.post("/api/migrations/undo", json={"ref": ref}, headers=AUTH)
    assert again.status_code in (404, 422), again.text


def test_migration_requests_that_cannot_run_are_refused_with_a_reason(
    project: Project, server: httpx.Client
) -> None:
    client = server
    body = {"namespace": "pipeline.TrainModel", "mode": "default"}
    assert client.post("/api/migrations/preview", json=body).status_code == 401
    assert client.post("/api/migrations/apply", json=body).status_code == 401
    assert client.post("/api/manifest/refresh").status_code == 401
    for bad, field in (
        ({"namespace": "../../etc", "mode": "default"}, "namespace"),
        ({"namespace": "pipeline.TrainModel", "mode": "value"}, "values"),
        ({"namespace": "pipeline.TrainModel", "mode": "only"}, "hashes"),
        ({"namespace": "pipeline.TrainModel", "mode": "only", "hashes": ["../x"]}, "hashes"),
        ({"namespace": "pipeline.TrainModel", "values": {"x": "y" * 200_000}}, "values"),
        ({"namespace": "pipeline.TrainModel", "where": {"a; rm": 1}}, "where"),
        ({"namespace": "pipeline.TrainModel", "mode": "sideways"}, "mode"),
    ):
        answer = client.post("/api/migrations/preview", json=bad, headers=AUTH)
        assert answer.status_code in (400, 422), (bad, answer.text)
        error = answer.json()["error"]
        assert error["code"] == "invalid_request", error
        assert field in error["message"] or field in str(error["detail"]), error
    gone = client.post(
        "/api/migrations/preview",
        json={"namespace": "pipeline.NoSuchStep", "mode": "default"},
        headers=AUTH,
    )
    assert gone.status_code == 422
    error = gone.json()["error"]
    assert error["code"] == "migration_failed"
    assert "NoSuchStep" in error["message"]
    missing = client.get("/api/migrations/0123456789abcdef")
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "task_not_found"
