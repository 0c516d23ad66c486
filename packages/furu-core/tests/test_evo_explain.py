"""`furu.explain`, `furu.diff`, and the reasons `plan.describe()` and FURU_DRY_RUN print."""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

import core_test_steps as steps
import evo_versions as v
import pytest

import furu
from furu import FieldChange, _policy

M1 = v.model(lr=(float, 0.1))
M2 = v.model(lr=(float, 0.1), average=(bool, False))
E1 = v.evaluate(M1)
E2 = v.evaluate(M2)


def _hash(step: furu.Furu[object]) -> str:
    return furu.step_id(step).hash


def _create_all(*many: furu.Furu[object]) -> None:
    for step in many:
        step.load_or_create()


def test_a_cached_step_has_no_reason() -> None:
    step = M1(lr=0.2)
    step.load_or_create()
    why = furu.explain(step)
    assert why.status == "cached"
    assert why.reasons == ()
    assert why.first is None
    assert why.step == furu.step_id(step)
    assert why.describe() == f"{furu.step_id(step).short}: cached"


def test_a_class_never_stored() -> None:
    why = furu.explain(M1(lr=0.2))
    assert why.status == "to create"
    assert [(r.kind, r.message) for r in why.reasons] == [("missing", "no Model is stored yet")]


def test_an_added_field_is_named_counted_and_its_migration_given() -> None:
    _create_all(*(M1(lr=x) for x in (0.1, 0.2, 0.3)))
    why = furu.explain(M2(lr=0.2))
    missing, migratable = why.reasons
    assert missing.kind == "missing"
    assert missing.message == (
        "field `average` is new (default False) — 3 stored Models differ only in it; migrate "
        f"them with `furu migrate {v.MODEL} --default`"
    )
    nearest = missing.neighbours[0]
    assert nearest.hash == _hash(M1(lr=0.2))
    assert nearest.distance == 1
    assert nearest.changes == (
        FieldChange("added", "average", new=False, default=False, has_default=True),
    )
    assert [n.distance for n in missing.neighbours] == [1, 2, 2]
    assert missing.count == 3
    assert migratable.kind == "migratable"
    assert migratable.command == f"furu migrate {v.MODEL} --default"
    assert sorted(migratable.hashes) == sorted(_hash(M1(lr=x)) for x in (0.1, 0.2, 0.3))


def test_an_added_field_away_from_its_default_is_not_migratable() -> None:
    M1(lr=0.2).load_or_create()
    why = furu.explain(M2(lr=0.2, average=True))
    assert [r.kind for r in why.reasons] == ["missing"]
    assert why.reasons[0].message.startswith(
        "field `average` is new (True here, default False), compared with the nearest stored "
        f"Model ({_hash(M1(lr=0.2))[:9]})"
    )


def test_a_removed_field() -> None:
    old = v.model(lr=(float, 0.1), dropout=(float, 0.5))
    old(lr=0.1).load_or_create()
    why = furu.explain(M1(lr=0.1))
    change = why.reasons[0].neighbours[0].changes
    assert change == (FieldChange("removed", "dropout", old=0.5),)
    assert why.reasons[0].message.startswith("field `dropout` was removed (it held 0.5)")


def test_a_renamed_field_names_the_declaration_that_reuses_it() -> None:
    M1(lr=0.03).load_or_create()
    renamed = v.model(learning_rate=(float, 0.1))
    why = furu.explain(renamed(learning_rate=0.03))
    [change] = why.reasons[0].neighbours[0].changes
    assert change == FieldChange("renamed", "learning_rate", 0.03, 0.03, old_name="lr")
    assert why.reasons[0].message == (
        "field `lr` was renamed to `learning_rate` (same value 0.03), compared with the nearest "
        f"stored Model ({_hash(M1(lr=0.03))[:9]}); migrate it with "
        f"`furu migrate {v.MODEL} --rename lr=learning_rate` (or declare `furu_migrations = "
        '(furu.FieldRenamed("lr", "learning_rate"),)` on Model)'
    )
    assert why.reasons[1].command == f"furu migrate {v.MODEL} --rename lr=learning_rate"


