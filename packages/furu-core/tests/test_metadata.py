"""furu._metadata: git state, environment, and the record a real `load_or_create` writes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import core_test_steps as steps
import pytest

import furu
from furu import FuruStoreError, Metadata, MetadataManager, _code_state, _metadata
from furu._metadata import git_info
from furu._store import HOSTNAME

SEED_FIELDS = {
    # config
    "furu_python_def",
    "furu_obj",
    "furu_hash",
    "furu_path",
    # git
    "git_commit",
    "git_branch",
    "git_remote",
    "git_submodules",
    "code_state",
    # environment
    "timestamp",
    "command",
    "python_version",
    "executable",
    "platform",
    "hostname",
    "user",
    "pid",
}


@pytest.fixture
def fresh_git_info() -> Iterator[None]:
    """git_info is cached per process; these tests change the working directory."""
    _clear_git_caches()
    yield
    _clear_git_caches()


def _clear_git_caches() -> None:
    _code_state.repo_info.cache_clear()
    _code_state.capture.cache_clear()
    _code_state._written.clear()
    _metadata._submodules.cache_clear()


@pytest.fixture
def git_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Git that ignores the user's global config and never looks above tmp_path."""
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", os.devnull)
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))
    for name in ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE"):
        monkeypatch.delenv(name, raising=False)


def _git(repo: Path, *args: str) -> str:
    out = subprocess.run(
        ["git", "-c", "user.name=T", "-c", "user.email=t@example.com", *args],
        cwd=repo,
        check=True,
        capture_output=True,
        text=True,
    )
    return out.stdout.strip()


@pytest.fixture
def repo(tmp_path: Path, git_env: None, fresh_git_info: None) -> Path:
    path = tmp_path / "repo"
    path.mkdir()
    _git(path, "init", "-q", "-b", "main")
    (path / "code.py").write_text("x = 1\n")
    _git(path, "add", "code.py")
    _git(path, "commit", "-q", "-m", "first")
    return path


def _info(ignore_diff: bool = False, max_diff: int = 1_000_000) -> dict:
    return git_info(furu.FURU_CONFIG.base_root, ignore_diff, max_diff, 10_000_000, 1000)


