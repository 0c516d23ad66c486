"""Code states in the store and `furu checkout`, with real git repositories and processes.

A step run in a dirty working tree records its commit, its exact diff (binary changes, a file
without a final newline) and its untracked files once in `<root>/code/<sha256>/`; `furu
checkout` of that step recreates the tree byte for byte, after the code changed again.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

STEP_MODULE = textwrap.dedent(
    """
    import furu


    class Square(furu.Furu[int]):
        x: int = 0

        def _create(self) -> int:
            (self.furu_dir / "out.txt").write_text(str(self.x**2))
            return self.x**2

        def _load(self) -> int:
            return int((self.furu_dir / "out.txt").read_text())
    """
)


def _git(repo: Path, *args: str, env: dict[str, str] | None = None) -> str:
    out = subprocess.run(
        ["git", "-c", "user.name=T", "-c", "user.email=t@example.com", *args],
        cwd=repo,
        check=True,
        capture_output=True,
        text=True,
        env=env,
    )
    return out.stdout.strip()


@pytest.fixture
def git_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> dict[str, str]:
    """Git that ignores the user's global config and never looks above tmp_path."""
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", os.devnull)
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))
    for name in ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE"):
        monkeypatch.delenv(name, raising=False)
    return dict(os.environ)


@pytest.fixture
def repo(tmp_path: Path, git_env: dict[str, str]) -> Path:
    path = tmp_path / "repo"
    path.mkdir()
    _git(path, "init", "-q", "-b", "main")
    (path / "pipeline.py").write_text(STEP_MODULE)
    (path / "notes.txt").write_text("first line\nsecond line\n")
    (path / "data.bin").write_bytes(bytes(range(256)) * 4)
    (path / ".gitignore").write_text("*.ignored\n")
    _git(path, "add", ".")
    _git(path, "commit", "-q", "-m", "first")
    return path


def _run_step(repo: Path, store: Path, x: int, **env: str) -> None:
    code = f"import pipeline; assert pipeline.Square(x={x}).load_or_create() == {x * x}"
    _python(repo, store, code, **env)


def _python(repo: Path, store: Path, code: str, **env: str) -> subprocess.CompletedProcess[str]:
    environ = {
        **os.environ,
        "FURU_PATH": str(store),
        "PYTHONPATH": str(repo),
        "PYTHONDONTWRITEBYTECODE": "1",
        **env,
    }
    for key in ("FURU_IGNORE_DIFF", "FURU_MAX_GIT_PATCH_BYTES"):
        if key not in env:
            environ.pop(key, None)
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=repo,
        env=environ,
        check=True,
        capture_output=True,
        text=True,
        timeout=120,
    )


def _furu(cwd: Path, store: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "furu._cli", "--root", str(store), *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
    )


def _tree(repo: Path) -> dict[str, tuple[bytes, bool]]:
    """Every tracked and untracked, not-ignored file: its bytes (a link: its target) and x bit."""
    names = _git(repo, "ls-files", "-z", "--cached", "--others", "--exclude-standard")
    tree = {}
    for name in filter(None, names.split("\0")):
        path = repo / name
        if not os.path.lexists(path):
            continue  # deleted in the working tree
        if path.is_symlink():
            tree[name] = (os.fsencode(os.readlink(path)), False)
        else:
            tree[name] = (path.read_bytes(), bool(path.stat().st_mode & stat.S_IXUSR))
    return tree


def _metadata(store: Path, x: int) -> dict:
    (found,) = [
        p
        for p in (store / "data").glob("pipeline/Square/*/.furu/metadata.json")
        if json.loads(p.read_text())["furu_obj"]["x"] == x
    ]
    return json.loads(found.read_text())


def _ref(store: Path, x: int) -> str:
    data = _metadata(store, x)
    return f"{data['furu_namespace']}/{data['furu_hash']}"


def test_checkout_recreates_the_first_result_s_code_byte_for_byte(
    repo: Path, tmp_path: Path
) -> None:
    store = tmp_path / "store"
    # Dirty the tree every way `git apply` is picky about.
    (repo / "notes.txt").write_text("first line\nchanged, and no newline at the end")
    (repo / "data.bin").write_bytes(bytes(reversed(range(256))) * 5 + b"\0tail")
    (repo / "pipeline.py").write_text(STEP_MODULE + "\nVERSION = 1\n")
    (repo / "new_module.py").write_text("answer = 42\n")
    (repo / "tools").mkdir()
    (repo / "tools" / "run.sh").write_text("#!/bin/sh\necho run\n")
    (repo / "tools" / "run.sh").chmod(0o755)
    (repo / "tools" / "link").symlink_to("run.sh")
    (repo / "skip.ignored").write_text("ignored, not recorded\n")
    _git(repo, "add", "data.bin")  # a staged change is part of the state too
    first = _tree(repo)
    _run_step(repo, store, 1)

    # The code changes again, and another result is made from it.
    (repo / "notes.txt").write_text("third version\n")
    (repo / "new_module.py").unlink()
    (repo / "later.py").write_text("later = True\n")
    second = _tree(repo)
    _run_step(repo, store, 2)

    meta = _metadata(store, 1)
    assert "git_patch" not in meta
    summary = meta["code_state"]
    assert summary["dirty"] is True
    assert summary["changed_files"] == 3
    assert summary["untracked_files"] == 3  # new_module.py, tools/run.sh, tools/link
    assert summary["left_out"] == 0
    state_dir = store / "code" / summary["id"]
    assert sorted(p.name for p in state_dir.iterdir()) == [
        "diff.patch",
        "manifest.json",
        "untracked.tar",
    ]
    assert _metadata(store, 2)["code_state"]["id"] != summary["id"]

    target = tmp_path / "then"
    done = _furu(repo, store, "checkout", _ref(store, 1), str(target))
    assert done.returncode == 0, done.stderr
    assert f"Recreated the code of {_ref(store, 1)} in {target}" in done.stdout
    assert "from pipeline import Square; Square(x=1).load_or_create()" in done.stdout
    assert f"cd {target}" in done.stdout
    assert _tree(target) == first
    assert not (target / "skip.ignored").exists()
    assert _git(target, "rev-parse", "HEAD") == _git(repo, "rev-parse", "HEAD")

    again = tmp_path / "now"
    hash_prefix = _metadata(store, 2)["furu_hash"][:10]
    done = _furu(repo, store, "checkout", f"Square/{hash_prefix}", str(again))
    assert done.returncode == 0, done.stderr
    assert _tree(again) == second

    # The recreated tree reruns the step (from its own store) to the same result.
    _run_step(target, tmp_path / "rerun-store", 1)


