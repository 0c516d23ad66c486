"""A store written by furu 0.1.0 (`fixtures/store-0.1.0/`) still loads, lists and shows.

The fixture was made once by `fixtures/make_fixture_store.py` with the classes of
`fixture_store_steps` and is never regenerated: it pins the on-disk format. These tests read a
copy of it (so the tree stays clean) only through entry points that outlive a refactor: the
`furu` API (`furu.__all__`), the `furu` command, and furu-server's HTTP API.

The copy's files get an old modification time first: a git checkout stamps every file with
the time of the checkout, and the crashed step's `compute.lock` (whose mtime is its last
heartbeat) would then look alive for a lease on any other host. A store found on disk was
written a while ago.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

import fixture_store_steps as steps
import furu
from furu_harness import furu_config
from furu_server import ServerSettings, create_app

FIXTURE = Path(__file__).resolve().parent / "fixtures" / "store-0.1.0"
NS = "fixture_store_steps"
LONG_AGO = 1_700_000_000  # 2023-11-14: the copy's files were written long ago
TOKEN = "fixture-test-token-0123456789"

# name -> (step, class, hash, what load_or_create() returns). The hashes are the directory
# names in the fixture: the hashing scheme must keep producing them.
SUCCESSFUL: dict[str, tuple[furu.Furu[Any], str, str, Any]] = {
    "train_data": (
        steps.TRAIN_DATA,
        "Dataset",
        "e47f3ac7237ab90357c3",
        {"name": "toy", "rows": [0, 7, 4, 1, 8, 5]},
    ),
    "test_data": (
        steps.TEST_DATA,
        "Dataset",
        "80989616e946efdeff17",
        {"name": "toy", "rows": [3, 0, 7, 4]},
    ),
    "baseline": (
        steps.BASELINE,
        "Train",
        "cb2a79323c3a2775d424",
        {"layers": [4, 2], "lr": 0.1, "weight": 2.5},
    ),
    "slow": (
        steps.SLOW,
        "Train",
        "bb9f4b045c157b24536b",
        {"layers": [8], "lr": 0.01, "weight": 0.25},
    ),
    "evaluation": (
        steps.EVALUATION,
        "Evaluate",
        "aae435d63ea44efb569e",
        {"accuracy": 0.75, "loss": 0.285714},
    ),
    "ensemble": (steps.ENSEMBLE, "Ensemble", "55dd2731c5c893c9c88e", 2.75),
    "vocabulary": (
        steps.VOCABULARY,
        "Vocabulary",
        "704e45147c13abed7f28",
        ["w0", "w1", "w4", "w5", "w7", "w8"],
    ),
    "report": (steps.REPORT, "Report", "dca705e8f68514410251", "# weekly\naccuracy 0.75\n"),
}
FAILED_HASH = "f40a09099db3241323a1"
CRASHED_HASH = "010a8e35f81debd9dbc8"
FAILED_MESSAGE = "diverged: lr=-1.0 makes the loss explode"

# (namespace, hash) -> (result status, latest attempt status) of all ten steps.
STATUSES: dict[tuple[str, str], tuple[str, str]] = {
    **{(f"{NS}.{cls}", h): ("success", "success") for _, cls, h, _ in SUCCESSFUL.values()},
    (f"{NS}.Train", FAILED_HASH): ("failed", "failed"),
    (f"{NS}.Train", CRASHED_HASH): ("incomplete", "crashed"),
}


def _ref(step: furu.Furu[Any]) -> str:
    return f"{step._furu_namespace}/{step._furu_hash}"


def _snapshot(root: Path) -> dict[str, bytes | None]:
    """Every path under `root` with its bytes (None for a directory)."""
    return {
        str(p.relative_to(root)): (p.read_bytes() if p.is_file() else None)
        for p in sorted(root.rglob("*"))
    }


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A copy of the fixture store, which this process (and the CLI's env) points at."""
    root = tmp_path / "store"
    shutil.copytree(FIXTURE, root)
    for path in [root, *root.rglob("*")]:
        os.utime(path, (LONG_AGO, LONG_AGO), follow_symlinks=False)
    for name in list(os.environ):
        if name.startswith(("FURU_", "FIXTURE_STORE_")):
            monkeypatch.delenv(name)
    monkeypatch.setenv("FURU_PATH", str(root))
    monkeypatch.setenv("FURU_VERSION_CONTROLLED_PATH", str(root / "vc"))
    monkeypatch.setenv("FURU_IGNORE_DIFF", "1")
    monkeypatch.setenv("FURU_RICH_UNCAUGHT_TRACEBACKS", "0")
    with furu_config():  # every setting is restored afterwards
        furu.FURU_CONFIG.reload()
        yield root


