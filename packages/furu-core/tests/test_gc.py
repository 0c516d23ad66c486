"""`furu.plan_gc`: policies pick, pins, aliases and locks protect, `run()` deletes the rest."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest
from core_test_steps import Dataset, Evaluate, Failing, TrainTextModel

import furu
from furu._gc import parse_duration
from furu._lock import ComputeLock

DAY = 86400.0


def _store(root: Path) -> furu.Store:
    return furu.Store(root, version_controlled_root=root.parent / "vc")


def _age(step: furu.StepDir, days: float) -> None:
    """Make every record of `step` look written `days` ago."""
    stamp = time.time() - days * DAY
    for path in [*step.meta_dir.iterdir(), step.meta_dir]:
        os.utime(path, (stamp, stamp), follow_symlinks=False)


def _plant(
    store: furu.Store, namespace: str, digest: str, *, schema: dict[str, str] | None = None
) -> furu.StepDir:
    """A stored result written by hand: metadata (with field types), state, marker."""
    step = store.step_dir(namespace, digest)
    step.meta_dir.mkdir(parents=True)
    config_schema = [{"name": k, "type": v} for k, v in (schema or {"x": "int"}).items()]
    step.metadata_path.write_text(json.dumps({"config_schema": config_schema}))
    (step.path / "out.txt").write_text("result")
    step.success_path.write_text(json.dumps({"namespace": namespace, "hash": digest}))
    return step


def _alias(store: furu.Store, alias: str, target: furu.StepDir) -> furu.StepDir:
    """A migration's alias of `target` (as `furu migrate` leaves it: links and a record)."""
    step = _plant(store, target.namespace, alias)
    (step.path / "out.txt").unlink()
    os.symlink(os.path.relpath(target.path / "out.txt", step.path), step.path / "out.txt")
    record = {"from": {"namespace": target.namespace, "hash": target.hash}}
    (step.meta_dir / "migration.json").write_text(json.dumps(record))
    line = {"action": "migrate", "to": f"{target.namespace}/{alias}"}
    (target.meta_dir / "migrations.jsonl").write_text(json.dumps(line) + "\n")
    return step


def _ids(found: list[furu.GcCandidate]) -> set[str]:
    return {c.id.hash for c in found}


def test_without_a_policy_it_says_which_exist(furu_store: Path) -> None:
    with pytest.raises(furu.FuruConfigError, match="--failed, --incomplete-older-than DURATION"):
        furu.plan_gc(_store(furu_store))


def test_failed_steps_are_planned_then_deleted_with_their_raw_dirs(furu_store: Path) -> None:
    Dataset().load_or_create()
    with pytest.raises(furu.FuruComputeError):
        Failing().load_or_create()
    failed = furu.step_dir(Failing())
    failed.raw_dir.mkdir(parents=True)
    (failed.raw_dir / "partial.bin").write_bytes(b"p" * 4000)
    plan = furu.plan_gc(_store(furu_store), failed=True)
    assert [(c.id, c.policy) for c in plan.candidates] == [(failed.id, "failed")]
    assert plan.bytes > 4000
    assert plan.by_class()[0] == {
        "class": "core_test_steps.Failing",
        "steps": 1,
        "bytes": plan.bytes,
        "policies": {"failed": 1},
    }
    assert failed.path.exists()  # planning deletes nothing
    report = plan.run()
    assert [c.id for c in report.deleted] == [failed.id]
    assert report.freed == plan.bytes
    assert not failed.path.exists()
    assert not failed.raw_dir.exists()
    assert furu.step_dir(Dataset()).has_result()


def test_incomplete_older_than_picks_old_unfinished_steps_only(furu_store: Path) -> None:
    store = _store(furu_store)
    old, fresh, old_success = (store.step_dir("m.Job", h) for h in ("aa", "bb", "cc"))
    for step in (old, fresh):
        assert step.record_attempt(furu.AttemptStatus.QUEUED, backend="slurm")
        assert step.record_attempt(furu.AttemptStatus.PREEMPTED, backend="slurm")
    _plant(store, "m.Job", "cc")
    _age(old, 10)
    _age(old_success, 10)
    plan = furu.plan_gc(store, incomplete_older_than=parse_duration("7d"))
    assert _ids(plan.candidates) == {"aa"}
    assert plan.candidates[0].reason == "no result (preempted), last written 10d ago"


