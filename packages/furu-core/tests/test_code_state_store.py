"""Code states are stored once per store, stay out of metadata.json, and respect their limits."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from test_code_state_checkout import _furu, _git, _python, git_env, repo

import furu
from furu import _code_state, _metadata

__all__ = ["git_env", "repo"]  # fixtures shared with the checkout tests


def _big_diff(repo: Path, size: int) -> None:
    """Rewrite `big.txt` (committed) so the diff is about `size` bytes."""
    line = "a line of the rewritten file, changed in the working tree\n"
    (repo / "big.txt").write_text(line * (size // len(line)))


@pytest.fixture
def big_repo(repo: Path) -> Path:
    (repo / "big.txt").write_text("original\n")
    _git(repo, "add", "big.txt")
    _git(repo, "commit", "-q", "-m", "big")
    _big_diff(repo, 1_100_000)
    return repo


SWEEP = """
import pipeline
for x in range({start}, {stop}):
    pipeline.Square(x=x).load_or_create()
"""


def test_a_sweep_with_a_1_mb_diff_stores_it_once_and_metadata_stays_small(
    big_repo: Path, tmp_path: Path
) -> None:
    store = tmp_path / "store"
    env = {"FURU_MAX_GIT_PATCH_BYTES": "2000000"}
    # Four processes at once, writing the same code state into the store.
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", SWEEP.format(start=10 * i, stop=10 * i + 10)],
            cwd=big_repo,
            env={
                **os.environ,
                "FURU_PATH": str(store),
                "PYTHONPATH": str(big_repo),
                "PYTHONDONTWRITEBYTECODE": "1",
                **env,
            },
            stderr=subprocess.PIPE,
        )
        for i in range(4)
    ]
    for proc in procs:
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err.decode()
    metas = list((store / "data").glob("pipeline/Square/*/.furu/metadata.json"))
    assert len(metas) == 40
    assert max(p.stat().st_size for p in metas) < 16 * 1024
    ids = {json.loads(p.read_text())["code_state"]["id"] for p in metas}
    assert len(ids) == 1
    (state_id,) = ids
    assert [p.name for p in (store / "code").iterdir()] == [state_id]  # no temporary leftovers
    state = furu.Store(store).code_state(state_id)
    assert state is not None
    assert state.diff_bytes > 1_000_000
    assert state.complete
    assert state.dirty
    diff = state.read_diff()
    assert diff.endswith(b"\n")
    check = subprocess.run(
        ["git", "apply", "--check", "-R", "-"], cwd=big_repo, input=diff, capture_output=True
    )
    assert check.returncode == 0, check.stderr  # the exact diff of the working tree


def test_limits_leave_files_out_and_say_so(repo: Path, tmp_path: Path) -> None:
    store = tmp_path / "store"
    (repo / "notes.txt").write_text("small change\n")
    (repo / "data.bin").write_bytes(os.urandom(5000))  # a large binary diff
    for i in range(4):
        (repo / f"u{i}.txt").write_text(f"untracked {i}\n" * (1 + 100 * (i == 3)))
    _python(
        repo,
        store,
        "import pipeline; pipeline.Square(x=9).load_or_create()",
        FURU_MAX_GIT_PATCH_BYTES="2000",
        FURU_MAX_UNTRACKED_FILES="2",
        FURU_MAX_UNTRACKED_BYTES="100",
    )
    (meta_path,) = (store / "data").glob("pipeline/Square/*/.furu/metadata.json")
    meta = json.loads(meta_path.read_text())
    summary = meta["code_state"]
    assert summary["left_out"] == 3
    state = furu.Store(store).code_state(summary["id"])
    assert state is not None
    assert not state.complete
    left = {(item["what"], item["path"]): item["why"] for item in state.left_out}
    assert "FURU_MAX_GIT_PATCH_BYTES=2000" in left[("diff", "data.bin")]
    assert "FURU_MAX_UNTRACKED_FILES=2" in left[("untracked", "u2.txt")]
    assert "FURU_MAX_UNTRACKED_FILES=2" in left[("untracked", "u3.txt")]
    assert [u["path"] for u in state.untracked] == ["u0.txt", "u1.txt"]
    assert state.changed_files == 1  # notes.txt fits; data.bin does not
    target = tmp_path / "partial"
    done = _furu(repo, store, "checkout", meta["furu_hash"][:12], str(target))
    assert done.returncode == 0, done.stderr
    assert "note: left out when recorded: diff of data.bin" in done.stderr
    assert (target / "notes.txt").read_text() == "small change\n"
    assert (target / "u1.txt").exists()
    assert not (target / "u3.txt").exists()

    _python(
        repo,
        tmp_path / "store2",
        "import pipeline; pipeline.Square(x=9).load_or_create()",
        FURU_MAX_UNTRACKED_BYTES="20",
    )
    (meta_path,) = (tmp_path / "store2" / "data").glob("pipeline/Square/*/.furu/metadata.json")
    state = furu.Store(tmp_path / "store2").code_state(
        json.loads(meta_path.read_text())["code_state"]["id"]
    )
    assert state is not None
    assert "FURU_MAX_UNTRACKED_BYTES=20" in state.left_out_notes()[-1]


def test_the_code_state_is_captured_once_per_process(
    repo: Path, monkeypatch: pytest.MonkeyPatch, furu_store: Path
) -> None:
    monkeypatch.chdir(repo)
    sys.path.insert(0, str(repo))
    _code_state.repo_info.cache_clear()
    _code_state.capture.cache_clear()
    _metadata._submodules.cache_clear()
    try:
        (repo / "notes.txt").write_text("dirty\n")
        first = _metadata.current_git_info()
        calls = []
        monkeypatch.setattr(_code_state, "_git", lambda *a: calls.append(a))
        assert _metadata.current_git_info() == first
        assert calls == []
        assert first["code_state"]["dirty"] is True
        assert (furu_store / "code" / first["code_state"]["id"] / "manifest.json").is_file()
        step_dir_meta = furu.Store(furu_store).code_state(first["code_state"]["id"])
        assert step_dir_meta is not None
        assert step_dir_meta.commit == first["git_commit"]
    finally:
        sys.path.remove(str(repo))
        _code_state.repo_info.cache_clear()
        _code_state.capture.cache_clear()
        _metadata._submodules.cache_clear()


def test_step_dir_reads_its_code_state_and_names_a_missing_one(repo: Path, tmp_path: Path) -> None:
    store = tmp_path / "store"
    (repo / "notes.txt").write_text("dirty\n")
    _python(repo, store, "import pipeline; pipeline.Square(x=8).load_or_create()")
    (step,) = furu.Store(store).step_dirs()
    state = step.read_code_state()
    assert state is not None
    assert state.directory == store / "code" / state.id
    assert state.changed_files == 1
    metadata = step.read_metadata()
    assert metadata is not None
    assert metadata["code_state"] == state.summary()
    (state.directory / "manifest.json").rename(tmp_path / "aside")
    with pytest.raises(furu.FuruStoreError, match=r"is not in .*copied without its code/"):
        step.read_code_state()
    (state.directory / "manifest.json").write_text('{"id": 3}')
    with pytest.raises(furu.FuruStoreError, match="is not a code state furu wrote"):
        step.read_code_state()
    with pytest.raises(furu.FuruStoreError, match="is not a code state id"):
        furu.Store(store).code_state("../../etc")


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("FURU_MAX_UNTRACKED_FILES", "-1", "must not be negative"),
        ("FURU_MAX_UNTRACKED_FILES", "many", "is not a whole number"),
        ("FURU_MAX_UNTRACKED_FILES", "2000000", "is more than the most furu allows, 1000000"),
        ("FURU_MAX_UNTRACKED_BYTES", str(2**31), "is more than the most furu allows"),
        ("FURU_MAX_GIT_PATCH_BYTES", str(2**31), "is more than the most furu allows"),
    ],
)
def test_code_state_limits_are_checked(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, message: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(furu.FuruConfigError, match=message) as info:
        furu.FuruConfig.from_env()
    assert name in str(info.value)


def test_code_state_limits_are_read(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FURU_MAX_UNTRACKED_FILES", "7")
    monkeypatch.setenv("FURU_MAX_UNTRACKED_BYTES", "1234")
    config = furu.FuruConfig.from_env()
    assert (config.max_untracked_files, config.max_untracked_bytes) == (7, 1234)
    assert furu.FuruConfig().max_untracked_files == 1000


def test_an_unwritable_store_records_the_commit_and_goes_on(repo: Path, tmp_path: Path) -> None:
    store = tmp_path / "store"
    store.mkdir()
    (store / "code").write_text("a file where the code directory should be")
    (repo / "notes.txt").write_text("dirty\n")
    done = _python(repo, store, "import pipeline; pipeline.Square(x=6).load_or_create()")
    assert "could not record the code state" in done.stderr
    (meta_path,) = (store / "data").glob("pipeline/Square/*/.furu/metadata.json")
    meta = json.loads(meta_path.read_text())
    assert meta["git_commit"]
    assert meta["code_state"]["id"] is None


def test_a_damaged_code_state_directory_is_written_again(repo: Path, tmp_path: Path) -> None:
    store = tmp_path / "store"
    (repo / "notes.txt").write_text("dirty\n")
    _python(repo, store, "import pipeline; pipeline.Square(x=11).load_or_create()")
    (state_dir,) = (store / "code").iterdir()
    good = {p.name: p.read_bytes() for p in state_dir.iterdir()}
    (state_dir / "manifest.json").unlink()
    (state_dir / "diff.patch").write_bytes(b"half a diff")
    _python(repo, store, "import pipeline; pipeline.Square(x=12).load_or_create()")
    assert [p.name for p in (store / "code").iterdir()] == [state_dir.name]
    assert {p.name: p.read_bytes() for p in state_dir.iterdir()} == good
