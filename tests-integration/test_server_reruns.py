"""Snippets that really rebuild the experiment, and reruns in a subprocess with progress: both
run the user's steps in a real Python process (the server itself never imports them)."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest
import server_steps
from fastapi.testclient import TestClient
from server_fixtures import AUTH, STEPS_DIR, BuiltStore, app_client


def _run_snippet(code: str, tmp_path: Path) -> str:
    """Run a snippet in a fresh process, in a store of its own (the shared one stays as it is)."""
    script = code + "\nprint(step._furu_hash)\n"
    env = {
        "PATH": "/usr/bin:/bin",
        "PYTHONPATH": str(STEPS_DIR),
        "PYTHONDONTWRITEBYTECODE": "1",
        "FURU_PATH": str(tmp_path / "snippet-store"),
        "FURU_VERSION_CONTROLLED_PATH": str(tmp_path / "snippet-store" / "vc"),
        "FURU_IGNORE_DIFF": "1",
    }
    out = subprocess.run(
        [sys.executable, "-c", script],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    return out.stdout.strip().splitlines()[-1]


def test_the_snippet_rebuilds_the_same_experiment(
    api: TestClient, built_store: BuiltStore, tmp_path: Path
) -> None:
    snippet = api.get(built_store.url("ensemble", "/snippet")).json()
    assert "from server_steps import Corpus, Ensemble, TrainModel" in snippet["code"]
    assert snippet["changed"] is False
    assert _run_snippet(snippet["code"], tmp_path) == built_store.ref("ensemble")[1]
    assert "force_recompute = frozenset({'server_steps.Ensemble'})" in snippet["rerun_code"]


def test_a_snippet_with_changed_parameters(
    api: TestClient, built_store: BuiltStore, tmp_path: Path
) -> None:
    got = api.get(
        built_store.url("large", "/snippet"), params={"set": ["lr=0.02", 'corpus.name="huge"']}
    ).json()
    assert got["overrides"] == {"lr": 0.02, "corpus.name": "huge"}
    assert "lr=0.02" in got["code"]
    expected = server_steps.TrainModel(
        corpus=server_steps.Corpus(name="huge", size=12), lr=0.02, steps=30, layers=(64, 64, 64)
    )
    assert _run_snippet(got["code"], tmp_path) == expected._furu_hash
    bad = api.get(built_store.url("large", "/snippet"), params={"set": "lrr=1"})
    assert bad.status_code == 400
    assert "no 'lrr' there" in bad.json()["error"]["message"]


def test_rerun_recomputes_in_a_subprocess_and_reports_progress(
    fresh_store: BuiltStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PYTHONDONTWRITEBYTECODE", "1")
    monkeypatch.setenv("FURU_IGNORE_DIFF", "1")
    settings = fresh_store.settings(rerun_python=sys.executable, rerun_cwd=STEPS_DIR)
    with app_client(settings) as client:
        run = client.post(fresh_store.url("medium", "/rerun"), headers=AUTH).json()
        assert run["status"] in ("running", "succeeded"), run
        deadline = time.monotonic() + 120
        while run["status"] == "running":
            assert time.monotonic() < deadline, run
            time.sleep(0.1)
            run = client.get(f"/api/runs/{run['id']}").json()
        assert run["status"] == "succeeded", run["output_tail"]
        assert run["returncode"] == 0
        assert run["result_hash"] == fresh_store.ref("medium")[1]
        assert "furu-rerun: computing server_steps.TrainModel" in run["output_tail"]
        assert fresh_store.steps["medium"].get_state().attempts == 2
        assert [r["id"] for r in client.get("/api/runs").json()] == [run["id"]]
        changed = client.post(
            fresh_store.url("medium", "/rerun"), json={"overrides": {"steps": 21}}, headers=AUTH
        ).json()
        while changed["status"] == "running":
            assert time.monotonic() < deadline
            time.sleep(0.1)
            changed = client.get(f"/api/runs/{changed['id']}").json()
        assert changed["status"] == "succeeded", changed["output_tail"]
        assert changed["result_hash"] != fresh_store.ref("medium")[1]
        client.post("/api/index/refresh")
        listed = client.get("/api/experiments", params={"config_filter": "steps=21"}).json()
        assert [i["hash"] for i in listed["items"]] == [changed["result_hash"]]


def test_a_rerun_of_a_large_config_starts(
    fresh_store: BuiltStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The config is no command-line argument (Linux caps one at 128 KiB: E2BIG)."""
    monkeypatch.setenv("FURU_IGNORE_DIFF", "1")
    settings = fresh_store.settings(rerun_python=sys.executable, rerun_cwd=STEPS_DIR)
    big = {"overrides": {"optimizer": "a" * 300_000}}
    with app_client(settings) as client:
        run = client.post(fresh_store.url("medium", "/rerun"), json=big, headers=AUTH)
        assert run.status_code == 200, run.text[:500]
        deadline = time.monotonic() + 120
        found = run.json()
        while found["status"] == "running":
            assert time.monotonic() < deadline, found
            time.sleep(0.1)
            found = client.get(f"/api/runs/{found['id']}").json()
        assert found["status"] == "succeeded", found["output_tail"]
