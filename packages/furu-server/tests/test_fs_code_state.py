"""The detail route shows the code an experiment was made from, and the checkout command.

Steps are made by real processes in a real git repository: a code state in the store's
`code/`, a record of an older furu that inlined its diff (`git_patch`), and a step made outside
git.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from server_fixtures import TOKEN, app_client

from furu_server import ServerSettings

STEP_MODULE = textwrap.dedent(
    """
    import furu


    class Square(furu.Furu[int]):
        x: int = 0

        def _create(self) -> int:
            return self.x**2

        def _load(self) -> int:
            return self.x**2
    """
)


def _git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-c", "user.name=T", "-c", "user.email=t@example.com", *args],
        cwd=repo,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()


def _make(repo: Path, store: Path, x: int, **env: str) -> str:
    """Create `Square(x=x)` in a fresh process in `repo`; its `namespace/hash`."""
    environ = {
        **{k: v for k, v in os.environ.items() if not k.startswith("FURU_")},
        "FURU_PATH": str(store),
        "PYTHONPATH": str(repo),
        "PYTHONDONTWRITEBYTECODE": "1",
        **env,
    }
    code = (
        f"import furu, pipeline; s = pipeline.Square(x={x}); s.load_or_create(); "
        "print(furu.step_id(s))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=repo, env=environ, check=True, capture_output=True
    )
    return out.stdout.decode().strip()


@pytest.fixture
def store_of_code(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, dict[str, str]]:
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", os.devnull)
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))
    repo = tmp_path / "repo"
    repo.mkdir()
    _git(repo, "init", "-q", "-b", "main")
    (repo / "pipeline.py").write_text(STEP_MODULE)
    (repo / "notes.txt").write_text("a\n")
    _git(repo, "add", ".")
    _git(repo, "commit", "-q", "-m", "first")
    store = tmp_path / "store"
    (repo / "notes.txt").write_text("a\nchanged")
    (repo / "scratch.py").write_text("print('untracked')\n")
    refs = {"stored": _make(repo, store, 1)}
    refs["old"] = _make(repo, store, 2, FURU_IGNORE_DIFF="1")
    digest = refs["old"].split("/")[1]
    meta_path = store / "data" / "pipeline" / "Square" / digest / ".furu" / "metadata.json"
    meta = json.loads(meta_path.read_text())
    del meta["code_state"]
    meta["git_patch"] = "diff --git a/notes.txt b/notes.txt\n-a\n+b"  # as furu 0.1 wrote it
    meta_path.write_text(json.dumps(meta))
    refs["commit_only"] = _make(repo, store, 3, FURU_IGNORE_DIFF="1")
    plain = tmp_path / "plain"
    plain.mkdir()
    (plain / "pipeline.py").write_text(STEP_MODULE)
    refs["no_git"] = _make(plain, store, 4)
    return store, refs


def _settings(store: Path) -> ServerSettings:
    return ServerSettings(
        root=store, cache_dir=store.parent / "cache", token=TOKEN, allowed_hosts=("testserver",)
    )


def test_detail_shows_the_stored_code_state_and_the_checkout_command(
    store_of_code: tuple[Path, dict[str, str]],
) -> None:
    store, refs = store_of_code
    with app_client(_settings(store)) as api:
        got = api.get(f"/api/experiments/{refs['stored']}")
        assert got.status_code == 200, got.text
        detail = got.json()
        code = detail["code_state"]
        assert code["source"] == "store"
        assert code["id"] == detail["metadata"]["code_state"]["id"]
        assert code["commit"] == detail["metadata"]["git_commit"]
        assert code["dirty"] is True
        assert code["changed_files"] == 1
        assert "+changed\n\\ No newline at end of file\n" in code["diff"]
        assert code["diff_truncated"] is False
        assert code["untracked"] == [{"path": "scratch.py", "size": 19, "mode": "file"}]
        assert code["left_out"] == []
        assert code["problem"] is None
        digest = refs["stored"].split("/")[1]
        assert code["checkout_command"] == (
            f"furu checkout {refs['stored']} ../Square-{digest[:8]}"
        )
        assert "git_patch" not in detail["metadata"]

        old = api.get(f"/api/experiments/{refs['old']}").json()["code_state"]
        assert old["source"] == "inline"
        assert old["diff"] == "diff --git a/notes.txt b/notes.txt\n-a\n+b"
        assert old["id"] is None

        only = api.get(f"/api/experiments/{refs['commit_only']}").json()["code_state"]
        assert only["source"] == "commit"
        assert only["diff"] is None
        assert only["checkout_command"].startswith(f"furu checkout {refs['commit_only']} ")

        assert api.get(f"/api/experiments/{refs['no_git']}").json()["code_state"] is None


def test_a_missing_or_huge_code_state_is_reported_not_a_500(
    store_of_code: tuple[Path, dict[str, str]],
) -> None:
    store, refs = store_of_code
    (state_dir,) = (store / "code").iterdir()
    diff = state_dir / "diff.patch"
    diff.write_bytes(diff.read_bytes() + b"+" * 300_000 + b"\n")
    with app_client(_settings(store)) as api:
        detail = api.get(f"/api/experiments/{refs['stored']}").json()
        code = detail["code_state"]
        assert code["diff_truncated"] is True
        assert len(code["diff"]) == 100_000
        assert code["diff_bytes"] > 300_000
        assert {"path": "code_state.diff", "unit": "bytes"}.items() <= detail["truncations"][
            0
        ].items()
        diff.unlink()
        os.mkfifo(diff)  # a FIFO where the diff was must not block the route
        code = api.get(f"/api/experiments/{refs['stored']}").json()["code_state"]
        assert "FIFO" in code["problem"]
        assert code["diff"] == ""
        (state_dir / "manifest.json").unlink()
        got = api.get(f"/api/experiments/{refs['stored']}")
        assert got.status_code == 200
        code = got.json()["code_state"]
        assert code["source"] == "commit"
        assert "is not in" in code["problem"]
        assert code["id"] == state_dir.name