def test_a_changed_value_against_the_nearest_stored_config() -> None:
    two = v.model(lr=(float, 0.1), epochs=(int, 3))
    _create_all(two(lr=0.1, epochs=3), two(lr=0.5, epochs=4))
    why = furu.explain(two(lr=0.03, epochs=3))
    [missing] = why.reasons
    assert missing.message == (
        "`lr` 0.1 → 0.03, compared with the nearest stored Model "
        f"({_hash(two(lr=0.1, epochs=3))[:9]})"
    )
    assert [n.distance for n in missing.neighbours] == [1, 2]
    assert missing.neighbours[1].changes == (
        FieldChange("changed", "lr", 0.5, 0.03),
        FieldChange("changed", "epochs", 4, 3),
    )


def test_a_nested_step_is_explained_through_its_own_fields() -> None:
    two = v.model(lr=(float, 0.1), epochs=(int, 3))
    outer = v.evaluate(two)
    _create_all(outer(model=two(lr=0.1, epochs=3)), outer(model=two(lr=0.5, epochs=4)))
    why = furu.explain(outer(model=two(lr=0.03, epochs=3)))
    missing = why.reasons[0]
    assert missing.message == (
        "its `model` (Model) changes `lr` 0.1 → 0.03, compared with the nearest stored "
        f"Evaluate ({_hash(outer(model=two(lr=0.1, epochs=3)))[:9]})"
    )
    [change] = missing.neighbours[0].changes
    assert change.kind == "step"
    assert change.step == v.MODEL
    assert (change.old, change.new) == (_hash(two(lr=0.1, epochs=3)), _hash(two(lr=0.03)))
    assert change.changes == (FieldChange("changed", "lr", 0.1, 0.03),)
    # Nearest counts the nested step's differing leaves: one, then two.
    assert [n.distance for n in missing.neighbours] == [1, 2]


def test_a_dependent_of_an_evolved_class_is_migrated_through_it() -> None:
    _create_all(*(E1(model=M1(lr=x)) for x in (0.1, 0.2)))
    why = furu.explain(E2(model=M2(lr=0.2)))
    assert why.reasons[0].message == (
        "its `model` (Model): field `average` is new (default False), compared with the nearest "
        f"stored Evaluate ({_hash(E1(model=M1(lr=0.2)))[:9]}); migrate it with "
        f"`furu migrate {v.MODEL} --default`"
    )
    assert why.reasons[1].kind == "migratable"


def test_a_nested_step_whose_old_config_is_gone() -> None:
    E1(model=M1(lr=0.1)).load_or_create()
    shutil.rmtree(M1(lr=0.1).furu_dir)
    why = furu.explain(E1(model=M1(lr=0.2)))
    old, new = _hash(M1(lr=0.1)), _hash(M1(lr=0.2))
    assert why.reasons[0].message.startswith(
        f"its `model` (Model) is another config ({old[:9]} → {new[:9]}; the old one is no "
        "longer stored)"
    )


def test_forced_steps() -> None:
    step = M1(lr=0.2)
    step.load_or_create()
    furu.FURU_CONFIG.always_rerun = frozenset({v.MODEL})
    assert [(r.kind, r.message) for r in furu.explain(step).reasons] == [
        ("forced", f"FURU_ALWAYS_RERUN names {v.MODEL}, so its stored result is recomputed")
    ]
    furu.FURU_CONFIG.always_rerun = frozenset()
    furu.FURU_CONFIG.force_recompute = frozenset({v.MODEL})
    _policy._recomputed.clear()  # as in a new process: creating it above spent the force
    assert furu.explain(step).reasons[0].message.startswith("FURU_FORCE_RECOMPUTE names")


def test_an_invalid_result() -> None:
    step = steps.Validated(name="x")
    step.load_or_create()
    (step.furu_dir / "out.txt").unlink()
    [reason] = furu.explain(step).reasons
    assert reason.kind == "invalid"
    assert reason.message == (
        f"`Validated._validate()` returned False for its stored result in {step.furu_dir}"
    )