# ---------------------------------------------------------------- the furu API


def test_every_successful_step_loads_from_the_store_without_being_created(
    store: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = _snapshot(store)
    monkeypatch.setenv(steps.FORBID_CREATE, "1")  # a _create call would raise

    assert [name for name, _ in steps.FixtureExperiments.items()] == list(SUCCESSFUL)
    for name, (step, cls, digest, expected) in SUCCESSFUL.items():
        root = store / "vc" if name == "vocabulary" else store / "data"
        assert step._furu_namespace == f"{NS}.{cls}", name
        assert step._furu_hash == digest, name
        assert step.furu_dir == root / NS / cls / digest, name
        assert step.exists(), name
        assert step.load_or_create() == expected, name
        state = step.get_state()
        assert state.result_status == furu.ResultStatus.SUCCESS, name
        assert state.attempt is not None, name
        assert state.attempt.status == furu.AttemptStatus.SUCCESS, name
        assert state.attempts == 1, name

    everything = steps.FixtureExperiments.all()
    assert furu.plan(everything).to_create == []
    results = furu.load_or_create_many(everything, executor=furu.InlineExecutor(), progress=False)
    assert results == [expected for _, _, _, expected in SUCCESSFUL.values()]
    assert _snapshot(store) == before, "a cache hit changed the store"


def test_the_recorded_metadata_rebuilds_each_config_with_the_same_hash(store: Path) -> None:
    for name, (step, cls, digest, _) in SUCCESSFUL.items():
        metadata = step.get_metadata()
        assert (metadata.furu_namespace, metadata.furu_hash) == (f"{NS}.{cls}", digest), name
        assert metadata.version_controlled is (name == "vocabulary"), name
        rebuilt = furu.Furu.from_dict(metadata.furu_obj)
        assert type(rebuilt) is type(step), name
        assert rebuilt._furu_hash == digest, name
    baseline = steps.BASELINE.get_metadata()
    assert [(d["field"], d["namespace"], d["hash"]) for d in baseline.dependencies] == [
        ("dataset", f"{NS}.Dataset", "e47f3ac7237ab90357c3")
    ]
    assert baseline.git_commit is not None
    assert baseline.git_commit.startswith("b37ff26")
    assert baseline.git_patch is None
    report_deps = steps.REPORT.get_metadata().dependencies
    assert [(d["field"], d["hash"]) for d in report_deps] == [
        ("_dependencies()[0]", "aae435d63ea44efb569e")
    ]


def test_the_failed_and_the_crashed_step_read_as_recorded_and_are_retried(
    store: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    failed, crashed = steps.FAILED, steps.CRASHED
    assert (failed._furu_hash, crashed._furu_hash) == (FAILED_HASH, CRASHED_HASH)
    assert not failed.exists()
    assert not crashed.exists()

    state = failed.get_state()
    assert state.result_status == furu.ResultStatus.FAILED
    assert state.attempts == 1
    assert state.attempt is not None
    assert state.attempt.status == furu.AttemptStatus.FAILED
    assert state.attempt.error is not None
    assert state.attempt.error["type"] == "builtins.ValueError"
    assert state.attempt.error["message"] == FAILED_MESSAGE
    assert f"ValueError: {FAILED_MESSAGE}" in state.attempt.error["traceback"]

    state = crashed.get_state()  # recorded as running; its holder was killed with SIGKILL
    assert state.result_status == furu.ResultStatus.INCOMPLETE
    assert state.attempts == 1
    assert state.attempt is not None
    assert state.attempt.status == furu.AttemptStatus.CRASHED
    assert state.attempt.ended_at is None

    plan = furu.plan([failed, crashed])
    assert [(p.step._furu_hash, p.reason) for p in plan.to_create] == [
        (FAILED_HASH, "failed"),
        (CRASHED_HASH, "incomplete"),
    ]

    # Both are created again (the crashed one's dead lock is broken, not waited for): with
    # _create forbidden, each new attempt fails, which proves _create was reached.
    monkeypatch.setenv(steps.FORBID_CREATE, "1")
    for step in (failed, crashed):
        with pytest.raises(furu.FuruComputeError, match=steps.FORBID_CREATE):
            step.load_or_create()
        state = step.get_state()
        assert state.result_status == furu.ResultStatus.FAILED
        assert state.attempts == 2
        assert state.attempt is not None
        assert state.attempt.number == 2


# ---------------------------------------------------------------- the furu command


def _furu_cli(store: Path, *args: str) -> str:
    exe = shutil.which("furu", path=str(Path(sys.executable).parent))
    assert exe is not None, "the furu console script is not installed next to python"
    done = subprocess.run(
        [exe, *args], env=dict(os.environ), capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, f"furu {' '.join(args)}: {done.stderr}"
    return done.stdout


def test_the_cli_lists_and_shows_every_step_with_its_status(store: Path) -> None:
    rows = json.loads(_furu_cli(store, "ls", "--json"))
    assert {
        (r["namespace"], r["hash"]): (r["result_status"], r["attempt_status"]) for r in rows
    } == (STATUSES)
    assert len(rows) == 10
    for row in rows:
        root = store / "vc" if row["namespace"] == f"{NS}.Vocabulary" else store / "data"
        assert row["furu_dir"] == str(root / row["namespace"].replace(".", "/") / row["hash"])

    lines = _furu_cli(store, "ls").splitlines()
    assert sorted(tuple(line.split()) for line in lines) == sorted(
        (result, attempt, "vc" if ns == f"{NS}.Vocabulary" else "-", ns, h)
        for (ns, h), (result, attempt) in STATUSES.items()
    )
    assert [r["version_controlled"] for r in rows].count(True) == 1
    failed_only = json.loads(_furu_cli(store, "ls", "--status", "failed", "--json"))
    assert [(r["namespace"], r["hash"]) for r in failed_only] == [(f"{NS}.Train", FAILED_HASH)]
    crashed_only = json.loads(_furu_cli(store, "ls", "--status", "crashed", "--json"))
    assert [r["hash"] for r in crashed_only] == [CRASHED_HASH]

    counts = {
        (ns, status): int(n)
        for n, status, ns in (line.split() for line in _furu_cli(store, "status").splitlines())
    }
    assert counts == {
        (f"{NS}.Dataset", "success"): 2,
        (f"{NS}.Ensemble", "success"): 1,
        (f"{NS}.Evaluate", "success"): 1,
        (f"{NS}.Report", "success"): 1,
        (f"{NS}.Train", "failed"): 1,
        (f"{NS}.Train", "incomplete"): 1,
        (f"{NS}.Train", "success"): 2,
        (f"{NS}.Vocabulary", "success"): 1,
    }

    shown = json.loads(_furu_cli(store, "show", f"{NS}.Train", "cb2a79323c3a2775d424"))
    assert shown["state"]["result_status"] == "success"
    assert shown["metadata"]["furu_hash"] == "cb2a79323c3a2775d424"
    assert shown["metadata"]["furu_obj"]["lr"] == 0.1
    assert shown["metadata"]["furu_obj"]["dataset"]["name"] == "toy"
    shown = json.loads(_furu_cli(store, "show", f"{NS}.Train", FAILED_HASH))
    assert shown["state"]["result_status"] == "failed"
    assert shown["state"]["attempt"]["error"]["message"] == FAILED_MESSAGE
    shown = json.loads(_furu_cli(store, "show", f"{NS}.Train", CRASHED_HASH))
    assert (shown["state"]["result_status"], shown["state"]["attempt"]["status"]) == (
        "incomplete",
        "crashed",
    )
    shown = json.loads(_furu_cli(store, "show", f"{NS}.Vocabulary", "704e45147c13abed7f28"))
    assert shown["state"]["result_status"] == "success"
    assert shown["metadata"]["version_controlled"] is True


# ---------------------------------------------------------------- furu-server


@pytest.fixture
def api(store: Path, tmp_path: Path) -> Iterator[TestClient]:
    settings = ServerSettings(
        root=store,
        vc_root=store / "vc",
        cache_dir=tmp_path / "server-cache",
        token=TOKEN,
        allowed_hosts=("testserver",),
    )
    with TestClient(create_app(settings, start_refresher=False)) as client:
        client.post("/api/index/refresh").raise_for_status()
        yield client


def _get(api: TestClient, url: str, **params: Any) -> Any:
    got = api.get(url, params=params)
    assert got.status_code == 200, f"{url}: {got.status_code} {got.text}"
    return got.json()


def _dotted(name: str) -> str:
    """A class reference as `module.Qualname` (today's form; `module:Qualname` reads the same)."""
    return name.replace(":", ".")


def _unwrap(value: Any) -> Any:
    """A tagged config value (`{"__path__": "x"}` today) as what it holds; others unchanged."""
    if isinstance(value, dict) and len(value) == 1:
        (key, inner), *_ = value.items()
        if key.startswith("__") and key.endswith("__"):
            return inner
    return value


def test_the_server_lists_every_experiment_with_its_status(api: TestClient, store: Path) -> None:
    listing = _get(api, "/api/experiments", limit=1000)
    assert listing["total"] == 10
    items = {(i["namespace"], i["hash"]): i for i in listing["items"]}
    assert {k: (i["result_status"], i["attempt_status"]) for k, i in items.items()} == STATUSES
    for (namespace, digest), item in items.items():
        vc = namespace == f"{NS}.Vocabulary"
        assert item["class_name"] == namespace.rsplit(".", 1)[1]
        assert item["version_controlled"] is vc
        root = store / "vc" if vc else store / "data"
        assert item["furu_dir"] == str(root / namespace.replace(".", "/") / digest)
    baseline = items[(f"{NS}.Train", "cb2a79323c3a2775d424")]
    assert (baseline["tags"], baseline["name"]) == (["baseline", "fixture"], "baseline model")
    assert sum(1 for i in items.values() if i["tags"] or i["name"]) == 1
    dependencies = {k[1]: i["n_dependencies"] for k, i in items.items()}
    assert dependencies["55dd2731c5c893c9c88e"] == 2  # the ensemble's two models
    assert dependencies["aae435d63ea44efb569e"] == 2  # the evaluation's model and dataset
    assert dependencies["e47f3ac7237ab90357c3"] == 0

    stats = _get(api, "/api/stats")
    assert stats["total"] == 10
    assert stats["by_result_status"] == {"success": 8, "failed": 1, "incomplete": 1}
    assert stats["by_attempt_status"] == {"success": 8, "failed": 1, "crashed": 1}
    namespaces = {n["namespace"]: n["total"] for n in _get(api, "/api/namespaces")}
    assert namespaces == {
        f"{NS}.Dataset": 2,
        f"{NS}.Ensemble": 1,
        f"{NS}.Evaluate": 1,
        f"{NS}.Report": 1,
        f"{NS}.Train": 4,
        f"{NS}.Vocabulary": 1,
    }

    def hashes(**params: Any) -> set[str]:
        return {i["hash"] for i in _get(api, "/api/experiments", limit=1000, **params)["items"]}

    assert hashes(result_status="failed") == {FAILED_HASH}
    assert hashes(attempt_status="crashed") == {CRASHED_HASH}
    assert hashes(tag="baseline") == {"cb2a79323c3a2775d424"}
    # Tagged config values are searchable by what they hold.
    assert hashes(q='config.checkpoint_dir = "/checkpoints/baseline"') == {"cb2a79323c3a2775d424"}
    assert hashes(q='config.split = "TEST"') == {"80989616e946efdeff17"}
    assert hashes(q="config.lr < 0.05") == {"bb9f4b045c157b24536b", FAILED_HASH}
    assert hashes(q='config.dataset.__class__ matches "fixture_store_steps[.:]Dataset$"') == {
        "cb2a79323c3a2775d424",
        "bb9f4b045c157b24536b",
        FAILED_HASH,
        CRASHED_HASH,
        "aae435d63ea44efb569e",
        "704e45147c13abed7f28",
    }


def test_the_server_shows_config_dependencies_and_errors(api: TestClient) -> None:
    url = f"/api/experiments/{_ref(steps.BASELINE)}"
    detail = _get(api, url)
    assert (detail["result_status"], detail["attempt_status"]) == ("success", "success")
    config = detail["config"]
    assert config["lr"] == 0.1
    assert _dotted(config["dataset"]["__class__"]) == f"{NS}.Dataset"
    assert config["dataset"]["name"] == "toy"
    assert _unwrap(config["dataset"]["source"]) == "datasets/toy.csv"
    assert _unwrap(config["checkpoint_dir"]) == "/checkpoints/baseline"
    assert _unwrap(config["layers"]) == [4, 2]
    assert {_dotted(v) for v in config["dataset"]["split"].values()} == {f"{NS}.Split", "TRAIN"}
    assert _dotted(config["optimizer"]["__class__"]) == f"{NS}.Optimizer"
    assert config["optimizer"]["momentum"] is None
    assert sorted(_unwrap(config["labels"])) == ["cat", "dog"]
    assert sorted(_unwrap(config["skip_ids"])) == [1, 3]
    assert float(_unwrap(config["max_grad_norm"])) == float("inf")
    # The config shown is the whole config: it rebuilds the very step.
    assert furu.Furu.from_dict(config)._furu_hash == "cb2a79323c3a2775d424"
    assert (detail["tags"], detail["name"]) == (["baseline", "fixture"], "baseline model")
    assert detail["error"] is None
    assert detail["problems"] == []
    assert detail["python_def"].startswith("Train(dataset=Dataset(")

    related = _get(api, url + "/relationships")
    assert [(p["field"], p["hash"], p["result_status"]) for p in related["parents"]] == [
        ("dataset", "e47f3ac7237ab90357c3", "success")
    ]
    assert {(c["field"], c["namespace"], c["hash"]) for c in related["children"]} == {
        ("model", f"{NS}.Evaluate", "aae435d63ea44efb569e"),
        ("models[0]", f"{NS}.Ensemble", "55dd2731c5c893c9c88e"),
    }
    report = _get(api, f"/api/experiments/{_ref(steps.REPORT)}/relationships")
    assert [(p["field"], p["hash"]) for p in report["parents"]] == [
        ("_dependencies()[0]", "aae435d63ea44efb569e")
    ]
    vocabulary = _get(api, f"/api/experiments/{_ref(steps.VOCABULARY)}/relationships")
    assert [(p["field"], p["hash"], p["result_status"]) for p in vocabulary["parents"]] == [
        ("dataset", "e47f3ac7237ab90357c3", "success")
    ]
    lineage = _get(api, f"/api/experiments/{_ref(steps.REPORT)}/lineage")
    assert {(e["source"], e["target"], e["field"]) for e in lineage["edges"]} == {
        (_ref(steps.EVALUATION), _ref(steps.REPORT), "_dependencies()[0]"),
        (_ref(steps.BASELINE), _ref(steps.EVALUATION), "model"),
        (_ref(steps.TEST_DATA), _ref(steps.EVALUATION), "dataset"),
        (_ref(steps.TRAIN_DATA), _ref(steps.BASELINE), "dataset"),
    }
    dag = _get(api, "/api/dag")
    edges = {(e["source"], e["target"]): e["count"] for e in dag["edges"]}
    assert edges[(f"{NS}.Dataset", f"{NS}.Train")] == 4
    assert edges[(f"{NS}.Train", f"{NS}.Ensemble")] == 2
    assert edges[(f"{NS}.Train", f"{NS}.Evaluate")] == 1
    assert edges[(f"{NS}.Evaluate", f"{NS}.Report")] == 1
    assert edges[(f"{NS}.Dataset", f"{NS}.Vocabulary")] == 1

    files = {e["path"] for e in _get(api, url + "/artifacts")["entries"] if e["type"] == "file"}
    assert {"model.json", "loss.csv"} <= files
    assert api.get(url + "/files/model.json").json() == SUCCESSFUL["baseline"][3]
    assert "epoch 1 loss 0.500" in _get(api, url + "/logs")["text"]

    failed = _get(api, f"/api/experiments/{NS}.Train/{FAILED_HASH}")
    assert (failed["result_status"], failed["attempt_status"]) == ("failed", "failed")
    assert failed["error"]["type"] == "builtins.ValueError"
    assert failed["error"]["message"] == FAILED_MESSAGE
    assert f"ValueError: {FAILED_MESSAGE}" in failed["error"]["traceback"]
    assert failed["config"]["lr"] == -1.0

    crashed = _get(api, f"/api/experiments/{NS}.Train/{CRASHED_HASH}")
    assert (crashed["result_status"], crashed["attempt_status"]) == ("incomplete", "crashed")
    assert crashed["error"] is None

    vc = _get(api, f"/api/experiments/{_ref(steps.VOCABULARY)}")
    assert (vc["result_status"], vc["version_controlled"]) == ("success", True)
    assert _dotted(vc["config"]["dataset"]["__class__"]) == f"{NS}.Dataset"
    assert "vocab.txt" in {
        e["path"]
        for e in _get(api, f"/api/experiments/{_ref(steps.VOCABULARY)}/artifacts")["entries"]
    }