def test_older_than_keeps_pinned_steps_and_everything_they_depend_on(furu_store: Path) -> None:
    Evaluate().load_or_create()  # Evaluate <- TrainTextModel <- Dataset
    Dataset(name="other").load_or_create()
    pinned = furu.step_dir(Evaluate())
    pinned.write_labels(furu.Labels(tags=("pin",)))
    plan = furu.plan_gc(_store(furu_store), older_than=0.0)
    assert _ids(plan.candidates) == {furu.step_dir(Dataset(name="other")).hash}
    why = {p.candidate.id.namespace.rsplit(".", 1)[1]: p.why for p in plan.protected}
    assert why["Evaluate"] == "tagged: it is tagged 'pin'"
    assert why["TrainTextModel"].startswith("pinned: Evaluate ")
    assert why["Dataset"].endswith("(tagged 'pin') depends on it")
    plan.run()
    for step in (Evaluate(), TrainTextModel(), Dataset()):
        assert furu.step_dir(step).has_result()
    assert not furu.step_dir(Dataset(name="other")).exists()


def test_keep_tags_are_configurable(furu_store: Path) -> None:
    Dataset().load_or_create()
    furu.step_dir(Dataset()).write_labels(furu.Labels(tags=("paper",)))
    assert len(furu.plan_gc(_store(furu_store), older_than=0.0).candidates) == 1
    plan = furu.plan_gc(_store(furu_store), older_than=0.0, keep_tags=("paper",))
    assert plan.candidates == []
    assert plan.protected[0].why == "tagged: it is tagged 'paper'"


def test_queued_and_locked_steps_are_never_deleted(furu_store: Path) -> None:
    store = _store(furu_store)
    queued = store.step_dir("m.Job", "aa")
    assert queued.record_attempt(furu.AttemptStatus.QUEUED, backend="slurm")
    Dataset().load_or_create()
    held = furu.step_dir(Dataset())
    plan_before_lock = furu.plan_gc(store, older_than=0.0)
    assert _ids(plan_before_lock.candidates) == {held.hash}
    assert plan_before_lock.protected[0].why.startswith("queued:")
    lock = ComputeLock.try_acquire(held.meta_dir, lease_secs=60.0, heartbeat=60.0)
    assert lock is not None
    try:
        plan = furu.plan_gc(store, older_than=0.0)
        assert plan.candidates == []
        assert {p.why.split(":")[0] for p in plan.protected} == {"queued", "locked"}
        report = plan_before_lock.run()  # the lock was taken after the plan: checked again
        assert report.deleted == []
        assert "holds its compute lock" in report.skipped[0][1]
    finally:
        lock.release()
    assert held.has_result()
    assert queued.exists()


def test_the_target_of_a_kept_alias_is_kept(furu_store: Path) -> None:
    store = _store(furu_store)
    old = _plant(store, "m.Model", "aa")
    alias = _alias(store, "bb", old)
    alias.write_labels(furu.Labels(tags=("keep",)))
    plan = furu.plan_gc(store, older_than=0.0)
    assert plan.candidates == []
    assert {p.candidate.id.hash: p.why.split(":")[0] for p in plan.protected} == {
        "aa": "aliased",
        "bb": "tagged",
    }
    alias.write_labels(furu.Labels())  # untagged: the alias and its target go together
    assert _ids(furu.plan_gc(store, older_than=0.0).candidates) == {"aa", "bb"}


def test_orphaned_needs_a_manifest_and_picks_classes_gone_from_the_code(furu_store: Path) -> None:
    store = _store(furu_store)
    _plant(store, "proj.steps.Gone", "aa")
    _plant(store, "proj.steps.Kept", "bb")
    _plant(store, "other.Unknown", "cc")  # a module the manifest does not speak for
    with pytest.raises(furu.FuruConfigError, match="run `furu manifest`"):
        furu.plan_gc(store, orphaned=True)
    _manifest(store, {"proj.steps.Kept": {"x": "int"}})
    plan = furu.plan_gc(store, orphaned=True)
    assert [(c.id.hash, c.policy) for c in plan.candidates] == [("aa", "orphaned")]
    assert "class Gone is gone from the code" in plan.candidates[0].reason