def test_a_failed_attempt_comes_first() -> None:
    step = steps.Failing(message="disk on fire")
    with pytest.raises(furu.FuruComputeError):
        step.load_or_create()
    failed, missing = furu.explain(step).reasons
    assert failed.kind == "failed"
    assert "its last attempt (1) failed at 20" in failed.message
    assert failed.message.endswith("ValueError: disk on fire")
    assert (missing.kind, missing.message) == ("missing", "no Failing is stored yet")


def test_plan_describe_prints_the_first_reason() -> None:
    _create_all(*(M1(lr=x) for x in (0.1, 0.2)))
    text = furu.plan([M2(lr=0.1)]).describe()
    assert text.splitlines()[1] == (
        f"  create {furu.step_id(M2(lr=0.1)).short} (missing: field `average` is new (default "
        "False) — 2 stored Models differ only in it; migrate them with "
        f"`furu migrate {v.MODEL} --default`)"
    )


def test_a_dry_run_logs_every_reason(caplog: pytest.LogCaptureFixture) -> None:
    _create_all(*(E1(model=M1(lr=x)) for x in (0.1, 0.2)))
    furu.FURU_CONFIG.dry_run = True
    with caplog.at_level(logging.INFO, logger="furu"):
        assert E2(model=M2(lr=0.1)).load_or_create() is None
    assert "plan: 2 to create, 0 cached" in caplog.text
    assert "field `average` is new (default False) — 2 stored Models differ only in it" in (
        caplog.text
    )
    assert "(missing: its `model` (Model): field `average` is new" in caplog.text
    assert not M2(lr=0.1).furu_dir.exists()


def test_diff_of_two_stored_experiments_by_prefix() -> None:
    a, b = E1(model=M1(lr=0.1)), E1(model=M1(lr=0.2))
    _create_all(a, b)
    result = furu.diff(f"Evaluate/{_hash(a)[:8]}", _hash(b)[:10])
    assert (result.a, result.b) == (furu.step_id(a), furu.step_id(b))
    [change] = result.changes
    assert change.describe() == "its `model` (Model) changes `lr` 0.1 → 0.2"
    assert result.describe().splitlines() == [
        f"{furu.step_id(a)} → {furu.step_id(b)}",
        "  step     its `model` (Model) changes `lr` 0.1 → 0.2",
    ]
    assert result.to_json()["changes"][0]["changes"] == [
        {"kind": "changed", "path": "lr", "text": "`lr` 0.1 → 0.2", "old": 0.1, "new": 0.2}
    ]
    same = furu.diff(furu.step_dir(a), furu.step_dir(a))
    assert same.changes == ()
    assert same.describe().endswith("(same fields and values)")


def test_diff_across_versions_and_classes() -> None:
    old, new = M1(lr=0.1), M2(lr=0.1, average=True)
    _create_all(old, new, steps.Dataset(name="d"))
    assert furu.diff(furu.step_dir(old), furu.step_dir(new)).changes == (
        FieldChange("added", "average", new=True),
    )
    other = furu.diff(furu.step_dir(old), furu.step_dir(steps.Dataset(name="d")))
    assert other.changes[0] == FieldChange("changed", "class", v.MODEL, "core_test_steps.Dataset")


def test_diff_of_a_step_never_attempted_says_so(furu_store: Path) -> None:
    M1(lr=0.1).load_or_create()
    empty = furu.Store.current().step_dir(v.MODEL, "ab" * 10)
    empty.meta_dir.mkdir(parents=True)
    with pytest.raises(furu.FuruStoreError, match=r"has no readable metadata\.json"):
        furu.diff(furu.step_dir(M1(lr=0.1)), empty)
    with pytest.raises(furu.FuruStoreError, match="no step matches 'Model/ffff'"):
        furu.diff("Model/ffff", "Model/abab")
