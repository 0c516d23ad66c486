"""`furu.disk_usage`: every step with its own raw files, counted the way `du -sb` counts."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest
from core_test_steps import Dataset, Evaluate, Failing

import furu
from furu import _usage

DAY = 86400.0


class OwnsRaw(furu.Furu[int]):
    """Writes 5,000 bytes into its own raw directory and 10 into its step directory."""

    n: int = 0

    def _create(self) -> int:
        (self.step_raw_dir / "weights.bin").write_bytes(b"w" * 5000)
        (self.furu_dir / "small.txt").write_bytes(b"s" * 10)
        return self.n

    def _load(self) -> int:
        return self.n


def _du(*paths: Path) -> int:
    """`du -sb` of `paths` together (hard links counted once), the floor we agree with."""
    out = subprocess.run(
        ["du", "-sbc", *map(str, paths)], check=True, capture_output=True, text=True
    ).stdout
    return int(out.strip().splitlines()[-1].split()[0])


def _store(root: Path) -> furu.Store:
    return furu.Store(root, version_controlled_root=root.parent / "vc")


def _age(step: furu.StepDir, days: float) -> None:
    """Make every record of `step` look written `days` ago (its age for du and gc)."""
    stamp = time.time() - days * DAY
    for path in [*step.meta_dir.iterdir(), step.meta_dir]:
        os.utime(path, (stamp, stamp), follow_symlinks=False)


def test_a_step_counts_its_directory_and_its_own_raw_dir_like_du(furu_store: Path) -> None:
    step = OwnsRaw(n=1)
    step.load_or_create()
    Dataset().load_or_create()
    where = furu.step_dir(step)
    usage = furu.disk_usage(_store(furu_store))
    mine = next(s for s in usage.steps if s.id == where.id)
    assert mine.raw.bytes == _du(where.raw_dir)
    assert mine.raw.bytes > 5000
    assert mine.size.bytes == _du(where.path, where.raw_dir)
    assert mine.status == "success"
    assert usage.total.bytes == _du(furu_store)  # every area, and the directories between


def test_groups_by_class_namespace_status_and_age(furu_store: Path) -> None:
    Evaluate().load_or_create()  # Evaluate, TrainTextModel, Dataset
    with pytest.raises(furu.FuruComputeError):
        Failing().load_or_create()
    _age(furu.step_dir(Dataset()), 100)
    usage = furu.disk_usage(_store(furu_store))
    by_class = {r.key: r for r in usage.by("class")}
    assert set(by_class) == {
        "core_test_steps.Evaluate",
        "core_test_steps.TrainTextModel",
        "core_test_steps.Dataset",
        "core_test_steps.Failing",
    }
    assert sum(r.share for r in by_class.values()) == pytest.approx(1.0)
    assert [(r.key, r.steps) for r in usage.by("namespace")] == [("core_test_steps", 4)]
    assert {r.key: r.steps for r in usage.by("status")} == {"success": 3, "failed": 1}
    assert [(r.key, r.steps) for r in usage.by("age")] == [("<1d", 3), (">90d", 1)]
    with pytest.raises(furu.FuruConfigError, match="cannot group disk use by 'size'"):
        usage.by("size")


def test_unfinished_statuses_are_told_apart(furu_store: Path) -> None:
    store = _store(furu_store)
    queued = store.step_dir("m.Job", "aa")
    assert queued.record_attempt(furu.AttemptStatus.QUEUED, backend="slurm")
    crashed = store.step_dir("m.Job", "bb")
    assert crashed.record_attempt(furu.AttemptStatus.QUEUED, backend="slurm")
    state = crashed.read_raw_state()
    assert state is not None
    assert state.attempt is not None
    running = furu.Attempt.new(state.attempt.id, 1, furu.AttemptStatus.RUNNING, "local")
    furu.StateManager(crashed.path).write(furu.ResultStatus.INCOMPLETE, running, 1)
    damaged = store.step_dir("m.Job", "cc")
    damaged.meta_dir.mkdir(parents=True)
    damaged.state_path.write_bytes(b"\xff not json")
    statuses = {s.id.hash: s.status for s in furu.disk_usage(store).steps}
    # a running attempt nobody holds a lock for is a crash
    assert statuses == {"aa": "queued", "bb": "crashed", "cc": "unreadable"}


def test_a_symlink_is_counted_as_a_link_and_never_followed(
    furu_store: Path, tmp_path: Path
) -> None:
    Dataset().load_or_create()
    where = furu.step_dir(Dataset())
    before = furu.disk_usage(_store(furu_store)).steps[0].size.bytes
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "huge.bin").write_bytes(b"x" * 100_000)
    os.symlink(outside, where.path / "link-to-dir")
    os.symlink(outside / "huge.bin", where.path / "link-to-file")
    after = furu.disk_usage(_store(furu_store)).steps[0].size.bytes
    assert after - before == len(str(outside)) + len(str(outside / "huge.bin"))


def test_a_hard_linked_file_is_counted_once(furu_store: Path) -> None:
    OwnsRaw(n=1).load_or_create()
    OwnsRaw(n=2).load_or_create()
    a, b = furu.step_dir(OwnsRaw(n=1)), furu.step_dir(OwnsRaw(n=2))
    os.link(a.raw_dir / "weights.bin", b.path / "shared-weights.bin")
    usage = furu.disk_usage(_store(furu_store))
    assert usage.total.bytes == _du(furu_store)
    sizes = {s.id: s.size.bytes for s in usage.steps}
    assert sizes[a.id] + sizes[b.id] == _du(a.path, a.raw_dir, b.path, b.raw_dir)


def test_a_fifo_in_a_step_is_sized_without_being_opened(furu_store: Path) -> None:
    Dataset().load_or_create()
    os.mkfifo(furu.step_dir(Dataset()).path / "pipe")
    usage = furu.disk_usage(_store(furu_store))  # would block forever if it opened the FIFO
    assert usage.steps[0].size.files == _du_files(furu.step_dir(Dataset()).path)


def _du_files(path: Path) -> int:
    return sum(len(files) for _, _, files in os.walk(path))


def test_files_vanishing_during_the_walk_are_skipped(furu_store: Path) -> None:
    Dataset().load_or_create()
    where = furu.step_dir(Dataset())
    entries = list(os.scandir(where.path))  # listed, then gone before they are measured
    shutil.rmtree(where.path)
    size = _usage.Size()
    _usage._count(entries, size, set(), str(where.path), {})
    assert size == _usage.Size()
    assert furu.disk_usage(_store(furu_store)).steps == []


def test_shared_raw_and_raw_dirs_without_a_step_are_areas(furu_store: Path) -> None:
    OwnsRaw(n=1).load_or_create()
    shared = furu_store / "raw" / "corpus.txt"
    shared.write_bytes(b"c" * 3000)
    left = furu_store / "raw" / "steps" / "gone" / "Deleted" / "abc"
    left.mkdir(parents=True)
    (left / "leftover.bin").write_bytes(b"l" * 2000)
    usage = furu.disk_usage(_store(furu_store))
    assert usage.areas["raw"].bytes == _du(furu_store / "raw") - _du(furu_store / "raw" / "steps")
    owned = furu.step_dir(OwnsRaw(n=1)).raw_dir
    assert usage.areas["raw/steps"].bytes == _du(furu_store / "raw" / "steps") - _du(owned)
    assert usage.areas["journal"].bytes == _du(furu_store / "journal")
    assert usage.total.bytes == _du(furu_store)
    data = usage.to_json("status")
    assert data["steps"]["count"] == 1
    assert data["steps"]["raw_bytes"] == usage.steps[0].raw.bytes
    assert data["groups"][0]["key"] == "success"


def test_age_buckets() -> None:
    assert [_usage.age_bucket(d * DAY) for d in (0, 1, 6.9, 7, 45, 90, 400)] == [
        "<1d",
        "1-7d",
        "1-7d",
        "7-30d",
        "30-90d",
        ">90d",
        ">90d",
    ]
    assert _usage.human_bytes(512) == "512 B"
    assert _usage.human_bytes(1536) == "1.5 KiB"
    assert _usage.human_bytes(3 * 1024**3) == "3.0 GiB"
