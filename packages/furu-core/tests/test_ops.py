"""`furu.find_step`, `plan_targets`, `invalidate_steps` and `remove_steps` over real steps."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

import furu
from furu._lock import ComputeLock


class Data(furu.Furu[int]):
    n: int = 1

    def _create(self) -> int:
        (self.furu_dir / "data.txt").write_text(str(self.n))
        return self.n

    def _load(self) -> int:
        return int((self.furu_dir / "data.txt").read_text())


class Train(furu.Furu[int]):
    data: Data
    lr: float = 0.1

    def _create(self) -> int:
        return self.data.load_or_create() + 1

    def _load(self) -> int:
        return self.data.load_or_create() + 1


class Evaluate(furu.Furu[int]):
    train: Train

    def _create(self) -> int:
        return self.train.load_or_create() * 10

    def _load(self) -> int:
        return self.train.load_or_create() * 10


class Pinned(furu.Furu[int], version_controlled=True):
    k: int = 0

    def _create(self) -> int:
        return self.k

    def _load(self) -> int:
        return self.k


@pytest.fixture
def store(furu_store: Path) -> furu.Store:
    return furu.Store(furu_store, version_controlled_root=furu.FURU_CONFIG.version_controlled_root)


def _chain() -> tuple[Data, Train, Evaluate]:
    data = Data()
    train = Train(data=data)
    ev = Evaluate(train=train)
    ev.load_or_create()
    return data, train, ev


def _dir(store: furu.Store, step: furu.Furu[int]) -> furu.StepDir:
    return store.step_dir_of(step)


# ------------------------------------------------------------ find_step


def test_find_step_by_every_kind_of_reference(store: furu.Store) -> None:
    _, train, _ = _chain()
    Pinned(k=1).load_or_create()
    want = _dir(store, train)
    digest = train._furu_hash
    for ref in (
        f"{__name__}.Train/{digest}",
        f"{__name__}.Train/{digest[:6]}",
        f"Train/{digest[:5]}",
        digest[:8],
        str(want.path),
        str(want.path / ".furu"),
    ):
        assert furu.find_step(store, ref) == want, ref
        assert store.find(ref) == want, ref  # Store.find is find_step: every caller agrees
    pinned = furu.find_step(store, f"{__name__}.Pinned/{Pinned(k=1)._furu_hash}")
    assert pinned.version_controlled


def test_find_step_names_what_is_wrong(store: furu.Store, tmp_path: Path) -> None:
    _chain()
    with pytest.raises(furu.FuruStoreError, match=r"no step matches 'Train/ffffff'.*furu ls"):
        furu.find_step(store, "Train/ffffff")
    with pytest.raises(furu.FuruStoreError) as info:
        furu.find_step(store, "Data/ffffff")
    assert f"It holds 1 step(s) of Data: {Data()._furu_hash[:10]}." in str(info.value)
    with pytest.raises(furu.FuruStoreError, match=r"no step matches 'no.Such/abc'"):
        furu.find_step(store, "no.Such/abc")
    with pytest.raises(furu.FuruStoreError, match="is not a step reference"):
        furu.find_step(store, "Train/not-hex")
    with pytest.raises(furu.FuruStoreError, match="does not exist, so it names no step"):
        furu.find_step(store, str(tmp_path / "nowhere"))
    with pytest.raises(furu.FuruStoreError, match="is a directory but not a step directory"):
        furu.find_step(store, str(tmp_path))


def test_an_ambiguous_prefix_lists_the_candidates(store: furu.Store) -> None:
    for n in range(20):  # 20 hashes: some share their first hex digit
        Data(n=n).load_or_create()
    firsts = [d.hash[0] for d in store.step_dirs()]
    shared = next(c for c in firsts if firsts.count(c) > 1)
    with pytest.raises(furu.FuruStoreError) as info:
        furu.find_step(store, f"Data/{shared}")
    message = str(info.value)
    assert f"matches {firsts.count(shared)} steps" in message
    assert f"{__name__}.Data/{shared}" in message
    assert "give more digits of the hash" in message


# ------------------------------------------------------------ planning


def test_plan_targets_adds_transitive_dependents_nearest_first(store: furu.Store) -> None:
    data, train, ev = _chain()
    other = Train(data=data, lr=0.5)
    other.load_or_create()
    plan = furu.plan_targets(store, [data], dependents=True)
    assert [p.id for p in plan[:1]] == [_dir(store, data).id]
    assert {p.id for p in plan[1:3]} == {_dir(store, train).id, _dir(store, other).id}
    assert plan[3:] == [_dir(store, ev)]
    assert furu.plan_targets(store, [data, f"Data/{data._furu_hash}"]) == [_dir(store, data)]


def test_plan_targets_uses_the_callers_dependents(store: furu.Store) -> None:
    data, train, _ = _chain()
    asked: list[furu.StepDir] = []

    def provider(step: furu.StepDir) -> list[furu.StepDir]:
        asked.append(step)
        return [_dir(store, train)]

    plan = furu.plan_targets(store, [data], dependents=True, dependents_of=provider)
    assert plan == [_dir(store, data), _dir(store, train)]
    assert asked == [_dir(store, data)]


# ------------------------------------------------------------ invalidate


def test_invalidate_with_dependents_drops_every_result(store: furu.Store) -> None:
    data, train, ev = _chain()
    done = furu.invalidate_steps(store, [train], dependents=True, reason="bad lr")
    assert done.ok
    assert [s.id for s in done.done] == [_dir(store, train).id, _dir(store, ev).id]
    assert _dir(store, data).has_result()
    assert not _dir(store, train).has_result()
    assert not _dir(store, ev).has_result()
    assert "bad lr: SUCCESS.json removed" in _dir(store, train).log_path.read_text()
    assert done.to_json() == {
        "action": "invalidate",
        "done": [str(_dir(store, train).id), str(_dir(store, ev).id)],
        "skipped": [],
    }


def test_invalidate_skips_a_step_being_computed(store: furu.Store) -> None:
    _, train, ev = _chain()
    lock = ComputeLock.try_acquire(_dir(store, ev).meta_dir, lease_secs=60.0, heartbeat=20.0)
    assert lock is not None
    try:
        done = furu.invalidate_steps(store, [train], dependents=True)
    finally:
        lock.release()
    assert [s.id for s in done.done] == [_dir(store, train).id]
    [skipped] = done.skipped
    assert skipped.cause == "running"
    assert f"being computed by {os.uname().nodename}:{os.getpid()}" in skipped.reason
    assert _dir(store, ev).has_result()
    assert not done.ok


def test_a_queued_step_is_never_touched(store: furu.Store) -> None:
    data = Data(n=7)
    step = _dir(store, data)
    assert step.record_attempt(
        furu.AttemptStatus.QUEUED, backend="slurm", scheduler={"job_id": "42"}
    )
    assert furu.busy_reason(step) == "its attempt 1 is queued (slurm, job 42)"
    for change in (furu.invalidate_steps, furu.remove_steps):
        done = change(store, [step])
        assert [(s.cause, s.step) for s in done.skipped] == [("running", step)]
    assert step.exists()


# ------------------------------------------------------------ remove


def test_remove_with_dependents_goes_top_down_and_takes_the_raw_files(
    store: furu.Store,
) -> None:
    data, train, ev = _chain()
    raw = _dir(store, train).raw_dir
    raw.mkdir(parents=True)
    (raw / "weights.bin").write_bytes(b"w" * 100)
    done = furu.remove_steps(store, [train], dependents=True)
    assert [s.id for s in done.done] == [_dir(store, ev).id, _dir(store, train).id]
    assert not raw.exists()
    assert not _dir(store, train).path.exists()
    assert not _dir(store, ev).path.exists()
    assert _dir(store, data).has_result()
    again = furu.remove_steps(store, [_dir(store, train)])
    assert [(s.cause, s.reason[:22]) for s in again.skipped] == [("gone", "no longer in the store")]


def test_remove_refuses_a_step_whose_lock_is_held(store: furu.Store) -> None:
    data, _, _ = _chain()
    step = _dir(store, data)
    lock = ComputeLock.try_acquire(step.meta_dir, lease_secs=60.0, heartbeat=20.0)
    assert lock is not None
    try:
        done = furu.remove_steps(store, [data])
    finally:
        lock.release()
    assert [s.cause for s in done.skipped] == ["running"]
    assert step.has_result()


def test_remove_never_follows_a_symlink_out_of_the_store(store: furu.Store, tmp_path: Path) -> None:
    data, _, _ = _chain()
    outside = tmp_path / "precious"
    outside.mkdir()
    (outside / "keep.txt").write_text("keep")
    step = _dir(store, data)
    (step.path / "link").symlink_to(outside, target_is_directory=True)
    assert furu.remove_steps(store, [step]).ok
    assert (outside / "keep.txt").read_text() == "keep"


def test_a_read_only_store_is_reported_not_raised(store: furu.Store) -> None:
    data, _, _ = _chain()
    step = _dir(store, data)
    with _read_only(store):
        removed = furu.remove_steps(store, [step])
        invalidated = furu.invalidate_steps(store, [step])
    for done in (removed, invalidated):
        [skipped] = done.skipped
        assert skipped.cause == "failed"
        assert skipped.error is not None
        assert "check the store is writable" in skipped.reason
    assert step.has_result()


def _read_only(store: furu.Store) -> _ReadOnly:
    return _ReadOnly(store.root)


class _ReadOnly:
    """The store bind-mounted read-only over itself (needs root, as the server's test does)."""

    def __init__(self, root: Path) -> None:
        self.root = str(root)

    def __enter__(self) -> None:
        bound = subprocess.run(["mount", "--bind", self.root, self.root], capture_output=True)
        if bound.returncode != 0:
            if os.environ.get("CI"):
                pytest.fail(f"cannot bind-mount {self.root}: {bound.stderr!r}")
            pytest.skip(f"cannot bind-mount the store read-only here: {bound.stderr!r}")
        subprocess.run(["mount", "-o", "remount,bind,ro", self.root], check=True)

    def __exit__(self, *exc: object) -> None:
        subprocess.run(["umount", self.root], check=True)