def test_checkout_refuses_a_non_empty_directory_and_a_foreign_repository(
    repo: Path, tmp_path: Path, git_env: dict[str, str]
) -> None:
    store = tmp_path / "store"
    (repo / "notes.txt").write_text("dirty\n")
    _run_step(repo, store, 3)
    ref = _ref(store, 3)

    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "something").write_text("mine")
    refused = _furu(repo, store, "checkout", ref, str(busy))
    assert refused.returncode == 1
    assert f"{busy} is not empty" in refused.stderr
    assert "Give a new (or empty) directory" in refused.stderr
    assert (busy / "something").read_text() == "mine"

    other = tmp_path / "other"
    other.mkdir()
    _git(other, "init", "-q", "-b", "main")
    (other / "f").write_text("f\n")
    _git(other, "add", "f")
    _git(other, "commit", "-q", "-m", "unrelated")
    commit = _metadata(store, 3)["git_commit"]
    refused = _furu(other, store, "checkout", ref, str(tmp_path / "fresh"))
    assert refused.returncode == 1
    assert f"the commit {commit} is not in the repository {other}" in refused.stderr
    assert "Fetch it" in refused.stderr
    assert not (tmp_path / "fresh").exists()

    outside = tmp_path / "outside"
    outside.mkdir()
    refused = _furu(outside, store, "checkout", ref, str(tmp_path / "fresh"))
    assert refused.returncode == 1
    assert "is not inside a git repository" in refused.stderr


def test_a_step_made_outside_git_has_no_code_state_to_check_out(
    tmp_path: Path, git_env: dict[str, str]
) -> None:
    plain = tmp_path / "plain"
    plain.mkdir()
    (plain / "pipeline.py").write_text(STEP_MODULE)
    store = tmp_path / "store"
    _run_step(plain, store, 4)
    meta = _metadata(store, 4)
    assert meta["git_commit"] is None
    assert meta["code_state"] is None
    assert not (store / "code").exists()
    refused = _furu(plain, store, "checkout", _ref(store, 4), str(tmp_path / "t"))
    assert refused.returncode == 1
    assert "no code state is recorded for this step" in refused.stderr
    assert "outside a git repository" in refused.stderr


def test_a_record_with_an_inline_patch_from_an_older_furu_still_checks_out(
    repo: Path, tmp_path: Path
) -> None:
    store = tmp_path / "store"
    (repo / "notes.txt").write_text("old style\n")
    _run_step(repo, store, 5, FURU_IGNORE_DIFF="1")
    meta_path = next((store / "data").glob("pipeline/Square/*/.furu/metadata.json"))
    meta = json.loads(meta_path.read_text())
    assert meta["code_state"] is None
    # What furu 0.1 wrote: the patch inline, its last newline stripped.
    patch = _git(repo, "diff", "HEAD")
    del meta["code_state"]
    meta["git_patch"] = patch
    meta["schema"] = 1
    meta_path.write_text(json.dumps(meta))
    expected = _tree(repo)
    _git(repo, "checkout", "--", "notes.txt")

    target = tmp_path / "old"
    done = _furu(repo, store, "checkout", _ref(store, 5), str(target))
    assert done.returncode == 0, done.stderr
    assert "untracked files were not recorded" in done.stderr
    assert _tree(target) == expected


def test_a_planted_tar_cannot_write_outside_the_checkout(repo: Path, tmp_path: Path) -> None:
    import io
    import tarfile

    store = tmp_path / "store"
    (repo / "scratch.py").write_text("x = 1\n")
    _run_step(repo, store, 6)
    (state_dir,) = (store / "code").iterdir()
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        entry = tarfile.TarInfo("../escaped.txt")
        entry.size = 6
        tar.addfile(entry, io.BytesIO(b"gotcha"))
    (state_dir / "untracked.tar").write_bytes(buffer.getvalue())
    target = tmp_path / "co"
    refused = _furu(repo, store, "checkout", _ref(store, 6), str(target))
    assert refused.returncode == 1
    assert "cannot be written into" in refused.stderr
    assert "damaged or edited" in refused.stderr
    assert "Traceback" not in refused.stderr
    assert not (tmp_path / "escaped.txt").exists()
