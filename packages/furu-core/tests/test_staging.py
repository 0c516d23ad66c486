"""Attempt-private staging (ADR 0004): `_create` writes where no other attempt does, the
result appears in the step directory all at once, and checkpoints carry across attempts."""

from __future__ import annotations

import os
import pickle
from pathlib import Path

import pytest
from core_test_steps import STAGED_PLAN, STAGED_SEEN, Staged

import furu
from furu import _staging


@pytest.fixture(autouse=True)
def _plan() -> None:
    STAGED_PLAN.clear()
    STAGED_SEEN.clear()


def _visible(step: furu.Furu[object]) -> list[str]:
    return sorted(p.name for p in step.furu_dir.iterdir())


def test_create_writes_into_a_private_directory_then_publishes_and_returns_load() -> None:
    step = Staged(key="publish")
    STAGED_PLAN["write"] = {"a.txt": "A", "b.txt": "B"}

    assert step.load_or_create() == {"a.txt": "A", "b.txt": "B"}  # what _load() gives

    staging = STAGED_SEEN[0]["furu_dir"]
    assert staging.parent == step.furu_dir / ".furu" / "attempts"
    assert staging.name == step.get_state().attempt.id  # type: ignore[union-attr]
    assert _visible(step) == [".furu", "a.txt", "b.txt"]
    assert not (step.furu_dir / ".furu" / "attempts").exists()  # no trace once published
    assert step.furu_dir == staging.parent.parent.parent  # the step's own directory again


def test_a_failed_attempt_leaves_no_outputs_and_the_next_resumes_from_its_files() -> None:
    step = Staged(key="resume")
    STAGED_PLAN.update(write={"checkpoint.txt": "epoch 3"}, fail=True)
    with pytest.raises(furu.FuruComputeError):
        step.load_or_create()
    assert _visible(step) == [".furu"]  # nothing half-made in the step directory
    assert not step.exists()
    # Its files stay where it wrote them, and the store API says where that is.
    assert furu.step_dir(step).attempt_dir() == STAGED_SEEN[0]["furu_dir"]

    STAGED_PLAN.update(write={"model.txt": "trained"}, fail=False)
    assert step.load_or_create() == {"checkpoint.txt": "epoch 3", "model.txt": "trained"}
    assert STAGED_SEEN[1]["found"] == {"checkpoint.txt": "epoch 3"}  # resumed, not restarted
    # The failed attempt recorded how it ended, so its directory was taken over, not copied.
    assert STAGED_SEEN[1]["furu_dir"] != STAGED_SEEN[0]["furu_dir"]
    assert not STAGED_SEEN[0]["furu_dir"].exists()
    assert furu.step_dir(step).attempt_dir() is None


def test_a_recompute_starts_clean_and_drops_the_old_outputs() -> None:
    step = Staged(key="recompute")
    STAGED_PLAN["write"] = {"old.txt": "1", "kept-name.txt": "1"}
    step.load_or_create()

    furu.FURU_CONFIG.always_rerun = frozenset({"ALL"})
    STAGED_PLAN["write"] = {"kept-name.txt": "2"}
    assert step.load_or_create() == {"kept-name.txt": "2"}
    assert STAGED_SEEN[1]["found"] == {}


def test_outputs_left_without_a_result_are_carried_into_the_next_attempt() -> None:
    step = Staged(key="invalidated")
    STAGED_PLAN["write"] = {"weights.txt": "w1"}
    step.load_or_create()
    furu.Store.current().step_dir_of(step).invalidate("test")  # removes SUCCESS.json only

    STAGED_PLAN["write"] = {"extra.txt": "e"}
    assert step.load_or_create() == {"weights.txt": "w1", "extra.txt": "e"}
    assert STAGED_SEEN[1]["found"] == {"weights.txt": "w1"}


def test_publish_never_overwrites_and_moves_back_what_it_moved(tmp_path: Path) -> None:
    step_dir = tmp_path / "step"
    (step_dir / ".furu").mkdir(parents=True)
    staging = step_dir / ".furu" / "attempts" / "late"
    (staging / "sub").mkdir(parents=True)
    (staging / "a.txt").write_text("late")
    (staging / "sub" / "x").write_text("late")
    (staging / "z.txt").write_text("late")
    (step_dir / "sub").mkdir()  # another attempt published a directory of that name
    (step_dir / "sub" / "x").write_text("first")
    marker = step_dir / ".furu" / "SUCCESS.json"

    with pytest.raises(_staging.PublishConflict, match="sub"):
        _staging.publish(staging, step_dir, marker, b"{}")

    assert sorted(p.name for p in staging.iterdir()) == ["a.txt", "sub", "z.txt"]
    assert sorted(p.name for p in step_dir.iterdir()) == [".furu", "sub"]
    assert (step_dir / "sub" / "x").read_text() == "first"
    assert not marker.exists()

    # The marker too is claimed, never replaced.
    (step_dir / "sub").rename(tmp_path / "gone")
    marker.write_text('{"attempt_id": "first"}')
    with pytest.raises(_staging.PublishConflict, match=r"SUCCESS\.json"):
        _staging.publish(staging, step_dir, marker, b"{}")
    assert sorted(p.name for p in step_dir.iterdir()) == [".furu"]
    assert marker.read_text() == '{"attempt_id": "first"}'


def test_publish_refuses_to_replace_an_empty_directory(tmp_path: Path) -> None:
    step_dir = tmp_path / "step"
    staging = step_dir / ".furu" / "attempts" / "late"
    (staging / "logs").mkdir(parents=True)
    (staging / "logs" / "x").write_text("late")
    (step_dir / "logs").mkdir()  # rename() alone would silently replace it

    with pytest.raises(_staging.PublishConflict):
        _staging.publish(staging, step_dir, step_dir / ".furu" / "SUCCESS.json", b"{}")
    assert (staging / "logs" / "x").read_text() == "late"
    assert os.listdir(step_dir / "logs") == []


def test_a_file_written_around_the_staging_directory_is_named_not_blamed_on_the_lock() -> None:
    step = Staged(key="around")
    STAGED_PLAN["write"] = {"a.txt": "staged"}
    # What a worker given the step (pickled: no staging directory) writes lands in the step's
    # own directory; a clash with a staged name stops the publish with a clear error.
    original = Staged._create

    def create_and_write_around(self: Staged) -> dict:
        out = original(self)
        worker_view = pickle.loads(pickle.dumps(self))
        (worker_view.furu_dir / "a.txt").write_text("around")
        return out

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(Staged, "_create", create_and_write_around)
        with pytest.raises(furu.FuruStoreError, match="appeared in the step directory"):
            step.load_or_create()
    assert not step.exists()
    assert (step.furu_dir / "a.txt").read_text() == "around"
    attempt_files = furu.step_dir(step).attempt_dir()
    assert attempt_files is not None
    assert (attempt_files / "a.txt").read_text() == "staged"