def test_superseded_picks_migrated_stale_results_whose_aliases_are_gone(furu_store: Path) -> None:
    store = _store(furu_store)
    old = _plant(store, "proj.steps.Model", "aa", schema={"x": "int"})
    _manifest(store, {"proj.steps.Model": {"x": "int", "y": "int"}})
    assert furu.plan_gc(store, superseded=True).candidates == []  # stale, never migrated
    alias = _alias(store, "bb", old)
    (alias.metadata_path).write_text(
        json.dumps({"config_schema": [{"name": "x", "type": "int"}, {"name": "y", "type": "int"}]})
    )
    plan = furu.plan_gc(store, superseded=True)
    assert plan.candidates == []
    assert plan.protected[0].why.startswith("aliased: the migrated alias Model bb")
    furu.undo_migration(f"proj.steps.Model/{alias.hash}", store=store)
    plan = furu.plan_gc(store, superseded=True)
    assert [(c.id.hash, c.policy) for c in plan.candidates] == [("aa", "superseded")]
    assert plan.candidates[0].reason.startswith("migrated, and stale: ")


def _manifest(store: furu.Store, classes: dict[str, dict[str, str]]) -> None:
    data = {
        "version": 1,
        "written_at": "2026-01-01T00:00:00Z",
        "modules": ["proj.steps"],
        "classes": [
            {
                "namespace": ns,
                "module": ns.rsplit(".", 1)[0],
                "qualname": ns.rsplit(".", 1)[1],
                "fields": [{"name": k, "type": v} for k, v in fields.items()],
            }
            for ns, fields in classes.items()
        ],
        "lists": [],
    }
    furu.Manifest.from_json(data).write(store)


def test_the_plan_reports_as_json_and_a_table(furu_store: Path) -> None:
    with pytest.raises(furu.FuruComputeError):
        Failing().load_or_create()
    plan = furu.plan_gc(_store(furu_store), failed=True)
    data = plan.to_json()
    assert data["policies"] == {"failed": True}
    assert data["keep_tags"] == ["keep", "pin"]
    assert data["total"]["steps"] == 1
    assert data["candidates"][0]["policy"] == "failed"
    table = plan.describe()
    assert table.splitlines()[0].split() == ["CLASS", "STEPS", "SIZE", "POLICIES"]
    assert "core_test_steps.Failing" in table
    assert "failed 1" in table


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("0d", 0.0), ("30s", 30.0), ("15m", 900.0), ("12h", 43200.0), ("2w", 1209600.0)],
)
def test_durations(text: str, seconds: float) -> None:
    assert parse_duration(text) == seconds


def test_a_bad_duration_names_the_flag() -> None:
    with pytest.raises(furu.FuruConfigError, match=r"--older-than '7x' is not a duration"):
        parse_duration("7x", flag="--older-than")


def test_half_deleted_step_directories_are_counted_and_removed(
    furu_store: Path, tmp_path: Path
) -> None:
    Dataset().load_or_create()
    Dataset(name="other").load_or_create()
    gone = furu.step_dir(Dataset(name="other"))
    trash = gone.path.with_name(f".{gone.hash}.deleting.4242.0badf00d")
    os.rename(gone.path, trash)  # a delete whose process died before its rmtree
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "precious.txt").write_text("keep me")
    os.symlink(outside, gone.path.with_name(f".{gone.hash}.undo.4243.0badf00d"))
    usage = furu.disk_usage(_store(furu_store))
    assert [s.id for s in usage.steps] == [furu.step_dir(Dataset()).id]
    assert usage.trash == [str(trash)]  # the symlink is no directory of the store's
    assert usage.areas["trash"].bytes > 0
    plan = furu.plan_gc(_store(furu_store), failed=True)
    assert plan.candidates == []
    assert plan.trash == [str(trash)]
    assert "half-deleted step directories: 1" in plan.describe()
    report = plan.run()
    assert report.trash == [str(trash)]
    assert report.freed == usage.areas["trash"].bytes
    assert not trash.exists()
    assert (outside / "precious.txt").read_text() == "keep me"