def test_git_info_of_a_clean_checkout(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(repo)
    info = _info()
    state = furu.Store(furu.FURU_CONFIG.base_root).code_state(info["code_state"]["id"])
    assert state is not None
    assert not state.dirty
    assert info == {
        "git_commit": _git(repo, "rev-parse", "HEAD"),
        "git_branch": "main",
        "git_remote": None,
        "git_submodules": {},
        "code_state": state.summary(),
    }
    assert info["code_state"] == {
        "id": state.id,
        "dirty": False,
        "changed_files": 0,
        "diff_bytes": 0,
        "untracked_files": 0,
        "untracked_bytes": 0,
        "left_out": 0,
    }


def test_git_info_records_remote_and_dirty_diff(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _git(repo, "remote", "add", "origin", "https://example.com/team/project.git")
    (repo / "code.py").write_text("x = 2")  # no newline at the end of the file
    monkeypatch.chdir(repo)
    info = _info()
    assert info["git_remote"] == "https://example.com/team/project.git"
    state = furu.Store(furu.FURU_CONFIG.base_root).code_state(info["code_state"]["id"])
    assert state is not None
    patch = state.read_diff()
    # Exactly git's diff: the last line and its "\ No newline at end of file" marker intact
    # (furu 0.1 stripped the final newline, and `git apply` called the patch corrupt).
    assert (
        patch
        == subprocess.run(
            ["git", "diff", "HEAD", "--binary"], cwd=repo, capture_output=True, check=True
        ).stdout
    )
    assert patch.endswith(b"\\ No newline at end of file\n")
    assert b"diff --git a/code.py b/code.py" in patch
    check = subprocess.run(["git", "apply", "--check", "-R", "-"], cwd=repo, input=patch)
    assert check.returncode == 0


def test_a_diff_past_the_limit_leaves_whole_files_out_with_a_note(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (repo / "code.py").write_text("y = 'é'\n" * 5000)
    (repo / "small.py").write_text("s = 1\n")
    _git(repo, "add", "small.py")
    monkeypatch.chdir(repo)
    state = furu.Store(furu.FURU_CONFIG.base_root).code_state(
        _info(max_diff=1000)["code_state"]["id"]
    )
    assert state is not None
    assert state.read_diff().startswith(b"diff --git a/small.py b/small.py")
    assert state.changed_files == 1
    assert state.left_out_count == 1
    (item,) = state.left_out
    assert item["path"] == "code.py"
    assert item["what"] == "diff"
    assert "FURU_MAX_GIT_PATCH_BYTES=1000; raise it" in item["why"]


def test_ignore_diff(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (repo / "code.py").write_text("x = 2\n")
    monkeypatch.chdir(repo)
    assert _info(ignore_diff=True)["code_state"] is None
    furu.FURU_CONFIG.ignore_git_diff = True
    metadata = MetadataManager.build(steps.Counted()._furu_record())
    assert metadata.code_state is None
    assert metadata.git_patch is None
    assert metadata.git_commit == _git(repo, "rev-parse", "HEAD")
    assert not (furu.FURU_CONFIG.base_root / "code").exists()


def test_max_patch_bytes_setting_is_used(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (repo / "code.py").write_text("z = 3\n" * 100)
    monkeypatch.chdir(repo)
    furu.FURU_CONFIG.max_git_patch_bytes = 50
    metadata = MetadataManager.build(steps.Counted()._furu_record())
    assert metadata.code_state is not None
    assert metadata.code_state["left_out"] == 1
    assert metadata.code_state["diff_bytes"] == 0


def test_no_git_repository(
    tmp_path: Path, git_env: None, fresh_git_info: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    plain = tmp_path / "plain"
    plain.mkdir()
    monkeypatch.chdir(plain)
    assert _info() == {
        "git_commit": None,
        "git_branch": None,
        "git_remote": None,
        "code_state": None,
        "git_submodules": {},
    }


def test_no_git_executable(
    tmp_path: Path, fresh_git_info: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # nothing called git in there
    info = _info()
    assert info["git_commit"] is None
    assert info["code_state"] is None


def test_metadata_of_a_real_create(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(repo)
    step = steps.TrainTextModel(dataset=steps.Dataset(name="m"))
    step.load_or_create()
    path = step.furu_dir / ".furu" / "metadata.json"
    data = json.loads(path.read_text())
    assert data.keys() >= SEED_FIELDS
    assert data["furu_namespace"] == "core_test_steps.TrainTextModel"
    assert data["furu_hash"] == step._furu_hash
    assert data["furu_path"] == str(step.furu_dir)
    assert data["furu_python_def"] == "TrainTextModel(dataset=Dataset(name='m'))"
    assert data["furu_obj"] == step.to_dict()
    assert furu.Furu.from_dict(data["furu_obj"]) == step
    assert data["git_commit"] == _git(repo, "rev-parse", "HEAD")
    assert data["git_branch"] == "main"
    assert data["hostname"] == HOSTNAME
    assert data["pid"] == os.getpid()
    assert data["python_version"] == sys.version.split()[0]
    assert data["executable"] == sys.executable
    assert data["command"] == " ".join(sys.argv)
    assert data["user"]
    assert data["platform"]
    assert data["timestamp"].endswith("+00:00")
    assert data["version_controlled"] is False
    assert data["class_bases"] == []
    assert data["dependencies"] == [
        {
            "field": "dataset",
            "namespace": "core_test_steps.Dataset",
            "hash": step.dataset._furu_hash,
            "furu_path": str(step.dataset.furu_dir),
        }
    ]
    assert data["config_schema"] == [{"name": "dataset", "type": "core_test_steps:Dataset"}]
    # The dependency recorded its own metadata, with no dependencies of its own.
    dep = MetadataManager.read(step.dataset.furu_dir)
    assert dep is not None
    assert dep.dependencies == []
    assert dep.furu_obj == {"__class__": "core_test_steps:Dataset", "name": "m"}
    # get_metadata() reads what was stored.
    assert step.get_metadata() == Metadata(**data)


def test_class_bases_and_hook_dependencies() -> None:
    record = steps.Child(a=3)._furu_record()
    assert record["class_bases"] == ["core_test_steps.Parent"]
    assert [f["name"] for f in record["config_schema"]] == ["a", "b"]
    hooked = steps.Hooked(names=("x",))._furu_record()
    assert hooked["dependencies"] == [
        {
            "field": "_dependencies()[0]",
            "namespace": "core_test_steps.Dataset",
            "hash": steps.Dataset(name="x")._furu_hash,
            "furu_path": str(steps.Dataset(name="x").furu_dir),
        }
    ]


def test_nested_dependencies_name_their_field_path() -> None:
    combine = steps.Combine(parts=(steps.WritesPid(n=1), steps.WritesPid(n=2)))
    fields = [d["field"] for d in combine._furu_record()["dependencies"]]
    assert fields == ["parts[0]", "parts[1]"]


def test_version_controlled_is_recorded() -> None:
    assert steps.Versioned()._furu_record()["version_controlled"] is True


def test_get_metadata_before_creation() -> None:
    step = steps.Counted(value=7)
    metadata = step.get_metadata()
    assert isinstance(metadata, Metadata)
    assert metadata.furu_hash == step._furu_hash
    assert metadata.furu_path == str(step.furu_dir)
    assert metadata.furu_python_def == "Counted(value=7)"
    assert metadata.pid == os.getpid()
    assert not step.furu_dir.exists()  # describing a step writes nothing


def test_read_missing_metadata_is_none(tmp_path: Path) -> None:
    assert MetadataManager.read(tmp_path) is None


def test_metadata_round_trips_through_json(tmp_path: Path) -> None:
    metadata = MetadataManager.build(steps.Counted()._furu_record())
    (tmp_path / ".furu").mkdir()
    MetadataManager.write(tmp_path, metadata)
    assert MetadataManager.read(tmp_path) == metadata
    assert sorted(p.name for p in (tmp_path / ".furu").iterdir()) == ["metadata.json"]


def test_metadata_from_a_newer_furu_keeps_its_new_keys_in_extra(tmp_path: Path) -> None:
    metadata = MetadataManager.build(steps.Counted()._furu_record())
    (tmp_path / ".furu").mkdir()
    data = {**metadata.to_json(), "resources": "sha256:abc", "extra": {"mine": 1}}
    (tmp_path / ".furu" / "metadata.json").write_text(json.dumps(data))
    read = MetadataManager.read(tmp_path)
    assert read is not None
    assert read.furu_hash == metadata.furu_hash
    assert read.extra == {"mine": 1, "resources": "sha256:abc"}


def test_metadata_of_another_format(tmp_path: Path) -> None:
    path = tmp_path / ".furu" / "metadata.json"
    path.parent.mkdir()
    path.write_text('{"furu_hash": "abc", "surprise": 1}')
    with pytest.raises(FuruStoreError) as info:
        MetadataManager.read(tmp_path)
    message = str(info.value)
    assert message.startswith(f"{path} does not match furu's metadata format (")
    assert "Delete it and rerun the step to rewrite it." in message
    assert info.value.path == path


def test_truncated_metadata(tmp_path: Path) -> None:
    path = tmp_path / ".furu" / "metadata.json"
    path.parent.mkdir()
    path.write_text('{"furu_hash": "ab')
    with pytest.raises(FuruStoreError, match="metadata \\(config, git and environment\\)"):
        MetadataManager.read(tmp_path)


def test_adopted_git_state_is_recorded_instead_of_asking_git(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from furu import _metadata

    monkeypatch.setattr(_metadata, "_adopted_git", None)
    adopted = {
        "git_commit": "f" * 40,
        "git_branch": "submitted",
        "git_remote": None,
        "git_submodules": {},
        "code_state": {"id": "a" * 64, "dirty": True},
    }
    _metadata.adopt_git_info(adopted)
    monkeypatch.setattr(_code_state, "_git", lambda *args: pytest.fail("asked git"))
    metadata = _metadata.MetadataManager.build(steps.Counted(value=77)._furu_record())
    assert (metadata.git_commit, metadata.git_branch) == ("f" * 40, "submitted")
    assert metadata.code_state == {"id": "a" * 64, "dirty": True}


def test_a_record_that_inlined_its_git_patch_still_reads(tmp_path: Path) -> None:
    metadata = MetadataManager.build(steps.Counted()._furu_record())
    old = {k: v for k, v in metadata.to_json().items() if k != "code_state"}
    old |= {"schema": 1, "git_patch": "diff --git a/x b/x\n-1\n+2"}  # as furu 0.1 wrote it
    (tmp_path / ".furu").mkdir()
    (tmp_path / ".furu" / "metadata.json").write_text(json.dumps(old))
    read = MetadataManager.read(tmp_path)
    assert read is not None
    assert read.code_state is None
    assert read.git_patch == "diff --git a/x b/x\n-1\n+2"
    assert read.schema == 1
